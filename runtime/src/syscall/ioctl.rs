//! ioctl requests beyond `fdctl`'s pass-through allowlist: more terminal
//! and file requests with identical arguments, requests whose i386 number
//! differs from the host's (FS_IOC32_*), and socket requests whose
//! argument differs (old timestamps, `struct ifreq` 32 vs 40 bytes,
//! `struct ifconf`).
//!
//! Invariant: as in `fdctl`, the host kernel never reads or writes an
//! i386 structure as its own: identical arguments pass as checked guest
//! pointers, the others go through host buffers converted here; anything
//! not listed stays ENOTTY.

use super::netmsg::out_buf;
use super::{gbuf, host, structs, sx, Args, SysResult};
use crate::guest_mem;

/// (request, argument size; 0 = int by value, usize::MAX = no argument
/// read), arguments the same on i386 and x86-64.
const SAME: &[(u32, usize)] = &[
    (0x0001, 4),      // FIBMAP
    (0x0002, 4),      // FIGETBSZ
    (0x5412, 1),      // TIOCSTI
    (0x5419, 4),      // TIOCGSOFTCAR
    (0x541A, 4),      // TIOCSSOFTCAR
    (0x541D, 0),      // TIOCCONS
    (0x5420, 4),      // TIOCPKT
    (0x5423, 4),      // TIOCSETD
    (0x5426, 0),      // TIOCSBRK
    (0x5427, 0),      // TIOCCBRK
    (0x5437, 0),      // TIOCVHANGUP
    (0x5456, 36),     // TIOCGLCKTRMIOS
    (0x5457, 36),     // TIOCSLCKTRMIOS
    (0x545C, 0),      // TIOCMIWAIT
    (0x545D, 80),     // TIOCGICOUNT
    (0x5460, 8),      // FIOQSIZE
    (0x8901, 4),      // FIOSETOWN
    (0x8902, 4),      // SIOCSPGRP
    (0x8903, 4),      // FIOGETOWN
    (0x8904, 4),      // SIOCGPGRP
    (0x8905, 4),      // SIOCATMARK
    (0x894B, 4),      // SIOCOUTQNSD
    (0x40045436, 0),  // TIOCSIG
    (0x80045432, 4),  // TIOCGDEV
    (0x80045438, 4),  // TIOCGPKT
    (0x80045439, 4),  // TIOCGPTLCK
    (0x80045440, 4),  // TIOCGEXCL
    (0x40049409, 0),  // FICLONE
    (0x4020940d, 32), // FICLONERANGE
    (0xc0045877, 0),  // FIFREEZE
    (0xc0045878, 0),  // FITHAW
];

/// FS_IOC32_* (i386 numbers, `long` in the size field) -> host numbers;
/// the argument is an int either way.
const RENUMBERED: &[(u32, u32)] = &[
    (0x80046601, 0x80086601), // FS_IOC_GETFLAGS
    (0x40046602, 0x40086602), // FS_IOC_SETFLAGS
    (0x80047601, 0x80087601), // FS_IOC_GETVERSION
    (0x40047602, 0x40087602), // FS_IOC_SETVERSION
];

/// `struct ifreq` requests whose union member has no pointer or long:
/// (request, the kernel writes the structure back).
const IFREQ: &[(u32, bool)] = &[
    (0x8910, true),  // SIOCGIFNAME
    (0x8913, true),  // SIOCGIFFLAGS
    (0x8914, false), // SIOCSIFFLAGS
    (0x8915, true),  // SIOCGIFADDR
    (0x8916, false), // SIOCSIFADDR
    (0x8917, true),  // SIOCGIFDSTADDR
    (0x8918, false), // SIOCSIFDSTADDR
    (0x8919, true),  // SIOCGIFBRDADDR
    (0x891a, false), // SIOCSIFBRDADDR
    (0x891b, true),  // SIOCGIFNETMASK
    (0x891c, false), // SIOCSIFNETMASK
    (0x891d, true),  // SIOCGIFMETRIC
    (0x891e, false), // SIOCSIFMETRIC
    (0x8921, true),  // SIOCGIFMTU
    (0x8922, false), // SIOCSIFMTU
    (0x8923, false), // SIOCSIFNAME
    (0x8924, false), // SIOCSIFHWADDR
    (0x8927, true),  // SIOCGIFHWADDR
    (0x8931, false), // SIOCADDMULTI
    (0x8932, false), // SIOCDELMULTI
    (0x8933, true),  // SIOCGIFINDEX
    (0x8934, false), // SIOCSIFPFLAGS
    (0x8935, true),  // SIOCGIFPFLAGS
    (0x8936, false), // SIOCDIFADDR
    (0x8937, false), // SIOCSIFHWBROADCAST
    (0x8942, true),  // SIOCGIFTXQLEN
    (0x8943, false), // SIOCSIFTXQLEN
];

