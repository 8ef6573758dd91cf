//! Older and rarer file calls: the pre-LFS stat family (18/28/84 with
//! `__old_kernel_stat`, 106-108 with `struct stat`), statfs/fstatfs,
//! utime/utimes/futimesat, the xattr family, the old one-entry readdir,
//! splice/tee/vmsplice, sync_file_range, preadv2/pwritev2, openat2 and
//! the file-handle calls.
//!
//! Invariant: results are written in their i386 layouts (`structs`) with
//! the compat kernel's EOVERFLOW/EINVAL rules; identical arguments (xattr
//! names and values, loff_t, file handles, open_how) pass as checked guest
//! pointers, and buffers the kernel fills are reported to the dispatcher.

use super::fs::{clamp, off64};
use super::netmsg::out_buf;
use super::{dirent, gbuf, host, structs, sx, written, Args, GuestPath, SysResult};
use crate::abi::Context;
use crate::guest_mem;

const AT_FDCWD: u64 = libc::AT_FDCWD as i64 as u64;
const NOFOLLOW: u32 = libc::AT_SYMLINK_NOFOLLOW as u32;

fn stat_at(dirfd: u64, path: &GuestPath, flags: u32) -> Result<libc::stat, i32> {
    // SAFETY: st is a host buffer the kernel fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let p = &mut st as *mut libc::stat;
    host!(libc::SYS_newfstatat, dirfd, path.ptr(), p, flags)?;
    Ok(st)
}

fn fstat(fd: u32) -> Result<libc::stat, i32> {
    // SAFETY: st is a host buffer the kernel fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    host!(libc::SYS_fstat, fd, &mut st as *mut libc::stat)?;
    Ok(st)
}

fn put_stat32(buf: u32, st: &libc::stat) -> SysResult {
    structs::write(buf, &structs::stat32_from(st)?)?;
    Ok(0)
}

fn put_old(buf: u32, st: &libc::stat) -> SysResult {
    structs::write(buf, &structs::old_stat_from(st)?)?;
    Ok(0)
}

pub fn stat(_: &mut Context, a: &Args) -> SysResult {
    put_stat32(a[1], &stat_at(AT_FDCWD, &GuestPath::read(a[0])?, 0)?)
}

pub fn lstat(_: &mut Context, a: &Args) -> SysResult {
    put_stat32(a[1], &stat_at(AT_FDCWD, &GuestPath::read(a[0])?, NOFOLLOW)?)
}

pub fn fstat32(_: &mut Context, a: &Args) -> SysResult {
    put_stat32(a[1], &fstat(a[0])?)
}

pub fn oldstat(_: &mut Context, a: &Args) -> SysResult {
    put_old(a[1], &stat_at(AT_FDCWD, &GuestPath::read(a[0])?, 0)?)
}

pub fn oldlstat(_: &mut Context, a: &Args) -> SysResult {
    put_old(a[1], &stat_at(AT_FDCWD, &GuestPath::read(a[0])?, NOFOLLOW)?)
}

pub fn oldfstat(_: &mut Context, a: &Args) -> SysResult {
    put_old(a[1], &fstat(a[0])?)
}

fn put_statfs(buf: u32, h: &structs::HostStatfs) -> SysResult {
    structs::write(buf, &structs::statfs32_from(h)?)?;
    Ok(0)
}

/// statfs(path, struct statfs *): the 32-bit statfs.
pub fn statfs(_: &mut Context, a: &Args) -> SysResult {
    put_statfs(a[1], &super::path::host_statfs(a[0])?)
}

pub fn fstatfs(_: &mut Context, a: &Args) -> SysResult {
    let mut h = structs::HostStatfs::default();
    host!(libc::SYS_fstatfs, a[0], &mut h as *mut structs::HostStatfs)?;
    put_statfs(a[1], &h)
}

fn utimens(dirfd: u64, path: Option<&GuestPath>, t: Option<[libc::timespec; 2]>) -> SysResult {
    let p = path.map_or(0, |p| p.ptr());
    let tp = t.as_ref().map_or(0, |t| t.as_ptr() as u64);
    host!(libc::SYS_utimensat, dirfd, p, tp, 0)
}

/// utime(path, struct utimbuf {i32 actime, modtime} *).
pub fn utime(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    let t = if a[1] == 0 {
        None
    } else {
        let [at, mt] = guest_mem::read_u32s::<2>(a[1])?;
        let ts = |s: u32| libc::timespec {
            tv_sec: s as i32 as i64,
            tv_nsec: 0,
        };
        Some([ts(at), ts(mt)])
    };
    utimens(AT_FDCWD, Some(&p), t)
}

