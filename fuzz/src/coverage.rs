//! The coverage table (`fuzz/coverage.txt`): every 32-bit user-mode iced
//! `Code` (`table::universe`) in exactly one state:
//!
//! | state         | meaning                                                      |
//! |---------------|--------------------------------------------------------------|
//! | `verified`    | executed as a subject in the run that wrote the table, every case holding it agreed with the CPU (for the fault codes: died of the same signal) |
//! | `failing`     | a finding of that run, or listed in `known-failures.txt`     |
//! | `unsupported` | rehost raises SIGILL on purpose (none claimed yet)           |
//! | `not-fuzzed`  | not generated (reason given), or generated but never run     |
//!
//! The table is written by `rehost-fuzz --coverage FILE` and checked by
//! `tests/fuzz.rs`: no `Code` missing or listed twice, every `verified`
//! code still generated, and every one of them run again by the fixed-seed
//! test without a difference.

use crate::driver::Summary;
use crate::regress::code_by_name;
use crate::table::{classify, universe, Class};
use iced_x86::Code;
use std::collections::{BTreeMap, BTreeSet};

pub const STATES: [&str; 4] = ["verified", "failing", "unsupported", "not-fuzzed"];

/// State and reason of every code of the universe after run `s`.
pub fn states(s: &Summary, known: &BTreeSet<Code>) -> Vec<(Code, &'static str, String)> {
    let failing = s.failing_codes();
    universe()
        .into_iter()
        .map(|c| {
            if known.contains(&c) {
                return (
                    c,
                    "failing",
                    "known failure (known-failures.txt)".to_string(),
                );
            }
            if failing.contains(&c) {
                return (c, "failing", "differed in this run".to_string());
            }
            match classify(c) {
                Class::NotFuzzed(why) => (c, "not-fuzzed", why.to_string()),
                Class::Generate | Class::Fault => match s.executed.get(&c) {
                    Some(&n) if n > 0 => (c, "verified", String::new()),
                    _ => (
                        c,
                        "not-fuzzed",
                        "generated, but not executed in this run".to_string(),
                    ),
                },
            }
        })
        .collect()
}

/// The text of the table.
pub fn table(s: &Summary, known: &BTreeSet<Code>) -> String {
    let st = states(s, known);
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, state, _) in &st {
        *count.entry(state).or_default() += 1;
    }
    let mut out = String::from(
        "# rehost-fuzz coverage table: every 32-bit user-mode iced Code in exactly one state.\n\
         # Written by `make fuzz-coverage` (rehost-fuzz --seed 1 -n 100000 --coverage fuzz/coverage.txt);\n\
         # checked by fuzz/tests/fuzz.rs. States: verified, failing, unsupported, not-fuzzed (reason).\n",
    );
    out.push_str(&format!(
        "# {} codes: {}\n",
        st.len(),
        STATES
            .iter()
            .map(|k| format!("{} {}", k, count.get(k).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, state, why) in &st {
        if *state == "not-fuzzed" {
            *reasons.entry(why.as_str()).or_default() += 1;
        }
    }
    for (why, n) in reasons {
        out.push_str(&format!("#   not-fuzzed {n:5}: {why}\n"));
    }
    for (c, state, why) in st {
        let name = format!("{c:?}");
        if why.is_empty() {
            out.push_str(&format!("{name} {state}\n"));
        } else {
            out.push_str(&format!("{name} {state} {why}\n"));
        }
    }
    out
}

/// Parses a table: code -> state. Errors on unknown codes, unknown states
/// and codes listed twice.
pub fn parse(text: &str) -> Result<BTreeMap<Code, String>, String> {
    let names = code_by_name();
    let mut m = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut w = line.split_whitespace();
        let (name, state) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
        let code = *names
            .get(name)
            .ok_or(format!("line {}: unknown code {name}", n + 1))?;
        if !STATES.contains(&state) {
            return Err(format!("line {}: unknown state {state}", n + 1));
        }
        if m.insert(code, state.to_string()).is_some() {
            return Err(format!("line {}: {name} listed twice", n + 1));
        }
    }
    Ok(m)
}
