//! Shrinking a failing case to a minimal one, and printing it. Each round
//! puts every one-item-shorter variant that `Sim` accepts into one program,
//! runs it natively and in the failing mode, and keeps the first variant
//! that still differs; it stops when no variant does.

use crate::batch::{Batch, Verdict};
use crate::exec::{Mode, Runner};
use crate::gen::{simulate, Case, Item};
use iced_x86::{Formatter, InstructionInfoFactory, IntelFormatter};

/// The differences of `c` run alone, if it differs.
fn differs_alone(
    r: &mut Runner,
    fx: [u8; 512],
    win: &[u8],
    c: &Case,
    mode: Mode,
    strict: bool,
) -> Option<Vec<String>> {
    let batch = Batch::fixed(vec![c.clone()], fx, win);
    let native = batch.run(r, Mode::Native, &[0]);
    match batch.check(r, mode, &[0], &native, strict).pop() {
        Some(Verdict::Differs(d)) => Some(d),
        _ => None,
    }
}

/// Variants of `c` one round may try: each item alone, and `c` without
/// each chunk of n/2, n/4, ..., 1 items.
fn variants(c: &Case) -> Vec<Case> {
    let n = c.items.len();
    let mut v = Vec::new();
    if n > 1 {
        for k in 0..n {
            v.push(Case {
                init: c.init.clone(),
                items: vec![c.items[k].clone()],
                faults: c.faults,
            });
        }
    }
    let mut size = n / 2;
    while size >= 1 {
        let mut at = 0;
        while at < n {
            let mut x = c.clone();
            x.items.drain(at..(at + size).min(n));
            v.push(x);
            at += size;
        }
        size /= 2;
    }
    v
}

/// The smallest variant of `case` that still differs in `mode`, with its
/// differences; None if even `case` itself no longer differs when run
/// alone (the difference depended on the cases around it).
pub fn shrink(
    r: &mut Runner,
    fx: [u8; 512],
    win: &[u8],
    case: &Case,
    mode: Mode,
    strict: bool,
) -> Option<(Case, Vec<String>)> {
    let mut f = InstructionInfoFactory::new();
    let mut why = differs_alone(r, fx, win, case, mode, strict)?;
    let mut best = case.clone();
    loop {
        let cands: Vec<Case> = variants(&best)
            .into_iter()
            .filter(|c| !c.items.is_empty() && simulate(&mut f, &c.init, c.checked_items()).is_ok())
            .collect();
        if cands.is_empty() {
            break;
        }
        let batch = Batch::fixed(cands.clone(), fx, win);
        let idx: Vec<usize> = (0..cands.len()).collect();
        let native = batch.run(r, Mode::Native, &idx);
        let mut differing: Vec<(usize, Vec<String>)> = batch
            .check(r, mode, &idx, &native, strict)
            .into_iter()
            .enumerate()
            .filter_map(|(k, v)| match v {
                Verdict::Differs(d) => Some((k, d)),
                _ => None,
            })
            .filter(|(k, _)| cands[*k].items.len() < best.items.len())
            .collect();
        differing.sort_by_key(|(k, _)| cands[*k].items.len());
        // Adopt the smallest variant that also differs alone: a case can
        // differ in a batch only because of the cases before it.
        let mut adopted = false;
        for (k, _) in differing.into_iter().take(4) {
            if let Some(d) = differs_alone(r, fx, win, &cands[k], mode, strict) {
                best = cands[k].clone();
                why = d;
                adopted = true;
                break;
            }
        }
        if !adopted {
            break;
        }
    }
    Some((best, why))
}

/// One line per instruction: bytes and Intel syntax; the subject of each
/// item is marked with `<-`.
pub fn listing(items: &[Item]) -> String {
    let mut fmt = IntelFormatter::new();
    let mut s = String::new();
    for it in items {
        for (k, ins) in it.instructions().enumerate() {
            let mut text = String::new();
            fmt.format(ins, &mut text);
            let one = Item {
                pre: vec![],
                insn: *ins,
            };
            let hex: String = one.bytes().iter().map(|b| format!("{b:02x}")).collect();
            let mark = if k == it.pre.len() {
                "   <- subject"
            } else {
                ""
            };
            s.push_str(&format!("    {hex:<24} {text}{mark}\n"));
        }
    }
    s
}
