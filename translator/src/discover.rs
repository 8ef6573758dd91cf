//! Static code discovery: the speculative CFG of the guest.
//!
//! Seeds are the entry point, function symbols, init/fini arrays, every
//! `.eh_frame` FDE start and C++ landing pad (`eh_frame`, `lsda`), and code
//! pointers found in data and relocations (`pointers`). From each, blocks
//! are decoded up to the first control transfer and every direct target
//! (jmp, jcc, call, and the fall-through after a call, since calls are
//! assumed to return) becomes a new block start; indirect jumps through a
//! jump table whose size a guarding compare proves add the table's entries
//! (`jump_table`). A path stops at bytes that do not decode.
//!
//! Invariant: discovery only ever *adds* work; it never needs to be right,
//! because whatever it misses the runtime finds. Every seed lies in the file
//! data of an executable segment (`is_code`).

mod dwarf;
mod eh_frame;
mod jump_table;
mod lsda;
mod phdrs;
mod pointers;
mod table_state;
#[cfg(test)]
mod tests;

use crate::elf::{GuestElf, PF_X};
use iced_x86::{FlowControl, OpKind};
use petgraph::graph::DiGraph;
use rehost_runtime::translate::{decode_block, CodeSource};
use std::collections::{BTreeSet, HashMap, HashSet};

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

/// What each discovery source contributed (distinct code addresses).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiscoveryCounts {
    /// `.eh_frame` FDE starts in executable file data.
    pub fde_seeds: usize,
    /// C++ landing pads from `.gcc_except_table`.
    pub landing_pads: usize,
    /// Jump tables resolved (bounded by a guarding compare or mask).
    pub jump_tables: usize,
    /// Distinct targets read from those tables.
    pub jump_table_targets: usize,
    /// Code addresses found in data words and relocations.
    pub data_pointers: usize,
}

/// The speculative CFG: nodes are block starts.
pub struct Cfg {
    pub graph: DiGraph<u32, Edge>,
    /// Block starts in address order.
    pub starts: BTreeSet<u32>,
    pub counts: DiscoveryCounts,
}

fn is_code(elf: &GuestElf, a: u32) -> bool {
    let mut b = [0u8; 1];
    ElfCode(elf).read(a, &mut b) == 1
}

/// Known function extents: FDE ranges (else sized symbols), and the
/// starts of FDEs and function symbols.
#[derive(Default)]
pub struct Funcs {
    /// Sorted by start; [start, end).
    ranges: Vec<(u32, u32)>,
    starts: HashSet<u32>,
}

impl Funcs {
    fn new(elf: &GuestElf, fdes: &[eh_frame::Fde]) -> Funcs {
        let code = |&(s, e): &(u32, u32)| e > s && is_code(elf, s);
        let mut ranges: Vec<(u32, u32)> = fdes
            .iter()
            .map(|f| (f.start, f.start.saturating_add(f.len)))
            .filter(code)
            .collect();
        if ranges.is_empty() {
            let syms = elf.functions.iter();
            ranges = syms
                .map(|f| (f.addr, f.addr.saturating_add(f.size)))
                .filter(code)
                .collect();
        }
        ranges.sort_unstable();
        let mut starts: HashSet<u32> = fdes.iter().map(|f| f.start).collect();
        starts.extend(elf.functions.iter().map(|f| f.addr));
        Funcs { ranges, starts }
    }

    fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The extent holding `a`.
    fn containing(&self, a: u32) -> Option<(u32, u32)> {
        let i = self.ranges.partition_point(|r| r.0 <= a).checked_sub(1)?;
        let r = self.ranges[i];
        (a < r.1).then_some(r)
    }
}

/// The worklist walk over blocks.
struct Walker<'a> {
    elf: &'a GuestElf,
    starts: BTreeSet<u32>,
    edges: Vec<(u32, u32, Edge)>,
    work: Vec<u32>,
    /// Direct calls: (target, return address).
    calls: Vec<(u32, u32)>,
    /// Blocks ending in an indirect jump.
    indirect: Vec<u32>,
}

