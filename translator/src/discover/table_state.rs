//! The abstract register state `jump_table` runs over one block: which
//! registers hold the GOT (or another known address) plus an offset, which
//! hold an index bounded by a guarding compare, and which hold an entry
//! loaded from a table at a known address with a bounded index.
//!
//! Invariant: speculative. The model is deliberately optimistic where gcc's
//! code is regular (a register read before written, or reloaded from a stack
//! slot, is taken to be the GOT; a byte compare bounds the whole index);
//! `jump_table` validates every table it reads before using it.

use iced_x86::{Instruction, InstructionInfoFactory, Mnemonic, OpAccess, OpKind, Register};

/// Largest table read (entries).
pub const MAX_ENTRIES: u32 = 4096;

/// What a linear value is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sym {
    /// The GOT address.
    Got,
    /// 0, in link-time addresses (unbiased: immediates, displacements).
    Link,
    /// 0, in guest addresses (already biased: return addresses).
    Addr,
}

/// A linear value: sym + offset.
pub type Lin = (Sym, u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    Unknown,
    Lin(Lin),
    /// Some value in 0..=n.
    Bounded(u32),
    /// Some value whose low byte is in 0..=n (after `cmp r8, n; ja`; gcc
    /// only emits this when the upper bits are known zero).
    Low8(u32),
    /// Entry `idx <= n` of the table at `table`, plus `base` once added.
    Entry {
        table: Lin,
        n: u32,
        base: Option<Lin>,
    },
}

/// Registers eax..edi, and one bounded memory slot `[base + disp] <= n`.
#[derive(Clone, Copy, Debug)]
pub struct State {
    pub r: [Val; 8],
    pub mem: Option<(usize, u32, u32)>,
}

impl State {
    /// A block entry about which nothing is known: every register may be the GOT.
    pub fn entry() -> State {
        State {
            r: [Val::Lin((Sym::Got, 0)); 8],
            mem: None,
        }
    }

    /// Run `i` (not the final jump) over the state.
    pub fn step(&mut self, i: &Instruction, info: &mut InstructionInfoFactory) {
        let new = self.transfer(i);
        for (r, w) in written(std::slice::from_ref(i), info)
            .into_iter()
            .enumerate()
        {
            if w {
                self.r[r] = Val::Unknown;
                if self.mem.is_some_and(|m| m.0 == r) {
                    self.mem = None;
                }
            }
        }
        if let Some((d, v)) = new {
            self.r[d] = v;
        }
    }

    /// `[base + idx*4 + disp]` with a bounded idx: (table address, bound).
    pub fn table_operand(&self, i: &Instruction) -> Option<(Lin, u32)> {
        if i.memory_index_scale() != 4 || !matches!(i.memory_segment(), Register::DS | Register::SS)
        {
            return None;
        }
        let (Val::Bounded(n) | Val::Low8(n)) = self.r[gpr(i.memory_index())?] else {
            return None;
        };
        let disp = i.memory_displacement32();
        let table = match i.memory_base() {
            Register::None => (Sym::Link, disp),
            b => match self.r[gpr(b)?] {
                Val::Lin((s, o)) => (s, o.wrapping_add(disp)),
                _ => return None,
            },
        };
        Some((table, n))
    }

    /// A 32-bit load `mov r, [base + disp]` (no index): the bounded slot,
    /// a stack slot (a spilled GOT pointer, speculatively), else unknown.
    fn load(&self, i: &Instruction) -> Val {
        let (base, disp) = (i.memory_base(), i.memory_displacement32());
        if i.memory_index() != Register::None {
            return Val::Unknown;
        }
        match self.mem {
            Some((b, d, n)) if gpr(base) == Some(b) && d == disp => Val::Bounded(n),
            _ if matches!(base, Register::ESP | Register::EBP) => Val::Lin((Sym::Got, 0)),
            _ => Val::Unknown,
        }
    }

