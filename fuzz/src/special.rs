//! Instructions whose operands need values, not just places: divisions that
//! must not raise #DE, control words that must keep exceptions masked,
//! string instructions with esi/edi/ecx in the window, `enter`/`leave` with
//! a frame in the stack half, `popf` of a sanitised value, `xlat`,
//! `maskmov*` and the bit tests whose register offset moves the address.
//! Each builder returns the item with its set-up (prelude); `Sim` still
//! checks the result like any other item.

use crate::flow::{branch, indirect, is_branch, sreg_mov, sreg_pop};
use crate::gen::Item;
use crate::layout::*;
use crate::memop::{address, form};
use crate::operands::GPR32;
use crate::rng::Rng;
use crate::sim::Sim;
use crate::state::{ARITH_FLAGS, DF};
use iced_x86::{Code, Instruction, MemoryOperand, Register, RepPrefixKind};

pub(crate) fn mov(r: Register, v: u32) -> Instruction {
    Instruction::with2(Code::Mov_r32_imm32, r, v).unwrap()
}

pub(crate) fn abs(a: u32) -> MemoryOperand {
    MemoryOperand::new(
        Register::None,
        Register::None,
        1,
        a as i64,
        4,
        false,
        Register::None,
    )
}

/// Stores `v` (of `size` bytes) at absolute address `a`.
pub(crate) fn store(a: u32, v: u32, size: u32) -> Instruction {
    match size {
        1 => Instruction::with2(Code::Mov_rm8_imm8, abs(a), v & 0xff),
        2 => Instruction::with2(Code::Mov_rm16_imm16, abs(a), v & 0xffff),
        _ => Instruction::with2(Code::Mov_rm32_imm32, abs(a), v),
    }
    .unwrap()
}

