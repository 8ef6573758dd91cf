//! Self-checking assembly snippets: one small i386 program per family of
//! instructions rehost rewrites (`tests/snippets/NAME.S`, no libc), each
//! printing its registers at checkpoints (`snippet.h`: `CHECK tag` prints
//! `tag eax=........ ecx=... efl=...`, `CHECKMEM` dwords of memory) and
//! stating, in comment lines `# expect TAG key=0xVALUE ...`, what it must
//! print. The values were derived from the instruction semantics by hand.
//!
//! For each snippet the test builds it (`gcc -m32 -static -nostdlib
//! -no-pie`, the data section at 0x20000000 and the stack at 0x20100000),
//! then checks three runs, each against the stated values and against the
//! native recording `tests/expected/snippets/NAME.out` (and `.status`):
//!
//! * `snippet-NAME [native]`: the program itself, where the kernel runs
//!   i386 code (skipped with a note where it does not);
//! * `snippet-NAME [translated]`: `rehost translate`, under `no-ia32`;
//! * `snippet-NAME [rehost run]`: `rehost run`, under `no-ia32`.
//!
//! A failure names the snippet, the checkpoint and the register. The
//! recording is made with `REHOST_RECORD_SNIPPETS=1` (native runs only; it
//! refuses to record output that contradicts the stated values). Checks
//! may be listed in `tests/known-failures` (`snippet-bound [rehost run]`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use rehost_tests::{
    describe_status, guest_command, indent_tail, rehost_bin, report, run_with_timeout,
    selected_modes, translate, workspace_root, Checked, Failure, Mode, Outcome, TempDir,
    RUN_TIMEOUT,
};

fn no_ia32() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_no-ia32"))
}

fn snippets_dir() -> PathBuf {
    workspace_root().join("tests").join("snippets")
}

fn recordings_dir() -> PathBuf {
    workspace_root()
        .join("tests")
        .join("expected")
        .join("snippets")
}

/// checkpoint tag -> key -> value
type Lines = BTreeMap<String, BTreeMap<String, u32>>;

/// What a snippet states about itself.
struct Stated {
    values: Lines,
    /// `# expect-status N` (default 0).
    status: i32,
}

fn parse_hex(v: &str) -> Option<u32> {
    let v = v.strip_prefix("0x").unwrap_or(v);
    u32::from_str_radix(v, 16).ok()
}

/// The `# expect TAG key=0xVALUE ...` and `# expect-status N` lines.
fn parse_stated(name: &str, src: &str) -> Result<Stated, String> {
    let mut values = Lines::new();
    let mut status = 0;
    for (n, line) in src.lines().enumerate() {
        let Some(at) = line.find("# expect") else {
            continue;
        };
        let rest = &line[at + "# expect".len()..];
        let bad = |what: &str| format!("{name}.S:{}: {what}: {line}", n + 1);
        if let Some(s) = rest.strip_prefix("-status") {
            status = s.trim().parse().map_err(|_| bad("bad status"))?;
            continue;
        }
        let mut words = rest.split_whitespace();
        let tag = words.next().ok_or_else(|| bad("no checkpoint tag"))?;
        let entry = values.entry(tag.to_string()).or_default();
        for w in words {
            let (k, v) = w
                .split_once('=')
                .ok_or_else(|| bad("expected key=0xVALUE"))?;
            let v = parse_hex(v).ok_or_else(|| bad("bad hex value"))?;
            if entry.insert(k.to_string(), v).is_some() {
                return Err(bad(&format!("{tag} {k} stated twice")));
            }
        }
    }
    if values.is_empty() {
        return Err(format!("{name}.S states no `# expect` values"));
    }
    Ok(Stated { values, status })
}