/// futimesat(dirfd, path, old_timeval32 times[2]); a NULL path means dirfd.
fn futimes(dirfd: u64, path: u32, tv: u32) -> SysResult {
    let p = if path == 0 {
        None
    } else {
        Some(GuestPath::read(path)?)
    };
    let t = if tv == 0 {
        None
    } else {
        let g: [structs::Timeval32; 2] = structs::read(tv)?;
        if g.iter().any(|t| !(0..1_000_000).contains(&t.usec)) {
            return Err(libc::EINVAL);
        }
        Some(g.map(|t| libc::timespec {
            tv_sec: t.sec as i64,
            tv_nsec: t.usec as i64 * 1000,
        }))
    };
    utimens(dirfd, p.as_ref(), t)
}

pub fn utimes(_: &mut Context, a: &Args) -> SysResult {
    futimes(AT_FDCWD, a[0], a[1])
}

pub fn futimesat(_: &mut Context, a: &Args) -> SysResult {
    futimes(sx(a[0]), a[1], a[2])
}

/// An xattr name, NUL-terminated.
fn name(addr: u32) -> Result<Vec<u8>, i32> {
    let mut n = guest_mem::read_cstr(addr)?;
    n.push(0);
    Ok(n)
}

/// The first argument of an xattr call: a path (followed or not) or an fd.
enum Target {
    Path(GuestPath),
    Fd(u32),
}

impl Target {
    fn arg(&self) -> u64 {
        match self {
            Target::Path(p) => p.ptr(),
            Target::Fd(fd) => *fd as u64,
        }
    }
}

/// (path nr, lpath nr, fd nr) per xattr operation, chosen by `kind`
/// (0 path, 1 lpath, 2 fd).
fn xattr_target(
    a: &Args,
    kind: usize,
    nrs: [libc::c_long; 3],
) -> Result<(libc::c_long, Target), i32> {
    let t = if kind == 2 {
        Target::Fd(a[0])
    } else {
        Target::Path(GuestPath::read(a[0])?)
    };
    Ok((nrs[kind], t))
}

fn setxattr(a: &Args, kind: usize) -> SysResult {
    let nrs = [libc::SYS_setxattr, libc::SYS_lsetxattr, libc::SYS_fsetxattr];
    let (nr, t) = xattr_target(a, kind, nrs)?;
    let n = name(a[1])?;
    host!(
        nr,
        t.arg(),
        n.as_ptr(),
        gbuf(a[2], a[3] as usize)?,
        a[3],
        a[4]
    )
}

fn getxattr(a: &Args, kind: usize) -> SysResult {
    let nrs = [libc::SYS_getxattr, libc::SYS_lgetxattr, libc::SYS_fgetxattr];
    let (nr, t) = xattr_target(a, kind, nrs)?;
    let n = name(a[1])?;
    let len = clamp(a[2], a[3]);
    let r = host!(nr, t.arg(), n.as_ptr(), out_buf(a[2], len as usize)?, len)?;
    if a[3] != 0 {
        written(a[2], r)?;
    }
    Ok(r)
}

fn listxattr(a: &Args, kind: usize) -> SysResult {
    let nrs = [
        libc::SYS_listxattr,
        libc::SYS_llistxattr,
        libc::SYS_flistxattr,
    ];
    let (nr, t) = xattr_target(a, kind, nrs)?;
    let len = clamp(a[1], a[2]);
    let r = host!(nr, t.arg(), out_buf(a[1], len as usize)?, len)?;
    if a[2] != 0 {
        written(a[1], r)?;
    }
    Ok(r)
}

fn removexattr(a: &Args, kind: usize) -> SysResult {
    let nrs = [
        libc::SYS_removexattr,
        libc::SYS_lremovexattr,
        libc::SYS_fremovexattr,
    ];
    let (nr, t) = xattr_target(a, kind, nrs)?;
    let n = name(a[1])?;
    host!(nr, t.arg(), n.as_ptr())
}

macro_rules! xattr_calls {
    ($($name:ident => $f:ident, $kind:literal;)*) => {
        $(pub fn $name(_: &mut Context, a: &Args) -> SysResult {
            $f(a, $kind)
        })*
    };
}

xattr_calls! {
    setxattr_p => setxattr, 0; lsetxattr => setxattr, 1; fsetxattr => setxattr, 2;
    getxattr_p => getxattr, 0; lgetxattr => getxattr, 1; fgetxattr => getxattr, 2;
    listxattr_p => listxattr, 0; llistxattr => listxattr, 1; flistxattr => listxattr, 2;
    removexattr_p => removexattr, 0; lremovexattr => removexattr, 1; fremovexattr => removexattr, 2;
}