impl Walker<'_> {
    fn seed(&mut self, a: u32) {
        if is_code(self.elf, a) {
            self.work.push(a);
        }
    }

    fn run(&mut self) {
        let src = ElfCode(self.elf);
        while let Some(a) = self.work.pop() {
            if !self.starts.insert(a) {
                continue;
            }
            let (insns, _invalid) = decode_block(&src, a, &|_| false);
            let Some(last) = insns.last() else { continue };
            let next = last.next_ip32();
            let direct = matches!(last.op0_kind(), OpKind::NearBranch32);
            let target = last.near_branch32();
            let out: &[(u32, Edge)] = match last.flow_control() {
                FlowControl::UnconditionalBranch if direct => &[(target, Edge::Jump)],
                FlowControl::ConditionalBranch if direct => {
                    &[(target, Edge::Branch), (next, Edge::FallThrough)]
                }
                FlowControl::Call if direct => {
                    self.calls.push((target, next));
                    &[(target, Edge::Call), (next, Edge::FallThrough)]
                }
                FlowControl::IndirectCall => &[(next, Edge::FallThrough)],
                FlowControl::IndirectBranch => {
                    self.indirect.push(a);
                    &[]
                }
                // int 0x80 continues the block; a block cut by the size limit falls through.
                FlowControl::Next | FlowControl::Interrupt if !last.is_invalid() => {
                    &[(next, Edge::FallThrough)]
                }
                _ => &[],
            };
            for &(to, kind) in out {
                if is_code(self.elf, to) {
                    self.edges.push((a, to, kind));
                    self.work.push(to);
                }
            }
        }
    }

    /// Resolve the jump tables of blocks not tried yet; true if any was.
    fn jump_tables(&mut self, funcs: &Funcs, tried: &mut HashSet<u32>, c: &mut Tables) -> bool {
        let pending: Vec<u32> = self
            .indirect
            .iter()
            .copied()
            .filter(|&b| tried.insert(b))
            .collect();
        if pending.is_empty() {
            return false;
        }
        let mut preds: HashMap<u32, Vec<u32>> = HashMap::new();
        for &(from, to, kind) in &self.edges {
            if matches!(kind, Edge::FallThrough | Edge::Branch) {
                preds.entry(to).or_default().push(from);
            }
        }
        let preds = |b: u32| preds.get(&b).cloned().unwrap_or_default();
        let in_func = |b: u32, t: u32| {
            let r = funcs.containing(b)?;
            Some(t >= r.0 && t < r.1)
        };
        let cx = jump_table::Resolver {
            elf: self.elf,
            src: ElfCode(self.elf),
            got: c.got,
            preds: &preds,
            in_func: &in_func,
        };
        for b in pending {
            let Some(ts) = jump_table::targets(&cx, b) else {
                continue;
            };
            c.tables += 1;
            for t in ts {
                c.targets.insert(t);
                self.edges.push((b, t, Edge::Jump));
                self.work.push(t);
            }
        }
        true
    }
}

/// Jump-table resolution state.
struct Tables {
    got: Option<u32>,
    tables: usize,
    targets: BTreeSet<u32>,
}

/// Does a block decode at `a` (no invalid bytes before its end)?
fn plausible(elf: &GuestElf, a: u32) -> bool {
    let (insns, invalid) = decode_block(&ElfCode(elf), a, &|_| false);
    !invalid && !insns.is_empty()
}

/// Discover blocks from the seeds plus `extra` (e.g. a run-time profile).
pub fn discover(elf: &GuestElf, extra: &[u32]) -> Cfg {
    discover_with(elf, extra, true)
}

/// `discover`, optionally without seeds from data (so tests can tell what
/// jump-table resolution alone finds).
fn discover_with(elf: &GuestElf, extra: &[u32], data_pointers: bool) -> Cfg {
    let unwind = eh_frame::read(elf);
    let funcs = Funcs::new(elf, &unwind.fdes);
    let mut w = Walker {
        elf,
        starts: BTreeSet::new(),
        edges: Vec::new(),
        work: Vec::new(),
        calls: Vec::new(),
        indirect: Vec::new(),
    };
    let mut counts = DiscoveryCounts::default();
    let mut seeds: Vec<u32> = vec![elf.entry];
    seeds.extend(elf.functions.iter().map(|f| f.addr));
    seeds.extend(&elf.init_array);
    seeds.extend(&elf.fini_array);
    seeds.extend(extra);
    let fdes: BTreeSet<u32> = unwind
        .fdes
        .iter()
        .map(|f| f.start)
        .filter(|&a| is_code(elf, a))
        .collect();
    counts.fde_seeds = fdes.len();
    let pads: BTreeSet<u32> = unwind
        .landing_pads
        .iter()
        .copied()
        .filter(|&a| is_code(elf, a))
        .collect();
    counts.landing_pads = pads.len();
    let data = match data_pointers {
        true => pointers::scan(elf, &funcs, &|a| plausible(elf, a)),
        false => BTreeSet::new(),
    };
    counts.data_pointers = data.len();
    for a in seeds.into_iter().chain(fdes).chain(pads).chain(data) {
        w.seed(a);
    }
    w.run();
    let mut tables = Tables {
        got: jump_table::guess_got(elf, &w.calls),
        tables: 0,
        targets: BTreeSet::new(),
    };
    let mut tried = HashSet::new();
    while w.jump_tables(&funcs, &mut tried, &mut tables) {
        w.run();
    }
    counts.jump_tables = tables.tables;
    counts.jump_table_targets = tables.targets.len();

    let mut graph = DiGraph::new();
    let mut nodes = HashMap::new();
    for &s in &w.starts {
        nodes.insert(s, graph.add_node(s));
    }
    for (from, to, kind) in w.edges {
        if let (Some(&f), Some(&t)) = (nodes.get(&from), nodes.get(&to)) {
            graph.add_edge(f, t, kind);
        }
    }
    Cfg {
        graph,
        starts: w.starts,
        counts,
    }
}
