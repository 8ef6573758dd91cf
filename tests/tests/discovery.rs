//! The discovery report, profiles and the CFG view:
//!
//! * `REHOST_STATS=1`: on exit a port prints `rehost: stats: ...` lines on
//!   stderr; the first is `blocks executed: S translated ahead of time (of
//!   T), R found only at run time (P% static)` for a program translated with
//!   `--stats` (only `R found only at run time (...)` without it), and one
//!   says `run-time translation: N blocks (M at static block starts), X ms;
//!   chained exits: C`.
//! * `REHOST_PROFILE=FILE`: on exit the run-time-discovered block addresses,
//!   one `0x%08x` a line (an empty file when there were none); `rehost
//!   translate --profile FILE` makes them static, so the rebuilt program
//!   discovers nothing at run time on the same input.
//! * `rehost cfg GUEST [--profile FILE] -o CFG.dot`: the speculative CFG,
//!   statically found blocks `lightblue`, profile-only ones `orange`.
//!
//! The exact counts come from `tests/guests/asm/discover.S`, a guest without
//! libc whose blocks are derived by hand in its header comment (it is built
//! here with `gcc -m32 -static -nostdlib`); the libc guests `fptable-O2` and
//! `cgoto-O2` (`make guests`) check the profile round trip on real programs.
//!
//! Each test reports labelled checks through [`rehost_tests::report`], so a
//! check may be listed in `tests/known-failures` like a guest's.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rehost_tests::{
    expected, guest_command, guests_dir, indent_tail, rehost_bin, report, run_with_timeout,
    Checked, Expected, Failure, Outcome, TempDir, TRANSLATE_TIMEOUT,
};

fn no_ia32() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_no-ia32"))
}

// ---------------------------------------------------------------------------
// The hand-written guest and what it must do

/// What `discover.S` prints and returns.
fn nolibc_expected() -> Expected {
    Expected {
        stdout: b"hi\nhi\nhi\nhi\n".to_vec(),
        status: 168,
    }
}

/// Offsets from the entry point (`_start`) of the blocks of `discover.S`, as
/// derived in its header comment (the instruction encodings GNU as picks
/// fix them; see `objdump -d`).
mod nolibc {
    /// S1 _start, S2 .Louter, S3 after `call *%eax`, S4 the jnz's
    /// fall-through, S5 after `call print`, P1 print.
    pub const STATIC: [u32; 6] = [0x00, 0x07, 0x13, 0x18, 0x1d, 0x28];
    /// H1 hidden, H2 .Lloop, H3 the jnz's fall-through, H4 .Lprint_mid,
    /// H5 after `call .Lprint_mid`.
    pub const HIDDEN: [u32; 5] = [0x3f, 0x47, 0x4c, 0x32, 0x5b];
    /// Distinct blocks `rehost run` translates: S1 (through .Louter's
    /// instructions), S2, S3, S4, S5, P1 and H1..H5.
    pub const RUN_BLOCKS: u64 = 11;
}

/// Build `tests/guests/asm/discover.S` into `dir`; returns the program and
/// its entry point.
fn build_nolibc(dir: &Path) -> Result<(PathBuf, u32), String> {
    let src = rehost_tests::guest_sources_dir()
        .join("asm")
        .join("discover.S");
    let out = dir.join("discover");
    let cc = std::env::var("CC32").unwrap_or_else(|_| "gcc".to_string());
    let mut cmd = Command::new(&cc);
    cmd.args(["-m32", "-static", "-no-pie", "-nostdlib", "-o"])
        .arg(&out)
        .arg(&src);
    let shown = format!(
        "{cc} -m32 -static -no-pie -nostdlib -o {} {}",
        out.display(),
        src.display()
    );
    rehost_tests::compile_guest(cmd, &shown)?;
    let bytes = fs::read(&out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    if bytes.len() < 28 || &bytes[..4] != b"\x7fELF" || bytes[4] != 1 {
        return Err(format!("{} is not an ELF32 file", out.display()));
    }
    let entry = u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]);
    Ok((out, entry))
}

/// A guest built by `make guests`, with its recorded expectation.
fn libc_guest(name: &str, variant: &str) -> Result<(PathBuf, Expected), String> {
    let path = guests_dir()?.join(format!("{name}-{variant}"));
    if !path.is_file() {
        return Err(format!(
            "{} is not built: run `make guests`",
            path.display()
        ));
    }
    Ok((path, expected(name, variant)?))
}

