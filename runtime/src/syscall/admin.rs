//! System-administration calls whose arguments are paths, strings and
//! ints: mount, umount, umount2, pivot_root, acct, swapon, swapoff,
//! fanotify_init/fanotify_mark, mlock2.
//!
//! Invariant: nothing is converted; paths go through `GuestPath` (as every
//! path does), other pointers are checked guest pointers, and the i386
//! 64-bit mask of fanotify_mark arrives as a register pair. mlock2 only
//! locks ranges the guest has mapped (ENOMEM otherwise, as the reservation
//! is not guest memory).

use super::fs::off64;
use super::path::{opt_path, ptr};
use super::{gbuf, host, sx, Args, GuestPath, SysResult};
use crate::abi::Context;
use crate::memory::{self, page_up, GUEST_END, PAGE};

/// An optional string argument that is not a path (a file-system type).
fn opt_str(addr: u32) -> Result<Option<Vec<u8>>, i32> {
    if addr == 0 {
        return Ok(None);
    }
    let mut s = crate::guest_mem::read_cstr(addr)?;
    s.push(0);
    Ok(Some(s))
}

/// mount(source, target, fstype, flags, data): the kernel copies at most a
/// page of `data` (a string for most file systems).
pub fn mount(_: &mut Context, a: &Args) -> SysResult {
    let (src, dst) = (opt_path(a[0])?, GuestPath::read(a[1])?);
    let fstype = opt_str(a[2])?;
    let fp = fstype.as_ref().map_or(0, |s| s.as_ptr() as u64);
    let data = if a[4] == 0 {
        0
    } else {
        let n = (PAGE - a[4] % PAGE) as usize;
        gbuf(a[4], n)?
    };
    host!(libc::SYS_mount, ptr(&src), dst.ptr(), fp, a[3], data)
}

/// umount (22, oldumount): umount2 without flags.
pub fn umount(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_umount2, p.ptr(), 0)
}

pub fn umount2(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_umount2, p.ptr(), a[1])
}

pub fn pivot_root(_: &mut Context, a: &Args) -> SysResult {
    let (n, o) = (GuestPath::read(a[0])?, GuestPath::read(a[1])?);
    host!(libc::SYS_pivot_root, n.ptr(), o.ptr())
}

/// acct(path): NULL turns accounting off.
pub fn acct(_: &mut Context, a: &Args) -> SysResult {
    let p = opt_path(a[0])?;
    host!(libc::SYS_acct, ptr(&p))
}

pub fn swapon(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_swapon, p.ptr(), a[1])
}

pub fn swapoff(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_swapoff, p.ptr())
}

/// fanotify_init(flags, event_f_flags): the event records read from it
/// (fanotify_event_metadata) have the same layout on both.
pub fn fanotify_init(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fanotify_init, a[0], a[1])
}

/// fanotify_mark(fd, flags, mask lo, mask hi, dirfd, path).
pub fn fanotify_mark(_: &mut Context, a: &Args) -> SysResult {
    let p = opt_path(a[5])?;
    let mask = off64(a[2], a[3]);
    host!(
        libc::SYS_fanotify_mark,
        sx(a[0]),
        a[1],
        mask,
        sx(a[4]),
        ptr(&p)
    )
}

/// mlock2(addr, len, flags) over guest mappings only.
pub fn mlock2(_: &mut Context, a: &Args) -> SysResult {
    let start = a[0] & !(PAGE - 1);
    let end = page_up(a[0] as u64 + a[1] as u64);
    if end > GUEST_END {
        return Err(libc::ENOMEM);
    }
    if end > start as u64 && !memory::is_mapped(start, (end - start as u64) as u32) {
        return Err(libc::ENOMEM);
    }
    host!(libc::SYS_mlock2, start, end - start as u64, a[2])
}
