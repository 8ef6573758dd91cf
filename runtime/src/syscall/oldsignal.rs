//! The old i386 signal calls legacy binaries still make — signal (48),
//! sigaction (67) with the old `struct sigaction` {handler, u32 mask,
//! flags, restorer}, sgetmask/ssetmask (68/69), sigsuspend (72),
//! sigpending (73), sigprocmask (126) with 32-bit sets — and rt_sigsuspend
//! (179), all expressed through the rt calls of `signal`.
//!
//! Invariant: these share one disposition table and one mask with the rt
//! calls (`signal`), so old and new calls in one program agree; sigsuspend
//! restores the mask from before the call before a handler runs, so the
//! handler's frame saves and sigreturn restores that one, as Linux does.

use super::signal::{guest_sigmask, rt_sigaction, rt_sigprocmask, set_guest_sigmask};
use super::{host, structs, Args, SysResult};
use crate::abi::Context;

const SA_NODEFER: u32 = 0x4000_0000;
const SA_RESETHAND: u32 = 0x8000_0000;

/// A guest scratch area for building rt arguments: below the guest stack
/// pointer (i386 code never keeps data there across a system call).
fn scratch(ctx: &Context, size: u32) -> u32 {
    ctx.reg(crate::abi::reg::ESP).wrapping_sub(256 + size) & !15
}

/// sigaction(sig, const old_sigaction *act, old_sigaction *oact).
pub fn sigaction(ctx: &mut Context, a: &Args) -> SysResult {
    let (sig, act, oact) = (a[0], a[1], a[2]);
    let s = scratch(ctx, 40);
    let (new, old) = (s, s + 20);
    if act != 0 {
        let w = crate::guest_mem::read_bytes(act, 16)?;
        let get = |k: usize| u32::from_le_bytes(w[4 * k..4 * k + 4].try_into().unwrap());
        let n = structs::Sigaction32 {
            handler: get(0),
            flags: get(2),
            restorer: get(3),
            mask: get(1) as u64,
        };
        structs::write(new, &n)?;
    }
    let r = rt_sigaction(
        ctx,
        &[
            sig,
            if act != 0 { new } else { 0 },
            if oact != 0 { old } else { 0 },
            8,
            0,
            0,
        ],
    )?;
    if oact != 0 {
        let o: structs::Sigaction32 = structs::read(old)?;
        let words = [o.handler, o.mask as u32, o.flags, o.restorer];
        let bytes: Vec<u8> = words.iter().flat_map(|v| v.to_le_bytes()).collect();
        crate::guest_mem::write_bytes(oact, &bytes)?;
    }
    Ok(r)
}

/// signal(sig, handler): SysV semantics as Linux gives them (one-shot, not
/// blocked while running); returns the old handler.
pub fn signal(ctx: &mut Context, a: &Args) -> SysResult {
    let s = scratch(ctx, 40);
    let n = structs::Sigaction32 {
        handler: a[1],
        flags: SA_RESETHAND | SA_NODEFER,
        restorer: 0,
        mask: 0,
    };
    structs::write(s, &n)?;
    rt_sigaction(ctx, &[a[0], s, s + 20, 8, 0, 0])?;
    let o: structs::Sigaction32 = structs::read(s + 20)?;
    Ok(o.handler as i64)
}

/// sigprocmask(how, const u32 *set, u32 *oset): the low 32 signals.
pub fn sigprocmask(ctx: &mut Context, a: &Args) -> SysResult {
    let old = guest_sigmask();
    if a[1] != 0 {
        let set = crate::guest_mem::read_u32(a[1])? as u64;
        let s = scratch(ctx, 8);
        let full = match a[0] as i32 {
            libc::SIG_SETMASK => set | (old & !0xffff_ffff),
            _ => set,
        };
        crate::guest_mem::write_u64(s, full)?;
        rt_sigprocmask(ctx, &[a[0], s, 0, 8, 0, 0])?;
    }
    if a[2] != 0 {
        crate::guest_mem::write_u32(a[2], old as u32)?;
    }
    Ok(0)
}

/// sigpending(u32 *set).
pub fn sigpending(_: &mut Context, a: &Args) -> SysResult {
    let mut p = 0u64;
    host!(libc::SYS_rt_sigpending, &mut p as *mut u64, 8)?;
    crate::guest_mem::write_u32(a[0], p as u32)?;
    Ok(0)
}

/// sgetmask(): the low 32 bits of the mask.
pub fn sgetmask(_: &mut Context, _: &Args) -> SysResult {
    Ok(guest_sigmask() as u32 as i64)
}

/// ssetmask(mask): set the low 32 bits, return the old ones.
pub fn ssetmask(_: &mut Context, a: &Args) -> SysResult {
    let old = guest_sigmask();
    set_guest_sigmask((old & !0xffff_ffff) | a[0] as u64);
    Ok(old as u32 as i64)
}

/// Wait with `mask` until a signal arrives; the caller's mask is back in
/// place when a handler runs (its frame saves that one).
fn suspend(mask: u64) -> SysResult {
    if crate::signal::pending_mask() != 0 {
        // A signal is already on its way to a handler.
        return Err(libc::EINTR);
    }
    let old = guest_sigmask();
    set_guest_sigmask(mask);
    let hm = mask & !super::signal::reserved_mask();
    let r = host!(libc::SYS_rt_sigsuspend, &hm as *const u64, 8);
    set_guest_sigmask(old);
    r
}

/// rt_sigsuspend(const sigset *mask, sigsetsize).
pub fn rt_sigsuspend(_: &mut Context, a: &Args) -> SysResult {
    if a[1] != 8 {
        return Err(libc::EINVAL);
    }
    suspend(crate::guest_mem::read_u64(a[0])?)
}

/// sigsuspend(history0, history1, old_sigset_t mask) (i386 argument order).
pub fn sigsuspend(_: &mut Context, a: &Args) -> SysResult {
    suspend((guest_sigmask() & !0xffff_ffff) | a[2] as u64)
}
