//! Guest signal state: dispositions (rt_sigaction), the blocked mask
//! (rt_sigprocmask), the alternate stack (sigaltstack), pending signals.
//!
//! Delivery of guest handlers is `crate::signal`'s, from the dispositions
//! and alternate stacks recorded here (`guest_sigaction`, `guest_altstack`).
//!
//! Invariants:
//! - The host never blocks or ignores the signals the runtime needs for
//!   itself: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP (faults of translated
//!   code) and 32/33 (the host glibc's internal signals).
//! - The host mask is the guest mask minus those, plus the signals this
//!   thread took and has not delivered yet (`host_mask`), so a signal the
//!   guest blocks stays queued in the host kernel (never lost, visible to
//!   rt_sigpending/sigtimedwait) until the guest unblocks it.
//! - A guest SIG_IGN is mirrored to the host (so an ignored SIGPIPE gives
//!   EPIPE and an ignored SIGCHLD auto-reaps, as on i386); leaving SIG_IGN
//!   restores the host default. A guest handler has the runtime's host
//!   handler (`crate::signal::host_install`). Start-up takes the ignored
//!   dispositions execve leaves (`inherit_dispositions`).
//!   The host's own alternate stack is the runtime's, never the guest's.

use super::{host, structs, Args, SysResult};
use crate::abi::Context;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use structs::{Sigaction32, Stack32};

const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// Signals the host must always be able to take.
const RESERVED: u64 = bit(4) | bit(5) | bit(7) | bit(8) | bit(11) | bit(32) | bit(33);
const UNBLOCKABLE: u64 = bit(9) | bit(19);
const SIG_IGN: u32 = 1;
const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;
const MINSIGSTKSZ: u32 = 2048;

static ACTIONS: Mutex<[Sigaction32; 64]> = Mutex::new(
    [Sigaction32 {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    }; 64],
);
/// Signals set to SIG_IGN on the host because the guest ignores them.
static HOST_IGNORED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static MASK: Cell<Option<u64>> = const { Cell::new(None) };
    static ALTSTACK: Cell<Stack32> = const { Cell::new(Stack32 { sp: 0, flags: SS_DISABLE, size: 0 }) };
}

/// The guest's disposition of `sig` (1..=64).
pub fn guest_sigaction(sig: u32) -> Option<Sigaction32> {
    let t = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    t.get((sig as usize).wrapping_sub(1)).copied()
}

/// The calling guest thread's blocked mask (initially the host's).
pub fn guest_sigmask() -> u64 {
    MASK.with(|m| {
        m.get().unwrap_or_else(|| {
            let mut cur = 0u64;
            let _ = host!(
                libc::SYS_rt_sigprocmask,
                libc::SIG_BLOCK,
                0,
                &mut cur as *mut u64,
                8
            );
            m.set(Some(cur));
            cur
        })
    })
}

/// Signals the host always takes itself (never blocked there).
pub fn reserved_mask() -> u64 {
    RESERVED
}

/// The host mask for guest mask `m`: without the signals the runtime
/// needs, with those queued for delivery (`crate::signal::pending_mask`).
pub fn host_mask(m: u64) -> u64 {
    (m | crate::signal::pending_mask()) & !RESERVED
}

/// Set the guest mask (signal delivery, sigreturn) and mirror it to the host.
pub fn set_guest_sigmask(m: u64) {
    let m = m & !UNBLOCKABLE;
    let hm = host_mask(m);
    let _ = host!(
        libc::SYS_rt_sigprocmask,
        libc::SIG_SETMASK,
        &hm as *const u64,
        0,
        8
    );
    MASK.with(|c| c.set(Some(m)));
}

/// SA_RESETHAND: back to SIG_DFL after one delivery.
pub fn reset_to_default(sig: u32) {
    let mut t = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(a) = t.get_mut(sig as usize - 1) {
        a.handler = 0;
    }
    drop(t);
    crate::signal::host_install(sig, false);
}

/// The calling guest thread's alternate signal stack.
pub fn guest_altstack() -> Stack32 {
    ALTSTACK.with(|s| s.get())
}

fn set_host_disposition(sig: u32, ignore: bool) {
    let h = if ignore { libc::SIG_IGN } else { libc::SIG_DFL };
    // SAFETY: installs SIG_IGN/SIG_DFL only, for a signal the runtime does
    // not use itself.
    unsafe { libc::signal(sig as i32, h) };
}

