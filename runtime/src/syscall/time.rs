//! Clocks, sleeps, timers and futexes.
//!
//! Invariant: the 32-bit-time calls (old_timespec32/old_timeval32, i32
//! seconds) convert through `structs` (truncating results as the compat
//! kernel does); the time64 calls use `__kernel_timespec`, which is the
//! host's own timespec, and pass through after a range check.

use super::{gbuf, host, structs, sx, Args, SysResult};
use crate::abi::Context;
use crate::guest_mem;
use structs::{Timespec32, Timeval32};

fn now(clock: libc::clockid_t) -> Result<libc::timespec, i32> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    host!(
        libc::SYS_clock_gettime,
        clock,
        &mut ts as *mut libc::timespec
    )?;
    Ok(ts)
}

/// time(time_t *t): i32 seconds.
pub fn time(_: &mut Context, a: &Args) -> SysResult {
    let s = now(libc::CLOCK_REALTIME)?.tv_sec as i32;
    if a[0] != 0 {
        guest_mem::write_u32(a[0], s as u32)?;
    }
    Ok(s as i64)
}

/// gettimeofday(old_timeval32 *tv, struct timezone *tz): timezone is two
/// ints on both.
pub fn gettimeofday(_: &mut Context, a: &Args) -> SysResult {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    host!(
        libc::SYS_gettimeofday,
        &mut tv as *mut libc::timeval,
        gbuf(a[1], 8)?
    )?;
    if a[0] != 0 {
        structs::write(a[0], &Timeval32::from_host(&tv))?;
    }
    Ok(0)
}

pub fn clock_gettime(_: &mut Context, a: &Args) -> SysResult {
    let ts = now(a[0] as i32)?;
    structs::write(a[1], &Timespec32::from_host(&ts))?;
    Ok(0)
}

pub fn clock_getres(_: &mut Context, a: &Args) -> SysResult {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    host!(
        libc::SYS_clock_getres,
        sx(a[0]),
        &mut ts as *mut libc::timespec
    )?;
    if a[1] != 0 {
        structs::write(a[1], &Timespec32::from_host(&ts))?;
    }
    Ok(0)
}

pub fn clock_gettime64(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_clock_gettime, sx(a[0]), gbuf(a[1], 16)?)
}

pub fn clock_getres_time64(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_clock_getres, sx(a[0]), gbuf(a[1], 16)?)
}

/// Sleep with a 32-bit request; the remainder is written back (if asked)
/// when interrupted.
fn sleep32(clock: Option<(u64, u64)>, req: u32, rem: u32) -> SysResult {
    let r: Timespec32 = structs::read(req)?;
    let req = r.to_host();
    let mut left = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let (rp, lp) = (
        &req as *const libc::timespec,
        &mut left as *mut libc::timespec,
    );
    let res = match clock {
        Some((clk, flags)) => host!(libc::SYS_clock_nanosleep, clk, flags, rp, lp),
        None => host!(libc::SYS_nanosleep, rp, lp),
    };
    let abs = clock.is_some_and(|(_, f)| f & libc::TIMER_ABSTIME as u64 != 0);
    if res == Err(libc::EINTR) && rem != 0 && !abs {
        structs::write(rem, &Timespec32::from_host(&left))?;
    }
    res
}

pub fn nanosleep(_: &mut Context, a: &Args) -> SysResult {
    sleep32(None, a[0], a[1])
}

/// clock_nanosleep(clockid, flags, req, rem).
pub fn clock_nanosleep(_: &mut Context, a: &Args) -> SysResult {
    sleep32(Some((sx(a[0]), a[1] as u64)), a[2], a[3])
}

pub fn clock_nanosleep_time64(_: &mut Context, a: &Args) -> SysResult {
    let rem = if a[3] == 0 { 0 } else { gbuf(a[3], 16)? };
    host!(
        libc::SYS_clock_nanosleep,
        sx(a[0]),
        a[1],
        gbuf(a[2], 16)?,
        rem
    )
}

