//! A tiny abstract interpreter that decides whether a sequence is a valid
//! case: every memory access provably inside the window, esp moved only by
//! stack instructions and kept in the stack half, and no instruction reading
//! a flag an earlier one left undefined. The generator accepts an item only
//! if the simulation of it succeeds, and the shrinker uses the same check
//! for each candidate, so a shrunk case is as valid as a generated one.
//!
//! It knows esp exactly, the value of each general register that a
//! `mov r32, imm32` (or `enter`) set and nothing wrote since, and the set of
//! undefined flags (iced's `RflagsBits`, x87 C0-C3 included), from which
//! `compare` masks the final EFLAGS and FPU status word, and the stack
//! bytes a pushf/popf may have used as scratch (never read afterwards).

use crate::gen::Item;
use crate::layout::*;
use crate::state::Init;
use iced_x86::{
    Code, Instruction, InstructionInfoFactory, Mnemonic, OpAccess, OpKind, Register, RflagsBits,
};

#[derive(Clone, Debug)]
pub struct Sim {
    pub esp: u32,
    pub known: [Option<u32>; 8],
    /// Flags (iced `RflagsBits`) whose value is undefined now.
    pub undef: u32,
    /// Bytes whose value may differ and must not be read: [E-8, E+8) around
    /// the esp E of every pushf/popf (rehost's pushfq/popfq scratch), and
    /// the FPU IP/DP fields of fxsave/fnsave/fnstenv images.
    pub scratch: Vec<(u32, u32)>,
    /// General registers (bit n: register number n) holding a value no
    /// two runs agree on (rdtsc, rdrand, rdpid): never read, not compared.
    pub unknown: u8,
}

/// Registers a non-deterministic instruction writes, with the flags it
/// leaves unpredictable (rdrand/rdseed clear CF when the entropy source
/// is drained).
fn nondeterministic(code: Code) -> Option<u32> {
    use Mnemonic as M;
    match code.mnemonic() {
        M::Rdtsc | M::Rdtscp | M::Rdpid => Some(RflagsBits::NONE),
        M::Rdrand | M::Rdseed => Some(RflagsBits::CF),
        _ => None,
    }
}

fn is_write(a: OpAccess) -> bool {
    matches!(
        a,
        OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite
    )
}

/// Element size of a string instruction, 0 for others.
fn string_elem(code: Code) -> u32 {
    if code.is_string_instruction() {
        code.op_code().memory_size().size() as u32
    } else {
        0
    }
}

/// Bytes of a stored FPU state that hold the FPU instruction and data
/// pointers (with selectors and opcode): host addresses when translated.
///
/// For xsave also: XSTATE_BV (bytes 512..520), whose bits for components
/// in their initial state the CPU may set or clear (XINUSE tracking is
/// implementation-specific and sees xmm8-15/ymm8-15 in 64-bit mode), and
/// the upper halves of ymm8-15 (bytes 704..832), which a 64-bit xsave
/// stores and a 32-bit one leaves alone.
fn unspecified_fields(code: Code) -> &'static [(u32, u32)] {
    match code {
        Code::Fxsave_m512byte => &[(8, 24)],
        Code::Xsave_mem => &[(8, 24), (512, 520), (704, 832)],
        Code::Fnstenv_m28byte | Code::Fnsave_m108byte => &[(12, 28)],
        Code::Fnstenv_m14byte | Code::Fnsave_m94byte => &[(6, 14)],
        _ => &[],
    }
}

/// Does a shift or rotate possibly leave every flag alone (count 0), or a
/// rep-prefixed string instruction (ecx 0)?
fn may_keep_flags(ins: &Instruction) -> bool {
    use Mnemonic as M;
    if ins.code().is_string_instruction() && (ins.has_rep_prefix() || ins.has_repne_prefix()) {
        return true;
    }
    if !matches!(
        ins.mnemonic(),
        M::Shl | M::Sal | M::Shr | M::Sar | M::Rol | M::Ror | M::Rcl | M::Rcr | M::Shld | M::Shrd
    ) {
        return false;
    }
    let last = ins.op_count() - 1;
    match ins.op_kind(last) {
        OpKind::Register => true, // count in cl
        OpKind::Immediate8 => ins.immediate8() & 0x1f == 0,
        _ => false,
    }
}