/// Builds `code` if it needs a special builder; None if it does not.
pub fn build(rng: &mut Rng, code: Code, sim: &Sim) -> Option<Option<Item>> {
    use Code as C;
    if is_branch(code) && !matches!(code, C::Jmp_rm32 | C::Call_rm32) {
        return Some(branch(rng, code));
    }
    Some(match code {
        C::Div_rm8 | C::Div_rm16 | C::Div_rm32 => Some(div(rng, code, false, sim.esp)),
        C::Idiv_rm8 | C::Idiv_rm16 | C::Idiv_rm32 => Some(div(rng, code, true, sim.esp)),
        C::Aam_imm8 => Some(plain(
            Instruction::with1(code, 1 + rng.below(255) as u32).ok()?,
        )),
        C::Enterd_imm16_imm8 | C::Enterw_imm16_imm8 => Some(enter(rng, code, sim.esp)),
        C::Leaved | C::Leavew => Some(leave(rng, code, sim)),
        C::Popfd | C::Popfw => Some(popf(rng, code)),
        C::Fxsave_m512byte
        | C::Fnsave_m94byte
        | C::Fnsave_m108byte
        | C::Fnstenv_m14byte
        | C::Fnstenv_m28byte => {
            let a = area(rng, 512);
            let mut pre = Vec::new();
            let m = form(rng, a, sim.esp, &[], &mut pre);
            Some(Item {
                pre,
                insn: Instruction::with1(code, m).ok()?,
            })
        }
        C::Fxrstor_m512byte => Some(fxrstor(rng, code, sim.esp)?),
        C::Fldenv_m14byte | C::Fldenv_m28byte | C::Frstor_m94byte | C::Frstor_m108byte => {
            Some(fpu_env(rng, code, sim.esp)?)
        }
        C::Xsave_mem | C::Xrstor_mem => Some(xsave(rng, code, sim.esp)?),
        C::Lds_r32_m1632 | C::Les_r32_m1632 | C::Lfs_r32_m1632 | C::Lgs_r32_m1632 => {
            Some(far_load(rng, code, sim.esp)?)
        }
        C::Lss_r32_m1632 | C::Lds_r16_m1616 | C::Les_r16_m1616 | C::Lfs_r16_m1616 => {
            Some(far_load(rng, code, sim.esp)?)
        }
        C::Lgs_r16_m1616 | C::Lss_r16_m1616 => Some(far_load(rng, code, sim.esp)?),
        C::Xgetbv => Some(Item {
            pre: vec![mov(Register::ECX, 0)], // XCR0; other indices may #GP
            insn: Instruction::with(code),
        }),
        C::Reservednop_rm16_r16_0F0D | C::Reservednop_rm32_r32_0F0D => {
            // With a register operand AMD CPUs raise #UD (the PREFETCH group).
            let it = crate::operands::build(rng, code, sim.esp)?;
            (it.insn.op1_kind() == iced_x86::OpKind::Memory
                || it.insn.op0_kind() == iced_x86::OpKind::Memory)
                .then_some(it)
        }
        _ if crate::gather::is_gather(code) => crate::gather::build(rng, code),
        C::Jmp_rm32 | C::Call_rm32 => indirect(rng, code, sim.esp),
        C::Mov_Sreg_rm16 | C::Mov_Sreg_r32m16 => sreg_mov(rng, code, sim.esp),
        C::Popw_ES | C::Popd_ES | C::Popw_SS | C::Popd_SS | C::Popw_DS | C::Popd_DS => {
            Some(sreg_pop(code, 0x2b))
        }
        C::Popw_FS | C::Popd_FS | C::Popw_GS | C::Popd_GS => Some(sreg_pop(code, 0)),
        C::Fldcw_m2byte => {
            let cw = control_word(rng);
            Some(store_then(rng, code, 2, cw, sim.esp))
        }
        C::Ldmxcsr_m32 | C::VEX_Vldmxcsr_m32 => {
            let mut m = 0x1f80 | (rng.below(4) as u32) << 13 | (rng.u32() & 0x803f);
            if rng.chance(1, 2) {
                m &= !0x8000;
            }
            Some(store_then(rng, code, 4, m, sim.esp))
        }
        C::Xlat_m8 => {
            let b = WIN + MARGIN + rng.below((WIN_SIZE - 2 * MARGIN - 256) as u64) as u32;
            let m = MemoryOperand::new(Register::EBX, Register::AL, 1, 0, 0, false, Register::None);
            Some(Item {
                pre: vec![mov(Register::EBX, b)],
                insn: Instruction::with1(code, m).ok()?,
            })
        }
        C::Maskmovq_rDI_mm_mm | C::Maskmovdqu_rDI_xmm_xmm | C::VEX_Vmaskmovdqu_rDI_xmm_xmm => {
            let (base, n) = if code == C::Maskmovq_rDI_mm_mm {
                (Register::MM0 as usize, 8)
            } else {
                (Register::XMM0 as usize, 8)
            };
            let r1 = Register::try_from(base + rng.below(n) as usize).ok()?;
            let r2 = Register::try_from(base + rng.below(n) as usize).ok()?;
            let ins = match code {
                C::Maskmovq_rDI_mm_mm => Instruction::with_maskmovq(32, r1, r2, Register::None),
                C::Maskmovdqu_rDI_xmm_xmm => {
                    Instruction::with_maskmovdqu(32, r1, r2, Register::None)
                }
                _ => Instruction::with_vmaskmovdqu(32, r1, r2, Register::None),
            }
            .ok()?;
            Some(Item {
                pre: vec![mov(Register::EDI, address(rng, 16))],
                insn: ins,
            })
        }
        C::Bt_rm16_r16 | C::Bt_rm32_r32 | C::Bts_rm16_r16 | C::Bts_rm32_r32 => {
            bit_test(rng, code, sim.esp)
        }
        C::Btr_rm16_r16 | C::Btr_rm32_r32 | C::Btc_rm16_r16 | C::Btc_rm32_r32 => {
            bit_test(rng, code, sim.esp)
        }
        _ => return string(rng, code).map(Some),
    })
}

pub(crate) fn plain(insn: Instruction) -> Item {
    Item { pre: vec![], insn }
}

pub(crate) fn pick_not(rng: &mut Rng, avoid: &[Register]) -> Register {
    loop {
        let r = rng.pick(&GPR32);
        if r != Register::ESP && !avoid.contains(&r) {
            return r;
        }
    }
}

