//! Memory operands that land in the window (see `layout`).
//!
//! A memory operand first gets an address A in the window, then a random
//! addressing form that reaches A: `[disp32]`, `[B+disp]`, `[B+I*s+disp]`,
//! `[I*s+disp32]`, `[esp+disp]`, `[esp+I*s+disp]`, or `[B+disp32]` that
//! wraps around 4 GiB. B and I get their values from `mov r32, imm32`
//! instructions put right before the instruction (the item's prelude), so
//! no register is reserved and every instruction may write any register
//! but esp. `lea` and the hint NOPs, which do not access memory, get any
//! form with any registers, 16-bit addressing included.

use crate::layout::*;
use crate::operands::GPR32;
use crate::rng::Rng;
use iced_x86::{Code, Instruction, MemoryOperand, Register};

/// A random address for an access of `size` bytes inside the window.
pub fn address(rng: &mut Rng, size: u32) -> u32 {
    let size = size.clamp(1, 64);
    let lo = WIN + MARGIN;
    let hi = WIN + WIN_SIZE - MARGIN - size;
    let a = lo + rng.below((hi - lo) as u64) as u32;
    let align = if size >= 16 {
        size.min(32)
    } else if size.is_power_of_two() && rng.chance(1, 2) {
        size
    } else {
        1
    };
    a & !(align - 1)
}

fn mov_imm(r: Register, v: u32) -> Instruction {
    Instruction::with2(Code::Mov_r32_imm32, r, v).unwrap()
}

/// A memory operand that reaches address `a`, appending the register
/// set-up it needs to `pre`. `esp` is the value esp has when the access is
/// made; `avoid` lists registers the set-up must not touch.
pub fn form(
    rng: &mut Rng,
    a: u32,
    esp: u32,
    avoid: &[Register],
    pre: &mut Vec<Instruction>,
) -> MemoryOperand {
    let free: Vec<Register> = GPR32
        .iter()
        .copied()
        .filter(|r| *r != Register::ESP && !avoid.contains(r))
        .collect();
    let seg = match rng.below(12) {
        0 => Register::DS,
        1 => Register::ES,
        2 => Register::SS,
        _ => Register::None,
    };
    let scale = rng.pick(&[1u32, 2, 4, 8]);
    let mut disp = match rng.below(4) {
        0 => 0i64,
        1 | 2 => rng.range(-128, 128),
        _ => rng.range(-2048, 2048),
    };
    let dsize = |d: i64| {
        if d == 0 {
            0
        } else if (-128..128).contains(&d) {
            1
        } else {
            4
        }
    };
    let form = if free.len() < 2 { 0 } else { rng.below(7) };
    match form {
        0 => MemoryOperand::new(Register::None, Register::None, 1, a as i64, 4, false, seg),
        1 => {
            let b = rng.pick(&free);
            pre.push(mov_imm(b, a.wrapping_sub(disp as u32)));
            MemoryOperand::new(b, Register::None, 1, disp, dsize(disp), false, seg)
        }
        2 => {
            let b = rng.pick(&free);
            let i = loop {
                let i = rng.pick(&free);
                if i != b {
                    break i;
                }
            };
            let k = rng.range(-16, 17) as u32;
            let bv = a
                .wrapping_sub(disp as u32)
                .wrapping_sub(k.wrapping_mul(scale));
            pre.push(mov_imm(b, bv));
            pre.push(mov_imm(i, k));
            MemoryOperand::new(b, i, scale, disp, dsize(disp), false, seg)
        }
        3 => {
            let i = rng.pick(&free);
            let k = rng.range(-16, 17) as u32;
            let d = a.wrapping_sub(k.wrapping_mul(scale)) as i32 as i64;
            pre.push(mov_imm(i, k));
            MemoryOperand::new(Register::None, i, scale, d, 4, false, seg)
        }
        4 | 5 => {
            let index = if form == 5 {
                rng.pick(&free)
            } else {
                Register::None
            };
            let k = if form == 5 {
                rng.range(-8, 9) as u32
            } else {
                0
            };
            if index != Register::None {
                pre.push(mov_imm(index, k));
            }
            disp = a.wrapping_sub(esp).wrapping_sub(k.wrapping_mul(scale)) as i32 as i64;
            let s = if index == Register::None { 1 } else { scale };
            MemoryOperand::new(
                Register::ESP,
                index,
                s,
                disp,
                dsize(disp).max(1),
                false,
                seg,
            )
        }
        _ => {
            // [B+disp32] where B+disp32 wraps around 4 GiB.
            let b = rng.pick(&free);
            let bv = 0x8000_0000 | rng.u32();
            pre.push(mov_imm(b, bv));
            let d = a.wrapping_sub(bv) as i32 as i64;
            MemoryOperand::new(b, Register::None, 1, d, 4, false, seg)
        }
    }
}

/// Any memory operand, for instructions that do not access it (`lea`).
pub fn any_form(rng: &mut Rng) -> MemoryOperand {
    if rng.chance(1, 4) {
        let (b, i) = rng.pick(&[
            (Register::BX, Register::SI),
            (Register::BX, Register::DI),
            (Register::BP, Register::SI),
            (Register::BP, Register::DI),
            (Register::SI, Register::None),
            (Register::DI, Register::None),
            (Register::BP, Register::None),
            (Register::BX, Register::None),
        ]);
        let d = rng.range(-128, 128);
        let ds = if d == 0 && b != Register::BP { 0 } else { 1 };
        return MemoryOperand::new(b, i, 1, d, ds, false, Register::None);
    }
    let b = if rng.chance(1, 6) {
        Register::None
    } else {
        rng.pick(&GPR32)
    };
    let i = if rng.chance(1, 2) {
        Register::None
    } else {
        loop {
            let r = rng.pick(&GPR32);
            if r != Register::ESP {
                break r;
            }
        }
    };
    let d = rng.interesting32() as i32 as i64;
    let ds = if b == Register::None {
        4
    } else {
        rng.pick(&[1, 4])
    };
    let d = if ds == 1 { d as i8 as i64 } else { d };
    MemoryOperand::new(b, i, rng.pick(&[1, 2, 4, 8]), d, ds, false, Register::None)
}
