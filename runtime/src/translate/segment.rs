//! `fs:`/`gs:` memory operands and segment-register instructions.
//!
//! Invariant (DESIGN.md, "Segment bases wrap at 4 GiB"): a guest `gs:`/`fs:`
//! access is computed as `(EA + base) mod 2^32` with 32-bit `lea`s into r11d,
//! never with a host segment base; the instruction itself is then re-encoded
//! with the memory operand `[r11d]` and no segment prefix. r12 holds the
//! guest GS base and r13 the FS base (abi.rs). Guest selector loads call the
//! runtime, which updates the bases; selector reads return i386 values.

use super::asm::{Asm, EncodeError};
use crate::abi::{Reason, CTX_SCRATCH, CTX_SEL};
use iced_x86::{Code, Instruction, MemoryOperand, OpKind, Register};

/// The memory operand index of `i`, if it has one.
pub fn mem_operand(i: &Instruction) -> Option<u32> {
    (0..i.op_count()).find(|&k| i.op_kind(k) == OpKind::Memory)
}

/// Does `i` access memory through `fs:` or `gs:`?
pub fn uses_guest_segment(i: &Instruction) -> bool {
    mem_operand(i).is_some() && matches!(i.memory_segment(), Register::FS | Register::GS)
        || matches!(
            i.code(),
            Code::Mov_EAX_moffs32
                | Code::Mov_moffs32_EAX
                | Code::Mov_AL_moffs8
                | Code::Mov_moffs8_AL
                | Code::Mov_AX_moffs16
                | Code::Mov_moffs16_AX
        ) && matches!(i.memory_segment(), Register::FS | Register::GS)
}

/// Rewrite the `moffs` forms of `mov` into their ModRM forms (same meaning).
pub fn normalize_moffs(i: &Instruction) -> Instruction {
    let m =
        MemoryOperand::with_base_displ_size(Register::None, i.memory_displacement64() as i64, 4);
    let mut n = match i.code() {
        Code::Mov_EAX_moffs32 => Instruction::with2(Code::Mov_r32_rm32, Register::EAX, m),
        Code::Mov_moffs32_EAX => Instruction::with2(Code::Mov_rm32_r32, m, Register::EAX),
        Code::Mov_AX_moffs16 => Instruction::with2(Code::Mov_r16_rm16, Register::AX, m),
        Code::Mov_moffs16_AX => Instruction::with2(Code::Mov_rm16_r16, m, Register::AX),
        Code::Mov_AL_moffs8 => Instruction::with2(Code::Mov_r8_rm8, Register::AL, m),
        Code::Mov_moffs8_AL => Instruction::with2(Code::Mov_rm8_r8, m, Register::AL),
        _ => return *i,
    }
    .expect("moffs rewrite");
    n.set_segment_prefix(i.segment_prefix());
    n
}

/// If `i`'s memory operand goes through `fs:`/`gs:`, emit the address
/// computation into r11d and point the operand at `[r11d]`.
pub fn fixup_segment(asm: &mut Asm, i: &mut Instruction) -> Result<(), EncodeError> {
    if i.code() == Code::Xlat_m8 {
        return fixup_xlat(asm, i);
    }
    if super::legacy::is_addr16(i) {
        return super::legacy::fixup_addr16(asm, i);
    }
    let seg = i.memory_segment();
    let base_reg = match seg {
        Register::GS => Register::R12D,
        Register::FS => Register::R13D,
        _ => return Ok(()),
    };
    if mem_operand(i).is_none() {
        return Ok(());
    }
    let (b, x, s) = (i.memory_base(), i.memory_index(), i.memory_index_scale());
    let d = i.memory_displacement64() as u32 as i32;
    if b == Register::ESI && i.is_string_instruction()
        || b == Register::EDI && i.is_string_instruction()
    {
        return Err(EncodeError("string instruction with fs/gs override".into()));
    }
    match (b, x) {
        (Register::None, Register::None) => asm.lea32(Register::R11D, base_reg, d),
        (b, Register::None) => asm.lea32_bi(Register::R11D, b, base_reg, 1, d),
        (Register::None, x) => asm.lea32_bi(Register::R11D, base_reg, x, s, d),
        (b, x) => {
            asm.lea32_bi(Register::R11D, b, x, s, d);
            asm.lea32_bi(Register::R11D, Register::R11D, base_reg, 1, 0);
        }
    }
    i.set_memory_base(Register::R11D);
    i.set_memory_index(Register::None);
    i.set_memory_index_scale(1);
    i.set_memory_displacement64(0);
    i.set_memory_displ_size(0);
    i.set_segment_prefix(Register::None);
    Ok(())
}

