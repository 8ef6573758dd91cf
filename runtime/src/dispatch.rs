//! The emulation manager and the map table.
//!
//! The map table maps every guest address to host code, in two levels of
//! 65536 entries of 8 bytes: level 1 is indexed by the low 16 bits of
//! `bswap(guest)` (a permutation of the high 16 bits that translated code
//! computes without touching flags), level 2 by the low 16 bits of the guest
//! address. Every slot of a fresh level-2 page, and the shared default page,
//! holds the address of `rehost_stub_miss`, so a lookup of a guest address
//! with no translation enters the emulation manager. One table serves static
//! and run-time translations.
//!
//! Invariant: readers (translated code, any thread) never lock; a writer
//! holds `WRITER` and publishes a filled level-2 page before the level-1 slot
//! that points to it, each slot an aligned 8-byte store.

use crate::abi::{Context, Reason};
use crate::{jit, log, stubs, syscall};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const L_ENTRIES: usize = 1 << 16;
const L_BYTES: usize = L_ENTRIES * 8;

static L1: AtomicU64 = AtomicU64::new(0);
static DEFAULT_L2: AtomicU64 = AtomicU64::new(0);
/// A level-1 table whose every slot is the all-miss page: translated code
/// pointed at it enters the runtime at its next lookup (`signal`'s kick).
static KICK_L1: AtomicU64 = AtomicU64::new(0);
static WRITER: Mutex<()> = Mutex::new(());

/// Level-1 index of a guest address, as `Asm::lookup_r11` computes it.
pub fn l1_index(guest: u32) -> usize {
    ((guest >> 24) | ((guest >> 8) & 0xff00)) as usize
}

fn alloc_page(fill: u64) -> *mut u64 {
    // SAFETY: a fresh anonymous private mapping, placed by the kernel above
    // the guest reservation; we own it for the life of the process.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            L_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            crate::fatal("cannot allocate the map table");
        }
        let s = std::slice::from_raw_parts_mut(p as *mut u64, L_ENTRIES);
        s.fill(fill);
        p as *mut u64
    }
}

/// Create the map table (idempotent). Returns the level-1 base for r14.
pub fn init_map() -> u64 {
    let _g = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    let l1 = L1.load(Ordering::Acquire);
    if l1 != 0 {
        return l1;
    }
    let miss = stubs::stub_miss_addr();
    let def = alloc_page(miss) as u64;
    DEFAULT_L2.store(def, Ordering::Release);
    let l1 = alloc_page(def) as u64;
    KICK_L1.store(alloc_page(def) as u64, Ordering::Release);
    L1.store(l1, Ordering::Release);
    l1
}

/// The all-miss level-1 table (after `init_map`).
pub fn kick_l1() -> u64 {
    KICK_L1.load(Ordering::Acquire)
}

fn l1_slot(guest: u32) -> &'static AtomicU64 {
    let l1 = L1.load(Ordering::Acquire) as *const AtomicU64;
    // SAFETY: L1 points to L_ENTRIES live u64 slots (init_map ran first);
    // l1_index is < 65536.
    unsafe { &*l1.add(l1_index(guest)) }
}

/// Host code for `guest`, if translated.
pub fn lookup(guest: u32) -> Option<u64> {
    let l2 = l1_slot(guest).load(Ordering::Acquire) as *const AtomicU64;
    // SAFETY: every level-1 slot points to a live level-2 page.
    let v = unsafe { (*l2.add(guest as usize & 0xffff)).load(Ordering::Acquire) };
    (v != stubs::stub_miss_addr()).then_some(v)
}

/// Map `guest` to `host` (overriding any earlier translation).
pub fn insert(guest: u32, host: u64) {
    let _g = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    let slot = l1_slot(guest);
    let mut l2 = slot.load(Ordering::Acquire);
    if l2 == DEFAULT_L2.load(Ordering::Acquire) {
        l2 = alloc_page(stubs::stub_miss_addr()) as u64;
        slot.store(l2, Ordering::Release);
    }
    // SAFETY: l2 is a private level-2 page of L_ENTRIES slots.
    unsafe {
        (*(l2 as *const AtomicU64).add(guest as usize & 0xffff)).store(host, Ordering::Release)
    };
}

