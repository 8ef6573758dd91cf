//! Operands for one instruction `Code`, generically from iced's operand
//! kinds: registers, immediates and memory operands whose address always
//! lands in the window (see `layout`).
//!
//! Memory operands come from `memop`: an address in the window and an
//! addressing form that reaches it, set up by the item's prelude.

use crate::gen::Item;
use crate::memop::{address, any_form, form};
use crate::rng::Rng;
use iced_x86::{
    Code, Instruction, MemoryOperand, Mnemonic, OpCodeOperandKind as K, OpKind, Register,
};

pub const GPR32: [Register; 8] = [
    Register::EAX,
    Register::ECX,
    Register::EDX,
    Register::EBX,
    Register::ESP,
    Register::EBP,
    Register::ESI,
    Register::EDI,
];
const GPR16: [Register; 8] = [
    Register::AX,
    Register::CX,
    Register::DX,
    Register::BX,
    Register::SP,
    Register::BP,
    Register::SI,
    Register::DI,
];
const GPR8: [Register; 8] = [
    Register::AL,
    Register::CL,
    Register::DL,
    Register::BL,
    Register::AH,
    Register::CH,
    Register::DH,
    Register::BH,
];

/// Operand kinds `build` can fill in.
pub fn supported_kind(k: K) -> bool {
    matches!(
        k,
        K::None
            | K::mem
            | K::mem_offs
            | K::r8_or_mem
            | K::r16_or_mem
            | K::r32_or_mem
            | K::mm_or_mem
            | K::xmm_or_mem
            | K::ymm_or_mem
            | K::r8_reg
            | K::r8_opcode
            | K::r16_reg
            | K::r16_rm
            | K::r16_opcode
            | K::r32_reg
            | K::r32_rm
            | K::r32_opcode
            | K::r32_vvvv
            | K::mm_reg
            | K::mm_rm
            | K::xmm_reg
            | K::xmm_rm
            | K::xmm_vvvv
            | K::xmm_is4
            | K::ymm_reg
            | K::ymm_rm
            | K::ymm_vvvv
            | K::ymm_is4
            | K::es
            | K::cs
            | K::ss
            | K::ds
            | K::fs
            | K::gs
            | K::al
            | K::cl
            | K::ax
            | K::eax
            | K::st0
            | K::sti_opcode
            | K::imm8
            | K::imm8_const_1
            | K::imm8sex16
            | K::imm8sex32
            | K::imm16
            | K::imm32
            | K::seg_rSI
            | K::es_rDI
            | K::seg_rDI
            | K::seg_rBX_al
            | K::seg_reg
            | K::mem_vsib32x
            | K::mem_vsib32y
            | K::mem_vsib64x
            | K::mem_vsib64y
    )
}

fn reg_of(rng: &mut Rng, base: Register, n: usize) -> Register {
    let r = base as usize + rng.below(n as u64) as usize;
    Register::try_from(r).unwrap()
}

/// A random register for operand kind `k`, or None if `k` is no register.
pub fn register(rng: &mut Rng, k: K) -> Option<Register> {
    Some(match k {
        K::r8_reg | K::r8_opcode | K::r8_or_mem => rng.pick(&GPR8),
        K::r16_reg | K::r16_rm | K::r16_opcode | K::r16_or_mem => rng.pick(&GPR16),
        K::r32_reg | K::r32_rm | K::r32_opcode | K::r32_vvvv | K::r32_or_mem => rng.pick(&GPR32),
        K::mm_reg | K::mm_rm | K::mm_or_mem => reg_of(rng, Register::MM0, 8),
        K::xmm_reg | K::xmm_rm | K::xmm_vvvv | K::xmm_is4 | K::xmm_or_mem => {
            reg_of(rng, Register::XMM0, 8)
        }
        K::ymm_reg | K::ymm_rm | K::ymm_vvvv | K::ymm_is4 | K::ymm_or_mem => {
            reg_of(rng, Register::YMM0, 8)
        }
        K::sti_opcode => reg_of(rng, Register::ST0, 8),
        K::seg_reg => rng.pick(&[
            Register::ES,
            Register::CS,
            Register::SS,
            Register::DS,
            Register::FS,
            Register::GS,
        ]),
        K::es => Register::ES,
        K::cs => Register::CS,
        K::ss => Register::SS,
        K::ds => Register::DS,
        K::fs => Register::FS,
        K::gs => Register::GS,
        K::dx => Register::DX,
        K::al => Register::AL,
        K::cl => Register::CL,
        K::ax => Register::AX,
        K::eax => Register::EAX,
        K::st0 => Register::ST0,
        _ => return None,
    })
}