/// `xlat` with an fs/gs override or 16-bit addressing: its operand
/// `[ebx + al]` (`[bx + al]` mod 2^16) has an 8-bit index no lea takes, so
/// the address is computed into r11d and `i` becomes `mov al, [r11d]`
/// (same effect, no flags either).
pub fn fixup_xlat(asm: &mut Asm, i: &mut Instruction) -> Result<(), EncodeError> {
    use Register::*;
    asm.ins(&Instruction::with2(Code::Movzx_r32_rm8, R11D, AL).unwrap())?;
    asm.lea32_bi(R11D, EBX, R11D, 1, 0);
    if super::legacy::is_addr16(i) {
        asm.ins(&Instruction::with2(Code::Movzx_r32_rm16, R11D, R11W).unwrap())?;
    }
    match i.memory_segment() {
        GS => asm.lea32_bi(R11D, R11D, R12D, 1, 0),
        FS => asm.lea32_bi(R11D, R11D, R13D, 1, 0),
        _ => {}
    }
    let m = MemoryOperand::with_base_displ(R11D, 0);
    *i = Instruction::with2(Code::Mov_r8_rm8, AL, m).unwrap();
    Ok(())
}

/// Index of a segment register in the i386 order (es cs ss ds fs gs).
pub fn sreg_index(r: Register) -> Option<usize> {
    Some(match r {
        Register::ES => 0,
        Register::CS => 1,
        Register::SS => 2,
        Register::DS => 3,
        Register::FS => 4,
        Register::GS => 5,
        _ => return None,
    })
}

/// Load the selector in r11 into segment register `idx` (the runtime
/// checks it and sets the base the translated code uses).
fn load_segment(asm: &mut Asm, idx: u32, eip: u32) -> Result<(), EncodeError> {
    let scratch = MemoryOperand::with_base_displ(Register::R15, CTX_SCRATCH as i64);
    asm.ins(&Instruction::with2(Code::Mov_rm64_r64, scratch, Register::R11).unwrap())?;
    asm.runtime_call(Reason::LoadSegment, idx, eip);
    Ok(())
}

/// r11d = the guest-visible selector of segment register `sreg`.
fn load_selector(asm: &mut Asm, sreg: Register) -> Result<(), EncodeError> {
    let sel_off = CTX_SEL as i32 + 2 * sreg_index(sreg).unwrap_or(3) as i32;
    let m = MemoryOperand::with_base_displ(Register::R15, sel_off as i64);
    asm.ins(&Instruction::with2(Code::Movzx_r32_rm16, Register::R11D, m).unwrap())
}

