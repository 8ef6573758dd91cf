//! Inline caches at indirect jumps and calls (opt-in: `REHOST_IC=1` for
//! run-time translations, `rehost translate --inline-caches` for static
//! code):
//!
//! * the guests whose control flow is mostly indirect (function-pointer
//!   tables, computed gotos, jump tables, qsort's comparator, run-time
//!   generated and rewritten code, threads) must behave exactly as
//!   recorded in `tests/expected`, translated (plain with `REHOST_IC=1`,
//!   and with `--inline-caches`, also with `--stats`) and under `rehost
//!   run` with `REHOST_IC=1` (the `jit` guest rewrites code its caches
//!   point at: invalidation must empty those entries);
//! * `tests/guests/asm/icloop.S` (no libc, built here) runs a monomorphic
//!   `call *%esi` and a two-target `jmp *%ebx` 1000 times each, with CF
//!   live across both: `REHOST_STATS` must show level-1 and level-2 hits,
//!   and the flags must survive (the guest checks its own sum); without
//!   `REHOST_IC` there is no inline-cache line in the report.

use std::path::{Path, PathBuf};
use std::process::Command;

use rehost_tests::{
    expected, guest_command, guests_dir, indent_tail, rehost_bin, report, run_with_timeout,
    Checked, Expected, Failure, Outcome, TempDir, TRANSLATE_TIMEOUT,
};

fn no_ia32() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_no-ia32"))
}

const IC_ON: (&str, &str) = ("REHOST_IC", "1");

/// `rehost translate GUEST -o OUT EXTRA...`.
fn translate(guest: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new(rehost_bin()?);
    cmd.arg("translate")
        .arg(guest)
        .arg("-o")
        .arg(out)
        .args(extra);
    let o = run_with_timeout(cmd, TRANSLATE_TIMEOUT)
        .map_err(|e| format!("cannot run rehost translate: {e}"))?;
    if o.timed_out || !o.status.success() || !out.is_file() {
        return Err(format!(
            "`rehost translate {}` failed: {}\n{}",
            guest.display(),
            o.describe(),
            indent_tail("stderr", &o.stderr_text(), 20)
        ));
    }
    Ok(())
}

/// Run a translated program, or `rehost run PROGRAM`, under no-ia32 with
/// `env`; check stdout and status against `exp`.
fn run_port(
    program: &Path,
    rehost_run: bool,
    cwd: &Path,
    env: &[(&str, &str)],
    exp: &Expected,
) -> Result<Outcome, String> {
    let rehost = rehost_bin()?;
    let run = Path::new("run");
    let mut cmd = if rehost_run {
        guest_command(no_ia32(), &rehost, &[run, program], cwd)
    } else {
        guest_command(no_ia32(), program, &[], cwd)
    };
    for (k, v) in env {
        cmd.env(k, v);
    }
    let shown = format!(
        "{} {}{}",
        env.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        if rehost_run { "rehost run " } else { "" },
        program.display()
    );
    rehost_tests::run_expecting(cmd, &shown, exp)
}

#[derive(Default)]
struct Checks(Checked);

impl Checks {
    fn check(&mut self, label: &str, f: impl FnOnce() -> Result<(), String>) {
        self.0.checks.push(label.to_string());
        if let Err(e) = f() {
            self.0.failures.push(Failure {
                check: label.to_string(),
                summary: e.lines().next().unwrap_or("").to_string(),
                details: format!("{e}\n"),
            });
        }
    }
}

const GUESTS: [&str; 7] = [
    "fptable",
    "cgoto",
    "rodata_switch",
    "switch",
    "qsort",
    "jit",
    "threads",
];
const VARIANTS: [&str; 3] = ["O0", "O2", "pie-O2"];

/// The indirect-heavy guests, both ports, caches on (stats on too: the
/// counting code is the other shape of every site).
#[test]
fn guests_with_inline_caches() {
    let tmp = TempDir::new("ic-guests").expect("temp dir");
    let dir = guests_dir().unwrap_or_else(|e| panic!("{e}"));
    let mut c = Checks::default();
    for name in GUESTS {
        for variant in VARIANTS {
            let guest = dir.join(format!("{name}-{variant}"));
            if !guest.is_file() {
                continue;
            }
            let exp = expected(name, variant).unwrap_or_else(|e| panic!("{e}"));
            let out = tmp.path().join(format!("{name}-{variant}"));
            let translated = translate(&guest, &out, &[]);
            let out_ic = tmp.path().join(format!("{name}-{variant}-ic"));
            let translated_ic = translate(&guest, &out_ic, &["--inline-caches"]);
            let out_ics = tmp.path().join(format!("{name}-{variant}-ics"));
            let translated_ics = translate(&guest, &out_ics, &["--inline-caches", "--stats"]);
            for (label, out, tr) in [
                ("--inline-caches", &out_ic, &translated_ic),
                ("--inline-caches --stats", &out_ics, &translated_ics),
            ] {
                c.check(&format!("{name}-{variant} [translated {label}]"), || {
                    tr.clone()?;
                    let cwd = tmp
                        .subdir(&format!("{name}-{variant}-{}", label.len()))
                        .map_err(|e| e.to_string())?;
                    run_port(out, false, &cwd, &[("REHOST_STATS", "1")], &exp).map(|_| ())
                });
            }
            for stats in [false, true] {
                let mut env = vec![IC_ON];
                if stats {
                    env.push(("REHOST_STATS", "1"));
                }
                let tag = if stats { " +stats" } else { "" };
                c.check(&format!("{name}-{variant} [translated, ic{tag}]"), || {
                    translated.clone()?;
                    let cwd = tmp
                        .subdir(&format!("{name}-{variant}-t{stats}"))
                        .map_err(|e| e.to_string())?;
                    run_port(&out, false, &cwd, &env, &exp).map(|_| ())
                });
                c.check(&format!("{name}-{variant} [rehost run, ic{tag}]"), || {
                    let cwd = tmp
                        .subdir(&format!("{name}-{variant}-r{stats}"))
                        .map_err(|e| e.to_string())?;
                    run_port(&guest, true, &cwd, &env, &exp).map(|_| ())
                });
            }
        }
    }
    report("guests with inline caches (REHOST_IC=1)", Ok(c.0));
}