/// The checkpoint lines a run printed, in order (a tag may repeat: the
/// first line counts).
fn parse_output(out: &[u8]) -> Result<Lines, String> {
    let text = String::from_utf8_lossy(out);
    let mut lines = Lines::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(tag) = words.next() else { continue };
        let mut kv = BTreeMap::new();
        for w in words {
            let parsed = w
                .split_once('=')
                .and_then(|(k, v)| Some((k, parse_hex(v)?)));
            let (k, v) = parsed.ok_or_else(|| format!("unparsable output line: {line}"))?;
            kv.insert(k.to_string(), v);
        }
        lines.entry(tag.to_string()).or_insert(kv);
    }
    Ok(lines)
}

/// Differences of a run from the stated values and from the native
/// recording, one line each, naming checkpoint and register.
fn compare(
    name: &str,
    o: &Outcome,
    stated: &Stated,
    native: Option<&(Vec<u8>, i32)>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    let got = match parse_output(&o.stdout) {
        Ok(g) => g,
        Err(e) => return vec![e],
    };
    if o.timed_out {
        diffs.push(format!("timed out after {RUN_TIMEOUT:?}"));
    } else if o.code() != stated.status {
        diffs.push(format!(
            "{}, expected {} (stated in {name}.S)",
            describe_status(o.code()),
            describe_status(stated.status)
        ));
    }
    for (tag, want) in &stated.values {
        let Some(line) = got.get(tag) else {
            diffs.push(format!("checkpoint {tag} never printed"));
            continue;
        };
        for (k, v) in want {
            match line.get(k) {
                Some(g) if g == v => {}
                Some(g) => diffs.push(format!(
                    "{tag}: {k}={g:#010x}, expected {v:#010x} (stated in {name}.S)"
                )),
                None => diffs.push(format!("{tag}: no {k} printed")),
            }
        }
    }
    if let Some((out, status)) = native {
        if !o.timed_out && o.code() != *status {
            diffs.push(format!(
                "{}, native: {}",
                describe_status(o.code()),
                describe_status(*status)
            ));
        }
        let want = parse_output(out).unwrap_or_default();
        for (tag, line) in &want {
            let Some(g) = got.get(tag) else {
                diffs.push(format!(
                    "checkpoint {tag} never printed (native printed it)"
                ));
                continue;
            };
            for (k, v) in line {
                match g.get(k) {
                    Some(x) if x == v => {}
                    Some(x) => diffs.push(format!("{tag}: {k}={x:#010x}, native {v:#010x}")),
                    None => diffs.push(format!("{tag}: no {k} printed (native printed it)")),
                }
            }
        }
        for tag in got.keys().filter(|t| !want.contains_key(*t)) {
            diffs.push(format!("checkpoint {tag} printed, native did not"));
        }
    }
    diffs
}

/// Build `tests/snippets/NAME.S` into `dir`.
fn build(name: &str, dir: &Path) -> Result<PathBuf, String> {
    let src = snippets_dir().join(format!("{name}.S"));
    let out = dir.join(name);
    let cc = std::env::var("CC32").unwrap_or_else(|_| "gcc".to_string());
    let args = [
        "-m32",
        "-static",
        "-no-pie",
        "-nostdlib",
        "-Wl,--section-start=.fixed=0x20000000",
        "-Wl,--section-start=.fixstack=0x20100000",
    ];
    let mut cmd = Command::new(&cc);
    cmd.args(args)
        .arg("-I")
        .arg(snippets_dir())
        .arg("-o")
        .arg(&out)
        .arg(&src);
    let shown = format!(
        "{cc} {} -I {} -o {} {}",
        args.join(" "),
        snippets_dir().display(),
        out.display(),
        src.display()
    );
    rehost_tests::compile_guest(cmd, &shown)?;
    Ok(out)
}

/// The native recording, if there is one.
fn recording(name: &str) -> Option<(Vec<u8>, i32)> {
    let dir = recordings_dir();
    let out = fs::read(dir.join(format!("{name}.out"))).ok()?;
    let status = fs::read_to_string(dir.join(format!("{name}.status")))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some((out, status))
}

