//! Running one guest program three ways: natively (the CPU is the oracle),
//! translated ahead of time (`rehost translate` then the output), and
//! translated at run time only (`rehost run`). Translated runs go through
//! the `no-ia32` seccomp wrapper when it is built, so an `int 0x80` that
//! slips through untranslated kills the run instead of passing.
//!
//! A run yields the records it wrote (one per finished case) and how it
//! ended; a crash in case k leaves exactly k records.

use crate::layout::REC_LEN;
use crate::state::Record;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Native,
    Translated,
    Run,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::Translated => "translated",
            Mode::Run => "rehost run",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "native" => Some(Mode::Native),
            "translate" | "translated" => Some(Mode::Translated),
            "run" => Some(Mode::Run),
            _ => None,
        }
    }
}

/// What a run produced.
pub struct Output {
    pub records: Vec<Record>,
    /// Everything the program wrote to stdout.
    pub stdout: Vec<u8>,
    /// None for exit status 0, else a description ("killed by signal 11").
    pub failure: Option<String>,
    pub stderr: String,
}

pub struct Runner {
    pub rehost: PathBuf,
    pub no_ia32: Option<PathBuf>,
    pub dir: PathBuf,
    pub timeout: Duration,
    serial: u64,
    /// The last translation: hash of the guest image, output path.
    translated: Option<(u64, PathBuf)>,
    /// `REHOST_FUZZ_KEEP=DIR`: keep every guest and translation in DIR.
    keep: bool,
}

/// `target/release` of this workspace (or `$CARGO_TARGET_DIR/release`).
pub fn release_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d).join("release");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release")
}

impl Runner {
    /// A runner with `$REHOST_BIN` (else the release build) and a fresh
    /// scratch directory.
    pub fn new() -> Result<Runner, String> {
        let rehost = std::env::var_os("REHOST_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| release_dir().join("rehost"));
        if !rehost.exists() {
            return Err(format!(
                "{} not found: cargo build --release",
                rehost.display()
            ));
        }
        // The seccomp wrapper next to rehost, else in the release build.
        let no_ia32 = [
            rehost.with_file_name("no-ia32"),
            release_dir().join("no-ia32"),
        ]
        .into_iter()
        .find(|p| p.exists());
        let keep = std::env::var_os("REHOST_FUZZ_KEEP").map(PathBuf::from);
        let dir = keep.clone().unwrap_or_else(|| {
            // Unique per runner: the tests run several runners in one process.
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::env::temp_dir().join(format!("rehost-fuzz-{}-{n}", std::process::id()))
        });
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Runner {
            rehost,
            no_ia32,
            dir,
            timeout: Duration::from_secs(60),
            serial: 0,
            translated: None,
            keep: keep.is_some(),
        })
    }

    /// Runs the ELF `image` in `mode`, starting at case `start` (given to
    /// the program on stdin). A translation is reused while the image is
    /// the same.
    pub fn run(&mut self, mode: Mode, image: &[u8], start: u32) -> Result<Output, String> {
        let stdin = start.to_le_bytes();
        match mode {
            Mode::Native => {
                let guest = self.write_guest(image)?;
                let r = self.exec(Command::new(&guest), &stdin);
                self.remove(&guest);
                r
            }
            Mode::Run => {
                let guest = self.write_guest(image)?;
                let mut c = self.wrapped(&self.rehost);
                c.arg("run").arg(&guest);
                let r = self.exec(c, &stdin);
                self.remove(&guest);
                r
            }
            Mode::Translated => {
                let host = self.translate(image)?;
                let c = self.wrapped(&host);
                self.exec(c, &stdin)
            }
        }
    }

    fn write_guest(&mut self, image: &[u8]) -> Result<PathBuf, String> {
        self.serial += 1;
        let guest = self.dir.join(format!("p{}.elf", self.serial));
        std::fs::write(&guest, image).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&guest, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        Ok(guest)
    }

    /// `rehost translate` of `image`, or the previous output if the same.
    fn translate(&mut self, image: &[u8]) -> Result<PathBuf, String> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        image.hash(&mut h);
        let hash = h.finish();
        if let Some((old, path)) = &self.translated {
            if *old == hash {
                return Ok(path.clone());
            }
            self.remove(path);
            self.translated = None;
        }
        let guest = self.write_guest(image)?;
        let host = self.dir.join(format!("p{}.x86_64", self.serial));
        let t = Command::new(&self.rehost)
            .arg("translate")
            .arg(&guest)
            .arg("-o")
            .arg(&host)
            .output()
            .map_err(|e| format!("rehost translate: {e}"))?;
        self.remove(&guest);
        if !t.status.success() {
            return Err(format!(
                "rehost translate failed ({}): {}",
                t.status,
                String::from_utf8_lossy(&t.stderr)
            ));
        }
        self.translated = Some((hash, host.clone()));
        Ok(host)
    }

    fn remove(&self, p: &Path) {
        if !self.keep {
            let _ = std::fs::remove_file(p);
        }
    }

    fn wrapped(&self, prog: &Path) -> Command {
        match &self.no_ia32 {
            Some(w) => {
                let mut c = Command::new(w);
                c.arg(prog);
                c
            }
            None => Command::new(prog),
        }
    }

    fn exec(&self, mut cmd: Command, stdin: &[u8]) -> Result<Output, String> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // ETXTBSY: another thread of this process (the tests run runners in
        // parallel) forked while this guest file was still open for
        // writing, and its child holds the descriptor until it execs.
        // Transient; retrying is what keeps a batch from being split.
        let mut tries = 0;
        let mut child = loop {
            match cmd.spawn() {
                Ok(c) => break c,
                Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(format!("spawn: {e}")),
            }
        };
        if let Some(mut i) = child.stdin.take() {
            let _ = i.write_all(stdin);
        }
        let mut so = child.stdout.take().unwrap();
        let se = child.stderr.take().unwrap();
        let t_out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = so.read_to_end(&mut v);
            v
        });
        let t_err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = se.take(1 << 16).read_to_end(&mut v);
            v
        });
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
                break Some(s);
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let stdout = t_out.join().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
        let fault = fault_record(&stdout);
        let failure = match status {
            None => Some(format!("timed out after {:?}", self.timeout)),
            Some(s) if s.success() => None,
            Some(s) => Some(match s.signal() {
                Some(sig) => format!("killed by signal {sig}{fault}"),
                None => format!("exit status {}{fault}", s.code().unwrap_or(-1)),
            }),
        };
        let records = stdout
            .chunks_exact(REC_LEN)
            .map_while(Record::parse)
            .collect();
        Ok(Output {
            records,
            stdout,
            failure,
            stderr,
        })
    }
}

/// ETXTBSY on Linux (this crate does not depend on libc).
const ETXTBSY: i32 = 26;

/// " at eip X (si_code C, si_addr A)" from the fault record the guest's
/// handler wrote after its last full record, or "" without one.
fn fault_record(stdout: &[u8]) -> String {
    use crate::layout::{FAULT_LEN, FAULT_MAGIC};
    let tail = &stdout[stdout.len() - stdout.len() % REC_LEN..];
    if tail.len() != FAULT_LEN {
        return String::new();
    }
    let w = |k: usize| u32::from_le_bytes(tail[4 * k..4 * k + 4].try_into().unwrap());
    if w(0) != FAULT_MAGIC {
        return String::new();
    }
    format!(
        " at eip {:#010x} (signal {}, si_code {}, si_addr {:#x})",
        w(2),
        w(1),
        w(3) as i32,
        w(4)
    )
}

impl Drop for Runner {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