/// The guest signal state a vfork child could change in the memory it
/// shares with its stopped parent: dispositions, the host-ignored set,
/// and the calling thread's mask and alternate stack.
pub struct SavedState {
    actions: [Sigaction32; 64],
    host_ignored: u64,
    mask: u64,
    altstack: Stack32,
}

impl SavedState {
    pub fn take() -> SavedState {
        SavedState {
            actions: *ACTIONS.lock().unwrap_or_else(|e| e.into_inner()),
            host_ignored: HOST_IGNORED.load(Ordering::Relaxed),
            mask: guest_sigmask(),
            altstack: guest_altstack(),
        }
    }

    /// Back in the parent (its host dispositions and mask were never the
    /// child's to change).
    pub fn put_back(self) {
        *ACTIONS.lock().unwrap_or_else(|e| e.into_inner()) = self.actions;
        HOST_IGNORED.store(self.host_ignored, Ordering::Relaxed);
        MASK.with(|c| c.set(Some(self.mask)));
        ALTSTACK.with(|s| s.set(self.altstack));
    }
}

/// Ignored signals and mask handed over by a guest's execve, for the
/// start-up of the re-executed runtime.
static EXEC_STATE: Mutex<Option<(u64, u64)>> = Mutex::new(None);

/// Start-up after a guest's execve: the exec'ing guest's ignored signals
/// and mask (`exec::ENV_EXEC_SIGNALS`).
pub fn set_exec_state(ign: u64, mask: u64) {
    *EXEC_STATE.lock().unwrap_or_else(|e| e.into_inner()) = Some((ign, mask));
}

/// What a guest's execve carries over: the signals it ignores, its mask.
pub fn exec_state() -> (u64, u64) {
    let t = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    let ign = (1..=64u32)
        .filter(|&s| t[s as usize - 1].handler == SIG_IGN)
        .fold(0, |m, s| m | bit(s));
    drop(t);
    (ign, guest_sigmask())
}

/// Host state changed for a native execve, put back if it fails.
pub struct NativeExec {
    actions: Vec<(i32, libc::sigaction)>,
    mask: u64,
}

/// Right before a native execve: the host takes the guest's view of the
/// signals the runtime reserves, so the new image inherits what execve
/// keeps (SIG_IGN and the mask; the others already match on the host).
/// A fault meanwhile still kills, as the kernel forces a fault signal
/// that is ignored or blocked.
pub fn native_exec_begin() -> NativeExec {
    let (ign, mask) = exec_state();
    let mut actions = Vec::new();
    for sig in [4, 5, 7, 8, 11] {
        if ign & bit(sig) != 0 {
            // SAFETY: sigaction with fully initialised structures.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = libc::SIG_IGN;
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig as i32, &new, &mut old) == 0 {
                    actions.push((sig as i32, old));
                }
            }
        }
    }
    let m = (mask | crate::signal::pending_mask()) & !UNBLOCKABLE;
    let mut old = 0u64;
    let _ = host!(
        libc::SYS_rt_sigprocmask,
        libc::SIG_SETMASK,
        &m as *const u64,
        &mut old as *mut u64,
        8
    );
    NativeExec { actions, mask: old }
}

/// The native execve failed: the runtime's handlers and mask again.
pub fn native_exec_failed(saved: NativeExec) {
    let _ = host!(
        libc::SYS_rt_sigprocmask,
        libc::SIG_SETMASK,
        &saved.mask as *const u64,
        0,
        8
    );
    for (sig, old) in saved.actions {
        // SAFETY: reinstalls the action sigaction returned above.
        unsafe { libc::sigaction(sig, &old, std::ptr::null_mut()) };
    }
}

/// The guest's dispositions at start-up, before the runtime installs its
/// own handlers, as execve leaves them: SIG_IGN stays ignored, everything
/// else is SIG_DFL. After a guest's execve they and the mask come from the
/// exec'ing runtime (`set_exec_state`: the host kernel kept the host side,
/// but not the guest's view of the signals the runtime reserves); else
/// from the host's dispositions (a parent such as nohup may ignore some).
pub fn inherit_dispositions() {
    let exec = EXEC_STATE.lock().unwrap_or_else(|e| e.into_inner()).take();
    let mut t = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    for sig in 1..=64u32 {
        if UNBLOCKABLE & bit(sig) != 0 || sig == 32 || sig == 33 {
            continue;
        }
        // SAFETY: a query only (no new action), into a zeroed structure.
        let host_ign = unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig as i32, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        };
        let ign = match exec {
            Some((i, _)) => i & bit(sig) != 0,
            None => host_ign,
        };
        if ign {
            t[sig as usize - 1] = Sigaction32 {
                handler: SIG_IGN,
                flags: 0,
                restorer: 0,
                mask: 0,
            };
        }
        if RESERVED & bit(sig) == 0 {
            if ign != host_ign {
                set_host_disposition(sig, ign);
            }
            if ign {
                HOST_IGNORED.fetch_or(bit(sig), Ordering::Relaxed);
            }
        }
    }
    drop(t);
    if let Some((_, mask)) = exec {
        set_guest_sigmask(mask);
    }
}