impl Sim {
    pub fn new(init: &Init) -> Sim {
        Sim {
            esp: init.gprs[4],
            known: init.gprs.map(Some),
            undef: 0,
            scratch: Vec::new(),
            unknown: 0,
        }
    }

    pub fn item(&mut self, f: &mut InstructionInfoFactory, item: &Item) -> Result<(), String> {
        for i in item.pre.iter().chain(std::iter::once(&item.insn)) {
            self.step(f, i)?;
        }
        Ok(())
    }

    fn value(&self, r: Register) -> Option<u64> {
        if r.is_segment_register() {
            return Some(0);
        }
        if r == Register::AL {
            return self.known[0].map(|v| (v & 0xff) as u64);
        }
        if r.is_gpr32() {
            let n = r.number();
            return if n == 4 {
                Some(self.esp as u64)
            } else {
                self.known[n].map(u64::from)
            };
        }
        None
    }

    /// bt/bts/btr/btc with a memory operand and a register bit offset: the
    /// offset (signed, in bits), which moves the address.
    fn bit_offset(&self, ins: &Instruction) -> Result<Option<i32>, String> {
        use Mnemonic as M;
        if !matches!(ins.mnemonic(), M::Bt | M::Bts | M::Btr | M::Btc)
            || ins.op0_kind() != OpKind::Memory
            || ins.op1_kind() != OpKind::Register
        {
            return Ok(None);
        }
        let r = ins.op1_register();
        let v = self.known[r.full_register32().number()].ok_or("bit offset unknown")?;
        Ok(Some(if r.is_gpr16() {
            v as u16 as i16 as i32
        } else {
            v as i32
        }))
    }

