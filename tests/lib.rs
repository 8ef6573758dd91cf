//! Shared helpers for rehost's integration tests: the differential harness.
//!
//! The oracle is the guest itself, run natively on an ia32-capable kernel by
//! `scripts/record-expected.sh`, which stores its stdout and exit status in
//! `tests/expected/NAME.out` and `NAME.status`. Each port of the guest must
//! reproduce both exactly:
//!
//! * **translated**: `rehost translate GUEST -o OUT`, then `OUT ARGS...`;
//! * **run**: `rehost run GUEST ARGS...`.
//!
//! Both run under `no-ia32` (see `src/bin/no-ia32.rs`), a seccomp filter that
//! kills the process on any i386 system call, so a port that lets an
//! `int 0x80` through fails here even though this kernel would serve it.
//! Guests run exactly as they were recorded: arguments [`GUEST_ARGS`], an
//! environment holding only [`GUEST_ENV`], stdin `/dev/null`, and an empty
//! temporary working directory; each run is killed after [`RUN_TIMEOUT`].
//!
//! Locations (each can be overridden by an environment variable):
//!
//! | what | default | variable |
//! |---|---|---|
//! | the rehost binary | `target/release/rehost` (or `$CARGO_TARGET_DIR/release/rehost`) | `REHOST_BIN` |
//! | built guests | `build/guests/` (`make guests`) | `REHOST_GUESTS` |
//!
//! Narrowing a run while debugging: `REHOST_TEST_MODES=translate` or `=run`,
//! `REHOST_TEST_VARIANTS=O2,pie-O2` (comma-separated), and
//! `REHOST_TEST_PASS_ENV=REHOST_LOG,...` to pass named variables of the test's
//! own environment through to the ports (this changes what the `args` guest
//! prints, so only use it for debugging). `REHOST_TEST_KEEP=1` keeps the
//! temporary directories (translated outputs) for a look afterwards.
//!
//! Checks that may fail for now are listed in `tests/known-failures` (see
//! [`known_failures`]); `scripts/qemu-as-rehost.sh` is a qemu-based stand-in
//! for the rehost binary that exercises the harness itself.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Arguments every guest gets after argv[0] (as in `record-expected.sh`).
pub const GUEST_ARGS: &[&str] = &["alpha", "beta"];
/// The complete environment every guest gets (as in `record-expected.sh`).
pub const GUEST_ENV: &[(&str, &str)] = &[("REHOST_TEST_VAR", "hello")];
/// A guest run (native, translated or `rehost run`) is killed after this.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// `rehost translate` is killed after this.
pub const TRANSLATE_TIMEOUT: Duration = Duration::from_secs(180);
/// Captured output beyond this is dropped (a runaway guest must not eat memory).
const OUTPUT_CAP: usize = 64 << 20;

/// The two ways rehost ports a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `rehost translate GUEST -o OUT`, then run OUT.
    Translate,
    /// `rehost run GUEST ARGS...`.
    Run,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Translate, Mode::Run];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Translate => "translated",
            Mode::Run => "rehost run",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Mode::Translate => "translate",
            Mode::Run => "run",
        }
    }
}

// ---------------------------------------------------------------------------
// Locations

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate lives inside the workspace")
        .to_path_buf()
}

/// `tests/guests/`: the guest sources.
pub fn guest_sources_dir() -> PathBuf {
    workspace_root().join("tests").join("guests")
}

/// `tests/expected/`: recorded native outputs.
pub fn expected_dir() -> PathBuf {
    workspace_root().join("tests").join("expected")
}

/// The `rehost` binary: `$REHOST_BIN`, else the release build.
pub fn rehost_bin() -> Result<PathBuf, String> {
    let path = match std::env::var_os("REHOST_BIN") {
        Some(p) => PathBuf::from(p),
        None => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .map(|t| {
                    if t.is_relative() {
                        workspace_root().join(t)
                    } else {
                        t
                    }
                })
                .unwrap_or_else(|| workspace_root().join("target"));
            target.join("release").join("rehost")
        }
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the rehost binary was not found at {}: build it with `make build` \
             (cargo build --release) or point REHOST_BIN at it",
            path.display()
        ))
    }
}