/// rt_sigaction(sig, const sigaction32 *act, sigaction32 *oact, sigsetsize).
pub fn rt_sigaction(_: &mut Context, a: &Args) -> SysResult {
    let (sig, act, oact) = (a[0], a[1], a[2]);
    if a[3] != 8 || !(1..=64).contains(&sig) {
        return Err(libc::EINVAL);
    }
    if act != 0 && UNBLOCKABLE & bit(sig) != 0 {
        return Err(libc::EINVAL);
    }
    let new = if act != 0 {
        Some(structs::read::<Sigaction32>(act)?)
    } else {
        None
    };
    let mut t = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    let old = t[sig as usize - 1];
    if let Some(mut n) = new {
        n.mask &= !UNBLOCKABLE;
        t[sig as usize - 1] = n;
        if n.handler > 1 || old.handler > 1 {
            crate::signal::host_install(sig, n.handler > 1);
        }
        if RESERVED & bit(sig) == 0 {
            let ign = n.handler == SIG_IGN;
            let was = HOST_IGNORED.load(Ordering::Relaxed) & bit(sig) != 0;
            if ign != was {
                set_host_disposition(sig, ign);
                HOST_IGNORED.fetch_xor(bit(sig), Ordering::Relaxed);
            }
        }
    }
    drop(t);
    if oact != 0 {
        structs::write(oact, &old)?;
    }
    Ok(0)
}

/// rt_sigprocmask(how, const sigset *set, sigset *oset, sigsetsize): the
/// 8-byte set is the same on both.
pub fn rt_sigprocmask(_: &mut Context, a: &Args) -> SysResult {
    let (how, set, oset) = (a[0] as i32, a[1], a[2]);
    if a[3] != 8 {
        return Err(libc::EINVAL);
    }
    let old = guest_sigmask();
    if set != 0 {
        let s = crate::guest_mem::read_u64(set)?;
        let m = match how {
            libc::SIG_BLOCK => old | s,
            libc::SIG_UNBLOCK => old & !s,
            libc::SIG_SETMASK => s,
            _ => return Err(libc::EINVAL),
        } & !UNBLOCKABLE;
        let hm = host_mask(m);
        host!(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &hm as *const u64,
            0,
            8
        )?;
        MASK.with(|c| c.set(Some(m)));
    }
    if oset != 0 {
        crate::guest_mem::write_u64(oset, old)?;
    }
    Ok(0)
}

/// rt_sigpending(sigset *set, sigsetsize).
pub fn rt_sigpending(_: &mut Context, a: &Args) -> SysResult {
    if a[1] != 8 {
        return Err(libc::EINVAL);
    }
    let mut p = 0u64;
    host!(libc::SYS_rt_sigpending, &mut p as *mut u64, 8)?;
    crate::guest_mem::write_u64(a[0], p)?;
    Ok(0)
}

/// Wait for a signal of `set` (guest pointer) with a host timeout pointer;
/// the host siginfo is converted to the i386 layout.
fn sigtimedwait(set: u32, info: u32, ts: u64, size: u32) -> SysResult {
    if size != 8 {
        return Err(libc::EINVAL);
    }
    let s = crate::guest_mem::read_u64(set)?;
    let mut h = [0u8; structs::SIGINFO_SIZE];
    let sig = host!(
        libc::SYS_rt_sigtimedwait,
        &s as *const u64,
        h.as_mut_ptr(),
        ts,
        8
    )?;
    if info != 0 {
        crate::guest_mem::write_bytes(info, &structs::siginfo_to_i386(&h))?;
    }
    Ok(sig)
}

/// rt_sigtimedwait(set *, siginfo *, old_timespec32 *timeout, sigsetsize).
pub fn rt_sigtimedwait(_: &mut Context, a: &Args) -> SysResult {
    if a[2] == 0 {
        return sigtimedwait(a[0], a[1], 0, a[3]);
    }
    let t: structs::Timespec32 = structs::read(a[2])?;
    let ts = t.to_host();
    sigtimedwait(a[0], a[1], &ts as *const libc::timespec as u64, a[3])
}