/// Run the snippet natively; None where the kernel cannot run i386 code.
fn run_native(prog: &Path, cwd: &Path) -> Result<Option<Outcome>, String> {
    let mut cmd = Command::new(prog);
    cmd.env_clear().current_dir(cwd);
    match run_with_timeout(cmd, RUN_TIMEOUT) {
        Ok(o) => Ok(Some(o)),
        Err(e) if e.raw_os_error() == Some(libc::ENOEXEC) => Ok(None),
        Err(e) => Err(format!("cannot run {} natively: {e}", prog.display())),
    }
}

fn failure(check: &str, diffs: &[String], command: &str, o: Option<&Outcome>) -> Failure {
    let mut details = format!("  command: {command}\n");
    for d in diffs {
        let _ = writeln!(details, "  {d}");
    }
    if let Some(o) = o {
        details.push_str(&indent_tail(
            "stdout",
            &String::from_utf8_lossy(&o.stdout),
            40,
        ));
        details.push_str(&indent_tail("stderr", &o.stderr_text(), 15));
    }
    Failure {
        check: check.to_string(),
        summary: match diffs.len() {
            1 => diffs[0].clone(),
            n => format!("{} (and {} more)", diffs[0], n - 1),
        },
        details,
    }
}

fn check_snippet(name: &str) -> Result<Checked, String> {
    let src_path = snippets_dir().join(format!("{name}.S"));
    let src = fs::read_to_string(&src_path)
        .map_err(|e| format!("cannot read {}: {e}", src_path.display()))?;
    let stated = parse_stated(name, &src)?;
    let tmp = TempDir::new(&format!("snippet-{name}"))
        .map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let prog = build(name, tmp.path())?;
    let mut checks = Vec::new();
    let mut failures = Vec::new();
    let cwd = |k: &str| -> Result<PathBuf, String> {
        tmp.subdir(k)
            .map_err(|e| format!("cannot create a working dir: {e}"))
    };

    // Native: the oracle, where the kernel allows it.
    let mut native = recording(name);
    let check = format!("snippet-{name} [native]");
    match run_native(&prog, &cwd("cwd-native")?)? {
        None => eprintln!(
            "snippet {name}: the kernel does not run i386 programs: native run skipped, \
             comparing with tests/expected/snippets/{name}.out"
        ),
        Some(o) => {
            checks.push(check.clone());
            let shown = prog.display().to_string();
            let mut diffs = compare(name, &o, &stated, None);
            if std::env::var_os("REHOST_RECORD_SNIPPETS").is_some() && diffs.is_empty() {
                record(name, &o).map_err(|e| format!("cannot record {name}: {e}"))?;
                native = recording(name);
            }
            match &native {
                Some((out, status)) if *out == o.stdout && *status == o.code() => {}
                Some(_) => diffs.push(format!(
                    "native run differs from tests/expected/snippets/{name}.out/.status \
                     (re-record with REHOST_RECORD_SNIPPETS=1)"
                )),
                None => diffs.push(format!(
                    "no recording tests/expected/snippets/{name}.out/.status \
                     (record with REHOST_RECORD_SNIPPETS=1)"
                )),
            }
            if !diffs.is_empty() {
                failures.push(failure(&check, &diffs, &shown, Some(&o)));
            }
        }
    }
    let Some(native) = native else {
        return Err(format!(
            "no native recording tests/expected/snippets/{name}.out/.status: \
             run with REHOST_RECORD_SNIPPETS=1 on a kernel with ia32 emulation"
        ));
    };

    let rehost = rehost_bin()?;
    for mode in selected_modes() {
        let check = format!("snippet-{name} [{}]", mode.name());
        checks.push(check.clone());
        let (cmd, shown) = match mode {
            Mode::Translate => {
                let out = tmp.path().join(format!("{name}.x86_64"));
                if let Err(e) = translate(&rehost, &prog, &out) {
                    failures.push(Failure {
                        check,
                        summary: e.lines().next().unwrap_or("").to_string(),
                        details: format!("{e}\n"),
                    });
                    continue;
                }
                (
                    guest_command(no_ia32(), &out, &[], &cwd("cwd-translated")?),
                    format!("{} {}", no_ia32().display(), out.display()),
                )
            }
            Mode::Run => (
                guest_command(
                    no_ia32(),
                    &rehost,
                    &[Path::new("run"), &prog],
                    &cwd("cwd-run")?,
                ),
                format!(
                    "{} {} run {}",
                    no_ia32().display(),
                    rehost.display(),
                    prog.display()
                ),
            ),
        };
        let o = run_with_timeout(cmd, RUN_TIMEOUT).map_err(|e| format!("cannot run: {e}"))?;
        let diffs = compare(name, &o, &stated, Some(&native));
        if !diffs.is_empty() {
            failures.push(failure(&check, &diffs, &shown, Some(&o)));
        }
    }
    Ok(Checked { checks, failures })
}

