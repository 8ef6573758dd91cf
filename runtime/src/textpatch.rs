//! Diverting invalidated ahead-of-time blocks: an `int3` at the host entry,
//! turned into a `jmp` to a map lookup where it fits.
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
//! A trap costs microseconds, and static code that keeps calling a
//! diverted block (a function patched once, called from a loop elsewhere)
//! would pay it on every call. So where the block's first host instruction
//! is at least 5 bytes long, the `int3` is then turned into a `jmp rel32`
//! to a stub near `.text` that looks the guest EIP up in the map table
//! (`mov r11d, eip` + the flag-free lookup, as an exit trampoline does),
//! the way the kernel patches live code: `int3` first, every CPU
//! serialised (`membarrier` SYNC_CORE), the four bytes after it, serialised
//! again, then the `0xe9` over the `int3`. A thread can only stand at an
//! instruction boundary of the old code at offset 0 (where it sees the
//! `int3` or the jump) or at 5 or later, untouched, because the first
//! instruction covers offsets 0..5. Without membarrier, without room for a
//! stub within rel32 reach, or with a shorter first instruction, the `int3`
//! stays.
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
const JMP_REL32: u8 = 0xe9;
const PAGE: u64 = 4096;
/// Bytes per stub, and the stub area's size (allocated on first use).
const STUB: usize = 32;
const STUB_AREA: usize = 1 << 20;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: i64 = 32;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: i64 = 64;
/// si_code of a trap raised by `int3` (the kernel's SI_KERNEL).
const SI_KERNEL: i32 = 0x80;
const TF: i64 = 0x100;

/// Patched host entries -> guest EIP of their block, and the stubs.
static PATCHED: Mutex<Option<State>> = Mutex::new(None);

#[derive(Default)]
struct State {
    patched: HashMap<u64, u32>,
    /// Stub area (0 before its first use) and bytes of it used.
    stubs: u64,
    stubs_used: usize,
    /// Did membarrier registration fail, or no stub area fit? (Then
    /// entries stay `int3`.)
    no_jumps: bool,
}
/// Host range holding patched entries (a cheap filter before the lock).
static LO: AtomicU64 = AtomicU64::new(u64::MAX);
static HI: AtomicU64 = AtomicU64::new(0);
/// End of the output's `.text` (bounds reads of host code).
static TEXT_END: AtomicU64 = AtomicU64::new(0);
/// The stub area's host range (for `jit::is_translated_code`).
static STUB_LO: AtomicU64 = AtomicU64::new(0);
static STUB_HI: AtomicU64 = AtomicU64::new(0);
/// Blocks diverted, of which through a jump, and traps taken at their
/// `int3`s (REHOST_STATS).
pub static DIVERTED: AtomicU64 = AtomicU64::new(0);
pub static JUMPS: AtomicU64 = AtomicU64::new(0);
pub static TRAPS: AtomicU64 = AtomicU64::new(0);

fn lock() -> std::sync::MutexGuard<'static, Option<State>> {
    PATCHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Register the end of the output's `.text` (ahead-of-time start-up).
pub fn set_text_end(end: u64) {
    TEXT_END.store(end, Ordering::Release);
}

/// Is `rip` in a stub (code that runs for translated code, so signals
/// treat it as such)?
pub fn is_stub(rip: u64) -> bool {
    rip >= STUB_LO.load(Ordering::Acquire) && rip < STUB_HI.load(Ordering::Acquire)
}

/// Divert the static block whose host code starts at `host` (inside the
/// output's `.text`) and whose guest start is `guest`. Called with the JIT
/// lock held. Returns false if `.text` could not be written.
pub fn divert(host: u64, guest: u32) -> bool {
    let mut g = lock();
    let st = g.get_or_insert_with(State::default);
    if st.patched.contains_key(&host) {
        return true;
    }
    // Registered first: a thread may run into the int3 as soon as it is
    // written, and its handler waits for this lock.
    st.patched.insert(host, guest);
    LO.fetch_min(host, Ordering::Release);
    HI.fetch_max(host + 1, Ordering::Release);
    let first_len = first_insn_len(host);
    if !write_text(host, &[INT3]) {
        st.patched.remove(&host);
        crate::log::line(&format!(
            "cannot write the output's .text at {host:#x}: static block {guest:#010x} keeps its old translation"
        ));
        return false;
    }
    DIVERTED.fetch_add(1, Ordering::Relaxed);
    let jumped = first_len >= 5 && st.jump(host, guest);
    if crate::log::enabled(crate::log::JIT) {
        let how = if jumped { "jmp" } else { "int3" };
        crate::log::line(&format!(
            "smc: static block {guest:#010x} diverted ({how} at host {host:#x})"
        ));
    }
    true
}

