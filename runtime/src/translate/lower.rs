//! Lowering of one decoded i386 instruction to x86-64, by family.
//!
//! | family                         | class    | rule                                   |
//! |--------------------------------|----------|----------------------------------------|
//! | jmp/jcc/loop/jecxz rel         | rewrite  | patchable direct exits                 |
//! | call rel / call r/m            | rewrite  | push guest return address, exit        |
//! | jmp r/m, ret, ret imm16        | rewrite  | target in r11d, flag-free map lookup   |
//! | push/pop/pushf/popf/pusha/...  | rewrite  | `stack` (32-bit slots, lea esp)        |
//! | fs:/gs: memory operands        | rewrite  | `segment` (32-bit wrap-around)         |
//! | segment register moves         | rewrite  | `segment` (selectors from context)     |
//! | inc/dec r32 (0x40-0x4f)        | rewrite  | FF /0, FF /1 forms                     |
//! | int 0x80                       | runtime  | system call                            |
//! | BCD, salc, into, cpuid         | runtime  | `emulate` in the runtime               |
//! | features rehost does not translate | SIGILL | `features` (CPUID hides them too)    |
//! | syscall/sysenter/far/priv.     | SIGILL   | as a kernel without them would         |
//! | everything else iced decodes   | copy     | re-encoded for 64-bit (0x67 addressing)|
//!
//! The invariant of the copy class: iced re-encodes 32-bit memory operands
//! with the 0x67 prefix, so effective addresses keep wrapping at 4 GiB and an
//! absolute `[disp32]` stays absolute (SIB no-base form, never RIP-relative).
//! Codes that encode in 64-bit mode but mean something else there are listed
//! in `DIFFERENT_IN_64`, never copied.

use super::asm::{Asm, EncodeError};
use super::legacy;
use super::segment::{self, fixup_segment, lower_sreg, normalize_moffs, uses_guest_segment};
use super::stack::{load_rm32, lower_stack};
use crate::abi::Reason;
use iced_x86::{
    Code, ConditionCode, FlowControl, Instruction, MemoryOperand, Mnemonic, OpKind, Register,
};

/// How a lowered instruction ends the block, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Execution continues with the next instruction.
    Next,
    /// The instruction transferred control; the block ends here.
    End,
}

/// Emulated instructions (runtime side in `crate::emulate`).
pub mod emu {
    pub const DAA: u32 = 1;
    pub const DAS: u32 = 2;
    pub const AAA: u32 = 3;
    pub const AAS: u32 = 4;
    pub const AAM: u32 = 5; // imm in bits 16..
    pub const AAD: u32 = 6; // imm in bits 16..
    pub const SALC: u32 = 7;
    pub const BOUND: u32 = 8; // register in bits 8..11, 32-bit form in bit 11
    pub const CPUID: u32 = 9;
}

/// Codes that encode in 64-bit mode but mean something else there.
const DIFFERENT_IN_64: &[Code] = &[
    Code::Syscall,
    Code::Sysenter,
    Code::Sysexitd,
    Code::Sysretd,
    Code::Swapgs,
    Code::Lar_r32_r32m16,
    Code::Lsl_r32_r32m16,
    Code::Lar_r16_rm16,
    Code::Lsl_r16_rm16,
];

