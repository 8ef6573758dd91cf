//! Path-based calls: stat family, access, readlink, directory and link
//! management, chmod/chown, cwd, statfs, utimensat.
//!
//! Invariant: paths are read through `GuestPath` (EFAULT/ENAMETOOLONG as the
//! kernel, `/proc/self/exe` naming the guest program), and stat-like
//! results are converted to their i386 layouts in `structs`.

use super::fs::clamp;
use super::{gbuf, guest_exe, host, is_self_exe, structs, sx, Args, GuestPath, SysResult};
use crate::abi::Context;
use crate::guest_mem;

const AT_FDCWD: u64 = libc::AT_FDCWD as i64 as u64;

/// Host pointer for an optional path argument (NULL stays NULL: fstatat,
/// statx and utimensat accept it with AT_EMPTY_PATH or a NULL meaning fd).
pub(super) fn opt_path(addr: u32) -> Result<Option<GuestPath>, i32> {
    if addr == 0 {
        Ok(None)
    } else {
        GuestPath::read(addr).map(Some)
    }
}

pub(super) fn ptr(p: &Option<GuestPath>) -> u64 {
    p.as_ref().map_or(0, |p| p.ptr())
}

fn put_stat(buf: u32, st: &libc::stat) -> SysResult {
    structs::write(buf, &structs::stat64_from(st))?;
    Ok(0)
}

fn fstatat(dirfd: u64, path: u64, buf: u32, flags: u32) -> SysResult {
    // SAFETY: st is a host buffer the kernel fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    host!(
        libc::SYS_newfstatat,
        dirfd,
        path,
        &mut st as *mut libc::stat,
        flags
    )?;
    put_stat(buf, &st)
}

pub fn stat64(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    fstatat(AT_FDCWD, p.ptr(), a[1], 0)
}

pub fn lstat64(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    fstatat(AT_FDCWD, p.ptr(), a[1], libc::AT_SYMLINK_NOFOLLOW as u32)
}

pub fn fstat64(_: &mut Context, a: &Args) -> SysResult {
    // SAFETY: st is a host buffer the kernel fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    host!(libc::SYS_fstat, a[0], &mut st as *mut libc::stat)?;
    put_stat(a[1], &st)
}

/// fstatat64(dirfd, path, struct stat64 *buf, flags).
pub fn fstatat64(_: &mut Context, a: &Args) -> SysResult {
    let p = opt_path(a[1])?;
    fstatat(sx(a[0]), ptr(&p), a[2], a[3])
}

/// statx(dirfd, path, flags, mask, struct statx *buf): same layout.
pub fn statx(_: &mut Context, a: &Args) -> SysResult {
    let p = opt_path(a[1])?;
    host!(
        libc::SYS_statx,
        sx(a[0]),
        ptr(&p),
        a[2],
        a[3],
        gbuf(a[4], 256)?
    )
}

pub fn access(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_faccessat, AT_FDCWD, p.ptr(), a[1])
}

pub fn faccessat(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_faccessat, sx(a[0]), p.ptr(), a[2])
}

pub fn faccessat2(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_faccessat2, sx(a[0]), p.ptr(), a[2], a[3])
}

fn do_readlink(dirfd: u64, path: u32, buf: u32, size: u32) -> SysResult {
    if (size as i32) <= 0 {
        return Err(libc::EINVAL);
    }
    let raw = guest_mem::read_cstr(path)?;
    let exe = guest_exe();
    if is_self_exe(&raw) && !exe.is_empty() {
        let n = exe.len().min(size as usize);
        guest_mem::write_bytes(buf, &exe[..n])?;
        return Ok(n as i64);
    }
    let mut p = raw;
    p.push(0);
    host!(
        libc::SYS_readlinkat,
        dirfd,
        p.as_ptr(),
        buf,
        clamp(buf, size)
    )
}

pub fn readlink(_: &mut Context, a: &Args) -> SysResult {
    do_readlink(AT_FDCWD, a[0], a[1], a[2])
}

pub fn readlinkat(_: &mut Context, a: &Args) -> SysResult {
    do_readlink(sx(a[0]), a[1], a[2], a[3])
}

pub fn unlink(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_unlinkat, AT_FDCWD, p.ptr(), 0)
}

pub fn unlinkat(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_unlinkat, sx(a[0]), p.ptr(), a[2])
}

pub fn rmdir(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_unlinkat, AT_FDCWD, p.ptr(), libc::AT_REMOVEDIR)
}

pub fn mkdir(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_mkdirat, AT_FDCWD, p.ptr(), a[1])
}

pub fn mkdirat(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_mkdirat, sx(a[0]), p.ptr(), a[2])
}

pub fn rename(_: &mut Context, a: &Args) -> SysResult {
    let (o, n) = (GuestPath::read(a[0])?, GuestPath::read(a[1])?);
    host!(libc::SYS_renameat2, AT_FDCWD, o.ptr(), AT_FDCWD, n.ptr(), 0)
}

pub fn renameat(_: &mut Context, a: &Args) -> SysResult {
    let (o, n) = (GuestPath::read(a[1])?, GuestPath::read(a[3])?);
    host!(libc::SYS_renameat2, sx(a[0]), o.ptr(), sx(a[2]), n.ptr(), 0)
}

