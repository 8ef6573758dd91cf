//! i386 forms with no 64-bit encoding: 16-bit addressing (`[bx+si]`, the
//! 0x67 prefix in 32-bit code), the opcode-0x82 aliases of group 1, `bound`,
//! and `jcxz`.
//!
//! Invariant: a 16-bit effective address is `(base16 + index16 + disp16) mod
//! 2^16`, computed flag-free into r11d before the instruction runs on
//! `[r11d]` (plus the fs/gs base if the instruction has that override).

use super::asm::{Asm, EncodeError};
use crate::abi::{Reason, CTX_SCRATCH};
use iced_x86::{Code, Instruction, MemoryOperand, Register};

/// The opcode-0x82 aliases map to their 0x80 twins (same meaning).
pub fn alias_82(code: Code) -> Option<Code> {
    Some(match code {
        Code::Add_rm8_imm8_82 => Code::Add_rm8_imm8,
        Code::Or_rm8_imm8_82 => Code::Or_rm8_imm8,
        Code::Adc_rm8_imm8_82 => Code::Adc_rm8_imm8,
        Code::Sbb_rm8_imm8_82 => Code::Sbb_rm8_imm8,
        Code::And_rm8_imm8_82 => Code::And_rm8_imm8,
        Code::Sub_rm8_imm8_82 => Code::Sub_rm8_imm8,
        Code::Xor_rm8_imm8_82 => Code::Xor_rm8_imm8,
        Code::Cmp_rm8_imm8_82 => Code::Cmp_rm8_imm8,
        _ => return None,
    })
}

/// Does `i` address memory with 16-bit registers or a 16-bit displacement?
pub fn is_addr16(i: &Instruction) -> bool {
    super::segment::mem_operand(i).is_some()
        && (i.memory_base().is_gpr16()
            || i.memory_index().is_gpr16()
            || (i.memory_base() == Register::None
                && i.memory_index() == Register::None
                && i.memory_displ_size() == 2))
}

/// Compute the 16-bit effective address of `i` into r11d and point the
/// memory operand at `[r11d]`; a segment override is kept for `fixup_segment`.
pub fn fixup_addr16(asm: &mut Asm, i: &mut Instruction) -> Result<(), EncodeError> {
    use Register::*;
    if i.code() == Code::Xlat_m8 {
        return super::segment::fixup_xlat(asm, i);
    }
    let wide = |r: Register| if r == None { None } else { r.full_register32() };
    let (b, x) = (wide(i.memory_base()), wide(i.memory_index()));
    let d = i.memory_displacement64() as u16 as i32;
    match (b, x) {
        (None, None) => asm.mov_ri(R11D, d as u32),
        (b, None) | (None, b) => asm.lea32(R11D, b, d),
        (b, x) => asm.lea32_bi(R11D, b, x, 1, d),
    }
    asm.ins(&Instruction::with2(Code::Movzx_r32_rm16, R11D, R11W).unwrap())?;
    let seg = i.segment_prefix();
    i.set_memory_base(R11D);
    i.set_memory_index(None);
    i.set_memory_index_scale(1);
    i.set_memory_displacement64(0);
    i.set_memory_displ_size(0);
    i.set_segment_prefix(seg);
    if matches!(seg, FS | GS) {
        // fixup_segment adds the base to [r11d].
        super::segment::fixup_segment(asm, i)?;
    }
    Ok(())
}

/// `bound r32, m32&32`: the runtime compares and raises SIGSEGV (#BR) when
/// out of range; the operand address goes through the context.
pub fn lower_bound(asm: &mut Asm, i: &Instruction) -> Result<(), EncodeError> {
    lea_operand(asm, i)?;
    asm.ins(
        &Instruction::with2(
            Code::Mov_rm64_r64,
            MemoryOperand::with_base_displ(Register::R15, CTX_SCRATCH as i64),
            Register::R11,
        )
        .unwrap(),
    )?;
    let reg = i.op0_register().number() as u32 & 7;
    let wide = (i.code() == Code::Bound_r32_m3232) as u32;
    asm.runtime_call(
        Reason::Emulate,
        super::lower::emu::BOUND | (reg << 8) | (wide << 11),
        i.ip32(),
    );
    Ok(())
}

/// r11d = the guest linear address of `i`'s memory operand: the effective
/// address (16-bit forms wrapped at 64 KiB) plus the fs/gs base, mod 2^32.
pub fn lea_operand(asm: &mut Asm, i: &Instruction) -> Result<(), EncodeError> {
    let mut lea = Instruction::with2(
        Code::Lea_r32_m,
        Register::R11D,
        MemoryOperand::with_base_displ(Register::EAX, 0),
    )
    .unwrap();
    super::segment::copy_mem(&mut lea, i);
    lea.set_segment_prefix(Register::None);
    let seg = i.memory_segment();
    if is_addr16(&lea) {
        fixup_addr16(asm, &mut lea)?; // leaves the address in r11d
    } else {
        asm.ins(&lea)?;
    }
    if matches!(seg, Register::GS | Register::FS) {
        let base = if seg == Register::GS {
            Register::R12D
        } else {
            Register::R13D
        };
        asm.lea32_bi(Register::R11D, Register::R11D, base, 1, 0);
    }
    Ok(())
}

/// `jcxz rel8` (16-bit counter): no 64-bit form; tested flag-free by
/// `jecxz` on a zero-extended copy of cx, ecx restored on both paths.
pub fn lower_jcxz(asm: &mut Asm, i: &Instruction) {
    cx_zero_branch(asm, i.near_branch32(), i.next_ip32());
}

/// Branch to `if_zero` when cx is 0, else to `if_not`, without flags.
fn cx_zero_branch(asm: &mut Asm, if_zero: u32, if_not: u32) {
    // mov r10, rcx; movzx ecx, cx; jecxz +8; mov rcx, r10; jmp if_not;
    // mov rcx, r10; jmp if_zero
    asm.raw(&[
        0x49, 0x89, 0xca, 0x0f, 0xb7, 0xc9, 0x67, 0xe3, 0x08, 0x4c, 0x89, 0xd1,
    ]);
    asm.jmp_exit(if_not);
    asm.raw(&[0x4c, 0x89, 0xd1]);
    asm.jmp_exit(if_zero);
}

/// `loop`/`loope`/`loopne` with the 16-bit counter cx (0x67 in 32-bit
/// code): cx is decremented flag-free (`lea`, then a 16-bit move keeps the
/// rest of ecx), loope/loopne test ZF, then the cx test of `cx_zero_branch`.
pub fn lower_loop_cx(asm: &mut Asm, i: &Instruction) {
    // lea r10d, [rcx-1]; mov cx, r10w
    asm.raw(&[0x44, 0x8d, 0x51, 0xff, 0x66, 0x44, 0x89, 0xd1]);
    let (target, next) = (i.near_branch32(), i.next_ip32());
    match i.code() {
        Code::Loope_rel8_32_CX | Code::Loope_rel8_16_CX => asm.jcc_exit(0x5, next), // jne: ZF=0 ends
        Code::Loopne_rel8_32_CX | Code::Loopne_rel8_16_CX => asm.jcc_exit(0x4, next), // je: ZF=1 ends
        _ => {}
    }
    cx_zero_branch(asm, next, target);
}