fn record(name: &str, o: &Outcome) -> io::Result<()> {
    let dir = recordings_dir();
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(format!("{name}.out")), &o.stdout)?;
    fs::write(
        dir.join(format!("{name}.status")),
        format!("{}\n", o.code()),
    )
}

fn check(name: &str) {
    report(&format!("snippet {name}"), check_snippet(name));
}

macro_rules! snippet_tests {
    ($($name:ident),* $(,)?) => {
        /// One test per snippet.
        mod snippet {
            $(
                #[test]
                fn $name() {
                    super::check(stringify!($name));
                }
            )*
        }
        const SNIPPETS: &[&str] = &[$(stringify!($name)),*];
    };
}

snippet_tests!(
    bcd,
    bound,
    callret,
    cmpxchg8b,
    enter,
    farptr,
    into,
    loops,
    misc,
    pusha,
    pushf,
    sreg,
    stack,
    strings,
    strings16,
    strings_seg,
    xlat,
);

/// Every `tests/snippets/*.S` has its test above.
#[test]
fn every_snippet_has_a_test() {
    let mut missing = Vec::new();
    for e in fs::read_dir(snippets_dir())
        .expect("tests/snippets")
        .flatten()
    {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) == Some("S") {
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            if !SNIPPETS.contains(&stem) {
                missing.push(stem.to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "add to snippet_tests! in tests/tests/snippets.rs: {missing:?}"
    );
}

/// The parser and the comparison can fail: a wrong stated value and a
/// register that differs from the native run are both reported by name.
#[test]
fn comparison_names_the_register() {
    let stated = parse_stated("t", "# expect a eax=0x1 ebx=0x2\n# expect-status 0").unwrap();
    let native = (b"a eax=00000001 ebx=00000002 ecx=00000003\n".to_vec(), 0);
    let run = |out: &[u8]| {
        let mut cmd = Command::new("printf");
        cmd.arg(String::from_utf8_lossy(out).replace('\n', "\\n"));
        run_with_timeout(cmd, RUN_TIMEOUT).unwrap()
    };
    let ok = run(b"a eax=00000001 ebx=00000002 ecx=00000003\n");
    assert!(compare("t", &ok, &stated, Some(&native)).is_empty());
    let bad = run(b"a eax=00000001 ebx=00000007 ecx=00000004\n");
    let d = compare("t", &bad, &stated, Some(&native));
    assert!(
        d.iter()
            .any(|l| l.starts_with("a: ebx=0x00000007, expected 0x00000002")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|l| l.starts_with("a: ecx=0x00000004, native 0x00000003")),
        "{d:?}"
    );
    let missing = run(b"");
    let d = compare("t", &missing, &stated, Some(&native));
    assert!(d.iter().any(|l| l == "checkpoint a never printed"), "{d:?}");
}