    pub fn step(
        &mut self,
        f: &mut InstructionInfoFactory,
        ins: &Instruction,
    ) -> Result<(), String> {
        let read = ins.rflags_read();
        if read & self.undef != 0 {
            return Err(format!(
                "reads flags {:#x} left undefined",
                read & self.undef
            ));
        }
        let info = f.info(ins);
        for op in 0..ins.op_count() {
            if ins.op_kind(op) == OpKind::Register
                && ins.op_register(op).full_register32() == Register::ESP
                && is_write(info.op_access(op))
            {
                return Err("writes esp explicitly".into());
            }
        }
        let stack = ins.code().op_code().is_stack_instruction();
        let mut written = Vec::new();
        let mut unknown = self.unknown;
        for u in info.used_registers() {
            let r = u.register();
            if r.is_gpr() && self.unknown >> r.full_register32().number() & 1 != 0 {
                if !matches!(u.access(), OpAccess::Write) {
                    return Err("reads a non-deterministic register".into());
                }
                // A hint NOP (rdsspd without CET) "writes" its register
                // without changing it.
                let nop = rehost_runtime::translate::features::nop_space(ins.code());
                if r.is_gpr32() && !nop {
                    unknown &= !(1 << r.number());
                }
            }
            if is_write(u.access()) {
                let full = u.register().full_register32();
                if full == Register::ESP && !stack {
                    return Err("writes esp".into());
                }
                written.push(full);
            }
        }
        let elem = string_elem(ins.code());
        let rep = ins.has_rep_prefix() || ins.has_repne_prefix();
        for m in info.used_memory() {
            if m.access() == OpAccess::NoMemAccess {
                continue;
            }
            if m.index().is_xmm() || m.index().is_ymm() {
                // A gather: `gather` loads indices below MAX_INDEX just before.
                let base = self
                    .value(m.base())
                    .ok_or("gather base unknown")?
                    .wrapping_add(m.displacement()) as u32;
                let hi = base.wrapping_add(crate::gather::MAX_INDEX * m.scale() + 8);
                if base < WIN || hi > WIN + WIN_SIZE || hi < base {
                    return Err(format!("gather {base:#x}..{hi:#x} leaves the window"));
                }
                if self.scratch.iter().any(|&(a, b)| base < b && a < hi) {
                    return Err("gathers bytes rehost may have used as scratch".into());
                }
                continue;
            }
            let a = m
                .try_virtual_address(0, |r, _, _| self.value(r))
                .ok_or("address depends on an unknown register")? as u32;
            let size = match m.memory_size().size() as u32 {
                // x87, SSE and AVX components: `special` never asks for more.
                0 if matches!(ins.code(), Code::Xsave_mem | Code::Xrstor_mem) => 832,
                0 if elem != 0 => elem,
                0 => 64,
                s => s,
            };
            let (lo, hi) = if let Some(off) = self.bit_offset(ins)? {
                let a = a.wrapping_add((off >> 3) as u32);
                (a.wrapping_sub(size), a.wrapping_add(2 * size))
            } else if rep && elem != 0 {
                let n = self.known[1].ok_or("rep count unknown")?;
                if n > 64 {
                    return Err("rep count too large".into());
                }
                (a.wrapping_sub(n * elem), a.wrapping_add((n + 1) * elem))
            } else {
                (a, a.wrapping_add(size))
            };
            if lo < WIN || hi > WIN + WIN_SIZE || hi < lo {
                return Err(format!("access {lo:#x}..{hi:#x} leaves the window"));
            }
            let reads = !matches!(m.access(), OpAccess::Write | OpAccess::CondWrite);
            // xsave "reads" its area (iced: read-write) but only its header.
            let reads = reads && ins.code() != Code::Xsave_mem;
            if reads && self.scratch.iter().any(|&(a, b)| lo < b && a < hi) {
                return Err("reads bytes rehost may have used as scratch".into());
            }
            for &(from, to) in unspecified_fields(ins.code()) {
                self.scratch.push((lo + from, lo + to));
            }
        }
        let before = self.esp;
        let ebp = self.known[5];
        self.esp = match ins.mnemonic() {
            Mnemonic::Leave if ins.code() == Code::Leaved => {
                ebp.ok_or("leave with unknown ebp")?.wrapping_add(4)
            }
            Mnemonic::Leave => {
                let bp = ebp.ok_or("leave with unknown ebp")? as u16;
                (self.esp & 0xffff_0000) | bp.wrapping_add(2) as u32
            }
            _ => self.esp.wrapping_add(ins.stack_pointer_increment() as u32),
        };
        if !(WIN_DATA_END..=WIN + WIN_SIZE).contains(&self.esp) {
            return Err(format!("esp {:#x} leaves the stack half", self.esp));
        }
        if matches!(
            ins.mnemonic(),
            Mnemonic::Pushf | Mnemonic::Pushfd | Mnemonic::Popf | Mnemonic::Popfd
        ) {
            self.scratch
                .push((before.wrapping_sub(8), before.wrapping_add(8)));
        }
        for r in written {
            if r.is_gpr32() {
                self.known[r.number()] = None;
                if nondeterministic(ins.code()).is_some() {
                    unknown |= 1 << r.number();
                }
            }
        }
        self.unknown = unknown;
        self.known[4] = Some(self.esp);
        match ins.code() {
            Code::Mov_r32_imm32 => {
                self.known[ins.op0_register().number()] = Some(ins.immediate32())
            }
            Code::Enterd_imm16_imm8 => self.known[5] = Some(before.wrapping_sub(4)),
            _ => {}
        }
        let modified = if may_keep_flags(ins) {
            0
        } else {
            ins.rflags_modified()
        };
        self.undef = (self.undef & !modified) | ins.rflags_undefined();
        if let Some(f) = nondeterministic(ins.code()) {
            self.undef |= f;
        }
        Ok(())
    }
}

/// EFLAGS bits of iced `RflagsBits`.
pub fn eflags_bits(r: u32) -> u32 {
    const MAP: [(u32, u32); 9] = [
        (RflagsBits::OF, 0x800),
        (RflagsBits::SF, 0x80),
        (RflagsBits::ZF, 0x40),
        (RflagsBits::AF, 0x10),
        (RflagsBits::CF, 0x1),
        (RflagsBits::PF, 0x4),
        (RflagsBits::DF, 0x400),
        (RflagsBits::IF, 0x200),
        (RflagsBits::AC, 0x4_0000),
    ];
    MAP.iter().filter(|(i, _)| r & i != 0).map(|(_, e)| e).sum()
}

/// FPU status word bits (C0 C1 C2 C3) of iced `RflagsBits`.
pub fn fsw_bits(r: u32) -> u16 {
    const MAP: [(u32, u16); 4] = [
        (RflagsBits::C0, 0x100),
        (RflagsBits::C1, 0x200),
        (RflagsBits::C2, 0x400),
        (RflagsBits::C3, 0x4000),
    ];
    MAP.iter().filter(|(i, _)| r & i != 0).map(|(_, e)| e).sum()
}