/// Lower `i` (at guest address `i.ip()`, next at `i.next_ip()`).
pub fn lower(asm: &mut Asm, i: &Instruction) -> Result<Flow, EncodeError> {
    let eip = i.ip32();
    let next = i.next_ip32();
    if !super::features::code_translated(i.code())
        || super::features::sigill_by_design(i.code()).is_some()
    {
        // A feature rehost does not translate (and CPUID does not
        // advertise), or an instruction refused by design.
        illegal(asm, eip);
        return Ok(Flow::End);
    }
    match i.flow_control() {
        FlowControl::UnconditionalBranch => {
            if matches!(i.op0_kind(), OpKind::NearBranch32 | OpKind::NearBranch16) {
                asm.jmp_exit(i.near_branch32());
                return Ok(Flow::End);
            }
            illegal(asm, eip);
            return Ok(Flow::End);
        }
        FlowControl::ConditionalBranch => {
            lower_cond_branch(asm, i)?;
            return Ok(Flow::End);
        }
        FlowControl::Call => {
            if i.op0_kind() != OpKind::NearBranch32 {
                illegal(asm, eip);
                return Ok(Flow::End);
            }
            asm.store32_imm(Register::ESP, -4, next);
            asm.adjust_esp(-4);
            asm.jmp_exit(i.near_branch32());
            return Ok(Flow::End);
        }
        FlowControl::IndirectCall => {
            if i.code() != Code::Call_rm32 {
                illegal(asm, eip);
                return Ok(Flow::End);
            }
            load_rm32(asm, i, Register::R11D)?;
            asm.store32_imm(Register::ESP, -4, next);
            asm.adjust_esp(-4);
            if asm.ic {
                asm.ic_jump(eip, asm.ic_counting);
            } else {
                asm.indirect_exit();
            }
            return Ok(Flow::End);
        }
        FlowControl::IndirectBranch => {
            if i.code() != Code::Jmp_rm32 {
                illegal(asm, eip);
                return Ok(Flow::End);
            }
            load_rm32(asm, i, Register::R11D)?;
            if asm.ic {
                asm.ic_jump(eip, asm.ic_counting);
            } else {
                asm.indirect_exit();
            }
            return Ok(Flow::End);
        }
        FlowControl::Return => {
            match i.code() {
                Code::Retnd | Code::Retnd_imm16 => {
                    asm.load32(Register::R11D, Register::ESP, 0);
                    let pop = 4 + if i.code() == Code::Retnd_imm16 {
                        i.immediate16() as i32
                    } else {
                        0
                    };
                    asm.adjust_esp(pop);
                    asm.indirect_exit();
                }
                _ => illegal(asm, eip),
            }
            return Ok(Flow::End);
        }
        FlowControl::Interrupt => {
            return Ok(match i.code() {
                Code::Int_imm8 if i.immediate8() == 0x80 => {
                    asm.runtime_call(Reason::Syscall, 0, eip);
                    Flow::Next
                }
                Code::Into => {
                    // jno +2; int 4 (SIGSEGV, as i386 Linux delivers #OF)
                    asm.raw(&[0x71, 0x02, 0xcd, 0x04]);
                    Flow::Next
                }
                Code::Int3 | Code::Int_imm8 | Code::Int1 => {
                    asm.ins(i)?;
                    Flow::Next
                }
                _ => {
                    illegal(asm, eip);
                    Flow::End
                }
            });
        }
        FlowControl::XbeginXabortXend | FlowControl::Exception => {
            illegal(asm, eip);
            return Ok(Flow::End);
        }
        FlowControl::Next => {}
    }
    if i.code() == Code::INVALID || DIFFERENT_IN_64.contains(&i.code()) {
        illegal(asm, eip);
        return Ok(Flow::End);
    }
    if lower_stack(asm, i)? || lower_sreg(asm, i, eip)? {
        return Ok(Flow::Next);
    }
    let emulated = match i.mnemonic() {
        Mnemonic::Daa => Some(emu::DAA),
        Mnemonic::Das => Some(emu::DAS),
        Mnemonic::Aaa => Some(emu::AAA),
        Mnemonic::Aas => Some(emu::AAS),
        Mnemonic::Aam => Some(emu::AAM | (i.immediate8() as u32) << 16),
        Mnemonic::Aad => Some(emu::AAD | (i.immediate8() as u32) << 16),
        Mnemonic::Salc => Some(emu::SALC),
        Mnemonic::Cpuid => Some(emu::CPUID),
        _ => None,
    };
    if let Some(op) = emulated {
        // arg is 24 bits: op in the low byte, immediate in bits 8..16 of arg.
        let arg = (op & 0xff) | ((op >> 16) << 8);
        asm.runtime_call(Reason::Emulate, arg, eip);
        return Ok(Flow::Next);
    }
    match i.code() {
        Code::Inc_r32 | Code::Dec_r32 | Code::Inc_r16 | Code::Dec_r16 => {
            let code = match i.code() {
                Code::Inc_r32 => Code::Inc_rm32,
                Code::Dec_r32 => Code::Dec_rm32,
                Code::Inc_r16 => Code::Inc_rm16,
                _ => Code::Dec_rm16,
            };
            asm.ins(&Instruction::with1(code, i.op0_register()).unwrap())?;
            return Ok(Flow::Next);
        }
        Code::Rdpid_r32 => {
            // 64-bit mode only has the r64 form; TSC_AUX fits 32 bits.
            let r = i.op0_register().full_register();
            asm.ins(&Instruction::with1(Code::Rdpid_r64, r).unwrap())?;
            return Ok(Flow::Next);
        }
        Code::Bound_r32_m3232 | Code::Bound_r16_m1616 => {
            legacy::lower_bound(asm, i)?;
            return Ok(Flow::Next);
        }
        Code::Arpl_rm16_r16 | Code::Arpl_r32m16_r32 => {
            illegal(asm, eip);
            return Ok(Flow::End);
        }
        c if segment::far_load(c).is_some() => {
            segment::lower_far_load(asm, i, eip)?;
            return Ok(Flow::Next);
        }
        _ => {}
    }
    if matches!(i.code(), Code::Fxsave_m512byte | Code::Xsave_mem) {
        // 64-bit fxsave/xsave also store xmm8-15 (bytes 288..415 of the
        // legacy region, present in every save area), which i386 leaves
        // untouched: load those bytes into xmm8-15 (never guest state)
        // first, so the store writes them back unchanged.
        for k in 0..8u32 {
            let mut ld = Instruction::with2(
                Code::Movdqu_xmm_xmmm128,
                Register::XMM8,
                MemoryOperand::with_base_displ(Register::EAX, 0),
            )
            .unwrap();
            segment::copy_mem(&mut ld, i);
            ld.set_op0_register(Register::XMM8 + k);
            ld.set_memory_displacement64(
                (i.memory_displacement64() as u32).wrapping_add(288 + 16 * k) as u64,
            );
            ld.set_memory_displ_size(4);
            if segment::uses_guest_segment(&ld) || legacy::is_addr16(&ld) {
                break; // rare forms: keep the plain 64-bit fxsave
            }
            asm.ins(&ld)?;
        }
    }
    // Copy class.
    let mut c = *i;
    if let Some(code) = legacy::alias_82(c.code()) {
        c.set_code(code);
    }
    if legacy::is_addr16(&c) {
        c = normalize_moffs(&c);
        legacy::fixup_addr16(asm, &mut c)?;
    }
    if uses_guest_segment(&c) {
        c = normalize_moffs(&c);
        fixup_segment(asm, &mut c)?;
    }
    match asm.ins(&c) {
        Ok(()) => Ok(Flow::Next),
        Err(_) => {
            illegal(asm, eip);
            Ok(Flow::End)
        }
    }
}

