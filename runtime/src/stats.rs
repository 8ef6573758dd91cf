//! The discovery report (`REHOST_STATS=1`): which executed blocks the static
//! pass had translated and which only the runtime found, and what run-time
//! translation cost. Printed on stderr when the guest exits. With the
//! inline caches on (REHOST_IC=1), one more line: how the indirect jumps
//! and calls of the cached sites were resolved (cache level 1, level 2,
//! map lookup in translated code, runtime while the site learns).
//!
//! Invariant: counting never changes guest-visible state; static blocks
//! mark themselves executed with one flag-free byte store (translate's
//! `exec_flag`), run-time counts are kept under the JIT lock.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static EXEC_FLAGS: AtomicUsize = AtomicUsize::new(0);
static NSTATIC: AtomicUsize = AtomicUsize::new(0);
pub static RUNTIME_ONLY: AtomicU64 = AtomicU64::new(0);
pub static RUNTIME_AT_STATIC: AtomicU64 = AtomicU64::new(0);
pub static TRANSLATE_NS: AtomicU64 = AtomicU64::new(0);
pub static CHAINED: AtomicU64 = AtomicU64::new(0);
/// Inline-cache misses handled by the runtime while sites learn.
pub static IC_RUNTIME: AtomicU64 = AtomicU64::new(0);
/// Inline-cache entries emptied because their target's translation went.
pub static IC_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Register the static pass's executed-flags array (one byte per block).
pub fn set_static_flags(flags: *const u8, n: usize) {
    EXEC_FLAGS.store(flags as usize, Ordering::Relaxed);
    NSTATIC.store(n, Ordering::Relaxed);
}

/// Number of static blocks that ran.
pub fn static_executed() -> usize {
    let p = EXEC_FLAGS.load(Ordering::Relaxed) as *const u8;
    let n = NSTATIC.load(Ordering::Relaxed);
    if p.is_null() {
        return 0;
    }
    // SAFETY: the array of n bytes lives in the executable's .bss for the
    // whole process; racy reads of flags only under-count a block that is
    // running for the first time right now.
    let flags = unsafe { std::slice::from_raw_parts(p, n) };
    flags.iter().filter(|&&f| f != 0).count()
}

/// At guest exit: the report (REHOST_STATS) and the profile (REHOST_PROFILE).
pub fn at_exit() {
    report();
    if let Some(path) = std::env::var_os("REHOST_PROFILE") {
        let mut text = String::new();
        for a in crate::jit::discovered() {
            text.push_str(&format!("{a:#010x}\n"));
        }
        if let Err(e) = std::fs::write(&path, text) {
            crate::log::line(&format!(
                "cannot write profile {}: {e}",
                std::path::Path::new(&path).display()
            ));
        }
    }
}

/// Print the report if REHOST_STATS is set.
pub fn report() {
    if !crate::log::enabled(crate::log::STATS) {
        return;
    }
    let rt = RUNTIME_ONLY.load(Ordering::Relaxed);
    let total_static = NSTATIC.load(Ordering::Relaxed);
    if EXEC_FLAGS.load(Ordering::Relaxed) != 0 {
        let st = static_executed();
        let pct = if st as u64 + rt == 0 {
            100.0
        } else {
            100.0 * st as f64 / (st as u64 + rt) as f64
        };
        crate::log::line(&format!(
            "stats: blocks executed: {st} translated ahead of time (of {total_static}), {rt} found only at run time ({pct:.1}% static)"
        ));
    } else if total_static == 0 {
        crate::log::line(&format!(
            "stats: blocks executed: {rt} found only at run time (no static pass)"
        ));
    } else {
        crate::log::line(&format!(
            "stats: blocks executed: {rt} found only at run time (static blocks are counted when translated with --stats)"
        ));
    }
    crate::log::line(&format!(
        "stats: run-time translation: {} blocks ({} at static block starts), {:.3} ms; chained exits: {}",
        rt + RUNTIME_AT_STATIC.load(Ordering::Relaxed),
        RUNTIME_AT_STATIC.load(Ordering::Relaxed),
        TRANSLATE_NS.load(Ordering::Relaxed) as f64 / 1e6,
        CHAINED.load(Ordering::Relaxed)
    ));
    if let Some((sites, filled, h0, h1, lookups)) = crate::jit::ic_totals() {
        let rtc = IC_RUNTIME.load(Ordering::Relaxed);
        let all = h0 + h1 + lookups + rtc;
        let pct = |n: u64| 100.0 * n as f64 / all.max(1) as f64;
        crate::log::line(&format!(
            "stats: inline caches: {sites} indirect jmp/call sites ({filled} with a cached target); of {all} indirect transfers: level 1 {h0} ({:.1}%), level 2 {h1} ({:.1}%), map lookup {lookups} ({:.1}%), runtime {rtc} ({:.1}%); entries dropped by invalidation: {}",
            pct(h0),
            pct(h1),
            pct(lookups),
            pct(rtc),
            IC_DROPPED.load(Ordering::Relaxed)
        ));
    }
    let diverted = crate::textpatch::diverted_count();
    if diverted != 0 {
        crate::log::line(&format!(
            "stats: self-modifying code: {diverted} static blocks diverted to run-time translation ({} by a jump to a map lookup, the others by int3), int3 traps: {}",
            crate::textpatch::JUMPS.load(Ordering::Relaxed),
            crate::textpatch::TRAPS.load(Ordering::Relaxed)
        ));
    }
}