// ---------------------------------------------------------------------------
// Running rehost and ports

/// `rehost translate GUEST -o OUT EXTRA...`: must exit 0 with one stderr line.
fn translate(guest: &Path, out: &Path, extra: &[&OsStr]) -> Result<(), String> {
    let rehost = rehost_bin()?;
    let mut cmd = Command::new(&rehost);
    cmd.arg("translate")
        .arg(guest)
        .arg("-o")
        .arg(out)
        .args(extra);
    let shown = format!(
        "rehost translate {} -o {} {}",
        guest.display(),
        out.display(),
        extra
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let o = run_with_timeout(cmd, TRANSLATE_TIMEOUT)
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    let stderr = o.stderr_text();
    if o.timed_out || !o.status.success() || !out.is_file() || stderr.lines().count() != 1 {
        return Err(format!(
            "`{shown}` failed: {} (expected status 0, one stderr line, an output file)\n{}",
            o.describe(),
            indent_tail("stderr", &stderr, 20)
        ));
    }
    Ok(())
}

/// Run a translated program (`rehost` is None) or `rehost run GUEST` under
/// no-ia32 the recorded way, plus the variables `env`; check stdout and
/// status against `exp`.
fn run_port(
    program: &Path,
    rehost_run: bool,
    cwd: &Path,
    env: &[(&str, &OsStr)],
    exp: &Expected,
) -> Result<Outcome, String> {
    let (cmd, shown) = if rehost_run {
        let rehost = rehost_bin()?;
        let run = Path::new("run");
        (
            guest_command(no_ia32(), &rehost, &[run, program], cwd),
            format!("rehost run {}", program.display()),
        )
    } else {
        (
            guest_command(no_ia32(), program, &[], cwd),
            program.display().to_string(),
        )
    };
    let mut cmd = cmd;
    for (k, v) in env {
        cmd.env(k, v);
    }
    let env_shown: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("{k}={}", v.to_string_lossy()))
        .collect();
    let shown = format!("{} {shown}", env_shown.join(" "));
    rehost_tests::run_expecting(cmd, &shown, exp)
}

// ---------------------------------------------------------------------------
// The report

const STATS: &str = "rehost: stats: ";
const EXECUTED: &str = "rehost: stats: blocks executed: ";
const RUNTIME: &str = "rehost: stats: run-time translation: ";

/// The numbers of a discovery report.
#[derive(Debug)]
struct Stats {
    /// `S translated ahead of time (of T)`, when the program counts them.
    ahead: Option<(u64, u64)>,
    /// `R found only at run time`.
    runtime_only: u64,
    /// `P` of `(P% static)` when given that way, as printed.
    pct: Option<String>,
    /// `run-time translation: N blocks (M at static block starts)`.
    rt_blocks: u64,
    at_static: u64,
    chained: u64,
    /// The `blocks executed` line, for messages.
    line: String,
}

fn number(s: &str, what: &str, line: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("cannot read {what} from `{s}` in `{line}`"))
}