/// div/idiv with a divisor and dividend whose quotient fits.
fn div(rng: &mut Rng, code: Code, signed: bool, esp: u32) -> Item {
    let bits = match code {
        Code::Div_rm8 | Code::Idiv_rm8 => 8,
        Code::Div_rm16 | Code::Idiv_rm16 => 16,
        _ => 32,
    };
    let mask = if bits == 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    };
    let (d, dividend): (u32, u64) = if signed {
        let half = 1i64 << (bits - 1);
        let d = loop {
            let d = ((rng.interesting32() & mask) as i64) << (64 - bits) >> (64 - bits);
            if d != 0 {
                break d;
            }
        };
        let q = rng.range(-(half - 1), half);
        let r = rng.range(0, d.abs()) * if q * d < 0 { -1 } else { 1 };
        let r = if q == 0 && rng.chance(1, 2) { -r } else { r };
        (d as u32 & mask, (q as i128 * d as i128 + r as i128) as u64)
    } else {
        let d = loop {
            let d = rng.interesting32() & mask;
            if d != 0 {
                break d;
            }
        };
        let q = rng.interesting32() as u64 & mask as u64;
        (d, q * d as u64 + rng.below(d as u64))
    };
    let mut pre = Vec::new();
    let noise = rng.u32();
    match bits {
        8 => pre.push(mov(
            Register::EAX,
            noise & 0xffff_0000 | dividend as u32 & 0xffff,
        )),
        16 => {
            pre.push(mov(
                Register::EAX,
                noise & 0xffff_0000 | dividend as u32 & 0xffff,
            ));
            pre.push(mov(
                Register::EDX,
                noise & 0xffff_0000 | (dividend >> 16) as u32 & 0xffff,
            ));
        }
        _ => {
            pre.push(mov(Register::EAX, dividend as u32));
            pre.push(mov(Register::EDX, (dividend >> 32) as u32));
        }
    }
    let op = if rng.chance(1, 2) {
        use Register as R;
        let (r, full, shift) = match bits {
            8 => rng.pick(&[
                (R::CL, R::ECX, 0),
                (R::DL, R::EDX, 0),
                (R::BL, R::EBX, 0),
                (R::CH, R::ECX, 8),
                (R::DH, R::EDX, 8),
                (R::BH, R::EBX, 8),
            ]),
            16 => {
                let f = pick_not(rng, &[R::EAX, R::EDX]);
                (
                    Register::try_from(R::AX as usize + f.number()).unwrap(),
                    f,
                    0,
                )
            }
            _ => {
                let f = pick_not(rng, &[R::EAX, R::EDX]);
                (f, f, 0)
            }
        };
        pre.push(mov(full, noise & !(mask << shift) | d << shift));
        Instruction::with1(code, r).unwrap()
    } else {
        let a = address(rng, bits / 8);
        pre.push(store(a, d, bits / 8));
        let m = form(rng, a, esp, &[Register::EAX, Register::EDX], &mut pre);
        Instruction::with1(code, m).unwrap()
    };
    Item { pre, insn: op }
}

fn store_then(rng: &mut Rng, code: Code, size: u32, v: u32, esp: u32) -> Item {
    let a = address(rng, size);
    let mut pre = vec![store(a, v, size)];
    let m = form(rng, a, esp, &[], &mut pre);
    Item {
        pre,
        insn: Instruction::with1(code, m).unwrap(),
    }
}

fn enter(rng: &mut Rng, code: Code, esp: u32) -> Item {
    let size = if rng.chance(1, 2) {
        rng.pick(&[0u32, 4, 8, 16, 32])
    } else {
        rng.below(64) as u32
    };
    let level = if rng.chance(3, 4) {
        rng.below(5) as u32
    } else {
        rng.below(8) as u32
    };
    let mut pre = Vec::new();
    if level > 1 || rng.chance(1, 4) {
        let up = 4 * rng.below(16) as u32;
        pre.push(mov(Register::EBP, (esp + up).min(ESP_MAX)));
    }
    Item {
        pre,
        insn: Instruction::with2(code, size, level).unwrap(),
    }
}

fn leave(rng: &mut Rng, code: Code, sim: &Sim) -> Item {
    let ok = matches!(sim.known[5], Some(v) if v >= sim.esp && v <= ESP_MAX);
    let pre = if ok && rng.chance(3, 4) {
        vec![]
    } else {
        let up = 4 * rng.below(16) as u32;
        vec![mov(Register::EBP, (sim.esp + up).min(ESP_MAX))]
    };
    Item {
        pre,
        insn: Instruction::with(code),
    }
}

/// popf of a value pushed just before: arithmetic flags, DF, ID, and the
/// IF/IOPL bits user mode cannot change (popf must ignore them); never TF,
/// AC or NT.
fn popf(rng: &mut Rng, code: Code) -> Item {
    let v = 2 | rng.u32() & (ARITH_FLAGS | DF | 0x20_0000 | 0x200 | 0x3000);
    let push = if code == Code::Popfd {
        Instruction::with1(Code::Pushd_imm32, v).unwrap()
    } else {
        Instruction::with1(Code::Push_imm16, v & 0xffff).unwrap()
    };
    Item {
        pre: vec![push],
        insn: Instruction::with(code),
    }
}

