//! Descriptor control: ioctl, fcntl, poll, select, epoll, eventfd.
//!
//! Invariant: only requests whose argument layout is identical on i386 and
//! x86-64 are passed through; the rest are converted (flock, fd_set,
//! timeval) or refused (ENOTTY/EINVAL) so that no host kernel ever reads an
//! i386 structure as its own.

use super::{gbuf, host, structs, sx, Args, SysResult};
use crate::abi::Context;
use crate::log;

/// ioctl requests whose argument is the same on i386 and x86-64: (request,
/// size of the pointed-to argument, 0 for an int passed by value).
/// termios is 36 bytes and termios2 44 on both; winsize 8; the rest int.
const IOCTLS: &[(u32, usize)] = &[
    (0x5401, 36),     // TCGETS
    (0x5402, 36),     // TCSETS
    (0x5403, 36),     // TCSETSW
    (0x5404, 36),     // TCSETSF
    (0x5409, 0),      // TCSBRK
    (0x540A, 0),      // TCXONC
    (0x540B, 0),      // TCFLSH
    (0x540C, 0),      // TIOCEXCL
    (0x540D, 0),      // TIOCNXCL
    (0x540E, 0),      // TIOCSCTTY
    (0x540F, 4),      // TIOCGPGRP
    (0x5410, 4),      // TIOCSPGRP
    (0x5411, 4),      // TIOCOUTQ
    (0x5413, 8),      // TIOCGWINSZ
    (0x5414, 8),      // TIOCSWINSZ
    (0x5415, 4),      // TIOCMGET
    (0x5416, 4),      // TIOCMBIS
    (0x5417, 4),      // TIOCMBIC
    (0x5418, 4),      // TIOCMSET
    (0x541B, 4),      // FIONREAD
    (0x5421, 4),      // FIONBIO
    (0x5422, 0),      // TIOCNOTTY
    (0x5424, 4),      // TIOCGETD
    (0x5425, 0),      // TCSBRKP
    (0x5429, 4),      // TIOCGSID
    (0x5441, 0),      // TIOCGPTPEER
    (0x5450, 0),      // FIONCLEX
    (0x5451, 0),      // FIOCLEX
    (0x5452, 4),      // FIOASYNC
    (0x802c542a, 44), // TCGETS2
    (0x402c542b, 44), // TCSETS2
    (0x402c542c, 44), // TCSETSW2
    (0x402c542d, 44), // TCSETSF2
    (0x80045430, 4),  // TIOCGPTN
    (0x40045431, 4),  // TIOCSPTLCK
];

pub fn ioctl(_: &mut Context, a: &Args) -> SysResult {
    let Some(&(_, size)) = IOCTLS.iter().find(|&&(c, _)| c == a[1]) else {
        if let Some(r) = super::ioctl::converted(a) {
            return r;
        }
        if log::enabled(log::SYSCALLS) {
            log::line(&format!(
                "ioctl({}, {:#x}): request not translated -> ENOTTY",
                a[0] as i32, a[1]
            ));
        }
        return Err(libc::ENOTTY);
    };
    let arg = if size == 0 {
        sx(a[2])
    } else {
        gbuf(a[2], size)?
    };
    host!(libc::SYS_ioctl, a[0], a[1], arg)
}

const F_SETSIG: i32 = 10;
const F_GETSIG: i32 = 11;
const F_GETLK64: i32 = 12;
const F_SETOWN_EX: i32 = 15;
const F_GETOWN_EX: i32 = 16;
const F_SETLKW64: i32 = 14;
const F_OFD_GETLK: i32 = 36;
const F_OFD_SETLKW: i32 = 38;

fn lock64(fd: u32, host_cmd: i32, arg: u32) -> SysResult {
    let f: structs::Flock64_32 = structs::read(arg)?;
    let mut h = structs::flock64_to_host(&f);
    let r = host!(libc::SYS_fcntl, fd, host_cmd, &mut h as *mut libc::flock)?;
    if host_cmd == libc::F_GETLK || host_cmd == F_OFD_GETLK {
        structs::write(arg, &structs::flock64_from_host(&h))?;
    }
    Ok(r)
}

fn lock32(fd: u32, cmd: i32, arg: u32) -> SysResult {
    let f: structs::Flock32 = structs::read(arg)?;
    let mut h = structs::flock32_to_host(&f);
    let r = host!(libc::SYS_fcntl, fd, cmd, &mut h as *mut libc::flock)?;
    if cmd == libc::F_GETLK {
        structs::write(arg, &structs::flock32_from_host(&h)?)?;
    }
    Ok(r)
}