pub fn renameat2(_: &mut Context, a: &Args) -> SysResult {
    let (o, n) = (GuestPath::read(a[1])?, GuestPath::read(a[3])?);
    host!(
        libc::SYS_renameat2,
        sx(a[0]),
        o.ptr(),
        sx(a[2]),
        n.ptr(),
        a[4]
    )
}

pub fn link(_: &mut Context, a: &Args) -> SysResult {
    let (o, n) = (GuestPath::read(a[0])?, GuestPath::read(a[1])?);
    host!(libc::SYS_linkat, AT_FDCWD, o.ptr(), AT_FDCWD, n.ptr(), 0)
}

pub fn linkat(_: &mut Context, a: &Args) -> SysResult {
    let (o, n) = (GuestPath::read(a[1])?, GuestPath::read(a[3])?);
    host!(libc::SYS_linkat, sx(a[0]), o.ptr(), sx(a[2]), n.ptr(), a[4])
}

/// The link target is stored as given, never rewritten.
fn target(addr: u32) -> Result<Vec<u8>, i32> {
    let mut t = guest_mem::read_cstr(addr)?;
    t.push(0);
    Ok(t)
}

pub fn symlink(_: &mut Context, a: &Args) -> SysResult {
    let (t, n) = (target(a[0])?, GuestPath::read(a[1])?);
    host!(libc::SYS_symlinkat, t.as_ptr(), AT_FDCWD, n.ptr())
}

pub fn symlinkat(_: &mut Context, a: &Args) -> SysResult {
    let (t, n) = (target(a[0])?, GuestPath::read(a[2])?);
    host!(libc::SYS_symlinkat, t.as_ptr(), sx(a[1]), n.ptr())
}

pub fn chdir(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_chdir, p.ptr())
}

pub fn fchdir(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fchdir, a[0])
}

/// getcwd(buf, size): returns the length including the NUL, like the kernel.
pub fn getcwd(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_getcwd, a[0], clamp(a[0], a[1]))
}

pub fn chmod(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_fchmodat, AT_FDCWD, p.ptr(), a[1])
}

pub fn fchmod(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fchmod, a[0], a[1])
}

pub fn fchmodat(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_fchmodat, sx(a[0]), p.ptr(), a[2])
}

pub fn chown32(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_fchownat, AT_FDCWD, p.ptr(), a[1], a[2], 0)
}

pub fn lchown32(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(
        libc::SYS_fchownat,
        AT_FDCWD,
        p.ptr(),
        a[1],
        a[2],
        libc::AT_SYMLINK_NOFOLLOW
    )
}

pub fn fchown32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fchown, a[0], a[1], a[2])
}

pub fn fchownat(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_fchownat, sx(a[0]), p.ptr(), a[2], a[3], a[4])
}

/// utimensat(dirfd, path, old_timespec32 times[2], flags).
pub fn utimensat(_: &mut Context, a: &Args) -> SysResult {
    let p = opt_path(a[1])?;
    if a[2] == 0 {
        return host!(libc::SYS_utimensat, sx(a[0]), ptr(&p), 0, a[3]);
    }
    let t: [structs::Timespec32; 2] = [structs::read(a[2])?, structs::read(a[2] + 8)?];
    let h = [t[0].to_host(), t[1].to_host()];
    host!(libc::SYS_utimensat, sx(a[0]), ptr(&p), h.as_ptr(), a[3])
}

/// utimensat_time64: __kernel_timespec is the host timespec.
pub fn utimensat_time64(_: &mut Context, a: &Args) -> SysResult {
    let p = opt_path(a[1])?;
    let t = if a[2] == 0 { 0 } else { gbuf(a[2], 32)? };
    host!(libc::SYS_utimensat, sx(a[0]), ptr(&p), t, a[3])
}

fn put_statfs(size: u32, buf: u32, h: &structs::HostStatfs) -> SysResult {
    if size as usize != std::mem::size_of::<structs::Statfs64>() {
        return Err(libc::EINVAL);
    }
    structs::write(buf, &structs::statfs64_from(h))?;
    Ok(0)
}

/// statfs64(path, size, struct statfs64 *buf).
pub fn statfs64(_: &mut Context, a: &Args) -> SysResult {
    put_statfs(a[1], a[2], &host_statfs(a[0])?)
}

/// The host statfs of the file at guest path `path` (statfs, statfs64).
pub(super) fn host_statfs(path: u32) -> Result<structs::HostStatfs, i32> {
    let p = GuestPath::read(path)?;
    let mut h = structs::HostStatfs::default();
    host!(
        libc::SYS_statfs,
        p.ptr(),
        &mut h as *mut structs::HostStatfs
    )?;
    Ok(h)
}

/// fstatfs64(fd, size, struct statfs64 *buf).
pub fn fstatfs64(_: &mut Context, a: &Args) -> SysResult {
    let mut h = structs::HostStatfs::default();
    host!(libc::SYS_fstatfs, a[0], &mut h as *mut structs::HostStatfs)?;
    put_statfs(a[1], a[2], &h)
}

/// mknodat(dirfd, path, mode, dev) / mknod(path, mode, dev): the i386
/// dev_t argument is the kernel's old 32-bit encoding, the same number.
pub fn mknod(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_mknodat, AT_FDCWD, p.ptr(), a[1], a[2])
}

pub fn mknodat(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_mknodat, sx(a[0]), p.ptr(), a[2], a[3])
}