/// Build `tests/guests/asm/icloop.S` into `dir`.
fn build_icloop(dir: &Path) -> Result<PathBuf, String> {
    let src = rehost_tests::guest_sources_dir()
        .join("asm")
        .join("icloop.S");
    let out = dir.join("icloop");
    let cc = std::env::var("CC32").unwrap_or_else(|_| "gcc".to_string());
    let mut cmd = Command::new(&cc);
    cmd.args(["-m32", "-static", "-no-pie", "-nostdlib", "-o"])
        .arg(&out)
        .arg(&src);
    let o =
        run_with_timeout(cmd, TRANSLATE_TIMEOUT).map_err(|e| format!("cannot run {cc}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{cc} {} failed: {}\n{}",
            src.display(),
            o.describe(),
            indent_tail("stderr", &o.stderr_text(), 20)
        ));
    }
    Ok(out)
}

/// The numbers of the `inline caches:` report line: (sites, filled,
/// level 1, level 2, map lookups, runtime).
fn parse_ic_line(stderr: &str) -> Result<Option<[u64; 6]>, String> {
    let Some(line) = stderr
        .lines()
        .find(|l| l.starts_with("rehost: stats: inline caches: "))
    else {
        return Ok(None);
    };
    // The level names hold digits: take them out first.
    let text = line
        .replace("level 1 ", "first ")
        .replace("level 2 ", "second ");
    let nums: Vec<u64> = text
        .split(|ch: char| !ch.is_ascii_digit() && ch != '.')
        .filter(|w| !w.is_empty() && !w.contains('.'))
        .map(|w| w.parse().map_err(|_| format!("bad number in `{line}`")))
        .collect::<Result<_, _>>()?;
    // sites, filled, total, l1, l2, lookups, runtime, dropped
    if nums.len() != 8 {
        return Err(format!("unexpected report line `{line}`"));
    }
    if nums[2] != nums[3] + nums[4] + nums[5] + nums[6] {
        return Err(format!("levels do not add up to the total: `{line}`"));
    }
    Ok(Some([nums[0], nums[1], nums[3], nums[4], nums[5], nums[6]]))
}

#[test]
fn stats_show_hits() {
    let tmp = TempDir::new("ic-stats").expect("temp dir");
    let exp = Expected {
        stdout: Vec::new(),
        status: 42,
    };
    let mut c = Checks::default();
    let guest = build_icloop(tmp.path());
    c.check("icloop [rehost run, ic, stats]", || {
        let guest = guest.clone()?;
        let cwd = tmp.subdir("run").map_err(|e| e.to_string())?;
        let o = run_port(&guest, true, &cwd, &[IC_ON, ("REHOST_STATS", "1")], &exp)?;
        let stderr = o.stderr_text();
        let n = parse_ic_line(&stderr)?.ok_or_else(|| {
            format!(
                "no inline-cache line\n{}",
                indent_tail("stderr", &stderr, 20)
            )
        })?;
        // 1000 calls to f1 less at most 2 * 32 learning misses; 500 jumps
        // to the second target of site B less its learning misses.
        if n[1] < 2 || n[2] < 1400 || n[3] < 400 {
            return Err(format!(
                "too few hits (sites {}, filled {}, level 1 {}, level 2 {})",
                n[0], n[1], n[2], n[3]
            ));
        }
        Ok(())
    });
    c.check("icloop [translated, ic]", || {
        let guest = guest.clone()?;
        let out = tmp.path().join("icloop-x");
        translate(&guest, &out, &[])?;
        let cwd = tmp.subdir("tr").map_err(|e| e.to_string())?;
        run_port(&out, false, &cwd, &[IC_ON], &exp).map(|_| ())
    });
    c.check("icloop [translated --inline-caches --stats]", || {
        let guest = guest.clone()?;
        let out = tmp.path().join("icloop-ics");
        translate(&guest, &out, &["--inline-caches", "--stats"])?;
        let cwd = tmp.subdir("trs").map_err(|e| e.to_string())?;
        let o = run_port(&out, false, &cwd, &[("REHOST_STATS", "1")], &exp)?;
        let n = parse_ic_line(&o.stderr_text())?
            .ok_or_else(|| "no inline-cache line for static caches".to_string())?;
        if n[1] < 2 || n[2] < 1400 || n[3] < 400 {
            return Err(format!(
                "too few hits in static code (sites {}, filled {}, level 1 {}, level 2 {})",
                n[0], n[1], n[2], n[3]
            ));
        }
        Ok(())
    });
    c.check("icloop [rehost run, stats, no ic]", || {
        let guest = guest.clone()?;
        let cwd = tmp.subdir("off").map_err(|e| e.to_string())?;
        let o = run_port(&guest, true, &cwd, &[("REHOST_STATS", "1")], &exp)?;
        match parse_ic_line(&o.stderr_text())? {
            None => Ok(()),
            Some(_) => Err("an inline-cache line without REHOST_IC".to_string()),
        }
    });
    report("inline-cache report (icloop)", Ok(c.0));
}