/// Parse the `rehost: stats:` lines of `stderr`. The first stats line must
/// be `blocks executed: ...`; exactly one must be `run-time translation:`.
fn parse_stats(stderr: &str) -> Result<Stats, String> {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with(STATS)).collect();
    let shown = || indent_tail("stderr", stderr, 20);
    let Some(first) = lines.first() else {
        return Err(format!("no `{STATS}` lines on stderr\n{}", shown()));
    };
    let Some(rest) = first.strip_prefix(EXECUTED) else {
        return Err(format!(
            "the first stats line is not `{EXECUTED}...`: `{first}`\n{}",
            shown()
        ));
    };
    let bad = |why: &str| format!("malformed line ({why}): `{first}`");
    let (ahead, rest) = match rest.split_once(" translated ahead of time (of ") {
        Some((s, tail)) => {
            let (t, tail) = tail.split_once("), ").ok_or_else(|| bad("no `), `"))?;
            (Some((number(s, "S", first)?, number(t, "T", first)?)), tail)
        }
        None => (None, rest),
    };
    let (r, paren) = rest
        .split_once(" found only at run time (")
        .ok_or_else(|| bad("no `found only at run time (`"))?;
    let paren = paren
        .strip_suffix(')')
        .ok_or_else(|| bad("no closing `)`"))?;
    let pct = paren.strip_suffix("% static").map(str::to_string);
    let runtime_only = number(r, "R", first)?;

    let rt: Vec<&&str> = lines.iter().filter(|l| l.starts_with(RUNTIME)).collect();
    if rt.len() != 1 {
        return Err(format!(
            "expected one `{RUNTIME}...` line, found {}\n{}",
            rt.len(),
            shown()
        ));
    }
    let line2 = rt[0];
    let bad2 = |why: &str| format!("malformed line ({why}): `{line2}`");
    let rest = &line2[RUNTIME.len()..];
    let (n, rest) = rest
        .split_once(" blocks (")
        .ok_or_else(|| bad2("no ` blocks (`"))?;
    let (m, rest) = rest
        .split_once(" at static block starts), ")
        .ok_or_else(|| bad2("no ` at static block starts), `"))?;
    let (ms, c) = rest
        .split_once(" ms; chained exits: ")
        .ok_or_else(|| bad2("no ` ms; chained exits: `"))?;
    ms.parse::<f64>()
        .map_err(|_| bad2("time is not a number"))?;
    Ok(Stats {
        ahead,
        runtime_only,
        pct,
        rt_blocks: number(n, "N", line2)?,
        at_static: number(m, "M", line2)?,
        chained: number(c, "C", line2)?,
        line: first.to_string(),
    })
}

/// `P` as the report prints it for S static and R run-time blocks.
fn percent(s: u64, r: u64) -> String {
    if s + r == 0 {
        "100.0".to_string()
    } else {
        format!("{:.1}", 100.0 * s as f64 / (s + r) as f64)
    }
}

