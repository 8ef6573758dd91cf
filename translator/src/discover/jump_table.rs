//! Jump tables whose size the static pass can prove: an indirect `jmp` fed by
//! a load `[base + idx*4 + disp]` where idx is bounded by the guarding
//! `cmp idx, N; ja default` (or `jbe case`; on a register, its low byte, or
//! a memory slot reloaded into idx) of a predecessor block, or by an
//! `and idx, mask` in the block itself. The forms gcc -m32 and glibc emit:
//!
//! - `jmp [table + idx*4]`, or `mov r, [table + idx*4]; jmp r` (absolute
//!   entries; in PIC code the table is reached through the GOT register);
//! - `mov r, [got + idx*4 + off]; add r, got; jmp r` and
//!   `add got, [got + idx*4 + off]; jmp got` (GOT-relative entries, PIC;
//!   the GOT register may be reloaded from a stack slot);
//! - glibc's `call thunk; add r, table - .; add r, [r + idx*4]; jmp r`
//!   (entries relative to the table), bounded before the thunk call.
//!
//! Invariant: speculative. A table is used only if all N+1 entries lie in
//! loaded file data and every target is executable file data (and, when the
//! jump's function extent is known, at least half the targets are inside
//! it); a wrong table only costs translation work.

use super::table_state::{gpr, low8, written, Lin, State, Sym, Val, MAX_ENTRIES};
use super::ElfCode;
use crate::elf::GuestElf;
use iced_x86::{
    Code, FlowControl, Instruction, InstructionInfoFactory, Mnemonic, OpKind, Register,
};
use rehost_runtime::translate::decode_block;
use std::collections::HashMap;

/// What jump-table resolution needs from the walk.
pub struct Resolver<'a> {
    pub elf: &'a GuestElf,
    pub src: ElfCode<'a>,
    /// The GOT address (`guess_got`).
    pub got: Option<u32>,
    /// Blocks with a fall-through or branch edge into a block.
    pub preds: &'a dyn Fn(u32) -> Vec<u32>,
    /// Is target `t` inside the function of the jump block `b`? (None: unknown)
    pub in_func: &'a dyn Fn(u32, u32) -> Option<bool>,
}

/// What a predecessor ending `cmp x, N; ja/jae/jbe/jb` proves about x on
/// entry to `block`.
enum Bound {
    Reg(usize, Val),
    /// `[base + disp] <= n`.
    Mem(usize, u32, u32),
}

fn pred_bound(pred: &[Instruction], block: u32) -> Option<Bound> {
    let [.., cmp, jcc] = pred else {
        return None;
    };
    let imm = matches!(
        cmp.op1_kind(),
        OpKind::Immediate32 | OpKind::Immediate8to32 | OpKind::Immediate8
    );
    if cmp.mnemonic() != Mnemonic::Cmp || !imm {
        return None;
    }
    let n = cmp.immediate(1) as u32;
    let taken = jcc.near_branch32() == block;
    let fallthrough = jcc.next_ip32() == block;
    let n = match jcc.mnemonic() {
        Mnemonic::Ja if fallthrough => n,
        Mnemonic::Jbe if taken => n,
        Mnemonic::Jae if fallthrough => n.checked_sub(1)?,
        Mnemonic::Jb if taken => n.checked_sub(1)?,
        _ => return None,
    };
    if n >= MAX_ENTRIES {
        return None;
    }
    match cmp.op0_kind() {
        OpKind::Register => {
            let r = cmp.op0_register();
            match (gpr(r), low8(r)) {
                (Some(r), _) => Some(Bound::Reg(r, Val::Bounded(n))),
                (_, Some(r)) => Some(Bound::Reg(r, Val::Low8(n))),
                _ => None,
            }
        }
        OpKind::Memory if cmp.memory_index() == Register::None => {
            let is_dword = cmp.code() == Code::Cmp_rm32_imm8 || cmp.code() == Code::Cmp_rm32_imm32;
            let base = gpr(cmp.memory_base()).filter(|_| is_dword)?;
            Some(Bound::Mem(base, cmp.memory_displacement32(), n))
        }
        _ => None,
    }
}

/// The wider of two facts about one register (bounds win over no bound).
fn join(a: Val, b: Val) -> Val {
    match (a, b) {
        (Val::Bounded(m), Val::Bounded(n)) => Val::Bounded(m.max(n)),
        (Val::Bounded(m) | Val::Low8(m), Val::Bounded(n) | Val::Low8(n)) => Val::Low8(m.max(n)),
        (Val::Bounded(_) | Val::Low8(_), _) => a,
        _ => b,
    }
}