/// The built guests: `$REHOST_GUESTS`, else `build/guests/`.
pub fn guests_dir() -> Result<PathBuf, String> {
    let dir = std::env::var_os("REHOST_GUESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("build").join("guests"));
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "no built guests in {}: run `make guests` (or point REHOST_GUESTS at them)",
            dir.display()
        ))
    }
}

/// Names of all guest programs: `tests/guests/NAME.c` and `NAME.cpp`.
pub fn guest_names() -> Vec<String> {
    let mut names = BTreeSet::new();
    if let Ok(entries) = fs::read_dir(guest_sources_dir()) {
        for e in entries.flatten() {
            let p = e.path();
            if matches!(p.extension().and_then(|x| x.to_str()), Some("c" | "cpp")) {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    names.insert(stem.to_string());
                }
            }
        }
    }
    names.into_iter().collect()
}

/// Is `v` a variant suffix the Makefile produces: `O0`, `O2`, `pie-O2`,
/// `O2-strip`, `pie-O2-strip`, `dyn-O2` (dynamically linked), ... (same
/// grammar as `record-expected.sh`)?
pub fn is_variant(v: &str) -> bool {
    let v = v
        .strip_prefix("pie-")
        .or_else(|| v.strip_prefix("dyn-"))
        .unwrap_or(v);
    let v = v.strip_suffix("-strip").unwrap_or(v);
    matches!(v, "O0" | "O1" | "O2" | "O3" | "Os")
}

/// The built variants of guest `name`, each `(variant, path)`, ordered.
/// Fails, telling to run `make guests`, unless at least -O0 and -O2 exist.
pub fn guest_variants(name: &str) -> Result<Vec<(String, PathBuf)>, String> {
    let dir = guests_dir()?;
    let prefix = format!("{name}-");
    let mut found = Vec::new();
    let entries = fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(file) = file.to_str() else { continue };
        if let Some(v) = file.strip_prefix(&prefix) {
            if is_variant(v) {
                found.push((v.to_string(), e.path()));
            }
        }
    }
    for needed in ["O0", "O2"] {
        if !found.iter().any(|(v, _)| v == needed) {
            return Err(format!(
                "guest {name}-{needed} is not built in {}: run `make guests`",
                dir.display()
            ));
        }
    }
    found.sort_by_key(|(v, _)| {
        (
            v.contains("strip"),
            v.starts_with("pie"),
            v.starts_with("dyn"),
            v.clone(),
        )
    });
    Ok(found)
}

/// What a guest must print and return: from `NAME-VARIANT.out/.status` when
/// that variant was recorded separately, else `NAME.out/.status`.
pub fn expected(name: &str, variant: &str) -> Result<Expected, String> {
    let dir = expected_dir();
    let specific = dir.join(format!("{name}-{variant}.out"));
    let stem = if specific.is_file() {
        format!("{name}-{variant}")
    } else {
        name.to_string()
    };
    let out_path = dir.join(format!("{stem}.out"));
    let status_path = dir.join(format!("{stem}.status"));
    let missing = |p: &Path, e: io::Error| {
        format!(
            "cannot read {}: {e}; record expected outputs with `make record`",
            p.display()
        )
    };
    let stdout = fs::read(&out_path).map_err(|e| missing(&out_path, e))?;
    let status_text = fs::read_to_string(&status_path).map_err(|e| missing(&status_path, e))?;
    let status = status_text
        .trim()
        .parse()
        .map_err(|_| format!("{} does not hold a number", status_path.display()))?;
    Ok(Expected { stdout, status })
}

/// A recorded native result.
#[derive(Clone, Debug)]
pub struct Expected {
    pub stdout: Vec<u8>,
    /// Exit status as the shell reports it: the exit code, or 128+N for signal N.
    pub status: i32,
}

// ---------------------------------------------------------------------------
// Running with a timeout