/// bt/bts/btr/btc: a register operand, or memory with a small bit offset.
fn bit_test(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    let wide = matches!(
        code,
        Code::Bt_rm32_r32 | Code::Bts_rm32_r32 | Code::Btr_rm32_r32 | Code::Btc_rm32_r32
    );
    let sized = |r: Register| {
        if wide {
            r
        } else {
            Register::try_from(Register::AX as usize + r.number()).unwrap()
        }
    };
    if rng.chance(1, 2) {
        let (a, b) = (sized(rng.pick(&GPR32)), sized(rng.pick(&GPR32)));
        return Some(plain(Instruction::with2(code, a, b).ok()?));
    }
    let r32 = pick_not(rng, &[]);
    let r = sized(r32);
    let mut pre = vec![mov(r32, rng.range(-128, 128) as u32)];
    let a = address(rng, 4);
    let m = form(rng, a, esp, &[r32], &mut pre);
    Some(Item {
        pre,
        insn: Instruction::with2(code, m, r).ok()?,
    })
}

/// String instructions, with or without a rep prefix, esi/edi in the data
/// half and a count of at most 16.
fn string(rng: &mut Rng, code: Code) -> Option<Item> {
    use Code as C;
    let seg = rng.pick(&[
        Register::None,
        Register::None,
        Register::DS,
        Register::ES,
        Register::SS,
    ]);
    let cmp = rng.pick(&[
        RepPrefixKind::None,
        RepPrefixKind::Repe,
        RepPrefixKind::Repne,
    ]);
    let rep = rng.pick(&[RepPrefixKind::None, RepPrefixKind::Repe]);
    let (ins, si, di) = match code {
        C::Movsb_m8_m8 => (Instruction::with_movsb(32, seg, rep), true, true),
        C::Movsw_m16_m16 => (Instruction::with_movsw(32, seg, rep), true, true),
        C::Movsd_m32_m32 => (Instruction::with_movsd(32, seg, rep), true, true),
        C::Cmpsb_m8_m8 => (Instruction::with_cmpsb(32, seg, cmp), true, true),
        C::Cmpsw_m16_m16 => (Instruction::with_cmpsw(32, seg, cmp), true, true),
        C::Cmpsd_m32_m32 => (Instruction::with_cmpsd(32, seg, cmp), true, true),
        C::Lodsb_AL_m8 => (Instruction::with_lodsb(32, seg, rep), true, false),
        C::Lodsw_AX_m16 => (Instruction::with_lodsw(32, seg, rep), true, false),
        C::Lodsd_EAX_m32 => (Instruction::with_lodsd(32, seg, rep), true, false),
        C::Stosb_m8_AL => (Instruction::with_stosb(32, rep), false, true),
        C::Stosw_m16_AX => (Instruction::with_stosw(32, rep), false, true),
        C::Stosd_m32_EAX => (Instruction::with_stosd(32, rep), false, true),
        C::Scasb_AL_m8 => (Instruction::with_scasb(32, cmp), false, true),
        C::Scasw_AX_m16 => (Instruction::with_scasw(32, cmp), false, true),
        C::Scasd_EAX_m32 => (Instruction::with_scasd(32, cmp), false, true),
        _ => return None,
    };
    let mid =
        |rng: &mut Rng| WIN + 3 * MARGIN + rng.below((WIN_SIZE / 2 - 4 * MARGIN) as u64) as u32;
    let mut pre = Vec::new();
    if si {
        pre.push(mov(Register::ESI, mid(rng)));
    }
    if di {
        pre.push(mov(Register::EDI, mid(rng)));
    }
    let ins = ins.ok()?;
    if ins.has_rep_prefix() || ins.has_repne_prefix() {
        pre.push(mov(Register::ECX, rng.below(17) as u32));
    }
    Some(Item { pre, insn: ins })
}

/// A 16-aligned address with `size` bytes of room in the data half.
fn area(rng: &mut Rng, size: u32) -> u32 {
    WIN + MARGIN + 16 * rng.below(((WIN_SIZE / 2 - size - 2 * MARGIN) / 16) as u64) as u32
}