/// The report's internal consistency: N = R + M, and P matches S and R.
fn consistent(st: &Stats) -> Result<(), String> {
    if st.rt_blocks != st.runtime_only + st.at_static {
        return Err(format!(
            "run-time translation: {} blocks, but {} found only at run time + {} at static starts",
            st.rt_blocks, st.runtime_only, st.at_static
        ));
    }
    if let (Some((s, t)), Some(p)) = (st.ahead, &st.pct) {
        if s > t {
            return Err(format!("{s} static blocks executed of {t}: `{}`", st.line));
        }
        if *p != percent(s, st.runtime_only) {
            return Err(format!(
                "P should be {} for S={s}, R={}: `{}`",
                percent(s, st.runtime_only),
                st.runtime_only,
                st.line
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Profiles and DOT

/// A REHOST_PROFILE file: `0x%08x` lines, no duplicates.
fn read_profile(path: &Path) -> Result<Vec<u32>, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("the profile {} was not written: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let hex = line
            .strip_prefix("0x")
            .filter(|h| h.len() == 8)
            .ok_or_else(|| format!("profile line `{line}` is not `0x%08x`"))?;
        let a = u32::from_str_radix(hex, 16)
            .map_err(|_| format!("profile line `{line}` is not a hex address"))?;
        out.push(a);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the profile does not end with a newline".to_string());
    }
    let distinct: BTreeSet<u32> = out.iter().copied().collect();
    if distinct.len() != out.len() {
        return Err(format!("the profile repeats addresses: {out:x?}"));
    }
    Ok(out)
}

/// Nodes of a `rehost cfg` DOT file: (address, fillcolor).
fn parse_dot(text: &str) -> Result<Vec<(u32, String)>, String> {
    if !text.starts_with("digraph") {
        return Err(format!(
            "the DOT file does not start with `digraph`: {:?}",
            text.lines().next().unwrap_or("")
        ));
    }
    if !text.trim_end().ends_with('}') {
        return Err("the DOT file does not end with `}`".to_string());
    }
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    // Node ids are `n` and the address in hex; other statements (`node [...]`,
    // comments) are skipped.
    let id = |s: &str| {
        let hex = s.trim().strip_prefix('n')?;
        let ok = !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
        ok.then(|| u32::from_str_radix(hex, 16).ok()).flatten()
    };
    for line in text.lines().map(str::trim) {
        if let Some((from, to)) = line.split_once(" -> ") {
            let to = to.split_once(' ').map_or(to, |t| t.0).trim_end_matches(';');
            match (id(from), id(to)) {
                (Some(f), Some(t)) => edges.push((f, t)),
                _ => return Err(format!("cannot read the edge `{line}`")),
            }
        } else if let Some((a, attrs)) = line.split_once(" [") {
            let Some(a) = id(a) else {
                continue;
            };
            let colour = attrs
                .split_once("fillcolor=")
                .map(|c| c.1.trim_end_matches("];").trim().to_string())
                .ok_or_else(|| format!("node without fillcolor: `{line}`"))?;
            nodes.push((a, colour));
        }
    }
    let known: BTreeSet<u32> = nodes.iter().map(|n| n.0).collect();
    if known.len() != nodes.len() {
        return Err("a node is declared twice".to_string());
    }
    if let Some((f, t)) = edges
        .iter()
        .find(|(f, t)| !known.contains(f) || !known.contains(t))
    {
        return Err(format!(
            "the edge {f:#x} -> {t:#x} names an undeclared node"
        ));
    }
    Ok(nodes)
}

/// `rehost cfg GUEST [--profile FILE] -o OUT`, parsed.
fn cfg(guest: &Path, profile: Option<&Path>, out: &Path) -> Result<Vec<(u32, String)>, String> {
    let rehost = rehost_bin()?;
    let mut cmd = Command::new(&rehost);
    cmd.arg("cfg").arg(guest);
    if let Some(p) = profile {
        cmd.arg("--profile").arg(p);
    }
    cmd.arg("-o").arg(out);
    let o = run_with_timeout(cmd, TRANSLATE_TIMEOUT)
        .map_err(|e| format!("cannot run rehost cfg: {e}"))?;
    if o.timed_out || !o.status.success() {
        return Err(format!(
            "`rehost cfg {}` failed: {}\n{}",
            guest.display(),
            o.describe(),
            indent_tail("stderr", &o.stderr_text(), 20)
        ));
    }
    let text =
        fs::read_to_string(out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    parse_dot(&text)
}

fn coloured(nodes: &[(u32, String)], colour: &str) -> BTreeSet<u32> {
    nodes
        .iter()
        .filter(|n| n.1 == colour)
        .map(|n| n.0)
        .collect()
}

fn hex_set(s: &BTreeSet<u32>) -> String {
    let v: Vec<String> = s.iter().map(|a| format!("{a:#010x}")).collect();
    format!("{{{}}}", v.join(", "))
}

// ---------------------------------------------------------------------------
// Labelled checks

/// Checks of one test, reported through `rehost_tests::report`.
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

    fn report(self, what: &str) {
        report(what, Ok(self.0));
    }
}

fn os(p: &Path) -> &OsStr {
    p.as_os_str()
}

// ---------------------------------------------------------------------------
// Tests

/// Exact counts for the hand-written guest: with `--stats`, without it, and
/// under `rehost run`; no report without REHOST_STATS.
#[test]
fn stats_exact_counts() {
    let tmp = TempDir::new("discovery-stats").expect("temp dir");
    let (guest, _) = build_nolibc(tmp.path()).unwrap_or_else(|e| panic!("{e}"));
    let exp = nolibc_expected();
    let stats_on: [(&str, &OsStr); 1] = [("REHOST_STATS", OsStr::new("1"))];
    let mut c = Checks::default();

    let counted = tmp.path().join("counted");
    c.check("stats-nolibc-with-stats [translated]", || {
        translate(&guest, &counted, &[OsStr::new("--stats")])?;
        let cwd = tmp.subdir("cwd1").map_err(|e| e.to_string())?;
        let o = run_port(&counted, false, &cwd, &stats_on, &exp)?;
        let st = parse_stats(&o.stderr_text())?;
        consistent(&st)?;
        let want = format!(
            "{EXECUTED}6 translated ahead of time (of 6), 5 found only at run time ({}% static)",
            percent(6, 5)
        );
        if st.line != want {
            return Err(format!(
                "derived by hand (discover.S): S=6 of T=6, R=5\n  expected: {want}\n  printed:  {}",
                st.line
            ));
        }
        if (st.rt_blocks, st.at_static) != (5, 0) {
            return Err(format!(
                "run-time translation: {} blocks ({} at static block starts), derived: 5 (0)",
                st.rt_blocks, st.at_static
            ));
        }
        Ok(())
    });

    c.check("stats-nolibc-quiet [translated]", || {
        if !counted.is_file() {
            return Err("not translated (see stats-nolibc-with-stats)".to_string());
        }
        let cwd = tmp.subdir("cwd2").map_err(|e| e.to_string())?;
        let o = run_port(&counted, false, &cwd, &[], &exp)?;
        let stderr = o.stderr_text();
        if stderr.lines().any(|l| l.starts_with(STATS)) {
            return Err(format!(
                "a report without REHOST_STATS\n{}",
                indent_tail("stderr", &stderr, 20)
            ));
        }
        Ok(())
    });

    c.check("stats-nolibc-plain [translated]", || {
        let plain = tmp.path().join("plain");
        translate(&guest, &plain, &[])?;
        let cwd = tmp.subdir("cwd3").map_err(|e| e.to_string())?;
        let o = run_port(&plain, false, &cwd, &stats_on, &exp)?;
        let st = parse_stats(&o.stderr_text())?;
        consistent(&st)?;
        if st.ahead.is_some() || st.runtime_only != 5 {
            return Err(format!(
                "without --stats the static blocks are not counted: expected `{EXECUTED}5 found only at run time (...)`, printed `{}`",
                st.line
            ));
        }
        if (st.rt_blocks, st.at_static) != (5, 0) {
            return Err(format!(
                "run-time translation: {} blocks ({} at static block starts), derived: 5 (0)",
                st.rt_blocks, st.at_static
            ));
        }
        Ok(())
    });

    c.check("stats-nolibc [rehost run]", || {
        let cwd = tmp.subdir("cwd4").map_err(|e| e.to_string())?;
        let o = run_port(&guest, true, &cwd, &stats_on, &exp)?;
        let st = parse_stats(&o.stderr_text())?;
        consistent(&st)?;
        if !matches!(st.ahead, None | Some((0, 0))) || st.runtime_only != nolibc::RUN_BLOCKS {
            return Err(format!(
                "derived by hand (discover.S): no static blocks, R={} (every distinct block)\n  printed: {}",
                nolibc::RUN_BLOCKS,
                st.line
            ));
        }
        if (st.rt_blocks, st.at_static) != (nolibc::RUN_BLOCKS, 0) {
            return Err(format!(
                "run-time translation: {} blocks ({} at static block starts), derived: {} (0)",
                st.rt_blocks,
                st.at_static,
                nolibc::RUN_BLOCKS
            ));
        }
        Ok(())
    });
    c.report("discovery report (discover.S)");
}

/// The report of a libc guest: well-formed and self-consistent, with the
/// hidden function found at run time, and everything at run time under
/// `rehost run`.
#[test]
fn stats_libc_guest() {
    let tmp = TempDir::new("discovery-stats-libc").expect("temp dir");
    let (guest, exp) = libc_guest("fptable", "O2").unwrap_or_else(|e| panic!("{e}"));
    let stats_on: [(&str, &OsStr); 1] = [("REHOST_STATS", OsStr::new("1"))];
    let mut c = Checks::default();
    c.check("stats-fptable-O2 [translated]", || {
        let out = tmp.path().join("fptable-O2");
        translate(&guest, &out, &[OsStr::new("--stats")])?;
        let cwd = tmp.subdir("cwd1").map_err(|e| e.to_string())?;
        let st = parse_stats(&run_port(&out, false, &cwd, &stats_on, &exp)?.stderr_text())?;
        consistent(&st)?;
        match st.ahead {
            Some((s, t)) if s > 100 && t > s => {}
            _ => return Err(format!("implausible static counts: `{}`", st.line)),
        }
        // fp_hidden has no symbol, no unwind info and no pointer to it.
        if st.runtime_only == 0 || st.pct.is_none() {
            return Err(format!(
                "fp_hidden must be found at run time: `{}`",
                st.line
            ));
        }
        Ok(())
    });
    c.check("stats-fptable-O2 [rehost run]", || {
        let cwd = tmp.subdir("cwd2").map_err(|e| e.to_string())?;
        let st = parse_stats(&run_port(&guest, true, &cwd, &stats_on, &exp)?.stderr_text())?;
        consistent(&st)?;
        if !matches!(st.ahead, None | Some((0, 0))) || st.runtime_only < 100 || st.at_static != 0 {
            return Err(format!(
                "without a static pass every block is found at run time: `{}`",
                st.line
            ));
        }
        Ok(())
    });
    c.report("discovery report (fptable-O2)");
}

/// Record a profile with a plain translation, rebuild with it, and check
/// that the rebuilt program finds nothing at run time on the same input.
/// Returns the profile. `exact_hidden`: the profile must be exactly these.
fn profile_round_trip(
    c: &mut Checks,
    label: &str,
    guest: &Path,
    exp: &Expected,
    tmp: &TempDir,
    exact_hidden: Option<&BTreeSet<u32>>,
) -> Option<Vec<u32>> {
    let stats_on = OsStr::new("1");
    // Both runs get the same input: argv[0], the working directory and the
    // REHOST_PROFILE value have the same lengths (libc's string functions
    // take other paths for other lengths, which changes S).
    let profile = tmp.path().join(format!("{label}.prof1"));
    let first = tmp.path().join("first").join(label);
    let mut recorded = None;
    let mut first_stats = None;
    c.check(&format!("profile-{label}-record [translated]"), || {
        fs::create_dir_all(tmp.path().join("first")).map_err(|e| e.to_string())?;
        translate(guest, &first, &[OsStr::new("--stats")])?;
        let cwd = tmp
            .subdir(&format!("cwd-{label}-1"))
            .map_err(|e| e.to_string())?;
        let env = [("REHOST_STATS", stats_on), ("REHOST_PROFILE", os(&profile))];
        let st = parse_stats(&run_port(&first, false, &cwd, &env, exp)?.stderr_text())?;
        consistent(&st)?;
        let addrs = read_profile(&profile)?;
        if addrs.len() as u64 != st.runtime_only {
            return Err(format!(
                "the profile has {} addresses, the report says {} blocks found only at run time",
                addrs.len(),
                st.runtime_only
            ));
        }
        if let Some(want) = exact_hidden {
            let got: BTreeSet<u32> = addrs.iter().copied().collect();
            if &got != want {
                return Err(format!(
                    "profile {} differs from the derived run-time blocks {}",
                    hex_set(&got),
                    hex_set(want)
                ));
            }
        }
        recorded = Some(addrs);
        first_stats = Some(st);
        Ok(())
    });
    c.check(&format!("profile-{label}-replay [translated]"), || {
        let (Some(addrs), Some(st1)) = (&recorded, &first_stats) else {
            return Err("no profile recorded (see the -record check)".to_string());
        };
        let second = tmp.path().join("again").join(label);
        fs::create_dir_all(tmp.path().join("again")).map_err(|e| e.to_string())?;
        translate(
            guest,
            &second,
            &[OsStr::new("--stats"), OsStr::new("--profile"), os(&profile)],
        )?;
        let profile2 = tmp.path().join(format!("{label}.prof2"));
        let cwd = tmp.subdir(&format!("cwd-{label}-2")).map_err(|e| e.to_string())?;
        let env = [("REHOST_STATS", stats_on), ("REHOST_PROFILE", os(&profile2))];
        let st = parse_stats(&run_port(&second, false, &cwd, &env, exp)?.stderr_text())?;
        consistent(&st)?;
        if st.runtime_only != 0 || st.rt_blocks != 0 {
            return Err(format!(
                "rebuilt with --profile, the program still translated {} blocks at run time ({} found only at run time): `{}`",
                st.rt_blocks, st.runtime_only, st.line
            ));
        }
        let n = addrs.len() as u64;
        match (st1.ahead, st.ahead) {
            (Some((s1, t1)), Some((s2, t2))) if t2 >= t1 + n && s2 >= s1 + n => {}
            _ => {
                return Err(format!(
                    "with the {n} profile addresses as static blocks, S and T should each grow by at least {n}:\n  before: {}\n  after:  {}",
                    st1.line, st.line
                ))
            }
        }
        let again = read_profile(&profile2)?;
        if !again.is_empty() {
            return Err(format!(
                "the rebuilt program's profile is not empty: {again:x?}"
            ));
        }
        Ok(())
    });
    recorded
}

/// The profile round trip on the hand-written guest: exactly its hidden
/// blocks are recorded; afterwards all 11 blocks are static.
#[test]
fn profile_nolibc() {
    let tmp = TempDir::new("discovery-profile-nolibc").expect("temp dir");
    let (guest, entry) = build_nolibc(tmp.path()).unwrap_or_else(|e| panic!("{e}"));
    let hidden: BTreeSet<u32> = nolibc::HIDDEN.iter().map(|o| entry + o).collect();
    let mut c = Checks::default();
    let exp = nolibc_expected();
    let recorded = profile_round_trip(&mut c, "nolibc", &guest, &exp, &tmp, Some(&hidden));
    c.check("profile-nolibc-exact [translated]", || {
        if recorded.is_none() {
            return Err("no profile recorded".to_string());
        }
        let out = tmp.path().join("again").join("nolibc");
        let cwd = tmp.subdir("cwd-exact").map_err(|e| e.to_string())?;
        let env = [("REHOST_STATS", OsStr::new("1"))];
        let st = parse_stats(&run_port(&out, false, &cwd, &env, &exp)?.stderr_text())?;
        let want = format!("{EXECUTED}11 translated ahead of time (of 11), 0 found only at run time (100.0% static)");
        if st.line != want {
            return Err(format!(
                "derived by hand (discover.S): with the profile S=11 of T=11, R=0\n  expected: {want}\n  printed:  {}",
                st.line
            ));
        }
        Ok(())
    });
    c.report("profile round trip (discover.S)");
}

#[test]
fn profile_fptable() {
    let tmp = TempDir::new("discovery-profile-fptable").expect("temp dir");
    let mut c = Checks::default();
    // The -static-pie variant checks that the runtime and the static pass
    // agree on the load address the profile's addresses are relative to.
    for variant in ["O2", "pie-O2"] {
        let (guest, exp) = libc_guest("fptable", variant).unwrap_or_else(|e| panic!("{e}"));
        let label = format!("fptable-{variant}");
        let recorded = profile_round_trip(&mut c, &label, &guest, &exp, &tmp, None);
        c.check(
            &format!("profile-{label}-nonempty [translated]"),
            || match recorded {
                Some(ref a) if !a.is_empty() => Ok(()),
                Some(_) => Err(
                    "fp_hidden is invisible to the static pass, yet the profile is empty"
                        .to_string(),
                ),
                None => Err("no profile recorded".to_string()),
            },
        );
    }
    c.report("profile round trip (fptable-O2, fptable-pie-O2)");
}

#[test]
fn profile_cgoto() {
    let tmp = TempDir::new("discovery-profile-cgoto").expect("temp dir");
    let (guest, exp) = libc_guest("cgoto", "O2").unwrap_or_else(|e| panic!("{e}"));
    let mut c = Checks::default();
    // The relative label table of run_rel may some day be resolved
    // statically, so an empty profile is fine here.
    profile_round_trip(&mut c, "cgoto-O2", &guest, &exp, &tmp, None);
    c.report("profile round trip (cgoto-O2)");
}

/// Record a profile of `guest` with a plain translation.
fn record_profile(
    guest: &Path,
    exp: &Expected,
    tmp: &TempDir,
    label: &str,
) -> Result<(PathBuf, Vec<u32>), String> {
    let out = tmp.path().join(format!("{label}-plain"));
    translate(guest, &out, &[])?;
    let profile = tmp.path().join(format!("{label}.profile"));
    let cwd = tmp
        .subdir(&format!("cwd-{label}"))
        .map_err(|e| e.to_string())?;
    run_port(&out, false, &cwd, &[("REHOST_PROFILE", os(&profile))], exp)?;
    let addrs = read_profile(&profile)?;
    Ok((profile, addrs))
}

/// `rehost cfg`: DOT with statically found blocks in lightblue and, given a
/// profile, its blocks in orange.
#[test]
fn cfg_dot() {
    let tmp = TempDir::new("discovery-cfg").expect("temp dir");
    let mut c = Checks::default();

    c.check("cfg-fptable-O2", || {
        let (guest, exp) = libc_guest("fptable", "O2")?;
        let plain = cfg(&guest, None, &tmp.path().join("fptable.dot"))?;
        if coloured(&plain, "lightblue").len() < 100 {
            return Err(format!(
                "only {} lightblue nodes without a profile",
                coloured(&plain, "lightblue").len()
            ));
        }
        if plain.iter().any(|n| n.1 != "lightblue") {
            return Err("without a profile every node must be lightblue".to_string());
        }
        let (profile, addrs) = record_profile(&guest, &exp, &tmp, "fptable-O2")?;
        let nodes = cfg(
            &guest,
            Some(&profile),
            &tmp.path().join("fptable-profile.dot"),
        )?;
        let orange = coloured(&nodes, "orange");
        let recorded: BTreeSet<u32> = addrs.iter().copied().collect();
        if orange.intersection(&recorded).next().is_none() {
            return Err(format!(
                "no orange node is a profile address: orange {}, profile {}",
                hex_set(&orange),
                hex_set(&recorded)
            ));
        }
        if !recorded.is_subset(&orange) {
            let missing: BTreeSet<u32> = recorded.difference(&orange).copied().collect();
            return Err(format!(
                "profile addresses that are not orange nodes: {}",
                hex_set(&missing)
            ));
        }
        if coloured(&nodes, "lightblue") != coloured(&plain, "lightblue") {
            return Err("the lightblue nodes change with a profile".to_string());
        }
        Ok(())
    });

    c.check("cfg-nolibc", || {
        let (guest, entry) = build_nolibc(tmp.path())?;
        let statics: BTreeSet<u32> = nolibc::STATIC.iter().map(|o| entry + o).collect();
        let hidden: BTreeSet<u32> = nolibc::HIDDEN.iter().map(|o| entry + o).collect();
        let plain = cfg(&guest, None, &tmp.path().join("nolibc.dot"))?;
        let blue = coloured(&plain, "lightblue");
        if blue != statics || plain.len() != statics.len() {
            return Err(format!(
                "without a profile: nodes {:x?}, derived static blocks {}",
                plain,
                hex_set(&statics)
            ));
        }
        let (profile, _) = record_profile(&guest, &nolibc_expected(), &tmp, "nolibc")?;
        let nodes = cfg(&guest, Some(&profile), &tmp.path().join("nolibc-profile.dot"))?;
        let (blue, orange) = (coloured(&nodes, "lightblue"), coloured(&nodes, "orange"));
        if blue != statics || orange != hidden || nodes.len() != 11 {
            return Err(format!(
                "with the profile: lightblue {} (derived {}), orange {} (derived {}), {} nodes (derived 11)",
                hex_set(&blue),
                hex_set(&statics),
                hex_set(&orange),
                hex_set(&hidden),
                nodes.len()
            ));
        }
        Ok(())
    });
    c.report("rehost cfg");
}

/// The parsers themselves.
#[test]
fn parsers() {
    let s = "x\nrehost: stats: blocks executed: 6 translated ahead of time (of 6), 5 found only at run time (54.5% static)\n\
             rehost: stats: something else\n\
             rehost: stats: run-time translation: 5 blocks (0 at static block starts), 0.828 ms; chained exits: 5\n";
    let st = parse_stats(s).unwrap();
    assert_eq!(st.ahead, Some((6, 6)));
    assert_eq!(
        (st.runtime_only, st.rt_blocks, st.at_static, st.chained),
        (5, 5, 0, 5)
    );
    assert_eq!(st.pct.as_deref(), Some("54.5"));
    consistent(&st).unwrap();
    let st = parse_stats(
        "rehost: stats: blocks executed: 7 found only at run time (whatever)\n\
         rehost: stats: run-time translation: 9 blocks (2 at static block starts), 1 ms; chained exits: 0\n",
    )
    .unwrap();
    assert_eq!(
        (st.ahead, st.runtime_only, st.pct.as_deref()),
        (None, 7, None)
    );
    consistent(&st).unwrap();
    assert!(parse_stats("rehost: stats: run-time translation: 1 blocks\n").is_err());
    assert_eq!(percent(6, 5), "54.5");
    assert_eq!(percent(0, 0), "100.0");

    let dot = "digraph cfg {\n  node [shape=box];\n  n08049000 [label=\"0x08049000\\n_start\", fillcolor=lightblue];\n  \
               n0804903f [label=\"0x0804903f\", fillcolor=orange];\n  n08049000 -> n0804903f [style=dotted];\n}\n";
    let nodes = parse_dot(dot).unwrap();
    assert_eq!(
        nodes,
        vec![
            (0x0804_9000, "lightblue".to_string()),
            (0x0804_903f, "orange".to_string())
        ]
    );
    assert!(parse_dot("graph {}\n").is_err());
    assert!(parse_dot("digraph {\n  n1 -> n2;\n}\n").is_err());
}