fn fcntl_common(a: &Args, is64: bool) -> SysResult {
    let (fd, cmd, arg) = (a[0], a[1] as i32, a[2]);
    match cmd {
        F_GETLK64..=F_SETLKW64 if is64 => lock64(fd, cmd - 7, arg),
        F_OFD_GETLK..=F_OFD_SETLKW if is64 => lock64(fd, cmd, arg),
        F_GETLK64..=F_SETLKW64 | F_OFD_GETLK..=F_OFD_SETLKW => Err(libc::EINVAL),
        libc::F_GETLK | libc::F_SETLK | libc::F_SETLKW => lock32(fd, cmd, arg),
        // struct f_owner_ex {int type; pid_t pid}: same on both.
        F_SETOWN_EX | F_GETOWN_EX => host!(libc::SYS_fcntl, fd, cmd, gbuf(arg, 8)?),
        // Read/write hints: pointer to u64.
        1035..=1038 => host!(libc::SYS_fcntl, fd, cmd, gbuf(arg, 8)?),
        libc::F_DUPFD
        | libc::F_GETFD
        | libc::F_SETFD
        | libc::F_GETFL
        | libc::F_SETFL
        | libc::F_SETOWN
        | libc::F_GETOWN
        | F_SETSIG
        | F_GETSIG
        | libc::F_SETLEASE
        | libc::F_GETLEASE
        | libc::F_NOTIFY
        | libc::F_CANCELLK
        | libc::F_DUPFD_CLOEXEC
        | libc::F_SETPIPE_SZ
        | libc::F_GETPIPE_SZ
        | libc::F_ADD_SEALS
        | libc::F_GET_SEALS => host!(libc::SYS_fcntl, fd, cmd, sx(arg)),
        _ => Err(libc::EINVAL),
    }
}

pub fn fcntl(_: &mut Context, a: &Args) -> SysResult {
    fcntl_common(a, false)
}

pub fn fcntl64(_: &mut Context, a: &Args) -> SysResult {
    fcntl_common(a, true)
}

/// poll(struct pollfd *fds, nfds, int timeout): pollfd is the same.
pub fn poll(_: &mut Context, a: &Args) -> SysResult {
    let n = a[1] as usize;
    host!(
        libc::SYS_poll,
        gbuf(a[0], n.saturating_mul(8))?,
        a[1],
        sx(a[2])
    )
}

/// ppoll_time64(fds, nfds, timespec64 *tsp, sigset *, sigsetsize).
pub fn ppoll_time64(_: &mut Context, a: &Args) -> SysResult {
    let n = a[1] as usize;
    let fds = gbuf(a[0], n.saturating_mul(8))?;
    host!(
        libc::SYS_ppoll,
        fds,
        a[1],
        gbuf(a[2], 16)?,
        gbuf(a[3], 8)?,
        a[4]
    )
}

/// ppoll(fds, nfds, old_timespec32 *tsp, sigset *, sigsetsize).
pub fn ppoll(_: &mut Context, a: &Args) -> SysResult {
    let n = a[1] as usize;
    let fds = gbuf(a[0], n.saturating_mul(8))?;
    if a[2] == 0 {
        return host!(libc::SYS_ppoll, fds, a[1], 0, gbuf(a[3], 8)?, a[4]);
    }
    let t: structs::Timespec32 = structs::read(a[2])?;
    let mut ts = t.to_host();
    let r = host!(
        libc::SYS_ppoll,
        fds,
        a[1],
        &mut ts as *mut libc::timespec,
        gbuf(a[3], 8)?,
        a[4]
    );
    structs::write(a[2], &structs::Timespec32::from_host(&ts))?;
    r
}

/// The three fd_sets of a select call, copied from the guest. i386
/// fd_sets are arrays of u32, the host's of u64: the bits sit at the same
/// place (little-endian), but the host would touch up to 4 bytes past the
/// guest's set, so each set goes through a host buffer.
struct FdSets {
    nfds: i32,
    addrs: [u32; 3],
    sets: [Option<Vec<u8>>; 3],
}

impl FdSets {
    fn read(nfds: u32, addrs: [u32; 3]) -> Result<FdSets, i32> {
        let nfds = nfds as i32;
        if !(0..=1 << 20).contains(&nfds) {
            return Err(libc::EINVAL);
        }
        let mut sets: [Option<Vec<u8>>; 3] = [None, None, None];
        for (s, &p) in sets.iter_mut().zip(&addrs) {
            if p != 0 {
                let mut v = crate::guest_mem::read_bytes(p, Self::gbytes(nfds))?;
                v.resize((nfds as usize).div_ceil(64) * 8, 0);
                *s = Some(v);
            }
        }
        Ok(FdSets { nfds, addrs, sets })
    }

