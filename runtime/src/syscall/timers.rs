//! POSIX timers, timerfd, signalfd, and the clock-setting calls:
//! timer_create/settime/gettime/getoverrun/delete (sigevent converted),
//! timerfd_create/settime/gettime, clock_settime, clock_adjtime and
//! adjtimex (timex converted), settimeofday, stime, sched_rr_get_interval.
//!
//! Invariant: as `time`: the 32-bit-time calls convert
//! `old_itimerspec32`/`old_timespec32`/`old_timex32` through host copies
//! (truncating on the way back as the compat kernel); the time64 calls
//! use the host's own layouts and pass through after a range check.

use super::structs::{self, Timespec32};
use super::{gbuf, host, sx, Args, SysResult};
use crate::abi::Context;
use crate::guest_mem;

/// i386 `struct itimerspec` {interval, value} of old_timespec32.
type Itimerspec32 = [Timespec32; 2];

fn its_to_host(g: &Itimerspec32) -> libc::itimerspec {
    libc::itimerspec {
        it_interval: g[0].to_host(),
        it_value: g[1].to_host(),
    }
}

fn its_from_host(h: &libc::itimerspec) -> Itimerspec32 {
    [
        Timespec32::from_host(&h.it_interval),
        Timespec32::from_host(&h.it_value),
    ]
}

fn zero_its() -> libc::itimerspec {
    // SAFETY: plain integers; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// A settime call (timer_settime / timerfd_settime) with 32-bit values:
/// `id` is the timer or descriptor.
fn settime32(nr: libc::c_long, id: u32, flags: u32, new: u32, old: u32) -> SysResult {
    let g: Itimerspec32 = structs::read(new)?;
    let h = its_to_host(&g);
    let mut o = zero_its();
    let op = if old == 0 {
        0
    } else {
        &mut o as *mut libc::itimerspec as u64
    };
    host!(nr, sx(id), flags, &h as *const libc::itimerspec, op)?;
    if old != 0 {
        structs::write(old, &its_from_host(&o))?;
    }
    Ok(0)
}

fn gettime32(nr: libc::c_long, id: u32, cur: u32) -> SysResult {
    let mut h = zero_its();
    host!(nr, sx(id), &mut h as *mut libc::itimerspec)?;
    structs::write(cur, &its_from_host(&h))?;
    Ok(0)
}

pub fn timerfd_create(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_timerfd_create, sx(a[0]), a[1])
}

pub fn timerfd_settime(_: &mut Context, a: &Args) -> SysResult {
    settime32(libc::SYS_timerfd_settime, a[0], a[1], a[2], a[3])
}

pub fn timerfd_gettime(_: &mut Context, a: &Args) -> SysResult {
    gettime32(libc::SYS_timerfd_gettime, a[0], a[1])
}

fn opt(addr: u32, len: usize) -> Result<u64, i32> {
    if addr == 0 {
        Ok(0)
    } else {
        super::netmsg::out_buf(addr, len)
    }
}

/// timerfd_settime64(fd, flags, __kernel_itimerspec *new, *old).
pub fn timerfd_settime64(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_timerfd_settime,
        sx(a[0]),
        a[1],
        gbuf(a[2], 32)?,
        opt(a[3], 32)?
    )
}

pub fn timerfd_gettime64(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_timerfd_gettime, sx(a[0]), opt(a[1], 32)?)
}

/// timer_create(clockid, struct sigevent *, timer_t *id).
pub fn timer_create(_: &mut Context, a: &Args) -> SysResult {
    let id = super::netmsg::out_buf(a[2], 4)?;
    if a[1] == 0 {
        return host!(libc::SYS_timer_create, sx(a[0]), 0, id);
    }
    let g: structs::Sigevent32 = structs::read(a[1])?;
    let h = structs::sigevent_to_host(&g);
    host!(
        libc::SYS_timer_create,
        sx(a[0]),
        &h as *const structs::HostSigevent,
        id
    )
}

pub fn timer_settime(_: &mut Context, a: &Args) -> SysResult {
    settime32(libc::SYS_timer_settime, a[0], a[1], a[2], a[3])
}

pub fn timer_gettime(_: &mut Context, a: &Args) -> SysResult {
    gettime32(libc::SYS_timer_gettime, a[0], a[1])
}