fn lower_cond_branch(asm: &mut Asm, i: &Instruction) -> Result<(), EncodeError> {
    let target = i.near_branch32();
    let next = i.next_ip32();
    let cc = i.condition_code();
    if matches!(
        i.mnemonic(),
        Mnemonic::Jo
            | Mnemonic::Jno
            | Mnemonic::Jb
            | Mnemonic::Jae
            | Mnemonic::Je
            | Mnemonic::Jne
            | Mnemonic::Jbe
            | Mnemonic::Ja
            | Mnemonic::Js
            | Mnemonic::Jns
            | Mnemonic::Jp
            | Mnemonic::Jnp
            | Mnemonic::Jl
            | Mnemonic::Jge
            | Mnemonic::Jle
            | Mnemonic::Jg
    ) {
        asm.jcc_exit(cc_nibble(cc), target);
        asm.jmp_exit(next);
        return Ok(());
    }
    // loop/loope/loopne/jecxz with a 32-bit counter: the 0x67 form uses ecx.
    let op = match i.code() {
        Code::Loopne_rel8_32_ECX => 0xe0,
        Code::Loope_rel8_32_ECX => 0xe1,
        Code::Loop_rel8_32_ECX => 0xe2,
        Code::Jecxz_rel8_32 => 0xe3,
        Code::Jcxz_rel8_32 | Code::Jcxz_rel8_16 => {
            legacy::lower_jcxz(asm, i);
            return Ok(());
        }
        Code::Loop_rel8_32_CX
        | Code::Loope_rel8_32_CX
        | Code::Loopne_rel8_32_CX
        | Code::Loop_rel8_16_CX
        | Code::Loope_rel8_16_CX
        | Code::Loopne_rel8_16_CX => {
            legacy::lower_loop_cx(asm, i);
            return Ok(());
        }
        _ => {
            illegal(asm, i.ip32());
            return Ok(());
        }
    };
    // op +2 -> taken exit; otherwise skip it (jmp short +5) to the fall-through exit.
    asm.raw(&[0x67, op, 0x02, 0xeb, 0x05]);
    asm.jmp_exit(target);
    asm.jmp_exit(next);
    Ok(())
}

fn cc_nibble(cc: ConditionCode) -> u8 {
    match cc {
        ConditionCode::o => 0x0,
        ConditionCode::no => 0x1,
        ConditionCode::b => 0x2,
        ConditionCode::ae => 0x3,
        ConditionCode::e => 0x4,
        ConditionCode::ne => 0x5,
        ConditionCode::be => 0x6,
        ConditionCode::a => 0x7,
        ConditionCode::s => 0x8,
        ConditionCode::ns => 0x9,
        ConditionCode::p => 0xa,
        ConditionCode::np => 0xb,
        ConditionCode::l => 0xc,
        ConditionCode::ge => 0xd,
        ConditionCode::le => 0xe,
        ConditionCode::g => 0xf,
        ConditionCode::None => 0x0,
    }
}

/// Bytes that do not decode, or an instruction rehost does not run: the
/// guest gets SIGILL at this instruction, as on a CPU without it.
pub fn illegal(asm: &mut Asm, eip: u32) {
    asm.illegal.push(eip);
    asm.runtime_call(Reason::IllegalInstruction, 0, eip);
}
