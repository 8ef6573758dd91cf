//! Case generation: a case is an initial state plus a sequence of items;
//! an item is one subject instruction (the one being tested) preceded by
//! the set-up it needs (its prelude: `mov r32, imm32`, a push, a store).
//! Items are atomic for shrinking. Every instruction is encoded by iced for
//! 32-bit mode and decoded back, so what is simulated, disassembled and run
//! is exactly what the bytes say.

use crate::operands;
use crate::rng::Rng;
use crate::sim::Sim;
use crate::special;
use crate::state::Init;
use iced_x86::{Code, Decoder, DecoderOptions, Encoder, Instruction, InstructionInfoFactory};

#[derive(Clone, Debug)]
pub struct Item {
    pub pre: Vec<Instruction>,
    pub insn: Instruction,
}

impl Item {
    pub fn instructions(&self) -> impl Iterator<Item = &Instruction> {
        self.pre.iter().chain(std::iter::once(&self.insn))
    }

    /// The item's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut enc = Encoder::new(32);
        for i in self.instructions() {
            enc.encode(i, 0).expect("item was encodable when built");
        }
        enc.take_buffer()
    }

    /// Decodes an item from its bytes: the last instruction is the subject.
    /// Each instruction is decoded at ip 0, as `bytes` encodes it.
    pub fn from_bytes(b: &[u8]) -> Option<Item> {
        let mut v: Vec<Instruction> = Vec::new();
        let mut at = 0;
        while at < b.len() {
            let i = Decoder::new(32, &b[at..], DecoderOptions::NONE).decode();
            if i.is_invalid() {
                return None;
            }
            at += i.len();
            v.push(i);
        }
        let insn = v.pop()?;
        Some(Item { pre: v, insn })
    }

    /// Re-encodes and decodes every instruction, so the item holds what its
    /// bytes mean; None if iced cannot encode it or decodes something else.
    pub fn normalize(&self) -> Option<Item> {
        let mut enc = Encoder::new(32);
        let mut out = Vec::new();
        for i in self.instructions() {
            enc.encode(i, 0).ok()?;
            let b = enc.take_buffer();
            let mut d = Decoder::new(32, &b, DecoderOptions::NONE);
            let got = d.decode();
            if got.code() != i.code() || got.len() != b.len() {
                return None;
            }
            out.push(got);
        }
        let insn = out.pop()?;
        Some(Item { pre: out, insn })
    }
}

#[derive(Clone, Debug)]
pub struct Case {
    pub init: Init,
    pub items: Vec<Item>,
    /// The last item must kill the guest (`fault`); `Sim` does not check it.
    pub faults: bool,
}

impl Case {
    /// The items `Sim` checks: all but a faulting last one.
    pub fn checked_items(&self) -> &[Item] {
        let n = self.items.len() - usize::from(self.faults && !self.items.is_empty());
        &self.items[..n]
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.items.iter().flat_map(|i| i.bytes()).collect()
    }

    pub fn instruction_count(&self) -> usize {
        self.items.iter().map(|i| i.pre.len() + 1).sum()
    }
}

/// Simulates a whole case; the error names the failing item.
pub fn simulate(
    f: &mut InstructionInfoFactory,
    init: &Init,
    items: &[Item],
) -> Result<Sim, String> {
    let mut sim = Sim::new(init);
    for (n, it) in items.iter().enumerate() {
        sim.item(f, it).map_err(|e| format!("item {n}: {e}"))?;
    }
    Ok(sim)
}

/// One random instance of `code` fitting the current state, if it can.
pub fn build_item(rng: &mut Rng, code: Code, sim: &Sim) -> Option<Item> {
    let item = match special::build(rng, code, sim) {
        Some(x) => x,
        None => operands::build(rng, code, sim.esp),
    }?;
    item.normalize()
}

pub struct Generator {
    pub codes: Vec<Code>,
    /// Codes a faulting case may end with (empty: no faulting cases).
    pub faults: Vec<Code>,
    /// One case in this many is a faulting case.
    pub fault_every: u64,
    /// Faulting cases take the fault codes in turn, so every one runs
    /// (the driver sets the start per program).
    pub next_fault: usize,
    factory: InstructionInfoFactory,
}

impl Generator {
    pub fn new(codes: Vec<Code>) -> Generator {
        Generator {
            codes,
            faults: Vec::new(),
            fault_every: 64,
            next_fault: 0,
            factory: InstructionInfoFactory::new(),
        }
    }

    /// A case of `len` items, each a uniformly drawn code (redrawn when an
    /// instance does not fit).
    pub fn case(&mut self, rng: &mut Rng, len: usize) -> Case {
        let init = Init::random(rng);
        let mut sim = Sim::new(&init);
        let mut items = Vec::with_capacity(len);
        let mut tries = 0;
        let faults = !self.faults.is_empty() && rng.chance(1, self.fault_every);
        let len = len - usize::from(faults);
        while items.len() < len && tries < len * 20 {
            tries += 1;
            let code = rng.pick(&self.codes);
            let Some(item) = build_item(rng, code, &sim) else {
                continue;
            };
            let mut next = sim.clone();
            if next.item(&mut self.factory, &item).is_ok() {
                sim = next;
                items.push(item);
            }
        }
        let mut faulted = false;
        for _ in 0..if faults { 50 } else { 0 } {
            let code = self.faults[self.next_fault % self.faults.len()];
            self.next_fault += 1;
            if let Some(item) = crate::fault::build(rng, code, sim.esp).and_then(|i| i.normalize())
            {
                items.push(item);
                faulted = true;
                break;
            }
        }
        Case {
            init,
            items,
            faults: faulted,
        }
    }
}