const SIOCGIFCONF: u32 = 0x8912;
const SIOCGSTAMP_OLD: u32 = 0x8906;
const SIOCGSTAMPNS_OLD: u32 = 0x8907;
const IFREQ32: usize = 32;
const IFREQ64: usize = 40;

/// Handle `ioctl(a[0], a[1], a[2])` if the request is one of this module's.
pub fn converted(a: &Args) -> Option<SysResult> {
    let (fd, req, arg) = (a[0], a[1], a[2]);
    if let Some(&(_, size)) = SAME.iter().find(|e| e.0 == req) {
        return Some(match size {
            0 => host!(libc::SYS_ioctl, fd, req, sx(arg)),
            n => out_buf(arg, n).and_then(|p| host!(libc::SYS_ioctl, fd, req, p)),
        });
    }
    if let Some(&(_, h)) = RENUMBERED.iter().find(|e| e.0 == req) {
        return Some(out_buf(arg, 4).and_then(|p| host!(libc::SYS_ioctl, fd, h, p)));
    }
    if let Some(&(_, get)) = IFREQ.iter().find(|e| e.0 == req) {
        return Some(ifreq(fd, req, arg, get));
    }
    match req {
        SIOCGIFCONF => Some(ifconf(fd, arg)),
        SIOCGSTAMP_OLD | SIOCGSTAMPNS_OLD => Some(stamp(fd, req, arg)),
        _ => None,
    }
}

fn ifreq(fd: u32, req: u32, arg: u32, get: bool) -> SysResult {
    let mut h = [0u8; IFREQ64];
    guest_mem::read_into(arg, &mut h[..IFREQ32])?;
    let r = host!(libc::SYS_ioctl, fd, req, h.as_mut_ptr())?;
    if get {
        guest_mem::write_bytes(arg, &h[..IFREQ32])?;
    }
    Ok(r)
}

/// SIOCGIFCONF: i386 {i32 len; u32 buf} of 32-byte ifreqs; host {i32;
/// u64} of 40-byte ones.
fn ifconf(fd: u32, arg: u32) -> SysResult {
    let [len, buf] = guest_mem::read_u32s::<2>(arg)?;
    let len = (len as i32).max(0) as usize;
    let n = if buf == 0 { 0 } else { len / IFREQ32 };
    let mut reqs = vec![0u8; n * IFREQ64];
    let mut h: [u64; 2] = [(n * IFREQ64) as u64, 0];
    if buf != 0 {
        h[1] = reqs.as_mut_ptr() as u64;
    }
    let r = host!(libc::SYS_ioctl, fd, SIOCGIFCONF, h.as_mut_ptr())?;
    let got = (h[0] as u32 as usize) / IFREQ64;
    if buf != 0 {
        let mut out = Vec::with_capacity(got * IFREQ32);
        for c in reqs.chunks_exact(IFREQ64).take(got) {
            out.extend_from_slice(&c[..IFREQ32]);
        }
        guest_mem::write_bytes(buf, &out)?;
    }
    guest_mem::write_u32(arg, (got * IFREQ32) as u32)?;
    Ok(r)
}

/// SIOCGSTAMP_OLD / SIOCGSTAMPNS_OLD: host timeval/timespec -> i386.
fn stamp(fd: u32, req: u32, arg: u32) -> SysResult {
    let mut t = [0i64; 2];
    gbuf(arg, 8)?;
    let r = host!(libc::SYS_ioctl, fd, req, t.as_mut_ptr())?;
    let g = structs::Timespec32 {
        sec: t[0] as i32,
        nsec: t[1] as i32,
    };
    structs::write(arg, &g)?;
    Ok(r)
}