/// An x87 control word with every exception masked (random precision and
/// rounding), and a status word without the error-summary and busy bits,
/// so no later instruction raises #MF.
fn fpu_words(rng: &mut Rng) -> (u32, u32) {
    let cw = control_word(rng);
    (cw, rng.u32() & 0x7f7f)
}

/// An x87 control word with every exception masked, random precision
/// (24, 53 or 64 bits) and rounding.
fn control_word(rng: &mut Rng) -> u32 {
    0x7f | rng.pick(&[0u32, 2, 3]) << 8 | (rng.below(4) as u32) << 10
}

/// A valid MXCSR image for fxrstor/xrstor: exceptions masked, random
/// rounding, flags, DAZ and FTZ (a reserved bit set would #GP).
fn image_mxcsr(rng: &mut Rng) -> u32 {
    0x1f80 | (rng.below(4) as u32) << 13 | (rng.u32() & 0x807f)
}

/// fldenv/frstor of an image whose other bytes (tags, pointers, registers)
/// are the window's random bytes.
fn fpu_env(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    let size = code.op_code().memory_size().size() as u32;
    let a = area(rng, size);
    let (cw, sw) = fpu_words(rng);
    // 16-bit images (14/94 bytes) keep the words 2 bytes apart, 32-bit 4.
    let step = if matches!(code, Code::Fldenv_m14byte | Code::Frstor_m94byte) {
        2
    } else {
        4
    };
    let mut pre = vec![store(a, cw, 2), store(a + step, sw, 2)];
    let m = form(rng, a, esp, &[], &mut pre);
    Some(Item {
        pre,
        insn: Instruction::with1(code, m).ok()?,
    })
}

/// fxrstor of a random image with valid FCW/FSW and MXCSR (reserved MXCSR
/// bits set would #GP).
fn fxrstor(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    let a = area(rng, 512);
    let (cw, sw) = fpu_words(rng);
    let mxcsr = image_mxcsr(rng);
    let mut pre = vec![
        store(a, cw, 2),
        store(a + 2, sw, 2),
        store(a + 24, mxcsr, 4),
    ];
    let m = form(rng, a, esp, &[], &mut pre);
    Some(Item {
        pre,
        insn: Instruction::with1(code, m).ok()?,
    })
}

/// xsave/xrstor of the x87, SSE and AVX components (a random subset in
/// edx:eax), in the one 64-aligned 832-byte area the data half holds. For
/// xrstor the image gets a valid header (XSTATE_BV a random subset,
/// XCOMP_BV and the reserved bytes zero), FCW/FSW and MXCSR.
fn xsave(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    let a = (WIN + MARGIN + 63) & !63;
    debug_assert!(a + 832 + MARGIN <= WIN_DATA_END);
    let rfbm = rng.below(8) as u32;
    let mut pre = vec![mov(Register::EAX, rfbm), mov(Register::EDX, 0)];
    if code == Code::Xrstor_mem {
        let (cw, sw) = fpu_words(rng);
        let mxcsr = image_mxcsr(rng);
        pre.extend([
            store(a, cw, 2),
            store(a + 2, sw, 2),
            store(a + 24, mxcsr, 4),
        ]);
        pre.push(store(a + 512, rng.below(8) as u32, 4));
        for off in (516..576).step_by(4) {
            pre.push(store(a + off, 0, 4));
        }
    }
    let m = form(rng, a, esp, &[Register::EAX, Register::EDX], &mut pre);
    Some(Item {
        pre,
        insn: Instruction::with1(code, m).ok()?,
    })
}

/// lds/les/lfs/lgs/lss of a far pointer in the window: a random offset and
/// a selector the segment accepts (the flat user data selector 0x2b; for
/// fs/gs also the null selector).
fn far_load(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    use iced_x86::Mnemonic as M;
    let wide = code.op_code().operand_size() == 32;
    let sel = match code.mnemonic() {
        M::Lfs | M::Lgs if rng.chance(1, 2) => 0,
        _ => 0x2b,
    };
    let a = address(rng, 8);
    let off = if wide { 4 } else { 2 };
    let mut pre = vec![store(a, rng.u32(), off), store(a + off, sel, 2)];
    let m = form(rng, a, esp, &[], &mut pre);
    let r32 = pick_not(rng, &[Register::ESP]);
    let r = if wide {
        r32
    } else {
        Register::try_from(Register::AX as usize + r32.number()).ok()?
    };
    Some(Item {
        pre,
        insn: Instruction::with2(code, r, m).ok()?,
    })
}