    /// The abstract effect of `i` on its destination register, if modelled.
    fn transfer(&self, i: &Instruction) -> Option<(usize, Val)> {
        if i.op_count() != 2 || i.op0_kind() != OpKind::Register {
            return None;
        }
        let st = &self.r;
        let d = gpr(i.op0_register())?;
        let imm = matches!(i.op1_kind(), OpKind::Immediate32 | OpKind::Immediate8to32)
            .then(|| i.immediate(1) as u32);
        let src = match i.op1_kind() {
            OpKind::Register => gpr(i.op1_register()).map(|s| st[s]),
            _ => None,
        };
        let entry = |base| match self.table_operand(i) {
            Some((table, n)) => Val::Entry { table, n, base },
            None => Val::Unknown,
        };
        let v = match (i.mnemonic(), i.op1_kind(), st[d]) {
            (Mnemonic::Mov, OpKind::Register, _) => src?,
            (Mnemonic::Mov, OpKind::Immediate32, _) => Val::Lin((Sym::Link, imm?)),
            (Mnemonic::Mov, OpKind::Memory, _) => match entry(None) {
                Val::Unknown => self.load(i),
                v => v,
            },
            (Mnemonic::Movzx, OpKind::Register, _) => match st[low8(i.op1_register())?] {
                Val::Bounded(n) | Val::Low8(n) => Val::Bounded(n),
                _ => Val::Unknown,
            },
            (Mnemonic::Lea, OpKind::Memory, _) if i.memory_index() == Register::None => {
                let disp = i.memory_displacement32();
                match i.memory_base() {
                    Register::None => Val::Lin((Sym::Link, disp)),
                    b => match st[gpr(b)?] {
                        Val::Lin((s, o)) => Val::Lin((s, o.wrapping_add(disp))),
                        _ => Val::Unknown,
                    },
                }
            }
            (Mnemonic::Add, _, Val::Lin((s, o))) if imm.is_some() => {
                Val::Lin((s, o.wrapping_add(imm?)))
            }
            (Mnemonic::Sub, _, Val::Lin((s, o))) if imm.is_some() => {
                Val::Lin((s, o.wrapping_sub(imm?)))
            }
            (Mnemonic::And, _, cur) if imm.is_some_and(|m| m < MAX_ENTRIES) => match cur {
                Val::Bounded(n) => Val::Bounded(n.min(imm?)),
                _ => Val::Bounded(imm?),
            },
            (Mnemonic::Add, OpKind::Register, cur) => match (cur, src?) {
                (
                    Val::Entry {
                        table,
                        n,
                        base: None,
                    },
                    Val::Lin(b),
                )
                | (
                    Val::Lin(b),
                    Val::Entry {
                        table,
                        n,
                        base: None,
                    },
                ) => Val::Entry {
                    table,
                    n,
                    base: Some(b),
                },
                _ => Val::Unknown,
            },
            (Mnemonic::Add, OpKind::Memory, Val::Lin(b)) => entry(Some(b)),
            _ => Val::Unknown,
        };
        Some((d, v))
    }
}

/// eax..edi as 0..8.
pub fn gpr(r: Register) -> Option<usize> {
    r.is_gpr32()
        .then(|| (r as usize).wrapping_sub(Register::EAX as usize))
        .filter(|&n| n < 8)
}

/// al, cl, dl, bl: the register whose low byte they are.
pub fn low8(r: Register) -> Option<usize> {
    let n = (r as usize).wrapping_sub(Register::AL as usize);
    (n < 4).then_some(n)
}

/// Registers that `insns` may write.
pub fn written(insns: &[Instruction], info: &mut InstructionInfoFactory) -> [bool; 8] {
    let mut w = [false; 8];
    for i in insns {
        for u in info.info(i).used_registers() {
            if matches!(
                u.access(),
                OpAccess::Read | OpAccess::CondRead | OpAccess::None
            ) {
                continue;
            }
            if let Some(r) = gpr(u.register().full_register32()) {
                w[r] = true;
            }
        }
    }
    w
}
