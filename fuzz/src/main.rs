//! `rehost-fuzz`: the command line of the differential fuzzer (usage below).

use rehost_fuzz::driver::{fuzz, Config};
use rehost_fuzz::exec::{Mode, Runner};
use rehost_fuzz::{coverage, fuzz_dir, probe, regress, table};
use std::path::PathBuf;
use std::process::exit;

const USAGE: &str = "usage: rehost-fuzz [options]
  --seed N              seed (default: from the clock; always printed)
  -n N                  subject instructions to run (default 100000)
  --case-len N          items per case (default 8)
  --cases N             cases per guest program (default 2000)
  --modes LIST          comma-separated: translated,run (default both)
  --codes LIST          only these iced Code names (comma-separated)
  --no-shrink           report failing cases as found
  --include-known       also generate the codes listed in known-failures.txt
  --ignore-known        report known failures too (to write their regressions)
  --strict-stack        compare memory below esp too (rehost's pushf/popf use it as scratch)
  --save [DIR]          write findings as regression files (default fuzz/regressions)
  --coverage FILE       write the coverage table of this run to FILE
  --probe N             run N single-instruction cases of every code natively; list failures
  --replay FILE...      replay regression files
  -q                    no progress lines
environment: REHOST_BIN (default target/release/rehost)";

fn die(msg: &str) -> ! {
    eprintln!("rehost-fuzz: {msg}\n{USAGE}");
    exit(2)
}

fn num<T: std::str::FromStr>(v: Option<&String>, what: &str) -> T {
    v.and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or_else(|| die(&format!("{what} needs a number")))
}

fn main() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_007)
        .unwrap_or(1);
    let known =
        regress::load_known(&fuzz_dir().join("known-failures.txt")).unwrap_or_else(|e| die(&e));
    let mut cfg = Config::new(seed, 100_000, known);
    cfg.verbose = true;
    let (mut coverage_out, mut probe_n, mut replay) = (None, None, Vec::new());
    let (mut include_known, mut codes_given) = (false, false);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut k = 0;
    while k < args.len() {
        let v = args.get(k + 1);
        let mut used = 1;
        match args[k].as_str() {
            "--seed" => cfg.seed = num(v, "--seed"),
            "-n" => cfg.instructions = num(v, "-n"),
            "--case-len" => cfg.case_len = num(v, "--case-len"),
            "--cases" => cfg.per_program = num(v, "--cases"),
            "--modes" => {
                let s = v.unwrap_or_else(|| die("--modes needs a list"));
                cfg.modes = s
                    .split(',')
                    .map(|m| Mode::parse(m).unwrap_or_else(|| die(m)))
                    .collect();
            }
            "--codes" => {
                let names = regress::code_by_name();
                let s = v.unwrap_or_else(|| die("--codes needs a list"));
                codes_given = true;
                cfg.faults.clear();
                cfg.codes = s
                    .split(',')
                    .map(|c| {
                        *names
                            .get(c)
                            .unwrap_or_else(|| die(&format!("unknown code {c}")))
                    })
                    .collect();
            }
            "--no-shrink" => (cfg.shrink, used) = (false, 0),
            "--include-known" => (include_known, used) = (true, 0),
            "--ignore-known" => (cfg.known, include_known, used) = (Default::default(), true, 0),
            "-q" => (cfg.verbose, used) = (false, 0),
            "--strict-stack" => (cfg.strict_stack, used) = (true, 0),
            "--save" => match v.filter(|s| !s.starts_with('-')) {
                Some(d) => cfg.save = Some(PathBuf::from(d)),
                None => (cfg.save, used) = (Some(fuzz_dir().join("regressions")), 0),
            },
            "--coverage" => {
                coverage_out = Some(PathBuf::from(v.unwrap_or_else(|| die("--coverage FILE"))))
            }
            "--probe" => probe_n = Some(num::<usize>(v, "--probe")),
            "--replay" => {
                replay.extend(args[k + 1..].iter().map(PathBuf::from));
                used = args.len() - k - 1;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            a => die(&format!("unknown argument {a}")),
        }
        k += 1 + used;
    }
    if include_known && !codes_given {
        cfg.codes = table::generated();
    }
    let mut r = Runner::new().unwrap_or_else(|e| die(&e));
    if let Some(n) = probe_n {
        let bad = probe::probe(&mut r, &cfg.codes, n, cfg.seed);
        for (c, e) in &bad {
            println!("{c:?}: {e}");
        }
        println!("{} of {} codes failed natively", bad.len(), cfg.codes.len());
        exit(if bad.is_empty() { 0 } else { 1 });
    }
    if !replay.is_empty() {
        let mut failed = 0;
        for p in &replay {
            let text = std::fs::read_to_string(p)
                .unwrap_or_else(|e| die(&format!("{}: {e}", p.display())));
            let name = p.file_stem().unwrap_or_default().to_string_lossy();
            let reg = regress::parse(&name, &text).unwrap_or_else(|e| die(&e));
            match regress::replay(&mut r, &reg) {
                Ok(()) => println!("{name}: pass"),
                Err(d) => {
                    failed += 1;
                    println!(
                        "{name}: FAIL\n{}",
                        d.iter().map(|l| format!("    {l}\n")).collect::<String>()
                    );
                }
            }
        }
        exit(if failed == 0 { 0 } else { 1 });
    }
    eprintln!(
        "rehost-fuzz: seed {} | {} subject instructions | {} codes | cases of {} items, {} per program | modes {}",
        cfg.seed,
        cfg.instructions,
        cfg.codes.len(),
        cfg.case_len,
        cfg.per_program,
        cfg.modes.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
    );
    let s = fuzz(&cfg, &mut r);
    println!("seed {}: {}", cfg.seed, s.line());
    for f in &s.findings {
        println!(
            "finding [{}] {}: {:?}",
            f.mode.name(),
            f.origin,
            f.subjects()
        );
    }
    let unsup = rehost_fuzz::unsupported::run(&mut r, &cfg.modes);
    println!(
        "unsupported codes: {} raise SIGILL at their EIP with CPUID hiding them, {} do not",
        unsup.verified.len(),
        unsup.failing.len()
    );
    for (c, why) in &unsup.failing {
        println!("unsupported code misbehaves: {c:?}: {why}");
    }
    for p in &unsup.problems {
        println!("unsupported check: {p}");
    }
    if let Some(p) = coverage_out {
        let text = coverage::table(&s, &cfg.known.codes, &unsup);
        std::fs::write(&p, text).unwrap_or_else(|e| die(&format!("{}: {e}", p.display())));
        eprintln!("coverage table written to {}", p.display());
    }
    let unsup_ok = unsup.failing.is_empty() && unsup.problems.is_empty();
    exit(
        if s.findings.is_empty() && s.native_failures.is_empty() && unsup_ok {
            0
        } else {
            1
        },
    );
}
