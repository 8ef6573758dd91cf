//! The coverage table (`fuzz/coverage.txt`): every 32-bit user-mode iced
//! `Code` (`table::universe`) in exactly one state:
//!
//! | state         | meaning                                                      |
//! |---------------|--------------------------------------------------------------|
//! | `verified`    | executed as a subject in the run that wrote the table, every case holding it agreed with the CPU (for the fault codes: died of the same signal) |
//! | `failing`     | a finding of that run, or listed in `known-failures.txt`     |
//! | `unsupported` | rehost raises SIGILL on purpose at the code's own EIP and CPUID hides the feature (checked by `unsupported` in this run), or another CPU's encoding that this CPU decodes as something else |
//! | `not-fuzzed`  | not generated (reason given), or generated but never run     |
//!
//! The table is written by `rehost-fuzz --coverage FILE` and checked by
//! `tests/fuzz.rs`: no `Code` missing or listed twice, every `verified`
//! code still generated, and every one of them run again by the fixed-seed
//! test without a difference.

use crate::driver::Summary;
use crate::regress::code_by_name;
use crate::table::{classify, universe, Class};
use crate::unsupported::Outcome;
use iced_x86::Code;
use std::collections::{BTreeMap, BTreeSet};

pub const STATES: [&str; 4] = ["verified", "failing", "unsupported", "not-fuzzed"];

/// Codes whose state derives from other checks rather than from being
/// generated: CPUID (checked by `unsupported`) and the fwait forms (each
/// is `wait` plus a no-wait code, verified separately).
pub fn derived(c: Code) -> bool {
    c == Code::Cpuid || (c.op_code().fwait() && !crate::table::other_cpu(c))
}

/// The codes a derived code's state rests on (the fuzzer must run them).
pub fn derived_from(c: Code) -> Vec<Code> {
    match crate::unsupported::no_wait_half(c) {
        Some(h) if c.op_code().fwait() => vec![Code::Wait, h],
        _ => vec![],
    }
}

/// State and reason of every code of the universe after run `s`.
pub fn states(
    s: &Summary,
    known: &BTreeSet<Code>,
    unsup: &Outcome,
) -> Vec<(Code, &'static str, String)> {
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
            if let Some(why) = unsup.failing.get(&c) {
                return (c, "failing", why.clone());
            }
            if c == Code::Cpuid {
                // Not comparable with the CPU: rehost hides features on
                // purpose. `unsupported` checks the answer against the
                // host's minus those features, leaf by leaf.
                return if unsup.cpuid_ok {
                    (
                        c,
                        "verified",
                        "the host's answer minus untranslated features (unsupported::check)"
                            .to_string(),
                    )
                } else {
                    (c, "failing", "CPUID check failed".to_string())
                };
            }
            if derived(c) && c != Code::Cpuid {
                // The bytes are `wait` followed by the no-wait form.
                let half = crate::unsupported::no_wait_half(c);
                let ran =
                    |x: Code| s.executed.get(&x).copied().unwrap_or(0) > 0 && !failing.contains(&x);
                return match half {
                    Some(h) if ran(Code::Wait) && ran(h) => {
                        (c, "verified", format!("as Wait + {h:?}, both verified"))
                    }
                    Some(h) => (
                        c,
                        "not-fuzzed",
                        format!("Wait or {h:?} not verified in this run"),
                    ),
                    None => (c, "not-fuzzed", "no fwait/no-wait split".to_string()),
                };
            }
            match classify(c) {
                Class::NotFuzzed(why) => (c, "not-fuzzed", why.to_string()),
                Class::Unsupported(why) if unsup.verified.contains(&c) => {
                    (c, "unsupported", why.to_string())
                }
                Class::Unsupported(_) => (c, "not-fuzzed", "unsupported, not checked".to_string()),
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
pub fn table(s: &Summary, known: &BTreeSet<Code>, unsup: &Outcome) -> String {
    let st = states(s, known, unsup);
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
    let mut reasons: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (_, state, why) in &st {
        if *state != "verified" {
            *reasons.entry((state, why.as_str())).or_default() += 1;
        }
    }
    for ((state, why), n) in reasons {
        out.push_str(&format!("#   {state:11} {n:5}: {why}\n"));
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
