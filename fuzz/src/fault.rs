//! Faulting items: the last item of a faulting case, which must kill the
//! guest with the same signal natively and translated (rehost does not
//! deliver guest signal handlers yet, so the guest EIP of the fault is not
//! compared; the record count pins the case).
//!
//! | kind                               | native signal |
//! |------------------------------------|---------------|
//! | ud0/ud1/ud2                        | SIGILL        |
//! | 0F 0D with registers (AMD hosts)   | SIGILL        |
//! | int3, int1                         | SIGTRAP       |
//! | into with OF=1, int n, hlt, cli, sti, port I/O | SIGSEGV |
//! | bound out of range                 | SIGSEGV       |
//! | div by zero, idiv overflow, aam 0  | SIGFPE        |
//! | load from unmapped memory, store to the code segment | SIGSEGV |

use crate::gen::Item;
use crate::layout::{CODE_BASE, DATA_BASE};
use crate::memop::{address, form};
use crate::rng::Rng;
use crate::special::{abs, mov, pick_not, plain, store};
use iced_x86::{Code, Instruction, Mnemonic, Register, RepPrefixKind};

/// Codes that only ever run as the faulting last item of a case.
pub fn is_fault_code(code: Code) -> bool {
    use Mnemonic as M;
    matches!(
        code.mnemonic(),
        M::Ud0
            | M::Ud1
            | M::Ud2
            | M::Int3
            | M::Int1
            | M::Into
            | M::Hlt
            | M::Cli
            | M::Sti
            | M::Bound
    ) || matches!(code, Code::Int_imm8)
        || (code.op_code().is_input_output() && code.op_code().mode32())
}

/// 0F 0D with a register operand (`Reservednop_*_0F0D`).
pub fn is_prefetch_group(code: Code) -> bool {
    matches!(
        code,
        Code::Reservednop_rm16_r16_0F0D | Code::Reservednop_rm32_r32_0F0D
    )
}

/// A faulting item for `code` (a fault code, or div/idiv/aam/mov for the
/// arithmetic and memory faults). `esp` is esp before it.
pub fn build(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    use Code as C;
    Some(match code {
        C::Into => Item {
            pre: vec![
                Instruction::with1(C::Pushd_imm32, 0x802u32).ok()?,
                Instruction::with(C::Popfd),
            ],
            insn: Instruction::with(C::Into),
        },
        C::Int_imm8 => {
            let n = loop {
                let n = rng.below(256) as u32;
                if n != 0x80 {
                    break n;
                }
            };
            plain(Instruction::with1(code, n).ok()?)
        }
        C::Bound_r32_m3232 | C::Bound_r16_m1616 => {
            let wide = code == C::Bound_r32_m3232;
            let r32 = pick_not(rng, &[]);
            let (lo, hi) = (100u32, 200u32);
            let v = if rng.chance(1, 2) {
                lo - 1 - rng.below(50) as u32
            } else {
                hi + 1 + rng.below(50) as u32
            };
            let a = address(rng, 8);
            let size = if wide { 4 } else { 2 };
            let mut pre = vec![mov(r32, v), store(a, lo, size), store(a + size, hi, size)];
            let m = form(rng, a, esp, &[r32], &mut pre);
            let r = if wide {
                r32
            } else {
                Register::try_from(Register::AX as usize + r32.number()).ok()?
            };
            Item {
                pre,
                insn: Instruction::with2(code, r, m).ok()?,
            }
        }
        C::Div_rm32 | C::Div_rm16 | C::Div_rm8 | C::Idiv_rm32 => {
            let r = pick_not(rng, &[Register::EAX, Register::EDX]);
            let (pre, insn) = if code == C::Idiv_rm32 && rng.chance(1, 2) {
                // INT_MIN / -1 overflows.
                (
                    vec![
                        mov(Register::EAX, 0x8000_0000),
                        mov(Register::EDX, !0),
                        mov(r, !0),
                    ],
                    Instruction::with1(code, r),
                )
            } else {
                let r = match code {
                    C::Div_rm16 => Register::try_from(Register::AX as usize + r.number()).ok()?,
                    C::Div_rm8 => Register::BL,
                    _ => r,
                };
                (
                    vec![mov(r.full_register32(), 0)],
                    Instruction::with1(code, r),
                )
            };
            Item {
                pre,
                insn: insn.ok()?,
            }
        }
        C::Aam_imm8 => plain(Instruction::with1(code, 0u32).ok()?),
        C::Reservednop_rm16_r16_0F0D | C::Reservednop_rm32_r32_0F0D => {
            let r = pick_not(rng, &[]);
            let r = if code == C::Reservednop_rm16_r16_0F0D {
                Register::try_from(Register::AX as usize + r.number()).ok()?
            } else {
                r
            };
            plain(Instruction::with2(code, r, r).ok()?)
        }
        C::Mov_r32_rm32 => {
            // Below the data segment, or far away: nothing is mapped there.
            let far = 0xc000_0000 + 4 * rng.below(1 << 20) as u32;
            let a = rng.pick(&[0x1000, DATA_BASE - 4, far]);
            plain(Instruction::with2(code, pick_not(rng, &[]), abs(a)).ok()?)
        }
        C::Mov_rm32_r32 => {
            plain(Instruction::with2(code, abs(CODE_BASE + 0x100), Register::EAX).ok()?)
        }
        C::Insb_m8_DX | C::Insw_m16_DX | C::Insd_m32_DX => {
            let none = RepPrefixKind::None;
            let ins = match code {
                C::Insb_m8_DX => Instruction::with_insb(32, none),
                C::Insw_m16_DX => Instruction::with_insw(32, none),
                _ => Instruction::with_insd(32, none),
            };
            Item {
                pre: vec![mov(Register::EDI, address(rng, 4))],
                insn: ins.ok()?,
            }
        }
        C::Outsb_DX_m8 | C::Outsw_DX_m16 | C::Outsd_DX_m32 => {
            let (none, seg) = (RepPrefixKind::None, Register::None);
            let ins = match code {
                C::Outsb_DX_m8 => Instruction::with_outsb(32, seg, none),
                C::Outsw_DX_m16 => Instruction::with_outsw(32, seg, none),
                _ => Instruction::with_outsd(32, seg, none),
            };
            Item {
                pre: vec![mov(Register::ESI, address(rng, 4))],
                insn: ins.ok()?,
            }
        }
        _ => return crate::operands::build(rng, code, esp),
    })
}

/// The codes a faulting case ends with, beyond the fault codes themselves.
pub const ARITH_AND_MEMORY: &[Code] = &[
    Code::Div_rm32,
    Code::Div_rm16,
    Code::Div_rm8,
    Code::Idiv_rm32,
    Code::Aam_imm8,
    Code::Mov_r32_rm32,
    Code::Mov_rm32_r32,
];
