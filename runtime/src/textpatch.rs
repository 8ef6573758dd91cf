//! Diverting invalidated ahead-of-time blocks: one `int3` at the host entry.
//!
//! The static pass binds direct exits between static blocks inside the
//! output's `.text` (`jmp rel32` / `jcc rel32` from one block straight into
//! another, and fall-throughs with no jump at all), so dropping a static
//! block's map entry does not stop those jumps from running its old code.
//! When `jit` invalidates a static block (the guest wrote its page, unmapped
//! or remapped it, a system call wrote into it), it calls [`divert`], which
//! writes a single `int3` byte over the first byte of the block's host code:
//! `.text` is made writable for that one store only (RWX, so threads running
//! code on the same page go on running it) and read-only again at once; a
//! one-byte store is atomic for threads executing concurrently, which see
//! the old instruction or the `int3`, never a mix. A thread already inside
//! the old block finishes it, as with cross-modifying code on x86.
//!
//! Every jump into the block, bound or fall-through, then traps; the SIGTRAP
//! handler calls [`on_trap`] first, which recognises the address as one of
//! ours (the set of patched host entries, so a guest's own `int3` still
//! reaches the guest as SIGTRAP) and resumes at the current translation of
//! the block's guest EIP through the map table, or at the emulation manager
//! (`rehost_stub_miss` with r11d = guest EIP), which translates the new
//! guest bytes. The host entry is a guest instruction boundary where only
//! the guest state is live (r8-r11 are scratch), so nothing else needs
//! saving.
//!
//! Invariants: host entries of static blocks are distinct (the layout gives
//! every block a body of at least one byte), so a patched entry names one
//! guest block; patching happens under the JIT lock, and fork holds it and
//! [`with_lock_held`]'s lock, so a child never inherits `.text` in the
//! middle of a patch. Patches are never undone: once invalidated, a static
//! block's guest EIP is served by run-time translations.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const INT3: u8 = 0xcc;
const PAGE: u64 = 4096;
/// si_code of a trap raised by `int3` (the kernel's SI_KERNEL).
const SI_KERNEL: i32 = 0x80;
const TF: i64 = 0x100;

/// Patched host entries -> guest EIP of their block.
static PATCHED: Mutex<Option<HashMap<u64, u32>>> = Mutex::new(None);
/// Host range holding patched entries (a cheap filter before the lock).
static LO: AtomicU64 = AtomicU64::new(u64::MAX);
static HI: AtomicU64 = AtomicU64::new(0);
/// Blocks diverted, and traps taken at their entries (REHOST_STATS).
pub static DIVERTED: AtomicU64 = AtomicU64::new(0);
pub static TRAPS: AtomicU64 = AtomicU64::new(0);

fn lock() -> std::sync::MutexGuard<'static, Option<HashMap<u64, u32>>> {
    PATCHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Divert the static block whose host code starts at `host` (inside the
/// output's `.text`) and whose guest start is `guest`. Called with the JIT
/// lock held. Returns false if `.text` could not be written.
pub fn divert(host: u64, guest: u32) -> bool {
    let mut g = lock();
    let set = g.get_or_insert_with(HashMap::new);
    if set.contains_key(&host) {
        return true;
    }
    // Registered first: a thread may run into the int3 as soon as it is
    // written, and its handler waits for this lock.
    set.insert(host, guest);
    LO.fetch_min(host, Ordering::Release);
    HI.fetch_max(host + 1, Ordering::Release);
    if !write_byte(host, INT3) {
        set.remove(&host);
        crate::log::line(&format!(
            "cannot write the output's .text at {host:#x}: static block {guest:#010x} keeps its old translation"
        ));
        return false;
    }
    DIVERTED.fetch_add(1, Ordering::Relaxed);
    if crate::log::enabled(crate::log::JIT) {
        crate::log::line(&format!(
            "smc: static block {guest:#010x} diverted (int3 at host {host:#x})"
        ));
    }
    true
}

/// Store `byte` at `addr` in the output's read-only `.text`.
fn write_byte(addr: u64, byte: u8) -> bool {
    let page = (addr & !(PAGE - 1)) as *mut libc::c_void;
    let rx = libc::PROT_READ | libc::PROT_EXEC;
    // SAFETY: `addr` is the host entry of a static block, inside the
    // executable's own text mapping (R-X, page-aligned segment). Adding
    // PROT_WRITE keeps PROT_EXEC, so threads running other code on the page
    // are unaffected; the one-byte store is atomic for threads executing it;
    // the page is read-only again before the JIT lock is released.
    unsafe {
        if libc::mprotect(page, PAGE as usize, rx | libc::PROT_WRITE) == 0 {
            std::ptr::write_volatile(addr as *mut u8, byte);
            libc::mprotect(page, PAGE as usize, rx);
            return true;
        }
    }
    // W^X enforced by a security module: write through /proc/self/mem,
    // which can write read-only private mappings without changing them.
    let Ok(f) = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/mem")
    else {
        return false;
    };
    use std::os::unix::fs::FileExt;
    f.write_at(&[byte], addr).is_ok_and(|n| n == 1)
}

/// The guest EIP of the diverted block whose entry is `host`, if any.
fn diverted_at(host: u64) -> Option<u32> {
    if host < LO.load(Ordering::Acquire) || host >= HI.load(Ordering::Acquire) {
        return None;
    }
    lock().as_ref()?.get(&host).copied()
}

/// From the SIGTRAP handler, before anything else: if the trap is an `int3`
/// we wrote, resume at the block's current translation and return true.
///
/// # Safety
/// `info` and `uctx` are the kernel's arguments to a host SIGTRAP handler
/// that interrupted this thread (which then holds none of the runtime's
/// locks when the trap comes from translated code).
pub unsafe fn on_trap(info: *const libc::siginfo_t, uctx: *mut libc::c_void) -> bool {
    // Only a trap raised by an int3 instruction (not kill(SIGTRAP), which
    // may interrupt the runtime while it holds the lock taken below).
    if (*info).si_code != SI_KERNEL {
        return false;
    }
    let uc = uctx as *mut libc::ucontext_t;
    let g = &mut (*uc).uc_mcontext.gregs;
    let entry = (g[libc::REG_RIP as usize] as u64).wrapping_sub(1);
    let Some(guest) = diverted_at(entry) else {
        return false;
    };
    TRAPS.fetch_add(1, Ordering::Relaxed);
    let miss = crate::stubs::stub_miss_addr();
    let target = if g[libc::REG_EFL as usize] & TF != 0 {
        // Single-stepping to deliver a queued signal: the emulation
        // manager delivers it on the way in.
        g[libc::REG_EFL as usize] &= !TF;
        crate::signal::stop_stepping();
        miss
    } else {
        // A current translation in the map table runs at once (never this
        // entry again: its map entry was removed when it was diverted).
        crate::dispatch::lookup(guest)
            .filter(|&h| h != entry)
            .unwrap_or(miss)
    };
    g[libc::REG_R11 as usize] = guest as i64;
    g[libc::REG_RIP as usize] = target as i64;
    true
}

/// Number of diverted static blocks.
pub fn diverted_count() -> u64 {
    DIVERTED.load(Ordering::Relaxed)
}

/// Run `f` with the patch set's lock held (fork: with the JIT lock).
pub fn with_lock_held<R>(f: impl FnOnce() -> R) -> R {
    let _g = lock();
    f()
}