pub fn timer_settime64(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_timer_settime,
        sx(a[0]),
        a[1],
        gbuf(a[2], 32)?,
        opt(a[3], 32)?
    )
}

pub fn timer_gettime64(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_timer_gettime, sx(a[0]), opt(a[1], 32)?)
}

pub fn timer_getoverrun(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_timer_getoverrun, sx(a[0]))
}

pub fn timer_delete(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_timer_delete, sx(a[0]))
}

pub fn clock_settime(_: &mut Context, a: &Args) -> SysResult {
    let t: Timespec32 = structs::read(a[1])?;
    let h = t.to_host();
    host!(
        libc::SYS_clock_settime,
        sx(a[0]),
        &h as *const libc::timespec
    )
}

pub fn clock_settime64(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_clock_settime, sx(a[0]), gbuf(a[1], 16)?)
}

/// stime(old_time32_t *t): set the realtime clock to whole seconds.
pub fn stime(_: &mut Context, a: &Args) -> SysResult {
    let s = guest_mem::read_u32(a[0])? as i32;
    let h = libc::timespec {
        tv_sec: s as i64,
        tv_nsec: 0,
    };
    host!(
        libc::SYS_clock_settime,
        libc::CLOCK_REALTIME,
        &h as *const libc::timespec
    )
}

/// settimeofday(old_timeval32 *, struct timezone *): timezone is two ints.
pub fn settimeofday(_: &mut Context, a: &Args) -> SysResult {
    let tv = if a[0] == 0 {
        None
    } else {
        Some(structs::read::<structs::Timeval32>(a[0])?.to_host())
    };
    let tvp = tv.as_ref().map_or(0, |t| t as *const libc::timeval as u64);
    host!(libc::SYS_settimeofday, tvp, gbuf(a[1], 8)?)
}

fn adjtime32(clock: u64, buf: u32) -> SysResult {
    let g: structs::Timex32 = structs::read(buf)?;
    let mut h = structs::timex_to_host(&g);
    let r = host!(libc::SYS_clock_adjtime, clock, &mut h as *mut libc::timex)?;
    structs::write(buf, &structs::timex_from_host(&h))?;
    Ok(r)
}

/// clock_adjtime(clockid, struct old_timex32 *).
pub fn clock_adjtime(_: &mut Context, a: &Args) -> SysResult {
    adjtime32(sx(a[0]), a[1])
}

/// adjtimex(struct old_timex32 *): clock_adjtime on CLOCK_REALTIME.
pub fn adjtimex(_: &mut Context, a: &Args) -> SysResult {
    adjtime32(libc::CLOCK_REALTIME as u64, a[0])
}

/// clock_adjtime64(clockid, struct __kernel_timex *): the host's timex.
pub fn clock_adjtime64(_: &mut Context, a: &Args) -> SysResult {
    let n = std::mem::size_of::<libc::timex>();
    host!(
        libc::SYS_clock_adjtime,
        sx(a[0]),
        super::netmsg::out_buf(a[1], n)?
    )
}

/// sched_rr_get_interval(pid, old_timespec32 *).
pub fn sched_rr_get_interval(_: &mut Context, a: &Args) -> SysResult {
    let mut h = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    host!(
        libc::SYS_sched_rr_get_interval,
        sx(a[0]),
        &mut h as *mut libc::timespec
    )?;
    structs::write(a[1], &Timespec32::from_host(&h))?;
    Ok(0)
}

pub fn sched_rr_get_interval_time64(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_sched_rr_get_interval,
        sx(a[0]),
        super::netmsg::out_buf(a[1], 16)?
    )
}

/// signalfd4(fd, sigset *, sizemask, flags): the 64-bit mask is the same;
/// the compat kernel insists on an 8-byte size.
fn signalfd4_common(fd: u32, mask: u32, size: u32, flags: u32) -> SysResult {
    if size != 8 {
        return Err(libc::EINVAL);
    }
    host!(libc::SYS_signalfd4, sx(fd), gbuf(mask, 8)?, 8, flags)
}

pub fn signalfd(_: &mut Context, a: &Args) -> SysResult {
    signalfd4_common(a[0], a[1], a[2], 0)
}

pub fn signalfd4(_: &mut Context, a: &Args) -> SysResult {
    signalfd4_common(a[0], a[1], a[2], a[3])
}