impl State {
    /// Turn the `int3` at `host` into a `jmp rel32` to a new map-lookup
    /// stub for `guest` (module comment). False if it stays an `int3`.
    fn jump(&mut self, host: u64, guest: u32) -> bool {
        if self.no_jumps {
            return false;
        }
        if self.stubs == 0 {
            self.stubs = match (register_sync_core(), alloc_stubs_near(host)) {
                (true, Some(a)) => a,
                _ => {
                    self.no_jumps = true;
                    return false;
                }
            };
        }
        let mut a = crate::translate::asm::Asm::new();
        a.mov_ri(iced_x86::Register::R11D, guest);
        a.lookup_r11();
        if a.code.len() > STUB || self.stubs_used + STUB > STUB_AREA {
            return false;
        }
        let stub = self.stubs + self.stubs_used as u64;
        let Ok(rel) = i32::try_from(stub as i64 - (host as i64 + 5)) else {
            return false;
        };
        // SAFETY: [stub, stub+STUB) is an unused slot of the stub area
        // (RWX, ours): no thread executes it before the jump below exists.
        unsafe { std::ptr::copy_nonoverlapping(a.code.as_ptr(), stub as *mut u8, a.code.len()) };
        self.stubs_used += STUB;
        // Every CPU sees the int3 before the bytes after it change, and
        // those before the int3 turns into the jump.
        if !sync_core() {
            self.no_jumps = true;
            return false;
        }
        if !write_text(host + 1, &rel.to_le_bytes()) {
            return false;
        }
        sync_core();
        if !write_text(host, &[JMP_REL32]) {
            return false;
        }
        sync_core();
        JUMPS.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// Length of the host instruction at `host` (0 if it does not decode).
fn first_insn_len(host: u64) -> usize {
    let mut buf = [0u8; 15];
    let n = TEXT_END
        .load(Ordering::Acquire)
        .saturating_sub(host)
        .min(15) as usize;
    // SAFETY: `host` is a static block's entry in the output's .text, which
    // is readable up to TEXT_END.
    unsafe { std::ptr::copy_nonoverlapping(host as *const u8, buf.as_mut_ptr(), n) };
    let mut d = iced_x86::Decoder::new(64, &buf[..n], iced_x86::DecoderOptions::NONE);
    let i = d.decode();
    if i.is_invalid() {
        0
    } else {
        i.len()
    }
}

/// Register for membarrier's SYNC_CORE (once per process; false where the
/// kernel lacks it).
fn register_sync_core() -> bool {
    // SAFETY: a plain system call without pointers.
    unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
            0,
            0,
        ) == 0
    }
}

/// Serialise instruction fetch on every CPU running a thread of ours
/// (registering again if needed: a forked child may not inherit the
/// registration). False if the kernel refuses.
fn sync_core() -> bool {
    let sync = || {
        // SAFETY: a plain system call without pointers.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
                0,
                0,
            ) == 0
        }
    };
    sync() || (register_sync_core() && sync())
}

/// An RWX area for stubs, below `.text` within rel32 reach of `host` (and
/// above the guest's 4 GiB).
fn alloc_stubs_near(host: u64) -> Option<u64> {
    const STEP: u64 = 16 << 20;
    let base = host & !(STEP - 1);
    for k in 1..64u64 {
        let hint = base.checked_sub(k * STEP)?;
        if hint < (1 << 32) {
            return None;
        }
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping;
        // a kernel that ignores the flag may place it elsewhere (checked).
        let p = unsafe {
            libc::mmap(
                hint as *mut libc::c_void,
                STUB_AREA,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            continue;
        }
        if p as u64 != hint {
            // SAFETY: unmapping the mapping just made.
            unsafe { libc::munmap(p, STUB_AREA) };
            continue;
        }
        STUB_LO.store(hint, Ordering::Release);
        STUB_HI.store(hint + STUB_AREA as u64, Ordering::Release);
        return Some(hint);
    }
    None
}

/// Store `bytes` at `addr` in the output's read-only `.text`.
fn write_text(addr: u64, bytes: &[u8]) -> bool {
    let first = addr & !(PAGE - 1);
    let end = (addr + bytes.len() as u64 + PAGE - 1) & !(PAGE - 1);
    let (page, len) = (first as *mut libc::c_void, (end - first) as usize);
    let rx = libc::PROT_READ | libc::PROT_EXEC;
    // SAFETY: [addr, addr+len) lies in a static block's first instruction,
    // inside the executable's own text mapping (R-X). Adding PROT_WRITE
    // keeps PROT_EXEC, so threads running other code on these pages are
    // unaffected; a one-byte store is atomic for threads executing it (and
    // longer ones are made only behind an int3, see `State::jump`); the
    // pages are read-only again before the JIT lock is released.
    unsafe {
        if libc::mprotect(page, len, rx | libc::PROT_WRITE) == 0 {
            for (k, &b) in bytes.iter().enumerate() {
                std::ptr::write_volatile((addr as *mut u8).add(k), b);
            }
            libc::mprotect(page, len, rx);
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
    f.write_at(bytes, addr).is_ok_and(|n| n == bytes.len())
}

/// The guest EIP of the diverted block whose entry is `host`, if any.
fn diverted_at(host: u64) -> Option<u32> {
    if host < LO.load(Ordering::Acquire) || host >= HI.load(Ordering::Acquire) {
        return None;
    }
    lock().as_ref()?.patched.get(&host).copied()
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
