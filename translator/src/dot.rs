//! `rehost cfg`: the speculative CFG as Graphviz DOT, with blocks the static
//! pass finds on its own and blocks known only from a run-time profile in
//! different colours, so a user can see what each half discovered.

use crate::discover::{Cfg, Edge};
use crate::elf::GuestElf;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

/// Render `cfg`; nodes not in `static_starts` came from the profile.
/// With `around` = (block, depth), only the blocks within `depth` edges of
/// that block are drawn.
pub fn render(
    elf: &GuestElf,
    cfg: &Cfg,
    static_starts: &BTreeSet<u32>,
    around: Option<(u32, usize)>,
) -> String {
    let keep = around.map(|(root, depth)| near(cfg, root, depth));
    let shown = |a: u32| keep.as_ref().is_none_or(|k| k.contains(&a));
    let names: HashMap<u32, &str> = elf
        .functions
        .iter()
        .map(|f| (f.addr, f.name.as_str()))
        .collect();
    let mut s = String::new();
    let _ = writeln!(s, "digraph cfg {{");
    let _ = writeln!(
        s,
        "  node [shape=box, style=filled, fontname=monospace, fontsize=10];"
    );
    let _ = writeln!(
        s,
        "  // lightblue: found by the static pass; orange: found only at run time (profile)"
    );
    for idx in cfg.graph.node_indices() {
        let a = cfg.graph[idx];
        if !shown(a) {
            continue;
        }
        let colour = if static_starts.contains(&a) {
            "lightblue"
        } else {
            "orange"
        };
        let label = match names.get(&a) {
            Some(n) => format!("{a:#010x}\\n{}", n.replace('"', "'")),
            None => format!("{a:#010x}"),
        };
        let _ = writeln!(s, "  n{a:08x} [label=\"{label}\", fillcolor={colour}];");
    }
    for e in cfg.graph.edge_references() {
        let (f, t) = (cfg.graph[e.source()], cfg.graph[e.target()]);
        if !shown(f) || !shown(t) {
            continue;
        }
        let style = match e.weight() {
            Edge::Jump => "solid",
            Edge::Branch => "bold",
            Edge::FallThrough => "dashed",
            Edge::Call => "dotted",
        };
        let _ = writeln!(s, "  n{f:08x} -> n{t:08x} [style={style}];");
    }
    let _ = writeln!(s, "}}");
    s
}

/// Blocks within `depth` edges of `root` (following edges forwards).
fn near(cfg: &Cfg, root: u32, depth: usize) -> std::collections::HashSet<u32> {
    let mut seen = std::collections::HashSet::new();
    let Some(start) = cfg.graph.node_indices().find(|&n| cfg.graph[n] == root) else {
        return seen;
    };
    let mut frontier = vec![start];
    seen.insert(root);
    for _ in 0..depth {
        let mut next = Vec::new();
        for n in frontier {
            for m in cfg.graph.neighbors(n) {
                if seen.insert(cfg.graph[m]) {
                    next.push(m);
                }
            }
        }
        frontier = next;
    }
    seen
}
