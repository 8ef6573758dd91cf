//! Calls whose arguments are ints, paths, or pointers to structures laid out
//! the same on i386 and x86-64, passed straight to the host: credentials,
//! priorities and scheduler parameters, sync, inotify, memfd, close_range,
//! copy_file_range, readahead, chroot, pause.
//!
//! Invariant: nothing here converts anything; an argument that is not an
//! int or an identical structure does not belong in this module. `int`
//! arguments are sign-extended, pointers checked to stay below 4 GiB.

use super::fs::off64;
use super::{gbuf, host, sx, Args, GuestPath, SysResult};
use crate::abi::Context;

pub fn setuid32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setuid, a[0])
}

pub fn setgid32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setgid, a[0])
}

pub fn setreuid32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setreuid, a[0], a[1])
}

pub fn setregid32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setregid, a[0], a[1])
}

pub fn setresuid32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setresuid, a[0], a[1], a[2])
}

pub fn setresgid32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setresgid, a[0], a[1], a[2])
}

pub fn getpriority(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_getpriority, sx(a[0]), sx(a[1]))
}

pub fn setpriority(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setpriority, sx(a[0]), sx(a[1]), sx(a[2]))
}

/// struct sched_param is one int on both.
pub fn sched_getparam(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_sched_getparam, sx(a[0]), gbuf(a[1], 4)?)
}

pub fn sched_setparam(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_sched_setparam, sx(a[0]), gbuf(a[1], 4)?)
}

pub fn sched_setscheduler(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_sched_setscheduler,
        sx(a[0]),
        sx(a[1]),
        gbuf(a[2], 4)?
    )
}

pub fn sched_getscheduler(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_sched_getscheduler, sx(a[0]))
}

pub fn sched_get_priority_max(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_sched_get_priority_max, sx(a[0]))
}

pub fn sched_get_priority_min(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_sched_get_priority_min, sx(a[0]))
}

pub fn sync(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_sync)
}

pub fn syncfs(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_syncfs, a[0])
}

pub fn pause(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_pause)
}

pub fn chroot(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_chroot, p.ptr())
}

pub fn close_range(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_close_range, a[0], a[1], a[2])
}

/// memfd_create(const char *name, flags): the name is not a path.
pub fn memfd_create(_: &mut Context, a: &Args) -> SysResult {
    let mut name = crate::guest_mem::read_cstr(a[0])?;
    name.push(0);
    host!(libc::SYS_memfd_create, name.as_ptr(), a[1])
}

/// inotify_event {int wd; u32 mask, cookie, len; name} is the same.
pub fn inotify_init(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_inotify_init1, 0)
}

pub fn inotify_init1(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_inotify_init1, a[0])
}

pub fn inotify_add_watch(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_inotify_add_watch, a[0], p.ptr(), a[2])
}

pub fn inotify_rm_watch(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_inotify_rm_watch, a[0], sx(a[1]))
}

/// copy_file_range(fd_in, loff_t *off_in, fd_out, loff_t *off_out, len, flags).
pub fn copy_file_range(_: &mut Context, a: &Args) -> SysResult {
    let (i, o) = (gbuf(a[1], 8)?, gbuf(a[3], 8)?);
    host!(libc::SYS_copy_file_range, a[0], i, a[2], o, a[4], a[5])
}

/// readahead(fd, offset lo, hi, count).
pub fn readahead(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_readahead, a[0], off64(a[1], a[2]), a[3])
}
