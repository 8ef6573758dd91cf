//! Static code discovery: the speculative CFG of the guest.
//!
//! Seeds are the entry point, function symbols and init/fini arrays; from
//! each, blocks are decoded up to the first control transfer and every
//! direct target (jmp, jcc, call, and the fall-through after a call, since
//! calls are assumed to return) becomes a new block start. A path stops at
//! bytes that do not decode. Invariant: discovery only ever *adds* work; it
//! never needs to be right, because whatever it misses the runtime finds.

use crate::elf::{GuestElf, PF_X};
use iced_x86::{FlowControl, OpKind};
use petgraph::graph::DiGraph;
use rehost_runtime::translate::{decode_block, CodeSource};
use std::collections::{BTreeSet, HashMap};

/// Guest code bytes of the executable segments.
pub struct ElfCode<'a>(pub &'a GuestElf);

impl CodeSource for ElfCode<'_> {
    fn read(&self, addr: u32, buf: &mut [u8]) -> usize {
        for s in &self.0.segments {
            if s.flags & PF_X != 0 && addr >= s.vaddr && addr - s.vaddr < s.data.len() as u32 {
                let off = (addr - s.vaddr) as usize;
                let n = buf.len().min(s.data.len() - off);
                buf[..n].copy_from_slice(&s.data[off..off + n]);
                return n;
            }
        }
        0
    }
}

/// How control gets from one block to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Jump,
    Branch,
    FallThrough,
    Call,
}

/// The speculative CFG: nodes are block starts.
pub struct Cfg {
    pub graph: DiGraph<u32, Edge>,
    /// Block starts in address order.
    pub starts: BTreeSet<u32>,
}

fn is_code(elf: &GuestElf, a: u32) -> bool {
    let mut b = [0u8; 1];
    ElfCode(elf).read(a, &mut b) == 1
}

/// Discover blocks from the seeds plus `extra` (e.g. a run-time profile).
pub fn discover(elf: &GuestElf, extra: &[u32]) -> Cfg {
    let src = ElfCode(elf);
    let mut seeds: Vec<u32> = vec![elf.entry];
    seeds.extend(elf.functions.iter().map(|f| f.addr));
    seeds.extend(&elf.init_array);
    seeds.extend(&elf.fini_array);
    seeds.extend(extra);
    let mut starts = BTreeSet::new();
    let mut edges: Vec<(u32, u32, Edge)> = Vec::new();
    let mut work: Vec<u32> = seeds.into_iter().filter(|&a| is_code(elf, a)).collect();
    while let Some(a) = work.pop() {
        if !starts.insert(a) {
            continue;
        }
        let (insns, _invalid) = decode_block(&src, a, &|_| false);
        let Some(last) = insns.last() else { continue };
        let next = last.next_ip32();
        let mut add = |to: u32, kind: Edge, work: &mut Vec<u32>| {
            if is_code(elf, to) {
                edges.push((a, to, kind));
                work.push(to);
            }
        };
        let direct = matches!(last.op0_kind(), OpKind::NearBranch32);
        match last.flow_control() {
            FlowControl::UnconditionalBranch if direct => {
                add(last.near_branch32(), Edge::Jump, &mut work)
            }
            FlowControl::ConditionalBranch if direct => {
                add(last.near_branch32(), Edge::Branch, &mut work);
                add(next, Edge::FallThrough, &mut work);
            }
            FlowControl::Call if direct => {
                add(last.near_branch32(), Edge::Call, &mut work);
                add(next, Edge::FallThrough, &mut work);
            }
            FlowControl::IndirectCall => add(next, Edge::FallThrough, &mut work),
            // int 0x80 continues the block; a block cut by the size limit falls through.
            FlowControl::Next | FlowControl::Interrupt if !last.is_invalid() => {
                add(next, Edge::FallThrough, &mut work)
            }
            _ => {}
        }
    }
    let mut graph = DiGraph::new();
    let mut nodes = HashMap::new();
    for &s in &starts {
        nodes.insert(s, graph.add_node(s));
    }
    for (from, to, kind) in edges {
        if let (Some(&f), Some(&t)) = (nodes.get(&from), nodes.get(&to)) {
            graph.add_edge(f, t, kind);
        }
    }
    Cfg { graph, starts }
}