pub fn sched_yield(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_sched_yield)
}

pub fn alarm(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_alarm, a[0])
}

/// times(struct tms *): four 32-bit clock_t; the result is truncated too.
pub fn times(_: &mut Context, a: &Args) -> SysResult {
    // SAFETY: host buffer the kernel fills.
    let mut t: libc::tms = unsafe { std::mem::zeroed() };
    let r = host!(libc::SYS_times, &mut t as *mut libc::tms)?;
    if a[0] != 0 {
        let g = structs::Tms32 {
            t: [
                t.tms_utime as i32,
                t.tms_stime as i32,
                t.tms_cutime as i32,
                t.tms_cstime as i32,
            ],
        };
        structs::write(a[0], &g)?;
    }
    Ok(r as i32 as i64)
}

fn itv_from(h: &libc::itimerval) -> [Timeval32; 2] {
    [
        Timeval32::from_host(&h.it_interval),
        Timeval32::from_host(&h.it_value),
    ]
}

/// getitimer(which, struct itimerval32 *).
pub fn getitimer(_: &mut Context, a: &Args) -> SysResult {
    // SAFETY: host buffer the kernel fills.
    let mut h: libc::itimerval = unsafe { std::mem::zeroed() };
    host!(
        libc::SYS_getitimer,
        sx(a[0]),
        &mut h as *mut libc::itimerval
    )?;
    structs::write(a[1], &itv_from(&h))?;
    Ok(0)
}

/// setitimer(which, const itimerval32 *new, itimerval32 *old).
pub fn setitimer(_: &mut Context, a: &Args) -> SysResult {
    // SAFETY: host buffers; all-zero itimervals are valid.
    let (mut new, mut old): (libc::itimerval, libc::itimerval) = unsafe { std::mem::zeroed() };
    if a[1] != 0 {
        let g: [Timeval32; 2] = structs::read(a[1])?;
        new.it_interval = g[0].to_host();
        new.it_value = g[1].to_host();
    }
    let newp = if a[1] == 0 {
        0
    } else {
        &new as *const libc::itimerval as u64
    };
    host!(
        libc::SYS_setitimer,
        sx(a[0]),
        newp,
        &mut old as *mut libc::itimerval
    )?;
    if a[2] != 0 {
        structs::write(a[2], &itv_from(&old))?;
    }
    Ok(0)
}

/// Futex operations whose fourth argument is a timeout (else it is val2).
fn has_timeout(op: u32) -> bool {
    matches!(op & 0x7f, 0 | 6 | 9 | 11 | 13)
}

/// futex(uaddr, op, val, old_timespec32 *timeout | val2, uaddr2, val3):
/// futex words are guest addresses, which are host addresses.
pub fn futex(_: &mut Context, a: &Args) -> SysResult {
    let uaddr = gbuf(a[0], 4)?;
    let uaddr2 = gbuf(a[4], 4)?;
    if has_timeout(a[1]) && a[3] != 0 {
        let t: Timespec32 = structs::read(a[3])?;
        let ts = t.to_host();
        return host!(
            libc::SYS_futex,
            uaddr,
            a[1],
            a[2],
            &ts as *const libc::timespec,
            uaddr2,
            a[5]
        );
    }
    host!(libc::SYS_futex, uaddr, a[1], a[2], a[3], uaddr2, a[5])
}

/// futex_time64: __kernel_timespec is the host timespec.
pub fn futex_time64(_: &mut Context, a: &Args) -> SysResult {
    let t = if has_timeout(a[1]) && a[3] != 0 {
        gbuf(a[3], 16)?
    } else {
        a[3] as u64
    };
    host!(
        libc::SYS_futex,
        gbuf(a[0], 4)?,
        a[1],
        a[2],
        t,
        gbuf(a[4], 4)?,
        a[5]
    )
}