fn imm8(rng: &mut Rng) -> u32 {
    match rng.below(3) {
        0 => rng.pick(&[0, 1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 0x7f, 0x80, 0xff]),
        _ => rng.below(256) as u32,
    }
}

/// Sets operand `i` of `ins` to a random immediate of kind `k`.
pub fn immediate(rng: &mut Rng, ins: &mut Instruction, i: u32, k: K, second: bool) -> bool {
    let (kind, v) = match k {
        K::imm8 if second => (OpKind::Immediate8_2nd, imm8(rng)),
        K::imm8 => (OpKind::Immediate8, imm8(rng)),
        K::imm8_const_1 => (OpKind::Immediate8, 1),
        K::imm8sex16 => (OpKind::Immediate8to16, imm8(rng)),
        K::imm8sex32 => (OpKind::Immediate8to32, imm8(rng)),
        K::imm16 => (OpKind::Immediate16, rng.interesting32() & 0xffff),
        K::imm32 => (OpKind::Immediate32, rng.interesting32()),
        _ => return false,
    };
    ins.set_op_kind(i, kind);
    match kind {
        OpKind::Immediate8 => ins.set_immediate8(v as u8),
        OpKind::Immediate8_2nd => ins.set_immediate8_2nd(v as u8),
        OpKind::Immediate8to16 => ins.set_immediate8to16(v as u8 as i8 as i16),
        OpKind::Immediate8to32 => ins.set_immediate8to32(v as u8 as i8 as i32),
        OpKind::Immediate16 => ins.set_immediate16(v as u16),
        _ => ins.set_immediate32(v),
    }
    true
}

fn set_mem(ins: &mut Instruction, i: u32, m: &MemoryOperand) {
    ins.set_op_kind(i, OpKind::Memory);
    ins.set_memory_base(m.base);
    ins.set_memory_index(m.index);
    ins.set_memory_index_scale(m.scale);
    ins.set_memory_displ_size(m.displ_size);
    if m.base.is_gpr16() || m.index.is_gpr16() {
        ins.set_memory_displacement32(m.displacement as i16 as u16 as u32);
    } else {
        ins.set_memory_displacement32(m.displacement as u32);
    }
    ins.set_segment_prefix(m.segment_prefix);
}

/// Does `code` leave its memory operand unaccessed?
fn no_access(code: Code) -> bool {
    matches!(
        code.mnemonic(),
        Mnemonic::Lea | Mnemonic::Nop | Mnemonic::Reservednop
    )
}

/// A random instance of `code` with the set-up its operands need, or None
/// when an operand kind is not supported. `esp` is esp before it runs.
pub fn build(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    let oc = code.op_code();
    // Not `Instruction::with`, which debug-asserts that there are no operands.
    let mut ins = Instruction::default();
    ins.set_code(code);
    let mut pre = Vec::new();
    let mut mem = None;
    let mut imm_seen = false;
    for (i, &k) in oc
        .op_kinds()
        .iter()
        .enumerate()
        .take(oc.op_count() as usize)
    {
        let i = i as u32;
        let use_mem = match k {
            K::mem | K::mem_offs => true,
            K::r8_or_mem | K::r16_or_mem | K::r32_or_mem => rng.chance(1, 2),
            K::mm_or_mem | K::xmm_or_mem | K::ymm_or_mem => rng.chance(1, 2),
            _ => false,
        };
        if use_mem {
            mem = Some(i);
        } else if let Some(r) = register(rng, k) {
            ins.set_op_kind(i, OpKind::Register);
            ins.set_op_register(i, r);
        } else if immediate(rng, &mut ins, i, k, imm_seen) {
            imm_seen = true;
        } else {
            return None;
        }
    }
    if let Some(i) = mem {
        let m = if no_access(code) {
            any_form(rng)
        } else {
            let size = oc.memory_size().size() as u32;
            let a = address(rng, if size == 0 { 16 } else { size });
            // pop [esp+d] computes its address after esp has grown.
            let esp = match code {
                Code::Pop_rm32 => esp.wrapping_add(4),
                Code::Pop_rm16 => esp.wrapping_add(2),
                _ => esp,
            };
            let m = form(rng, a, esp, &[], &mut pre);
            if oc.op_kind(i) == K::mem_offs {
                pre.clear();
                MemoryOperand::new(
                    Register::None,
                    Register::None,
                    1,
                    a as i64,
                    4,
                    false,
                    m.segment_prefix,
                )
            } else {
                m
            }
        };
        set_mem(&mut ins, i, &m);
        if oc.can_use_lock_prefix() && i == 0 && rng.chance(1, 4) {
            ins.set_has_lock_prefix(true);
        }
    }
    Some(Item { pre, insn: ins })
}