    fn gbytes(nfds: i32) -> usize {
        (nfds as usize).div_ceil(32) * 4
    }

    fn ptrs(&mut self) -> [u64; 3] {
        let p = |s: &mut Option<Vec<u8>>| s.as_mut().map_or(0, |v| v.as_mut_ptr() as u64);
        let [r, w, e] = &mut self.sets;
        [p(r), p(w), p(e)]
    }

    fn write_back(&self) -> Result<(), i32> {
        for (s, &p) in self.sets.iter().zip(&self.addrs) {
            if let Some(v) = s {
                crate::guest_mem::write_bytes(p, &v[..Self::gbytes(self.nfds)])?;
            }
        }
        Ok(())
    }
}

/// _newselect(nfds, fd_set *r, *w, *e, old_timeval32 *timeout).
pub fn newselect(_: &mut Context, a: &Args) -> SysResult {
    let mut fs = FdSets::read(a[0], [a[1], a[2], a[3]])?;
    let mut tv = None;
    if a[4] != 0 {
        let t: structs::Timeval32 = structs::read(a[4])?;
        tv = Some(t.to_host());
    }
    let tvp = tv.as_mut().map_or(0, |t| t as *mut libc::timeval as u64);
    let [r, w, e] = fs.ptrs();
    let res = host!(libc::SYS_select, fs.nfds, r, w, e, tvp);
    if let Some(t) = &tv {
        structs::write(a[4], &structs::Timeval32::from_host(t))?;
    }
    let n = res?;
    fs.write_back()?;
    Ok(n)
}

/// pselect6's sixth argument: i386 {u32 sigset *, u32 size} -> host
/// {sigset *, size} (64-bit fields).
fn sigmask_arg(addr: u32) -> Result<Option<[u64; 2]>, i32> {
    if addr == 0 {
        return Ok(None);
    }
    let [set, size] = crate::guest_mem::read_u32s::<2>(addr)?;
    Ok(Some([gbuf(set, 8)?, size as u64]))
}

fn pselect(a: &Args, ts: u64) -> SysResult {
    let mut fs = FdSets::read(a[0], [a[1], a[2], a[3]])?;
    let sm = sigmask_arg(a[5])?;
    let smp = sm.as_ref().map_or(0, |m| m.as_ptr() as u64);
    let [r, w, e] = fs.ptrs();
    let n = host!(libc::SYS_pselect6, fs.nfds, r, w, e, ts, smp)?;
    fs.write_back()?;
    Ok(n)
}

/// pselect6(nfds, r, w, e, old_timespec32 *timeout, sigmask arg *).
pub fn pselect6(_: &mut Context, a: &Args) -> SysResult {
    if a[4] == 0 {
        return pselect(a, 0);
    }
    let t: structs::Timespec32 = structs::read(a[4])?;
    let mut ts = t.to_host();
    let r = pselect(a, &mut ts as *mut libc::timespec as u64);
    structs::write(a[4], &structs::Timespec32::from_host(&ts))?;
    r
}

/// pselect6_time64: the timeout is the host's timespec.
pub fn pselect6_time64(_: &mut Context, a: &Args) -> SysResult {
    let ts = if a[4] == 0 { 0 } else { gbuf(a[4], 16)? };
    pselect(a, ts)
}

/// epoll_create(size): size must be positive.
pub fn epoll_create(_: &mut Context, a: &Args) -> SysResult {
    if (a[0] as i32) <= 0 {
        return Err(libc::EINVAL);
    }
    host!(libc::SYS_epoll_create1, 0)
}

pub fn epoll_create1(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_epoll_create1, a[0])
}

/// epoll_event is 12 bytes, packed, on both.
pub fn epoll_ctl(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_epoll_ctl, a[0], a[1], a[2], gbuf(a[3], 12)?)
}

fn events(addr: u32, max: u32) -> Result<u64, i32> {
    gbuf(addr, (max as usize).saturating_mul(12))
}

pub fn epoll_wait(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_epoll_wait,
        a[0],
        events(a[1], a[2])?,
        a[2],
        sx(a[3])
    )
}

/// epoll_pwait(epfd, events, maxevents, timeout, sigset *, sigsetsize).
pub fn epoll_pwait(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_epoll_pwait,
        a[0],
        events(a[1], a[2])?,
        a[2],
        sx(a[3]),
        gbuf(a[4], 8)?,
        a[5]
    )
}

pub fn eventfd(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_eventfd2, a[0], 0)
}

pub fn eventfd2(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_eventfd2, a[0], a[1])
}