/// rt_sigtimedwait_time64: the timeout is the host's timespec.
pub fn rt_sigtimedwait_time64(_: &mut Context, a: &Args) -> SysResult {
    let ts = if a[2] == 0 { 0 } else { super::gbuf(a[2], 16)? };
    sigtimedwait(a[0], a[1], ts, a[3])
}

/// A guest's i386 siginfo, in the host layout.
fn read_siginfo(addr: u32) -> Result<[u8; structs::SIGINFO_SIZE], i32> {
    let mut g = [0u8; structs::SIGINFO_SIZE];
    crate::guest_mem::read_into(addr, &mut g)?;
    Ok(structs::siginfo_from_i386(&g))
}

/// rt_sigqueueinfo(tgid, sig, siginfo *).
pub fn rt_sigqueueinfo(_: &mut Context, a: &Args) -> SysResult {
    let info = read_siginfo(a[2])?;
    host!(
        libc::SYS_rt_sigqueueinfo,
        super::sx(a[0]),
        super::sx(a[1]),
        info.as_ptr()
    )
}

/// rt_tgsigqueueinfo(tgid, tid, sig, siginfo *).
pub fn rt_tgsigqueueinfo(_: &mut Context, a: &Args) -> SysResult {
    let info = read_siginfo(a[3])?;
    host!(
        libc::SYS_rt_tgsigqueueinfo,
        super::sx(a[0]),
        super::sx(a[1]),
        super::sx(a[2]),
        info.as_ptr()
    )
}

/// pidfd_send_signal(pidfd, sig, siginfo * or NULL, flags).
pub fn pidfd_send_signal(_: &mut Context, a: &Args) -> SysResult {
    let info = if a[2] != 0 {
        Some(read_siginfo(a[2])?)
    } else {
        None
    };
    let p = info.as_ref().map_or(0, |i| i.as_ptr() as u64);
    host!(
        libc::SYS_pidfd_send_signal,
        super::sx(a[0]),
        super::sx(a[1]),
        p,
        a[3]
    )
}

/// The alternate stack `n` asks for (sigaltstack's checks).
fn new_altstack(n: Stack32) -> Result<Stack32, i32> {
    match n.flags & !SS_AUTODISARM {
        SS_DISABLE => Ok(Stack32 {
            sp: 0,
            flags: SS_DISABLE,
            size: 0,
        }),
        0 | SS_ONSTACK => {
            if n.size < MINSIGSTKSZ {
                return Err(libc::ENOMEM);
            }
            Ok(Stack32 {
                sp: n.sp,
                flags: n.flags & SS_AUTODISARM,
                size: n.size,
            })
        }
        _ => Err(libc::EINVAL),
    }
}

/// Is `sp` on the calling thread's armed alternate stack (then it cannot
/// be changed: EPERM)?
fn on_altstack(sp: u32) -> bool {
    let a = guest_altstack();
    a.flags & (SS_DISABLE | SS_AUTODISARM) == 0 && sp > a.sp && sp - a.sp <= a.size
}

/// SS_AUTODISARM: entering a handler on the alternate stack disables it.
pub fn disarm_altstack() {
    ALTSTACK.with(|s| {
        s.set(Stack32 {
            sp: 0,
            flags: SS_DISABLE,
            size: 0,
        })
    });
}

/// rt_sigreturn: the alternate stack saved in the frame comes back
/// (unless the thread is still running on the current one; errors are
/// ignored, as the kernel's restore_altstack does).
pub fn restore_altstack(n: Stack32, sp: u32) {
    if on_altstack(sp) {
        return;
    }
    if let Ok(st) = new_altstack(n) {
        ALTSTACK.with(|s| s.set(st));
    }
}

/// sigaltstack(const stack32 *ss, stack32 *oss): recorded per thread.
pub fn sigaltstack(ctx: &mut Context, a: &Args) -> SysResult {
    let mut old = guest_altstack();
    if on_altstack(ctx.reg(crate::abi::reg::ESP)) {
        old.flags |= SS_ONSTACK;
    }
    if a[0] != 0 {
        let n: Stack32 = structs::read(a[0])?;
        if on_altstack(ctx.reg(crate::abi::reg::ESP)) {
            return Err(libc::EPERM);
        }
        let st = new_altstack(n)?;
        ALTSTACK.with(|s| s.set(st));
    }
    if a[1] != 0 {
        structs::write(a[1], &old)?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_bits() {
        assert_eq!(bit(11), 1 << 10);
        assert_ne!(RESERVED & bit(11), 0);
        assert_eq!(RESERVED & bit(13), 0);
    }
}
