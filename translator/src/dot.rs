//! `rehost cfg`: the speculative CFG as Graphviz DOT, with blocks the static
//! pass finds on its own and blocks known only from a run-time profile in
//! different colours, so a user can see what each half discovered.

use crate::discover::{Cfg, Edge};
use crate::elf::GuestElf;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

/// Render `cfg`; nodes not in `static_starts` came from the profile.
pub fn render(elf: &GuestElf, cfg: &Cfg, static_starts: &BTreeSet<u32>) -> String {
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
