//! AVX2 gathers (`vpgatherdd`, `vgatherqpd`, ...): the VSIB index vector is
//! loaded with small element indices (0..`MAX_INDEX`) right before the
//! gather, from bytes the prelude stores in the window, and the base
//! register points into the data half; so every element address lies in
//! [base, base + MAX_INDEX * scale + 8), which is what `Sim` checks for a
//! VSIB operand. The mask vector is random: some elements load, others keep
//! the destination's value, and the mask ends zeroed, as on the CPU.

use crate::gen::Item;
use crate::layout::*;
use crate::memop::address;
use crate::rng::Rng;
use crate::special::{mov, store};
use iced_x86::{Code, Instruction, MemoryOperand, OpCodeOperandKind as K, Register};

/// Element indices are below this.
pub const MAX_INDEX: u32 = 16;

pub fn is_gather(code: Code) -> bool {
    let k = code.op_code().op1_kind();
    code.op_code().encoding() == iced_x86::EncodingKind::VEX
        && matches!(
            k,
            K::mem_vsib32x | K::mem_vsib32y | K::mem_vsib64x | K::mem_vsib64y
        )
}

pub fn build(rng: &mut Rng, code: Code) -> Option<Item> {
    let oc = code.op_code();
    let wide = |k: K| {
        matches!(
            k,
            K::ymm_reg | K::ymm_vvvv | K::mem_vsib32y | K::mem_vsib64y
        )
    };
    // Three different registers: destination, index, mask (else #UD).
    let mut regs: Vec<usize> = (0..8).collect();
    for i in (1..regs.len()).rev() {
        regs.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let reg = |n: usize, y: bool| {
        let base = if y { Register::YMM0 } else { Register::XMM0 };
        Register::try_from(base as usize + n).unwrap()
    };
    let dst = reg(regs[0], wide(oc.op0_kind()));
    let idx_wide = wide(oc.op1_kind());
    let idx = reg(regs[1], idx_wide);
    let mask = reg(regs[2], wide(oc.op2_kind()));
    let qword = matches!(oc.op1_kind(), K::mem_vsib64x | K::mem_vsib64y);
    // The index vector's bytes, then a load of them into `idx`.
    let bytes = if idx_wide { 32 } else { 16 };
    let src = address(rng, 32);
    let mut pre = Vec::new();
    for off in (0..bytes).step_by(4) {
        let high_half = qword && off % 8 == 4;
        let v = if high_half {
            0
        } else {
            rng.below(MAX_INDEX as u64) as u32
        };
        pre.push(store(src + off, v, 4));
    }
    let load = if idx_wide {
        Code::VEX_Vmovdqu_ymm_ymmm256
    } else {
        Code::VEX_Vmovdqu_xmm_xmmm128
    };
    pre.push(Instruction::with2(load, idx, crate::special::abs(src)).ok()?);
    let scale = rng.pick(&[1u32, 2, 4, 8]);
    let base_reg = rng.pick(&[
        Register::EAX,
        Register::ECX,
        Register::EDX,
        Register::EBX,
        Register::ESI,
        Register::EDI,
    ]);
    let span = MAX_INDEX * scale + 8;
    let lo = WIN + MARGIN;
    let base = lo + 8 * rng.below(((WIN_DATA_END - MARGIN - span - lo) / 8) as u64) as u32;
    pre.push(mov(base_reg, base));
    let m = MemoryOperand::new(base_reg, idx, scale, 0, 0, false, Register::None);
    Some(Item {
        pre,
        insn: Instruction::with3(code, dst, m, mask).ok()?,
    })
}