/// What a finished (or killed) process did.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: ExitStatus,
    /// It ran past its timeout and was killed (with its process group).
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Outcome {
    /// The shell's view of the exit status: the code, or 128+N for signal N.
    pub fn code(&self) -> i32 {
        status_code(&self.status)
    }

    /// The exit status in words, for failure reports.
    pub fn describe(&self) -> String {
        if self.timed_out {
            format!("killed after timeout ({:.0?})", self.elapsed)
        } else {
            describe_status(self.code())
        }
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The shell's view of an exit status: the code, or 128+N for signal N.
pub fn status_code(status: &ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        (None, None) => -1,
    }
}

/// "exit status 3", or "killed by SIGSYS (status 159)".
pub fn describe_status(code: i32) -> String {
    if code > 128 && code < 128 + 65 {
        let sig = code - 128;
        const NAMES: [&str; 32] = [
            "",
            "SIGHUP",
            "SIGINT",
            "SIGQUIT",
            "SIGILL",
            "SIGTRAP",
            "SIGABRT",
            "SIGBUS",
            "SIGFPE",
            "SIGKILL",
            "SIGUSR1",
            "SIGSEGV",
            "SIGUSR2",
            "SIGPIPE",
            "SIGALRM",
            "SIGTERM",
            "SIGSTKFLT",
            "SIGCHLD",
            "SIGCONT",
            "SIGSTOP",
            "SIGTSTP",
            "SIGTTIN",
            "SIGTTOU",
            "SIGURG",
            "SIGXCPU",
            "SIGXFSZ",
            "SIGVTALRM",
            "SIGPROF",
            "SIGWINCH",
            "SIGIO",
            "SIGPWR",
            "SIGSYS",
        ];
        let name = NAMES.get(sig as usize).copied().unwrap_or("");
        let hint = if sig == libc::SIGSYS {
            " - an i386 system call reached the kernel (the no-ia32 filter killed it)"
        } else {
            ""
        };
        if name.is_empty() {
            format!("killed by signal {sig} (status {code})")
        } else {
            format!("killed by {name} (status {code}){hint}")
        }
    } else {
        format!("exit status {code}")
    }
}

fn read_capped(mut r: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if out.len() < OUTPUT_CAP {
                    let room = OUTPUT_CAP - out.len();
                    out.extend_from_slice(&buf[..n.min(room)]);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    out
}

/// Assemble or compile a guest with `cmd` (shown as `shown`): an error that
/// names the command and its stderr if it fails.
pub fn compile_guest(cmd: Command, shown: &str) -> Result<(), String> {
    let o = run_with_timeout(cmd, TRANSLATE_TIMEOUT)
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "`{shown}` failed: {} (is gcc-multilib installed? `make toolchain`)\n{}",
            o.describe(),
            indent_tail("stderr", &o.stderr_text(), 20)
        ));
    }
    Ok(())
}

/// Run `cmd` (shown as `shown`) and compare its exit status and stdout
/// with the recorded native run `exp`; the outcome, or an error saying how
/// it differs.
pub fn run_expecting(cmd: Command, shown: &str, exp: &Expected) -> Result<Outcome, String> {
    let o = run_with_timeout(cmd, RUN_TIMEOUT).map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if o.timed_out || o.code() != exp.status || o.stdout != exp.stdout {
        return Err(format!(
            "`{shown}`: {}, expected status {}{}\n{}{}",
            o.describe(),
            exp.status,
            if o.stdout != exp.stdout {
                "; stdout differs"
            } else {
                ""
            },
            first_difference(&exp.stdout, &o.stdout),
            indent_tail("stderr", &o.stderr_text(), 20)
        ));
    }
    Ok(o)
}

/// Run `cmd` with stdin `/dev/null` and stdout/stderr captured, in a process
/// group of its own; after `timeout` the whole group gets SIGKILL.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> io::Result<Outcome> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let out_reader = {
        let pipe = child.stdout.take().expect("stdout is piped");
        thread::spawn(move || read_capped(pipe))
    };
    let err_reader = {
        let pipe = child.stderr.take().expect("stderr is piped");
        thread::spawn(move || read_capped(pipe))
    };
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let (status, timed_out) = match rx.recv_timeout(timeout) {
        Ok(status) => (status?, false),
        Err(_) => {
            // SAFETY: signals our own child's process group.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            let status = rx
                .recv()
                .map_err(|_| io::Error::other("waiter thread died"))??;
            (status, true)
        }
    };
    let elapsed = start.elapsed();
    // The guest is gone; anything it left in its group must not keep the
    // pipes open and block the readers.
    // SAFETY: as above; ESRCH when the group is already empty.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let _ = waiter.join();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Outcome {
        stdout,
        stderr,
        status,
        timed_out,
        elapsed,
    })
}