/// Forget the translation of `guest` (the next lookup misses).
pub fn remove(guest: u32) {
    let _g = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    let l2 = l1_slot(guest).load(Ordering::Acquire);
    if l2 != DEFAULT_L2.load(Ordering::Acquire) {
        // SAFETY: l2 is a private level-2 page of L_ENTRIES slots.
        unsafe {
            (*(l2 as *const AtomicU64).add(guest as usize & 0xffff))
                .store(stubs::stub_miss_addr(), Ordering::Release)
        };
    }
}

/// The one entry from the stubs into Rust (abi.rs: runtime call and miss).
/// Returns the host address at which guest execution continues.
///
/// # Safety
/// Only the stubs call this, with the running thread's context, which is
/// live and not aliased while the guest is stopped in the runtime.
#[no_mangle]
pub unsafe extern "C" fn rehost_runtime_call(ctx: *mut Context) -> u64 {
    let ctx = &mut *ctx;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime_call(ctx))) {
        Ok(v) => {
            if crate::signal::pending_mask() != 0 {
                // A signal queued during this call and not delivered by it:
                // single-step from the stub's tail to the first guest
                // instruction boundary, where the SIGTRAP handler delivers
                // it (a loop of chained jumps would never come back here).
                crate::signal::step_into_guest(ctx);
            }
            v
        }
        Err(_) => crate::fatal(&format!(
            "internal error at guest eip {:#x}",
            ctx.eip as u32
        )),
    }
}

fn runtime_call(ctx: &mut Context) -> u64 {
    let reason = ctx.reason as u32;
    let arg = reason >> 8;
    match reason & 0xff {
        0 => {
            let eip = ctx.eip as u32;
            let eip = crate::signal::deliver_pending(ctx, eip, None).unwrap_or(eip);
            jit::host_code_for(eip)
        }
        r => match Reason::from_u8(r as u8) {
            Some(Reason::Syscall) => {
                let insn = ctx.eip as u32;
                let nr = ctx.reg(crate::abi::reg::EAX);
                syscall::handle(ctx);
                if syscall::take_not_started() {
                    // A signal was pending: its handler runs first, then
                    // the int 0x80 again (natively the call had not begun).
                    return match crate::signal::deliver_pending(ctx, insn, None) {
                        Some(eip) => jit::host_code_for(eip),
                        None => jit::host_code_for(insn),
                    };
                }
                let intr = crate::signal::Interrupted { insn, nr };
                match crate::signal::deliver_pending(ctx, insn.wrapping_add(2), Some(intr)) {
                    Some(eip) => jit::host_code_for(eip),
                    None => ctx.resume,
                }
            }
            Some(Reason::Emulate) => match crate::emulate::run(ctx, arg) {
                Ok(()) => ctx.resume,
                Err(f) => emulated_fault(ctx, f),
            },
            Some(Reason::LoadSegment) => {
                match crate::emulate::load_segment(ctx, arg as usize, ctx.scratch as u16) {
                    Ok(()) => ctx.resume,
                    Err(f) => emulated_fault(ctx, f),
                }
            }
            Some(Reason::TraceBlock) => {
                let eip = ctx.eip as u32;
                let kind = if jit::is_static_start(eip) {
                    "static"
                } else {
                    "runtime"
                };
                log::line(&format!("block {eip:#010x} {kind}"));
                ctx.resume
            }
            Some(Reason::IllegalInstruction) => {
                match crate::signal::deliver_sync(ctx, libc::SIGILL) {
                    Some(eip) => jit::host_code_for(eip),
                    None => crate::emulate::raise_sigill(ctx),
                }
            }
            Some(Reason::IcMiss) => {
                // As a map miss, after the site has learned the target.
                let eip = ctx.eip as u32;
                jit::ic_miss(ctx.scratch as usize, eip);
                let eip = crate::signal::deliver_pending(ctx, eip, None).unwrap_or(eip);
                jit::host_code_for(eip)
            }
            None => crate::fatal(&format!("bad runtime call {reason:#x}")),
        },
    }
}

/// An emulated instruction faulted: the guest handler runs, or the guest
/// dies of the signal as natively.
fn emulated_fault(ctx: &mut Context, f: crate::emulate::Fault) -> u64 {
    match crate::signal::deliver_sync_info(ctx, f.sig, f.code, f.addr) {
        Some(eip) => jit::host_code_for(eip),
        None => crate::emulate::raise(f.sig),
    }
}

/// Run `f` with the map-table writer lock held (fork: the child must not
/// inherit the lock held by another thread; each process releases its
/// own copy).
pub fn with_lock_held<R>(f: impl FnOnce() -> R) -> R {
    let _g = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    f()
}