/// readdir(fd, struct old_linux_dirent *, count): one entry {u32 d_ino,
/// u32 d_offset, u16 d_namlen, name NUL}; 1, or 0 at the end.
pub fn readdir(_: &mut Context, a: &Args) -> SysResult {
    let fd = a[0];
    let pos = host!(libc::SYS_lseek, fd, 0, libc::SEEK_CUR)?;
    let mut buf = [0u8; 512];
    let n = host!(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len())? as usize;
    if n < 19 {
        return Ok(0);
    }
    let ino = u64::from_le_bytes(buf[0..8].try_into().unwrap_or_default());
    let next = i64::from_le_bytes(buf[8..16].try_into().unwrap_or_default());
    let reclen = (u16::from_le_bytes([buf[16], buf[17]]) as usize).clamp(19, n);
    let nm = &buf[19..reclen];
    let nm = &nm[..nm.iter().position(|&c| c == 0).unwrap_or(nm.len())];
    // Leave the directory just past this one entry.
    host!(libc::SYS_lseek, fd, next, libc::SEEK_SET)?;
    let ino = u32::try_from(ino).map_err(|_| libc::EOVERFLOW)?;
    let off = if pos > i32::MAX as i64 {
        dirent::cookie_of(fd as i32, pos).ok_or(libc::EOVERFLOW)?
    } else {
        pos
    };
    let mut out = ino.to_le_bytes().to_vec();
    out.extend_from_slice(&(off as u32).to_le_bytes());
    out.extend_from_slice(&(nm.len() as u16).to_le_bytes());
    out.extend_from_slice(nm);
    out.push(0);
    guest_mem::write_bytes(a[1], &out)?;
    Ok(1)
}

fn opt_off(addr: u32) -> Result<u64, i32> {
    if addr == 0 {
        Ok(0)
    } else {
        out_buf(addr, 8)
    }
}

/// splice(fd_in, loff_t *off_in, fd_out, loff_t *off_out, len, flags).
pub fn splice(_: &mut Context, a: &Args) -> SysResult {
    let (i, o) = (opt_off(a[1])?, opt_off(a[3])?);
    host!(libc::SYS_splice, sx(a[0]), i, sx(a[2]), o, a[4], a[5])
}

pub fn tee(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_tee, sx(a[0]), sx(a[1]), a[2], a[3])
}

/// vmsplice(fd, iov *, nr_segs, flags): reading from a pipe fills the
/// guest buffers.
pub fn vmsplice(_: &mut Context, a: &Args) -> SysResult {
    let iov = structs::read_iovecs(a[1], a[2])?;
    for v in &iov {
        out_buf(v.iov_base as usize as u32, v.iov_len)?;
    }
    host!(libc::SYS_vmsplice, sx(a[0]), iov.as_ptr(), iov.len(), a[3])
}

/// sync_file_range(fd, off lo, hi, nbytes lo, hi, flags).
pub fn sync_file_range(_: &mut Context, a: &Args) -> SysResult {
    let (off, n) = (off64(a[1], a[2]), off64(a[3], a[4]));
    host!(libc::SYS_sync_file_range, sx(a[0]), off, n, a[5])
}

/// preadv2/pwritev2(fd, iov *, cnt, pos lo, pos hi, flags): pos -1 is the
/// file position.
fn rwv2(nr: libc::c_long, a: &Args, reads: bool) -> SysResult {
    let iov = structs::read_iovecs(a[1], a[2])?;
    if reads {
        for v in &iov {
            out_buf(v.iov_base as usize as u32, v.iov_len)?;
        }
    }
    let r = host!(
        nr,
        sx(a[0]),
        iov.as_ptr(),
        iov.len(),
        off64(a[3], a[4]),
        0,
        a[5]
    )?;
    if reads {
        let mut left = r;
        for v in &iov {
            let k = (v.iov_len as i64).min(left);
            if k <= 0 {
                break;
            }
            written(v.iov_base as usize as u32, k)?;
            left -= k;
        }
    }
    Ok(r)
}

pub fn preadv2(_: &mut Context, a: &Args) -> SysResult {
    rwv2(libc::SYS_preadv2, a, true)
}

pub fn pwritev2(_: &mut Context, a: &Args) -> SysResult {
    rwv2(libc::SYS_pwritev2, a, false)
}

/// openat2(dirfd, path, struct open_how *, size): open_how is three u64
/// on both.
pub fn openat2(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    let how = gbuf(a[2], a[3] as usize)?;
    if a[3] >= 8 {
        let flags = guest_mem::read_u64(a[2])?;
        if let Some(r) = super::procfs::open(&p, flags as u32) {
            return r;
        }
    }
    host!(libc::SYS_openat2, sx(a[0]), p.ptr(), how, a[3])
}

/// struct file_handle {u32 handle_bytes; i32 type; bytes}: same on both.
fn handle_len(addr: u32) -> Result<usize, i32> {
    Ok(8 + (guest_mem::read_u32(addr)? as usize).min(128))
}

/// name_to_handle_at(dirfd, path, file_handle *, int *mount_id, flags).
pub fn name_to_handle_at(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    let h = out_buf(a[2], handle_len(a[2])?)?;
    host!(
        libc::SYS_name_to_handle_at,
        sx(a[0]),
        p.ptr(),
        h,
        out_buf(a[3], 4)?,
        a[4]
    )
}

pub fn open_by_handle_at(_: &mut Context, a: &Args) -> SysResult {
    let h = gbuf(a[1], handle_len(a[1])?)?;
    host!(libc::SYS_open_by_handle_at, sx(a[0]), h, a[2])
}
