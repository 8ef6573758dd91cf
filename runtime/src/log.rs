//! `REHOST_LOG` and `REHOST_STATS`: what the runtime reports on stderr.
//!
//! `REHOST_LOG` is a comma-separated list of `syscalls`, `blocks`, `jit`
//! (or `all`). Flags are read once at start-up into an atomic so checks on
//! hot paths are a single load. Messages go to fd 2 with one `write`, never
//! through the host heap-allocating `eprintln!` machinery in places that may
//! run with locks held.

use std::sync::atomic::{AtomicU32, Ordering};

pub const SYSCALLS: u32 = 1;
pub const BLOCKS: u32 = 2;
pub const JIT: u32 = 4;
pub const STATS: u32 = 8;

static FLAGS: AtomicU32 = AtomicU32::new(0);

/// Read `REHOST_LOG` / `REHOST_STATS` from the host environment.
pub fn init_from_env() {
    let mut f = 0;
    if let Ok(v) = std::env::var("REHOST_LOG") {
        for w in v.split(',') {
            f |= match w.trim() {
                "syscalls" => SYSCALLS,
                "blocks" => BLOCKS,
                "jit" => JIT,
                "all" => SYSCALLS | BLOCKS | JIT,
                _ => 0,
            };
        }
    }
    if std::env::var("REHOST_STATS").is_ok_and(|v| !v.is_empty() && v != "0") {
        f |= STATS;
    }
    FLAGS.store(f, Ordering::Relaxed);
}

#[inline]
pub fn enabled(flag: u32) -> bool {
    FLAGS.load(Ordering::Relaxed) & flag != 0
}

/// Write one line to stderr with a single write(2).
pub fn line(msg: &str) {
    let mut buf = Vec::with_capacity(msg.len() + 8);
    buf.extend_from_slice(b"rehost: ");
    buf.extend_from_slice(msg.as_bytes());
    buf.push(b'\n');
    // SAFETY: buf is a valid readable buffer of buf.len() bytes.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), buf.len());
    }
}
