//! Process and thread identity, exit, resource limits, kill, wait, and
//! system information.
//!
//! Invariant: state the i386 kernel keeps per task and the x86-64 kernel
//! cannot (the clear-child-tid pointer, the robust list, rseq; TLS slots
//! are in `tls`) lives here, never in the host kernel: set_robust_list and
//! rseq answer -ENOSYS because the host kernel would read i386 layouts as
//! its own.

use super::{gbuf, host, log_final, structs, sx, written, Args, SysResult};
use crate::abi::Context;
use std::cell::Cell;

/// exit and exit_group both end the host process (guest threads are not
/// run yet; once they are, exit must end only the calling thread).
pub fn exit_group(ctx: &mut Context, a: &Args) -> SysResult {
    log_final(ctx.reg(crate::abi::reg::EAX), a);
    crate::stats::at_exit();
    // SAFETY: exit_group does not return.
    unsafe { libc::syscall(libc::SYS_exit_group, a[0] as i32 as libc::c_long) };
    std::process::abort()
}

pub fn getpid(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_getpid)
}

pub fn getppid(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_getppid)
}

pub fn gettid(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_gettid)
}

pub fn getuid32(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_getuid)
}

pub fn getgid32(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_getgid)
}

pub fn geteuid32(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_geteuid)
}

pub fn getegid32(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_getegid)
}

/// 16-bit ids: anything above 0xffff reads as the overflow id 65534.
fn low16(r: SysResult) -> SysResult {
    r.map(|v| if v > 0xffff { 65534 } else { v })
}

pub fn getuid(c: &mut Context, a: &Args) -> SysResult {
    low16(getuid32(c, a))
}

pub fn getgid(c: &mut Context, a: &Args) -> SysResult {
    low16(getgid32(c, a))
}

pub fn geteuid(c: &mut Context, a: &Args) -> SysResult {
    low16(geteuid32(c, a))
}

pub fn getegid(c: &mut Context, a: &Args) -> SysResult {
    low16(getegid32(c, a))
}

/// getresuid32/getresgid32(u32 *r, u32 *e, u32 *s).
pub fn getresuid32(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_getresuid,
        gbuf(a[0], 4)?,
        gbuf(a[1], 4)?,
        gbuf(a[2], 4)?
    )
}

pub fn getresgid32(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_getresgid,
        gbuf(a[0], 4)?,
        gbuf(a[1], 4)?,
        gbuf(a[2], 4)?
    )
}

/// getgroups32(int size, u32 *list).
pub fn getgroups32(_: &mut Context, a: &Args) -> SysResult {
    let n = (a[0] as i32).max(0) as usize;
    host!(libc::SYS_getgroups, sx(a[0]), gbuf(a[1], n * 4)?)
}

thread_local! {
    static CLEAR_CHILD_TID: Cell<u32> = const { Cell::new(0) };
}

/// CLONE_CHILD_CLEARTID of a new guest thread.
pub fn set_clear_child_tid(addr: u32) {
    CLEAR_CHILD_TID.with(|c| c.set(addr));
}

/// exit (1): ends the calling guest thread only; the last one ends the
/// process (with the report and profile of REHOST_STATS/REHOST_PROFILE).
pub fn exit(ctx: &mut Context, a: &Args) -> SysResult {
    if crate::thread::live() <= 1 {
        return exit_group(ctx, a);
    }
    crate::thread::exit_thread(a[0] as i32)
}

/// The guest's clear-child-tid address (set_tid_address), for thread exit.
pub fn clear_child_tid() -> u32 {
    CLEAR_CHILD_TID.with(|c| c.get())
}

pub fn set_tid_address(_: &mut Context, a: &Args) -> SysResult {
    CLEAR_CHILD_TID.with(|c| c.set(a[0]));
    host!(libc::SYS_gettid)
}

/// set_robust_list and rseq: i386 layouts the host kernel must never see.
pub fn refuse(_: &mut Context, _: &Args) -> SysResult {
    Err(libc::ENOSYS)
}

pub fn umask(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_umask, a[0])
}

/// uname: struct new_utsname (6 x 65 bytes) is the same; the machine is
/// the native answer for a 32-bit process on a 64-bit kernel, x86_64.
pub fn uname(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_uname, gbuf(a[0], 390)?)
}

pub fn getrandom(_: &mut Context, a: &Args) -> SysResult {
    let r = host!(
        libc::SYS_getrandom,
        a[0],
        super::fs::clamp(a[0], a[1]),
        a[2]
    )?;
    written(a[0], r)
}

/// Is this a request to limit our own address space? The runtime (host
/// heap, code cache, 4 GiB reservation) would die of it, so it is ignored.
fn own_as_limit(pid: u32, res: u32) -> bool {
    res == libc::RLIMIT_AS && (pid == 0 || pid == std::process::id())
}

/// prlimit64(pid, resource, const rlimit64 *new, rlimit64 *old): same
/// layout; a new RLIMIT_AS for ourselves is not applied.
pub fn prlimit64(_: &mut Context, a: &Args) -> SysResult {
    let new = if own_as_limit(a[0], a[1]) {
        0
    } else {
        gbuf(a[2], 16)?
    };
    host!(libc::SYS_prlimit64, sx(a[0]), a[1], new, gbuf(a[3], 16)?)
}

fn get_rlimit(res: u32, addr: u32, max: u64) -> SysResult {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    host!(libc::SYS_prlimit64, 0, res, 0, &mut r as *mut libc::rlimit)?;
    let g = structs::Rlimit32 {
        cur: r.rlim_cur.min(max) as u32,
        max: r.rlim_max.min(max) as u32,
    };
    structs::write(addr, &g)?;
    Ok(0)
}

