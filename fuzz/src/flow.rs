//! Control transfers and segment register loads as items. Every branch
//! lands on the instruction after it (taken or not), so it splits blocks and
//! exercises rehost's exits, chaining and map lookups without changing the
//! path; every displacement is relative, so the bytes run anywhere. Segment
//! loads load the selector the register already holds.

use crate::gen::Item;
use crate::memop::{address, form};
use crate::rng::Rng;
use crate::special::{abs, mov, pick_not, plain, store};
use iced_x86::{Code, Instruction, MemoryOperand, Register};

/// Is `code` a control transfer `branch` can build? Near branches with a
/// 32-bit operand size (16-bit ones truncate EIP to 16 bits) and `ret`.
pub fn is_branch(code: Code) -> bool {
    use iced_x86::{FlowControl as F, OpCodeOperandKind as K};
    match code.flow_control() {
        F::ConditionalBranch | F::UnconditionalBranch | F::Call => {
            matches!(code.op_code().op0_kind(), K::br32_1 | K::br32_4)
        }
        F::Return => matches!(code, Code::Retnd | Code::Retnd_imm16),
        F::IndirectBranch | F::IndirectCall => matches!(code, Code::Jmp_rm32 | Code::Call_rm32),
        _ => false,
    }
}

/// `jmp r32`/`call r32`/`jmp [m32]`/`call [m32]` to the instruction after
/// them, its address computed position-independently:
/// `call +0; pop R; lea R, [R+d]; (mov [A], R;) jmp R|[A]`.
pub(crate) fn indirect(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    let r = pick_not(rng, &[]);
    let lea = |d: u32| {
        let m = MemoryOperand::new(
            r,
            Register::None,
            1,
            d as i32 as i64,
            4,
            false,
            Register::None,
        );
        Instruction::with2(Code::Lea_r32_m, r, m).unwrap()
    };
    let mut pre = vec![
        branch_at0(Code::Call_rel32_32, 5)?,
        Instruction::with1(Code::Pop_r32, r).ok()?,
        lea(0),
    ];
    let insn = if rng.chance(1, 2) {
        Instruction::with1(code, r).ok()?
    } else {
        let a = address(rng, 4);
        pre.push(Instruction::with2(Code::Mov_rm32_r32, abs(a), r).ok()?);
        // esp when the operand is read: the pop gave back what call pushed.
        let m = form(rng, a, esp, &[], &mut pre);
        Instruction::with1(code, m).ok()?
    };
    let after_pop: u32 = pre[2..]
        .iter()
        .chain(std::iter::once(&insn))
        .map(|i| len_at0(i).unwrap_or(0))
        .sum();
    pre[2] = lea(len_at0(&pre[1])? + after_pop);
    Some(Item { pre, insn })
}

/// `mov sreg, r/m16` of the selector the register already holds (0x2b in
/// ds/es/ss, 0 in fs/gs), so later cases see the same segments.
pub(crate) fn sreg_mov(rng: &mut Rng, code: Code, esp: u32) -> Option<Item> {
    let seg = rng.pick(&[
        Register::ES,
        Register::SS,
        Register::DS,
        Register::FS,
        Register::GS,
    ]);
    let v = if matches!(seg, Register::FS | Register::GS) {
        0
    } else {
        0x2b
    };
    let noise = rng.u32() & 0xffff_0000;
    if rng.chance(1, 2) {
        let r32 = pick_not(rng, &[]);
        let r = if code == Code::Mov_Sreg_rm16 {
            Register::try_from(Register::AX as usize + r32.number()).ok()?
        } else {
            r32
        };
        return Some(Item {
            pre: vec![mov(r32, noise | v)],
            insn: Instruction::with2(code, seg, r).ok()?,
        });
    }
    let a = address(rng, 2);
    let mut pre = vec![store(a, v, 2)];
    let m = form(rng, a, esp, &[], &mut pre);
    Some(Item {
        pre,
        insn: Instruction::with2(code, seg, m).ok()?,
    })
}

/// `pop sreg` of the selector the register already holds, pushed before.
pub(crate) fn sreg_pop(code: Code, v: u32) -> Item {
    let wide = matches!(
        code,
        Code::Popd_ES | Code::Popd_SS | Code::Popd_DS | Code::Popd_FS | Code::Popd_GS
    );
    let push = if wide {
        Instruction::with1(Code::Pushd_imm8, v).unwrap()
    } else {
        Instruction::with1(Code::Push_imm16, v).unwrap()
    };
    let seg = code.op_code().op0_kind();
    let seg = match seg {
        iced_x86::OpCodeOperandKind::es => Register::ES,
        iced_x86::OpCodeOperandKind::ss => Register::SS,
        iced_x86::OpCodeOperandKind::ds => Register::DS,
        iced_x86::OpCodeOperandKind::fs => Register::FS,
        _ => Register::GS,
    };
    Item {
        pre: vec![push],
        insn: Instruction::with1(code, seg).unwrap(),
    }
}

/// `code` with its branch target at ip 0.
fn branch_at0(code: Code, target: u32) -> Option<Instruction> {
    Instruction::with_branch(code, target as u64).ok()
}

fn len_at0(i: &Instruction) -> Option<u32> {
    let mut e = iced_x86::Encoder::new(32);
    e.encode(i, 0).ok().map(|n| n as u32)
}

/// A control transfer that lands on the instruction after it (taken or
/// not), so it splits blocks without changing the path; `ret` returns from
/// a `call` over a `jmp` that skips the `ret`:
/// `call L; jmp M; L: ret; M:`. Every displacement is relative, so the
/// bytes run anywhere.
pub(crate) fn branch(rng: &mut Rng, code: Code) -> Option<Item> {
    if matches!(code, Code::Retnd | Code::Retnd_imm16) {
        let ret = if code == Code::Retnd {
            Instruction::with(code)
        } else {
            Instruction::with1(code, 4 * rng.below(5) as u32).ok()?
        };
        let r = len_at0(&ret)?;
        let call = branch_at0(Code::Call_rel32_32, 5 + 2)?;
        let jmp = branch_at0(Code::Jmp_rel8_32, 2 + r)?;
        return Some(Item {
            pre: vec![call, jmp],
            insn: ret,
        });
    }
    let len = len_at0(&branch_at0(code, 0)?)?;
    Some(plain(branch_at0(code, len)?))
}