/// The state on entry to `block` from its predecessors: bounds from a
/// guarding compare, and the thunk register after `call thunk` (which also
/// passes on bounds proven before the call, `depth` levels back).
fn entry_state(cx: &Resolver, block: u32, depth: u32, info: &mut InstructionInfoFactory) -> State {
    let mut st = State::entry();
    for p in (cx.preds)(block) {
        let (insns, _) = decode_block(&cx.src, p, &|_| false);
        match pred_bound(&insns, block) {
            Some(Bound::Reg(r, v)) => st.r[r] = join(st.r[r], v),
            Some(Bound::Mem(b, d, n)) => st.mem = st.mem.or(Some((b, d, n))),
            None => {}
        }
        let Some((call, body)) = insns.split_last() else {
            continue;
        };
        let is_call = call.flow_control() == FlowControl::Call
            && call.op0_kind() == OpKind::NearBranch32
            && call.next_ip32() == block;
        let thunk = is_call.then(|| thunk_reg(&cx.src, call.near_branch32()));
        let Some(reg) = thunk.flatten().and_then(gpr) else {
            continue;
        };
        if depth > 0 {
            let before = entry_state(cx, p, depth - 1, info);
            let w = written(body, info);
            for r in (0..8).filter(|&r| r != reg && !w[r]) {
                if matches!(before.r[r], Val::Bounded(_) | Val::Low8(_)) {
                    st.r[r] = join(st.r[r], before.r[r]);
                }
            }
        }
        st.r[reg] = Val::Lin((Sym::Addr, block));
    }
    st
}

/// The targets of the jump table ending `block`, if its size is provable.
pub fn targets(cx: &Resolver, block: u32) -> Option<Vec<u32>> {
    let (insns, _) = decode_block(&cx.src, block, &|_| false);
    let (last, body) = insns.split_last()?;
    if last.flow_control() != FlowControl::IndirectBranch || last.code() != Code::Jmp_rm32 {
        return None;
    }
    let mut info = InstructionInfoFactory::new();
    let mut st = entry_state(cx, block, 2, &mut info);
    for i in body {
        st.step(i, &mut info);
    }
    let entry = match last.op0_kind() {
        OpKind::Register => st.r[gpr(last.op0_register())?],
        OpKind::Memory => {
            let (table, n) = st.table_operand(last)?;
            Val::Entry {
                table,
                n,
                base: None,
            }
        }
        _ => return None,
    };
    let Val::Entry { table, n, base } = entry else {
        return None;
    };
    let elf = cx.elf;
    let eval = |(s, o): Lin| match s {
        Sym::Got => cx.got.map(|g| g.wrapping_add(o)),
        Sym::Link => Some(o.wrapping_add(elf.load_bias)),
        Sym::Addr => Some(o),
    };
    let words = elf.read(eval(table)?, (n as usize + 1) * 4)?;
    let add = match base {
        Some(b) => eval(b)?,
        None => elf.load_bias,
    };
    let out: Vec<u32> = words
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]).wrapping_add(add))
        .collect();
    if !out.iter().all(|&t| elf.is_exec_addr(t)) {
        return None;
    }
    let inside = out.iter().filter_map(|&t| (cx.in_func)(block, t));
    let (yes, known) = inside.fold((0, 0), |(y, k), i| (y + i as usize, k + 1));
    (2 * yes >= known).then_some(out)
}

/// `mov r, [esp]; ret` at `addr`: the register a PIC thunk loads.
fn thunk_reg(src: &ElfCode, addr: u32) -> Option<Register> {
    let (insns, _) = decode_block(src, addr, &|_| false);
    let [mov, ret] = insns.as_slice() else {
        return None;
    };
    let loads_ret_addr = mov.code() == Code::Mov_r32_rm32
        && mov.op1_kind() == OpKind::Memory
        && mov.memory_base() == Register::ESP
        && mov.memory_index() == Register::None
        && mov.memory_displacement32() == 0;
    (loads_ret_addr && ret.code() == Code::Retnd).then(|| mov.op0_register())
}

/// The GOT address PIC code computes: the most frequent `call thunk;
/// add r, imm` result over the direct `calls` (target, return address),
/// else the `.got.plt` section.
pub fn guess_got(elf: &GuestElf, calls: &[(u32, u32)]) -> Option<u32> {
    let src = ElfCode(elf);
    let mut thunks: HashMap<u32, Option<Register>> = HashMap::new();
    let mut votes: HashMap<u32, usize> = HashMap::new();
    for &(target, ret) in calls {
        let reg = *thunks
            .entry(target)
            .or_insert_with(|| thunk_reg(&src, target));
        let Some(reg) = reg else { continue };
        let (insns, _) = decode_block(&src, ret, &|_| false);
        let Some(add) = insns.first() else { continue };
        if add.mnemonic() == Mnemonic::Add
            && add.op0_kind() == OpKind::Register
            && add.op0_register() == reg
            && add.op1_kind() == OpKind::Immediate32
        {
            *votes
                .entry(ret.wrapping_add(add.immediate32()))
                .or_default() += 1;
        }
    }
    let best = votes
        .into_iter()
        .max_by_key(|&(g, n)| (n, g))
        .map(|(g, _)| g);
    best.or_else(|| elf.section(".got.plt").map(|s| s.addr).filter(|&a| a != 0))
}