/// ugetrlimit(resource, rlimit32 *): clamped to 0xffffffff = RLIM_INFINITY.
pub fn ugetrlimit(_: &mut Context, a: &Args) -> SysResult {
    get_rlimit(a[0], a[1], 0xffff_ffff)
}

/// Old getrlimit: clamped to 0x7fffffff, as the compat kernel does.
pub fn getrlimit(_: &mut Context, a: &Args) -> SysResult {
    get_rlimit(a[0], a[1], 0x7fff_ffff)
}

/// setrlimit(resource, const rlimit32 *): 0xffffffff means RLIM_INFINITY.
pub fn setrlimit(_: &mut Context, a: &Args) -> SysResult {
    let g: structs::Rlimit32 = structs::read(a[1])?;
    let w = |v: u32| {
        if v == u32::MAX {
            libc::RLIM_INFINITY
        } else {
            v as u64
        }
    };
    let r = libc::rlimit {
        rlim_cur: w(g.cur),
        rlim_max: w(g.max),
    };
    if own_as_limit(0, a[0]) {
        return Ok(0);
    }
    host!(libc::SYS_prlimit64, 0, a[0], &r as *const libc::rlimit, 0)
}

pub fn kill(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_kill, sx(a[0]), sx(a[1]))
}

pub fn tkill(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_tkill, sx(a[0]), sx(a[1]))
}

pub fn tgkill(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_tgkill, sx(a[0]), sx(a[1]), sx(a[2]))
}

pub fn getpgrp(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_getpgrp)
}

pub fn setsid(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_setsid)
}

pub fn getpgid(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_getpgid, sx(a[0]))
}

pub fn setpgid(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setpgid, sx(a[0]), sx(a[1]))
}

pub fn getsid(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_getsid, sx(a[0]))
}

pub fn sysinfo(_: &mut Context, a: &Args) -> SysResult {
    // SAFETY: host buffer the kernel fills.
    let mut h: libc::sysinfo = unsafe { std::mem::zeroed() };
    host!(libc::SYS_sysinfo, &mut h as *mut libc::sysinfo)?;
    structs::write(a[0], &structs::sysinfo_from(&h))?;
    Ok(0)
}

fn do_wait4(pid: u32, status: u32, options: u32, ru: u32) -> SysResult {
    // SAFETY: host buffer the kernel fills.
    let mut h: libc::rusage = unsafe { std::mem::zeroed() };
    let rp = if ru == 0 {
        0
    } else {
        &mut h as *mut libc::rusage as u64
    };
    let r = host!(libc::SYS_wait4, sx(pid), gbuf(status, 4)?, options, rp)?;
    if ru != 0 {
        structs::write(ru, &structs::rusage_from(&h))?;
    }
    Ok(r)
}

/// wait4(pid, int *status, options, struct rusage32 *).
pub fn wait4(_: &mut Context, a: &Args) -> SysResult {
    do_wait4(a[0], a[1], a[2], a[3])
}

pub fn waitpid(_: &mut Context, a: &Args) -> SysResult {
    do_wait4(a[0], a[1], a[2], 0)
}

pub fn getrusage(_: &mut Context, a: &Args) -> SysResult {
    // SAFETY: host buffer the kernel fills.
    let mut h: libc::rusage = unsafe { std::mem::zeroed() };
    host!(libc::SYS_getrusage, sx(a[0]), &mut h as *mut libc::rusage)?;
    structs::write(a[1], &structs::rusage_from(&h))?;
    Ok(0)
}

/// sched_{get,set}affinity(pid, len, mask *): a byte mask on both.
pub fn sched_getaffinity(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_sched_getaffinity,
        sx(a[0]),
        a[1],
        gbuf(a[2], a[1] as usize)?
    )
}

pub fn sched_setaffinity(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_sched_setaffinity,
        sx(a[0]),
        a[1],
        gbuf(a[2], a[1] as usize)?
    )
}

pub fn getcpu(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_getcpu, gbuf(a[0], 4)?, gbuf(a[1], 4)?, 0)
}

/// prctl: only options with int arguments or a 16-byte name pass; anything
/// that would install host state from i386 data (PR_SET_SECCOMP, PR_SET_MM,
/// ...) is refused with EINVAL.
pub fn prctl(_: &mut Context, a: &Args) -> SysResult {
    let arg2 = match a[0] as i32 {
        libc::PR_SET_NAME | libc::PR_GET_NAME => gbuf(a[1], 16)?,
        libc::PR_GET_PDEATHSIG | libc::PR_GET_CHILD_SUBREAPER => gbuf(a[1], 4)?,
        libc::PR_SET_PDEATHSIG
        | libc::PR_GET_DUMPABLE
        | libc::PR_SET_DUMPABLE
        | libc::PR_SET_TIMERSLACK
        | libc::PR_GET_TIMERSLACK
        | libc::PR_SET_NO_NEW_PRIVS
        | libc::PR_GET_NO_NEW_PRIVS
        | libc::PR_SET_CHILD_SUBREAPER
        | libc::PR_CAPBSET_READ
        | libc::PR_SET_PTRACER => a[1] as u64,
        _ => return Err(libc::EINVAL),
    };
    host!(libc::SYS_prctl, a[0], arg2, a[2], a[3], a[4])
}

/// personality: the guest runs as PER_LINUX; changes are accepted and
/// ignored (nothing here depends on them).
pub fn personality(_: &mut Context, _: &Args) -> SysResult {
    Ok(0)
}