/// Lower segment-register instructions; returns false if `i` is not one.
pub fn lower_sreg(asm: &mut Asm, i: &Instruction, eip: u32) -> Result<bool, EncodeError> {
    if i.is_string_instruction() {
        return lower_string_segment(asm, i);
    }
    match i.code() {
        // mov r/m16|r32, sreg: read the guest-visible selector.
        Code::Mov_rm16_Sreg | Code::Mov_r32m16_Sreg => {
            load_selector(asm, i.op1_register())?;
            if i.op0_kind() == OpKind::Register {
                let r = i.op0_register();
                let r32 = if r.is_gpr16() { r.full_register32() } else { r };
                if i.code() == Code::Mov_rm16_Sreg && r.is_gpr16() {
                    asm.ins(&Instruction::with2(Code::Mov_r16_rm16, r, Register::R11W).unwrap())?;
                } else {
                    asm.mov_rr(r32, Register::R11D);
                }
            } else {
                let mut st =
                    Instruction::with2(Code::Mov_rm16_r16, i.memory_operand_like(), Register::R11W)
                        .unwrap();
                copy_mem(&mut st, i);
                fixup_segment_r10(asm, &mut st)?;
                asm.ins(&st)?;
            }
            Ok(true)
        }
        // mov sreg, r/m16: the runtime validates the selector and sets bases.
        Code::Mov_Sreg_rm16 | Code::Mov_Sreg_r32m16 => {
            let idx = sreg_index(i.op0_register()).unwrap_or(3) as u32;
            if i.op1_kind() == OpKind::Register {
                asm.ins(
                    &Instruction::with2(
                        Code::Movzx_r32_rm16,
                        Register::R11D,
                        i.op1_register().full_register32().to_r16(),
                    )
                    .unwrap(),
                )?;
            } else {
                let mut ld = Instruction::with2(
                    Code::Movzx_r32_rm16,
                    Register::R11D,
                    i.memory_operand_like(),
                )
                .unwrap();
                copy_mem(&mut ld, i);
                super::segment::fixup_segment(asm, &mut ld)?;
                asm.ins(&ld)?;
            }
            load_segment(asm, idx, eip)?;
            Ok(true)
        }
        Code::Pushd_ES
        | Code::Pushd_CS
        | Code::Pushd_SS
        | Code::Pushd_DS
        | Code::Pushd_FS
        | Code::Pushd_GS
        | Code::Pushw_ES
        | Code::Pushw_CS
        | Code::Pushw_SS
        | Code::Pushw_DS
        | Code::Pushw_FS
        | Code::Pushw_GS => {
            load_selector(asm, i.op0_register())?;
            if is_pushw(i.code()) {
                let slot = MemoryOperand::with_base_displ(Register::ESP, -2);
                asm.ins(&Instruction::with2(Code::Mov_rm16_r16, slot, Register::R11W).unwrap())?;
                asm.adjust_esp(-2);
            } else {
                asm.store32(Register::ESP, -4, Register::R11D);
                asm.adjust_esp(-4);
            }
            Ok(true)
        }
        Code::Popd_ES
        | Code::Popd_SS
        | Code::Popd_DS
        | Code::Popd_FS
        | Code::Popd_GS
        | Code::Popw_ES
        | Code::Popw_SS
        | Code::Popw_DS
        | Code::Popw_FS
        | Code::Popw_GS => {
            let idx = sreg_index(i.op0_register()).unwrap_or(3) as u32;
            asm.ins(
                &Instruction::with2(
                    Code::Movzx_r32_rm16,
                    Register::R11D,
                    MemoryOperand::with_base_displ(Register::ESP, 0),
                )
                .unwrap(),
            )?;
            // esp moves only once the runtime accepted the selector, so a
            // bad one faults with the guest state untouched.
            load_segment(asm, idx, eip)?;
            asm.adjust_esp(if is_popw(i.code()) { 2 } else { 4 });
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The segment register and offset width of a far-pointer load
/// (`lds/les/lfs/lgs/lss r, m16:16|m16:32`), if `c` is one.
pub fn far_load(c: Code) -> Option<(Register, bool)> {
    Some(match c {
        Code::Lds_r32_m1632 => (Register::DS, true),
        Code::Les_r32_m1632 => (Register::ES, true),
        Code::Lfs_r32_m1632 => (Register::FS, true),
        Code::Lgs_r32_m1632 => (Register::GS, true),
        Code::Lss_r32_m1632 => (Register::SS, true),
        Code::Lds_r16_m1616 => (Register::DS, false),
        Code::Les_r16_m1616 => (Register::ES, false),
        Code::Lfs_r16_m1616 => (Register::FS, false),
        Code::Lgs_r16_m1616 => (Register::GS, false),
        Code::Lss_r16_m1616 => (Register::SS, false),
        _ => return None,
    })
}

/// `lds/les/lfs/lgs/lss r, m16:16|m16:32`: read the offset, then the
/// selector after it (at +2 or +4), both before anything changes; the
/// runtime loads the selector as for `mov sreg` (a bad one raises SIGSEGV
/// at this instruction with the guest state untouched); only then is the
/// offset written to the register, which may have been part of the address.
/// The offset waits in the upper half of the context's scratch slot, since
/// the runtime call clobbers r9-r11.
pub fn lower_far_load(asm: &mut Asm, i: &Instruction, eip: u32) -> Result<(), EncodeError> {
    let Some((sreg, wide)) = far_load(i.code()) else {
        return Err(EncodeError(format!("not a far load: {:?}", i.code())));
    };
    super::legacy::lea_operand(asm, i)?;
    let at = |d: i64| MemoryOperand::with_base_displ(Register::R11D, d);
    let ctx = |d: usize| MemoryOperand::with_base_displ(Register::R15, (CTX_SCRATCH + d) as i64);
    let (offset_ld, sel_at) = if wide {
        (Code::Mov_r32_rm32, 4)
    } else {
        (Code::Movzx_r32_rm16, 2)
    };
    asm.ins(&Instruction::with2(offset_ld, Register::R10D, at(0)).unwrap())?;
    asm.ins(&Instruction::with2(Code::Movzx_r32_rm16, Register::R11D, at(sel_at)).unwrap())?;
    asm.ins(&Instruction::with2(Code::Mov_rm64_r64, ctx(0), Register::R11).unwrap())?;
    asm.ins(&Instruction::with2(Code::Mov_rm32_r32, ctx(4), Register::R10D).unwrap())?;
    let idx = sreg_index(sreg).unwrap_or(3) as u32;
    asm.runtime_call(Reason::LoadSegment, idx, eip);
    let dst = i.op0_register();
    let st = if wide {
        Instruction::with2(Code::Mov_r32_rm32, dst, ctx(4))
    } else {
        Instruction::with2(Code::Mov_r16_rm16, dst, ctx(4))
    };
    asm.ins(&st.unwrap())
}

/// String instructions: their implicit operands are not `OpKind::Memory`,
/// so the copy class would keep an fs/gs override and run it against the
/// host segment base (the host's own TLS for fs:). A `ds:esi` operand
/// (movs, lods, cmps, outs) with an fs/gs override runs on `esi + base`
/// (32-bit wrap-around), esi moved back afterwards, all flag-free; rep
/// forms included. (A fault inside shows esi with the base added.)
/// 16-bit addressing (si/di/cx, 0x67) has no 64-bit form: SIGILL.
/// Returns false for the plain forms, which the copy class handles.
fn lower_string_segment(asm: &mut Asm, i: &Instruction) -> Result<bool, EncodeError> {
    use Register::*;
    let kinds: Vec<OpKind> = (0..i.op_count()).map(|k| i.op_kind(k)).collect();
    if kinds.iter().any(|k| {
        matches!(
            k,
            OpKind::MemorySegSI | OpKind::MemorySegDI | OpKind::MemoryESDI
        )
    }) {
        return Err(EncodeError(
            "string instruction with 16-bit addressing".into(),
        ));
    }
    let base = match i.segment_prefix() {
        GS => R12D,
        FS => R13D,
        _ => return Ok(false),
    };
    if !kinds.contains(&OpKind::MemorySegESI) {
        return Ok(false); // es:edi cannot be overridden: the prefix is ignored
    }
    // r10d = -base
    asm.mov_rr(R10D, base);
    asm.ins(&Instruction::with1(Code::Not_rm32, R10D).unwrap())?;
    asm.lea32(R10D, R10D, 1);
    asm.lea32_bi(ESI, ESI, base, 1, 0);
    let mut c = *i;
    c.set_segment_prefix(None);
    asm.ins(&c)?;
    asm.lea32_bi(ESI, ESI, R10D, 1, 0);
    Ok(true)
}

/// Copy `src`'s memory operand (base, index, scale, displacement, segment)
/// into `dst`, whose memory operand is a placeholder.
pub fn copy_mem(dst: &mut Instruction, src: &Instruction) {
    dst.set_memory_base(src.memory_base());
    dst.set_memory_index(src.memory_index());
    dst.set_memory_index_scale(src.memory_index_scale());
    dst.set_memory_displacement64(src.memory_displacement64());
    dst.set_memory_displ_size(src.memory_displ_size());
    dst.set_segment_prefix(src.segment_prefix());
}

fn fixup_segment_r10(asm: &mut Asm, i: &mut Instruction) -> Result<(), EncodeError> {
    // r11 holds the value being stored; compute the address in r10 instead.
    if !matches!(i.memory_segment(), Register::FS | Register::GS) {
        return Ok(());
    }
    asm.mov_rr(Register::R10D, Register::R11D);
    fixup_segment(asm, i)?;
    // operand now [r11d]; value in r10w
    i.set_op1_register(Register::R10W);
    Ok(())
}

trait MemLike {
    fn memory_operand_like(&self) -> MemoryOperand;
}

impl MemLike for Instruction {
    /// A placeholder memory operand; `copy_mem` fills in the real one.
    fn memory_operand_like(&self) -> MemoryOperand {
        MemoryOperand::with_base_displ(Register::EAX, 0)
    }
}

trait To16 {
    fn to_r16(self) -> Register;
}

impl To16 for Register {
    fn to_r16(self) -> Register {
        match self {
            Register::EAX => Register::AX,
            Register::ECX => Register::CX,
            Register::EDX => Register::DX,
            Register::EBX => Register::BX,
            Register::ESP => Register::SP,
            Register::EBP => Register::BP,
            Register::ESI => Register::SI,
            Register::EDI => Register::DI,
            r => r,
        }
    }
}

fn is_pushw(c: Code) -> bool {
    matches!(
        c,
        Code::Pushw_ES
            | Code::Pushw_CS
            | Code::Pushw_SS
            | Code::Pushw_DS
            | Code::Pushw_FS
            | Code::Pushw_GS
    )
}

fn is_popw(c: Code) -> bool {
    matches!(
        c,
        Code::Popw_ES | Code::Popw_SS | Code::Popw_DS | Code::Popw_FS | Code::Popw_GS
    )
}
