//! Instructions that move the guest stack: push/pop of every operand kind,
//! pushf/popf, pusha/popa, enter/leave, and the stack half of call/ret.
//!
//! Guest esp is host rsp (abi.rs), but 64-bit push/pop move 8 bytes, so every
//! i386 stack operation is rewritten into 32-bit stores/loads plus a
//! flag-free `lea esp, [esp +/- n]`. Ordering keeps faults precise where one
//! store suffices: the store goes to `[esp-4]` *before* esp moves, so a
//! faulting push leaves esp untouched (DESIGN.md pitfalls: `push esp`
//! pushes the old value; `pop [esp+4]` addresses after esp grew; `push [m]`
//! reads before esp shrinks).

use super::asm::{Asm, EncodeError};
use super::segment::fixup_segment;
use crate::abi::CTX_SCRATCH;
use iced_x86::{Code, Instruction, MemoryOperand, OpKind, Register};

use Register::*;

/// Lower a stack instruction; returns false if `i` is not one of them.
pub fn lower_stack(asm: &mut Asm, i: &Instruction) -> Result<bool, EncodeError> {
    match i.code() {
        Code::Push_r32 | Code::Push_rm32 if i.op0_kind() == OpKind::Register => {
            asm.store32(ESP, -4, i.op0_register());
            asm.adjust_esp(-4);
        }
        Code::Push_rm32 => {
            load_mem32(asm, i, R11D)?;
            asm.store32(ESP, -4, R11D);
            asm.adjust_esp(-4);
        }
        Code::Pushd_imm8 | Code::Pushd_imm32 => {
            asm.store32_imm(ESP, -4, i.immediate(0) as u32);
            asm.adjust_esp(-4);
        }
        Code::Push_r16 | Code::Push_rm16 if i.op0_kind() == OpKind::Register => {
            asm.ins(
                &Instruction::with2(Code::Mov_rm16_r16, m(ESP, -2), i.op0_register()).unwrap(),
            )?;
            asm.adjust_esp(-2);
        }
        Code::Push_rm16 => {
            let mut ld = Instruction::with2(Code::Mov_r16_rm16, R11W, m(EAX, 0)).unwrap();
            super::segment::copy_mem(&mut ld, i);
            fixup_segment(asm, &mut ld)?;
            ld.set_op0_register(R11W);
            asm.ins(&ld)?;
            asm.ins(&Instruction::with2(Code::Mov_rm16_r16, m(ESP, -2), R11W).unwrap())?;
            asm.adjust_esp(-2);
        }
        Code::Pushw_imm8 | Code::Push_imm16 => {
            asm.ins(
                &Instruction::with2(
                    Code::Mov_rm16_imm16,
                    m(ESP, -2),
                    i.immediate(0) as u16 as u32,
                )
                .unwrap(),
            )?;
            asm.adjust_esp(-2);
        }
        Code::Pop_r32 | Code::Pop_rm32 if i.op0_kind() == OpKind::Register => {
            let r = i.op0_register();
            if r == ESP {
                asm.load32(ESP, ESP, 0);
            } else {
                asm.load32(r, ESP, 0);
                asm.adjust_esp(4);
            }
        }
        Code::Pop_rm32 => {
            // The address is computed after esp has grown (i386 semantics).
            asm.load32(R10D, ESP, 0);
            asm.adjust_esp(4);
            let mut st = Instruction::with2(Code::Mov_rm32_r32, m(EAX, 0), R10D).unwrap();
            super::segment::copy_mem(&mut st, i);
            fixup_segment(asm, &mut st)?;
            asm.ins(&st)?;
        }
        Code::Pop_r16 | Code::Pop_rm16 if i.op0_kind() == OpKind::Register => {
            let r = i.op0_register();
            asm.ins(&Instruction::with2(Code::Mov_r16_rm16, R10W, m(ESP, 0)).unwrap())?;
            asm.adjust_esp(2);
            asm.ins(&Instruction::with2(Code::Mov_r16_rm16, r, R10W).unwrap())?;
        }
        Code::Pushfd => {
            // pushfq/popfq move 8 bytes: with the guest's AC flag set, an
            // 8-byte access at a guest esp = 4 mod 8 raises #AC (SIGBUS)
            // where i386's 4-byte one does not. They go through the
            // context's scratch slot (8-aligned), rsp kept in r10.
            stack_in_scratch(asm, 8)?;
            asm.raw(&[0x9c]); // pushfq
            asm.raw(&[0x41, 0x5b]); // pop r11
            asm.mov64(RSP, R10);
            asm.store32(ESP, -4, R11D);
            asm.adjust_esp(-4);
        }
        Code::Popfd => {
            asm.load32(R11D, ESP, 0);
            asm.adjust_esp(4);
            let slot = MemoryOperand::with_base_displ(R15, CTX_SCRATCH as i64);
            asm.ins(&Instruction::with2(Code::Mov_rm64_r64, slot, R11).unwrap())?;
            stack_in_scratch(asm, 0)?;
            asm.raw(&[0x9d]); // popfq
            asm.mov64(RSP, R10);
        }
        Code::Pushad => {
            // Stores first (precise), then one esp adjustment; pushes the original esp.
            for (k, r) in [EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI]
                .into_iter()
                .enumerate()
            {
                asm.store32(ESP, -4 * (k as i32 + 1), r);
            }
            asm.adjust_esp(-32);
        }
        Code::Pushaw => {
            let regs = [AX, CX, DX, BX, SP, BP, SI, DI];
            for (k, r) in regs.into_iter().enumerate() {
                let slot = m(ESP, -2 * (k as i32 + 1));
                asm.ins(&Instruction::with2(Code::Mov_rm16_r16, slot, r).unwrap())?;
            }
            asm.adjust_esp(-16);
        }
        Code::Popaw => {
            // Skips the saved sp; 16-bit loads keep the upper halves.
            for (k, r) in [DI, SI, BP, SP, BX, DX, CX, AX].into_iter().enumerate() {
                if r != SP {
                    let slot = m(ESP, 2 * k as i32);
                    asm.ins(&Instruction::with2(Code::Mov_r16_rm16, r, slot).unwrap())?;
                }
            }
            asm.adjust_esp(16);
        }
        Code::Popad => {
            // Skips the saved esp.
            for (k, r) in [EDI, ESI, EBP, ESP, EBX, EDX, ECX, EAX]
                .into_iter()
                .enumerate()
            {
                if r != ESP {
                    asm.load32(r, ESP, 4 * k as i32);
                }
            }
            asm.adjust_esp(32);
        }
        Code::Leaved => {
            asm.load32(R11D, EBP, 0);
            asm.lea32(ESP, EBP, 4);
            asm.mov_rr(EBP, R11D);
        }
        Code::Enterd_imm16_imm8 => {
            let size = i.immediate16() as i32;
            let level = (i.immediate8_2nd() & 31) as i32;
            asm.store32(ESP, -4, EBP);
            asm.lea32(R11D, ESP, -4); // frame temp
            for k in 1..level {
                asm.load32(R10D, EBP, -4 * k);
                asm.store32(ESP, -4 - 4 * k, R10D);
            }
            if level > 0 {
                asm.store32(ESP, -4 - 4 * level, R11D);
            }
            asm.mov_rr(EBP, R11D);
            asm.lea32(ESP, ESP, -4 - 4 * level - size);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Load the 32-bit r/m operand 0 of `i` (register or memory, fs/gs aware)
/// into `dst` (r10d or r11d).
pub fn load_rm32(asm: &mut Asm, i: &Instruction, dst: Register) -> Result<(), EncodeError> {
    if i.op0_kind() == OpKind::Register {
        asm.mov_rr(dst, i.op0_register());
        Ok(())
    } else {
        load_mem32(asm, i, dst)
    }
}

fn load_mem32(asm: &mut Asm, i: &Instruction, dst: Register) -> Result<(), EncodeError> {
    let mut ld = Instruction::with2(Code::Mov_r32_rm32, dst, m(EAX, 0)).unwrap();
    super::segment::copy_mem(&mut ld, i);
    fixup_segment(asm, &mut ld)?;
    asm.ins(&ld)
}

/// r10 = rsp; rsp = the context's scratch slot + `d` (flag-free).
fn stack_in_scratch(asm: &mut Asm, d: i64) -> Result<(), EncodeError> {
    asm.mov64(R10, RSP);
    let slot = MemoryOperand::with_base_displ(R15, CTX_SCRATCH as i64 + d);
    asm.ins(&Instruction::with2(Code::Lea_r64_m, RSP, slot).unwrap())
}

fn m(base: Register, disp: i32) -> MemoryOperand {
    MemoryOperand::with_base_displ(base, disp as i64)
}
