//! rehost-fuzz's tests: the fixed-seed differential run (100,000 subject
//! instructions, both translated modes), the replay of every regression in
//! `fuzz/regressions/` against `fuzz/known-failures.txt`, and the check of
//! the coverage table `fuzz/coverage.txt`.
//!
//! The first two need `target/release/rehost` (`cargo build --release`, or
//! `REHOST_BIN`); they run in `make test` after the build.

use rehost_fuzz::coverage;
use rehost_fuzz::driver::{fuzz, Config};
use rehost_fuzz::exec::Runner;
use rehost_fuzz::fuzz_dir;
use rehost_fuzz::regress::{load_dir, load_known, replay, Known};
use rehost_fuzz::table::{classify, universe, Class};

/// Codes this host cannot run (the table may come from a host that can).
fn host_lacks(c: iced_x86::Code) -> bool {
    classify(c) == Class::NotFuzzed("host CPU lacks the feature")
}

fn known() -> Known {
    load_known(&fuzz_dir().join("known-failures.txt")).expect("known-failures.txt parses")
}

fn runner() -> Runner {
    Runner::new().unwrap_or_else(|e| panic!("{e}"))
}

/// The same seed and size as `make fuzz-coverage`, which wrote the table.
const SEED: u64 = 1;
const INSTRUCTIONS: u64 = 100_000;

#[test]
fn fixed_seed_run_agrees_with_the_cpu() {
    let cfg = Config::new(SEED, INSTRUCTIONS, known());
    let mut r = runner();
    let s = fuzz(&cfg, &mut r);
    eprintln!("{}", s.line());
    for u in &s.unreproduced {
        eprintln!("did not reproduce alone (known context-dependent bug): {u}");
    }
    assert!(
        s.native_failures.is_empty(),
        "native runs failed (generator bug): {:#?}",
        s.native_failures
    );
    let reports: Vec<String> = s.findings.iter().map(|f| f.report()).collect();
    assert!(
        reports.is_empty(),
        "rehost differs from the CPU:\n{}",
        reports.join("\n")
    );
    assert!(s.subjects >= INSTRUCTIONS);
    // Every code the committed table calls verified ran again, and agreed.
    let text = std::fs::read_to_string(fuzz_dir().join("coverage.txt")).expect("fuzz/coverage.txt");
    let table = coverage::parse(&text).expect("coverage.txt parses");
    let missed: Vec<String> = table
        .iter()
        .filter(|(c, st)| *st == "verified" && !host_lacks(**c))
        .flat_map(|(c, _)| {
            if coverage::derived(*c) {
                coverage::derived_from(*c)
            } else {
                vec![*c]
            }
        })
        .filter(|c| !s.executed.contains_key(c))
        .map(|c| format!("{c:?}"))
        .collect();
    assert!(
        missed.is_empty(),
        "verified in coverage.txt but not run by this test (regenerate with `make fuzz-coverage`): {missed:?}"
    );
}

#[test]
fn regressions_fail_only_when_known() {
    let known = known();
    let regs = load_dir(&fuzz_dir().join("regressions")).expect("regressions parse");
    let mut r = runner();
    let mut problems = Vec::new();
    for reg in &regs {
        let listed = known.regressions.contains(&reg.name);
        match (replay(&mut r, reg), listed) {
            (Ok(()), false) => {}
            (Err(d), true) => eprintln!("known failure {} still fails: {}", reg.name, d.join("; ")),
            (Ok(()), true) => problems.push(format!(
                "{} passes now: remove `regression {}` (and its codes) from known-failures.txt",
                reg.name, reg.name
            )),
            (Err(d), false) => {
                problems.push(format!("{} fails:\n    {}", reg.name, d.join("\n    ")))
            }
        }
    }
    for name in &known.regressions {
        if !regs.iter().any(|r| &r.name == name) {
            problems.push(format!(
                "known-failures.txt lists regression {name}, which does not exist"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn coverage_table_accounts_for_every_code() {
    let text = std::fs::read_to_string(fuzz_dir().join("coverage.txt")).expect("fuzz/coverage.txt");
    let table = coverage::parse(&text).expect("coverage.txt parses");
    let missing: Vec<String> = universe()
        .into_iter()
        .filter(|c| !table.contains_key(c))
        .map(|c| format!("{c:?}"))
        .collect();
    assert!(
        missing.is_empty(),
        "codes missing from coverage.txt (`make fuzz-coverage`): {missing:?}"
    );
    let universe: std::collections::BTreeSet<_> = universe().into_iter().collect();
    let extra: Vec<String> = table
        .keys()
        .filter(|c| !universe.contains(c))
        .map(|c| format!("{c:?}"))
        .collect();
    assert!(
        extra.is_empty(),
        "codes in coverage.txt that are not 32-bit user-mode: {extra:?}"
    );
    // Issue 5's bar: every code verified or deliberately unsupported.
    let unaccounted: Vec<String> = table
        .iter()
        .filter(|(_, st)| *st == "not-fuzzed")
        .map(|(c, _)| format!("{c:?}"))
        .collect();
    assert!(
        unaccounted.is_empty(),
        "codes neither verified nor checked unsupported: {unaccounted:?}"
    );
    let known = known();
    let stale: Vec<String> = table
        .iter()
        .filter(|(c, st)| {
            let generated =
                matches!(classify(**c), Class::Generate | Class::Fault) || host_lacks(**c);
            *st == "verified" && !coverage::derived(**c) && (!generated || known.codes.contains(c))
        })
        .map(|(c, _)| format!("{c:?}"))
        .collect();
    assert!(
        stale.is_empty(),
        "verified in coverage.txt but no longer generated: {stale:?}"
    );
    let failing_unlisted: Vec<String> = table
        .iter()
        .filter(|(c, st)| *st == "failing" && !known.codes.contains(c))
        .map(|(c, _)| format!("{c:?}"))
        .collect();
    assert!(
        failing_unlisted.is_empty(),
        "failing in coverage.txt but not in known-failures.txt: {failing_unlisted:?}"
    );
}

#[test]
fn unsupported_codes_raise_sigill_and_cpuid_hides_them() {
    use rehost_fuzz::exec::Mode;
    let mut r = runner();
    let o = rehost_fuzz::unsupported::run(&mut r, &[Mode::Translated, Mode::Run]);
    eprintln!(
        "unsupported: {} verified, {} failing",
        o.verified.len(),
        o.failing.len()
    );
    let failing: Vec<String> = o
        .failing
        .iter()
        .map(|(c, why)| format!("{c:?}: {why}"))
        .collect();
    assert!(
        failing.is_empty() && o.problems.is_empty(),
        "unsupported codes that do not raise SIGILL at their EIP, or CPUID problems:\n{}\n{}",
        failing.join("\n"),
        o.problems.join("\n")
    );
    // The committed table calls exactly these codes unsupported.
    let text = std::fs::read_to_string(fuzz_dir().join("coverage.txt")).expect("fuzz/coverage.txt");
    let table = coverage::parse(&text).expect("coverage.txt parses");
    let differ: Vec<String> = table
        .iter()
        .filter(|(c, st)| (*st == "unsupported") != o.verified.contains(c))
        .map(|(c, st)| format!("{c:?} ({st})"))
        .collect();
    assert!(
        differ.is_empty(),
        "coverage.txt disagrees with the check (`make fuzz-coverage`): {differ:?}"
    );
}