// ---------------------------------------------------------------------------
// Scratch directories

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> io::Result<TempDir> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path =
            std::env::temp_dir().join(format!("rehost-test-{}-{n}-{label}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A fresh empty subdirectory (a working directory for one run).
    pub fn subdir(&self, name: &str) -> io::Result<PathBuf> {
        let p = self.0.join(name);
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p)?;
        Ok(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("REHOST_TEST_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// Write `bytes` to `path` and make it executable.
pub fn write_executable(path: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::write(path, bytes)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
}

// ---------------------------------------------------------------------------
// Running guests the recorded way

/// A command that runs `program args...` under `no-ia32` with exactly the
/// recorded guest environment, in working directory `cwd`.
pub fn guest_command(no_ia32: &Path, program: &Path, pre_args: &[&Path], cwd: &Path) -> Command {
    let mut cmd = Command::new(no_ia32);
    cmd.arg("--").arg(program);
    for a in pre_args {
        cmd.arg(a);
    }
    cmd.args(GUEST_ARGS).env_clear().current_dir(cwd);
    for (k, v) in GUEST_ENV {
        cmd.env(k, v);
    }
    if let Ok(pass) = std::env::var("REHOST_TEST_PASS_ENV") {
        for k in pass.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            if let Some(v) = std::env::var_os(k) {
                cmd.env(k, v);
            }
        }
    }
    cmd
}

/// Which modes to check (`REHOST_TEST_MODES`, default both).
pub fn selected_modes() -> Vec<Mode> {
    match std::env::var("REHOST_TEST_MODES") {
        Ok(s) if !s.trim().is_empty() => Mode::ALL
            .into_iter()
            .filter(|m| s.split(',').any(|w| w.trim() == m.key()))
            .collect(),
        _ => Mode::ALL.to_vec(),
    }
}

fn variant_selected(v: &str) -> bool {
    match std::env::var("REHOST_TEST_VARIANTS") {
        Ok(s) if !s.trim().is_empty() => s.split(',').any(|w| w.trim() == v),
        _ => true,
    }
}

/// One failed check, for the report.
#[derive(Debug)]
pub struct Failure {
    /// e.g. "qsort-pie-O2 [translated]".
    pub check: String,
    /// One line: what went wrong.
    pub summary: String,
    /// Diff, stderr, commands.
    pub details: String,
}

/// Translate `guest` into `out` with `rehost translate`. The contract: exit
/// status 0, one summary line on stderr, an executable `out`.
pub fn translate(rehost: &Path, guest: &Path, out: &Path) -> Result<Outcome, String> {
    let mut cmd = Command::new(rehost);
    cmd.arg("translate").arg(guest).arg("-o").arg(out);
    let shown = format!(
        "{} translate {} -o {}",
        rehost.display(),
        guest.display(),
        out.display()
    );
    let o = run_with_timeout(cmd, TRANSLATE_TIMEOUT)
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let stderr = o.stderr_text();
    if o.timed_out || !o.status.success() {
        return Err(format!(
            "`rehost translate` failed: {}\n  command: {shown}\n{}",
            o.describe(),
            indent_tail("stderr", &stderr, 20)
        ));
    }
    if !out.is_file() {
        return Err(format!(
            "`rehost translate` exited 0 but wrote no {}\n  command: {shown}\n{}",
            out.display(),
            indent_tail("stderr", &stderr, 20)
        ));
    }
    let lines = stderr.lines().count();
    if lines != 1 {
        return Err(format!(
            "`rehost translate` printed {lines} lines on stderr, expected exactly one summary line\n  \
             command: {shown}\n{}",
            indent_tail("stderr", &stderr, 20)
        ));
    }
    Ok(o)
}

/// Check one port of one guest variant against `exp`.
fn check_port(
    check: &str,
    mut cmd: Command,
    shown: String,
    exp: &Expected,
    setup: &str,
) -> Option<Failure> {
    let fail = |summary: String, details: String| {
        Some(Failure {
            check: check.to_string(),
            summary,
            details,
        })
    };
    cmd.stdin(Stdio::null());
    let o = match run_with_timeout(cmd, RUN_TIMEOUT) {
        Ok(o) => o,
        Err(e) => {
            return fail(
                format!("cannot start: {e}"),
                format!("  command: {shown}\n"),
            )
        }
    };
    let out_ok = o.stdout == exp.stdout;
    let status_ok = !o.timed_out && o.code() == exp.status;
    if out_ok && status_ok {
        return None;
    }
    let mut summary = String::new();
    if o.timed_out {
        summary.push_str(&format!("timed out after {:?}", RUN_TIMEOUT));
    } else if !status_ok {
        summary.push_str(&format!(
            "{}, expected {}",
            describe_status(o.code()),
            describe_status(exp.status)
        ));
    }
    if !out_ok {
        if !summary.is_empty() {
            summary.push_str("; ");
        }
        summary.push_str("stdout differs");
    }
    let mut details = String::new();
    if !setup.is_empty() {
        details.push_str(setup);
    }
    let _ = writeln!(details, "  command: {shown}");
    let _ = writeln!(
        details,
        "  status: {} (expected {})",
        o.describe(),
        describe_status(exp.status)
    );
    if !out_ok {
        details.push_str(&first_difference(&exp.stdout, &o.stdout));
    }
    details.push_str(&indent_tail("stderr", &o.stderr_text(), 15));
    fail(summary, details)
}

/// The checks one test made (labels like "qsort-pie-O2 [translated]") and
/// those of them that failed.
#[derive(Debug, Default)]
pub struct Checked {
    pub checks: Vec<String>,
    pub failures: Vec<Failure>,
}

/// Check every built variant of guest `name` in every selected mode. Errors
/// (guests not built, no rehost binary, no expected output) come back as
/// `Err`.
pub fn check_guest(name: &str, no_ia32: &Path) -> Result<Checked, String> {
    let variants = guest_variants(name)?;
    let modes = selected_modes();
    // Load every expectation first, so a missing recording is reported as such.
    let mut work = Vec::new();
    for (variant, path) in variants {
        if !variant_selected(&variant) {
            continue;
        }
        let exp = expected(name, &variant)?;
        work.push((variant, path, exp));
    }
    let rehost = rehost_bin()?;
    let tmp = TempDir::new(name).map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let mut checks = Vec::new();
    let mut failures = Vec::new();
    for (variant, guest, exp) in &work {
        let full = format!("{name}-{variant}");
        for &mode in &modes {
            let check = format!("{full} [{}]", mode.name());
            checks.push(check.clone());
            let cwd = match tmp.subdir(&format!("cwd-{full}-{}", mode.key())) {
                Ok(d) => d,
                Err(e) => return Err(format!("cannot create a working dir: {e}")),
            };
            match mode {
                Mode::Translate => {
                    let out_dir = tmp.path().join(format!("out-{full}"));
                    let _ = fs::create_dir_all(&out_dir);
                    // Same file name as the guest, so argv[0] looks alike.
                    let out = out_dir.join(&full);
                    let setup = match translate(&rehost, guest, &out) {
                        Ok(o) => format!("  translate: {}", o.stderr_text()),
                        Err(e) => {
                            failures.push(Failure {
                                check,
                                summary: e.lines().next().unwrap_or("").to_string(),
                                details: format!("{e}\n"),
                            });
                            continue;
                        }
                    };
                    let cmd = guest_command(no_ia32, &out, &[], &cwd);
                    let shown = format!(
                        "cd {} && env -i REHOST_TEST_VAR=hello {} {} {}",
                        cwd.display(),
                        no_ia32.display(),
                        out.display(),
                        GUEST_ARGS.join(" ")
                    );
                    if let Some(f) = check_port(&check, cmd, shown, exp, &setup) {
                        failures.push(f);
                    }
                }
                Mode::Run => {
                    let run = Path::new("run");
                    let cmd = guest_command(no_ia32, &rehost, &[run, guest], &cwd);
                    let shown = format!(
                        "cd {} && env -i REHOST_TEST_VAR=hello {} {} run {} {}",
                        cwd.display(),
                        no_ia32.display(),
                        rehost.display(),
                        guest.display(),
                        GUEST_ARGS.join(" ")
                    );
                    if let Some(f) = check_port(&check, cmd, shown, exp, "") {
                        failures.push(f);
                    }
                }
            }
        }
    }
    Ok(Checked { checks, failures })
}

/// Check one arbitrary i386 program (not from tests/guests) in both modes.
pub fn check_program(
    label: &str,
    guest: &Path,
    exp: &Expected,
    no_ia32: &Path,
) -> Result<Checked, String> {
    let rehost = rehost_bin()?;
    let tmp = TempDir::new(label).map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let mut checks = Vec::new();
    let mut failures = Vec::new();
    let modes = selected_modes();
    for &mode in &modes {
        let check = format!("{label} [{}]", mode.name());
        checks.push(check.clone());
        let cwd = tmp
            .subdir(&format!("cwd-{}", mode.key()))
            .map_err(|e| format!("cannot create a working dir: {e}"))?;
        let (cmd, shown, setup) = match mode {
            Mode::Translate => {
                let out = tmp.path().join(format!("{label}.x86_64"));
                match translate(&rehost, guest, &out) {
                    Ok(o) => (
                        guest_command(no_ia32, &out, &[], &cwd),
                        format!("{} {}", no_ia32.display(), out.display()),
                        format!("  translate: {}", o.stderr_text()),
                    ),
                    Err(e) => {
                        failures.push(Failure {
                            check,
                            summary: e.lines().next().unwrap_or("").to_string(),
                            details: format!("{e}\n"),
                        });
                        continue;
                    }
                }
            }
            Mode::Run => (
                guest_command(no_ia32, &rehost, &[Path::new("run"), guest], &cwd),
                format!(
                    "{} {} run {}",
                    no_ia32.display(),
                    rehost.display(),
                    guest.display()
                ),
                String::new(),
            ),
        };
        if let Some(f) = check_port(&check, cmd, shown, exp, &setup) {
            failures.push(f);
        }
    }
    Ok(Checked { checks, failures })
}

/// `tests/known-failures`: checks allowed to fail for now, one per line
/// (`#` starts a comment). An entry is `NAME` (every variant and mode),
/// `NAME-VARIANT` (that variant and the ones it prefixes, e.g. `qsort-O2`
/// also covers `qsort-O2-strip`), optionally followed by a mode in brackets:
/// `signals [rehost run]`, `threads-O2 [translated]`.
pub fn known_failures() -> Vec<String> {
    let path = workspace_root().join("tests").join("known-failures");
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Does known-failures entry `entry` cover check label `check`?
pub fn known_entry_covers(entry: &str, check: &str) -> bool {
    let (target, mode) = match entry.split_once('[') {
        Some((t, m)) => (t.trim(), Some(m.trim_end_matches(']').trim())),
        None => (entry.trim(), None),
    };
    let (label, check_mode) = match check.split_once(" [") {
        Some((l, m)) => (l, m.trim_end_matches(']')),
        None => (check, ""),
    };
    let target_ok = label == target
        || label
            .strip_prefix(target)
            .is_some_and(|rest| rest.starts_with('-'));
    target_ok && mode.is_none_or(|m| m == check_mode)
}

/// Panic with one report naming every failed check, if there are any that
/// `tests/known-failures` does not allow, or if an entry there covers checks
/// that all passed (so the list cannot go stale).
pub fn report(what: &str, result: Result<Checked, String>) {
    let Checked { checks, failures } = match result {
        Ok(r) => r,
        Err(e) => panic!("{what}: {e}"),
    };
    if checks.is_empty() {
        panic!("{what}: no checks selected (see REHOST_TEST_MODES / REHOST_TEST_VARIANTS)");
    }
    let known = known_failures();
    let is_known = |check: &str| known.iter().any(|k| known_entry_covers(k, check));
    let (allowed, failures): (Vec<Failure>, Vec<Failure>) =
        failures.into_iter().partition(|f| is_known(&f.check));
    for f in &allowed {
        eprintln!(
            "known failure (tests/known-failures): {}: {}",
            f.check, f.summary
        );
    }
    let fixed: Vec<&String> = known
        .iter()
        .filter(|k| checks.iter().any(|c| known_entry_covers(k, c)))
        .filter(|k| !allowed.iter().any(|f| known_entry_covers(k, &f.check)))
        .collect();
    if failures.is_empty() && fixed.is_empty() {
        return;
    }
    let mut msg = format!(
        "{what}: {} of {} checks failed\n",
        failures.len(),
        checks.len()
    );
    for k in &fixed {
        let _ = writeln!(
            msg,
            "  FIXED {k}: listed in tests/known-failures, but every check it covers passed: remove it"
        );
    }
    for f in &failures {
        let _ = writeln!(msg, "  FAIL {}: {}", f.check, f.summary);
    }
    for f in &failures {
        let _ = writeln!(msg, "\n--- {} ---\n{}", f.check, f.details.trim_end());
    }
    panic!("{msg}");
}

// ---------------------------------------------------------------------------
// Report formatting

/// The first differing line of two outputs with a little context.
pub fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let exp: Vec<&[u8]> = split_lines(expected);
    let act: Vec<&[u8]> = split_lines(actual);
    let i = exp
        .iter()
        .zip(act.iter())
        .position(|(a, b)| a != b)
        .unwrap_or(exp.len().min(act.len()));
    let show = |l: &[u8]| String::from_utf8_lossy(l).into_owned();
    let mut s = format!(
        "  stdout: {} bytes / {} lines, expected {} bytes / {} lines; first difference at line {}:\n",
        actual.len(),
        act.len(),
        expected.len(),
        exp.len(),
        i + 1
    );
    let context = i.saturating_sub(2);
    for (k, line) in exp.iter().enumerate().take(i).skip(context) {
        let _ = writeln!(s, "      {:5}  {}", k + 1, show(line));
    }
    for (k, line) in exp.iter().enumerate().skip(i).take(4) {
        let _ = writeln!(s, "    - {:5}  {}", k + 1, show(line));
    }
    if i >= exp.len() {
        let _ = writeln!(s, "    - (end of expected output)");
    }
    for (k, line) in act.iter().enumerate().skip(i).take(4) {
        let _ = writeln!(s, "    + {:5}  {}", k + 1, show(line));
    }
    if i >= act.len() {
        let _ = writeln!(s, "    + (end of actual output)");
    }
    s
}

fn split_lines(b: &[u8]) -> Vec<&[u8]> {
    if b.is_empty() {
        return Vec::new();
    }
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.split(|&c| c == b'\n').collect()
}

/// The last `max` lines of `text`, indented, under a heading.
pub fn indent_tail(heading: &str, text: &str, max: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return format!("  {heading}: (empty)\n");
    }
    let skip = lines.len().saturating_sub(max);
    let mut s = if skip > 0 {
        format!("  {heading} (last {max} of {} lines):\n", lines.len())
    } else {
        format!("  {heading}:\n")
    };
    for l in &lines[skip..] {
        let _ = writeln!(s, "    | {l}");
    }
    s
}

// ---------------------------------------------------------------------------
// A hand-made i386 ELF

/// Load address of [`tiny_i386_elf`].
pub const TINY_BASE: u32 = 0x0804_8000;

/// A minimal static i386 ELF executable, without libc: it writes "ok\n" to
/// stdout with `int 0x80` and exits with status 7. 52-byte header, one
/// PT_LOAD program header, code and data in one RX segment.
pub fn tiny_i386_elf() -> Vec<u8> {
    const EHDR: u32 = 52;
    const PHDR: u32 = 32;
    let code_off = EHDR + PHDR;
    let mut code: Vec<u8> = Vec::new();
    let msg_at = TINY_BASE + code_off + 34; // code below is 34 bytes
    code.extend([0xb8, 4, 0, 0, 0]); // mov eax, 4 (write)
    code.extend([0xbb, 1, 0, 0, 0]); // mov ebx, 1
    code.push(0xb9); // mov ecx, msg
    code.extend(msg_at.to_le_bytes());
    code.extend([0xba, 3, 0, 0, 0]); // mov edx, 3
    code.extend([0xcd, 0x80]); // int 0x80
    code.extend([0xb8, 1, 0, 0, 0]); // mov eax, 1 (exit)
    code.extend([0xbb, 7, 0, 0, 0]); // mov ebx, 7
    code.extend([0xcd, 0x80]); // int 0x80
    assert_eq!(code.len(), 34);
    code.extend(b"ok\n");
    let file_size = code_off + code.len() as u32;

    let mut f = Vec::new();
    f.extend([0x7f, b'E', b'L', b'F', 1, 1, 1, 0]); // ELFCLASS32, LSB, v1, SYSV
    f.extend([0u8; 8]);
    f.extend(2u16.to_le_bytes()); // e_type ET_EXEC
    f.extend(3u16.to_le_bytes()); // e_machine EM_386
    f.extend(1u32.to_le_bytes()); // e_version
    f.extend((TINY_BASE + code_off).to_le_bytes()); // e_entry
    f.extend(EHDR.to_le_bytes()); // e_phoff
    f.extend(0u32.to_le_bytes()); // e_shoff
    f.extend(0u32.to_le_bytes()); // e_flags
    f.extend((EHDR as u16).to_le_bytes()); // e_ehsize
    f.extend((PHDR as u16).to_le_bytes()); // e_phentsize
    f.extend(1u16.to_le_bytes()); // e_phnum
    f.extend(40u16.to_le_bytes()); // e_shentsize
    f.extend(0u16.to_le_bytes()); // e_shnum
    f.extend(0u16.to_le_bytes()); // e_shstrndx
    assert_eq!(f.len() as u32, EHDR);
    f.extend(1u32.to_le_bytes()); // p_type PT_LOAD
    f.extend(0u32.to_le_bytes()); // p_offset
    f.extend(TINY_BASE.to_le_bytes()); // p_vaddr
    f.extend(TINY_BASE.to_le_bytes()); // p_paddr
    f.extend(file_size.to_le_bytes()); // p_filesz
    f.extend(file_size.to_le_bytes()); // p_memsz
    f.extend(5u32.to_le_bytes()); // p_flags R+X
    f.extend(0x1000u32.to_le_bytes()); // p_align
    f.extend(code);
    f
}

/// Offsets of ELF32 header fields, for corrupting [`tiny_i386_elf`] copies.
pub mod elf32 {
    pub const E_MACHINE: usize = 18;
    pub const E_PHOFF: usize = 28;
    pub const E_PHENTSIZE: usize = 42;
    pub const E_PHNUM: usize = 44;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_grammar() {
        for v in [
            "O0",
            "O2",
            "pie-O2",
            "O2-strip",
            "pie-O2-strip",
            "Os",
            "dyn-O2",
        ] {
            assert!(is_variant(v), "{v}");
        }
        for v in [
            "",
            "O",
            "misc-O0",
            "O2-",
            "strip",
            "pie",
            "O2-strip-pie",
            "dyn-pie-O2",
        ] {
            assert!(!is_variant(v), "{v}");
        }
    }

    #[test]
    fn known_failure_entries() {
        assert!(known_entry_covers("signals", "signals-O0 [translated]"));
        assert!(known_entry_covers(
            "signals",
            "signals-pie-O2-strip [rehost run]"
        ));
        assert!(!known_entry_covers("asm", "asm_misc-O0 [translated]"));
        assert!(known_entry_covers(
            "qsort-O2",
            "qsort-O2-strip [translated]"
        ));
        assert!(!known_entry_covers("qsort-O2", "qsort-pie-O2 [translated]"));
        assert!(known_entry_covers(
            "threads [rehost run]",
            "threads-O2 [rehost run]"
        ));
        assert!(!known_entry_covers(
            "threads [rehost run]",
            "threads-O2 [translated]"
        ));
        assert!(known_entry_covers("tiny [translated]", "tiny [translated]"));
    }

    #[test]
    fn first_difference_points_at_the_line() {
        let d = first_difference(b"a\nb\nc\n", b"a\nB\nc\n");
        assert!(d.contains("first difference at line 2"), "{d}");
        assert!(d.contains("-     2  b") && d.contains("+     2  B"), "{d}");
        let d = first_difference(b"a\nb\n", b"a\n");
        assert!(d.contains("line 2") && d.contains("end of actual"), "{d}");
    }

    #[test]
    fn timeout_kills() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo started; sleep 30"]);
        let o = run_with_timeout(cmd, Duration::from_millis(300)).unwrap();
        assert!(o.timed_out);
        assert_eq!(o.stdout, b"started\n");
        assert!(o.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn status_codes() {
        let o = run_with_timeout(
            {
                let mut c = Command::new("sh");
                c.args(["-c", "exit 42"]);
                c
            },
            RUN_TIMEOUT,
        )
        .unwrap();
        assert_eq!(o.code(), 42);
        let o = run_with_timeout(
            {
                let mut c = Command::new("sh");
                c.args(["-c", "kill -SYS $$"]);
                c
            },
            RUN_TIMEOUT,
        )
        .unwrap();
        assert_eq!(o.code(), 128 + libc::SIGSYS);
        assert!(o.describe().contains("SIGSYS"));
    }
}
