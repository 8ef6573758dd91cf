//! File-descriptor I/O: read/write families, open/close, seeks, dup, pipe,
//! sync, truncate, sendfile.
//!
//! Invariant: buffers passed to the host are clamped so they end at 4 GiB
//! at the latest (the kernel cannot reach host memory through them), and
//! bulk data the kernel writes into guest memory is reported to the
//! dispatcher (`written`), since it may overwrite translated code.

use super::{dirent, gbuf, host, structs, sx, written, Args, GuestPath, SysResult};
use crate::abi::Context;
use crate::guest_mem;
use libc::c_long;

/// Length of a guest buffer, cut where it would cross 4 GiB (the kernel
/// then stops at the last guest byte, as it would at an unmapped page).
pub(super) fn clamp(addr: u32, len: u32) -> u64 {
    (len as u64).min(crate::memory::GUEST_END - addr as u64)
}

/// 64-bit offset from an i386 (low, high) register pair.
pub(super) fn off64(lo: u32, hi: u32) -> u64 {
    (hi as u64) << 32 | lo as u64
}

pub fn read(_: &mut Context, a: &Args) -> SysResult {
    will_write(a[1], clamp(a[1], a[2]));
    let r = host!(libc::SYS_read, a[0], a[1], clamp(a[1], a[2]))?;
    written(a[1], r)
}

pub fn write(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_write, a[0], a[1], clamp(a[1], a[2]))
}

pub fn pread64(_: &mut Context, a: &Args) -> SysResult {
    will_write(a[1], clamp(a[1], a[2]));
    let r = host!(
        libc::SYS_pread64,
        a[0],
        a[1],
        clamp(a[1], a[2]),
        off64(a[3], a[4])
    )?;
    written(a[1], r)
}

pub fn pwrite64(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_pwrite64,
        a[0],
        a[1],
        clamp(a[1], a[2]),
        off64(a[3], a[4])
    )
}

/// The kernel is about to write [addr, addr+len): drop translations of code
/// there first (and the write protection that would make the call fail).
fn will_write(addr: u32, len: u64) {
    crate::memory::notify_change(addr, len.min(u32::MAX as u64) as u32);
}

/// Report every buffer of a vector read as written (up to `n` bytes).
fn written_iov(iov: &[libc::iovec], mut n: i64) -> SysResult {
    let total = n;
    for v in iov {
        if n <= 0 {
            break;
        }
        let k = (v.iov_len as i64).min(n);
        written(v.iov_base as usize as u32, k)?;
        n -= k;
    }
    Ok(total)
}

fn vec_io(nr: c_long, a: &Args, off: Option<u64>, reads: bool) -> SysResult {
    let iov = structs::read_iovecs(a[1], a[2])?;
    if reads {
        for v in &iov {
            will_write(v.iov_base as usize as u32, v.iov_len as u64);
        }
    }
    let p = iov.as_ptr() as u64;
    let r = match off {
        // x86-64 takes the whole offset in pos_l (pos_h is shifted out).
        Some(o) => host!(nr, a[0], p, iov.len(), o, 0)?,
        None => host!(nr, a[0], p, iov.len())?,
    };
    if reads {
        written_iov(&iov, r)
    } else {
        Ok(r)
    }
}

pub fn readv(_: &mut Context, a: &Args) -> SysResult {
    vec_io(libc::SYS_readv, a, None, true)
}

pub fn writev(_: &mut Context, a: &Args) -> SysResult {
    vec_io(libc::SYS_writev, a, None, false)
}

pub fn preadv(_: &mut Context, a: &Args) -> SysResult {
    vec_io(libc::SYS_preadv, a, Some(off64(a[3], a[4])), true)
}

pub fn pwritev(_: &mut Context, a: &Args) -> SysResult {
    vec_io(libc::SYS_pwritev, a, Some(off64(a[3], a[4])), false)
}

pub fn open(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    if let Some(r) = super::procfs::open(&p, a[1]) {
        return r;
    }
    host!(
        libc::SYS_openat,
        sx(libc::AT_FDCWD as u32),
        p.ptr(),
        a[1],
        a[2]
    )
}

pub fn openat(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    if let Some(r) = super::procfs::open(&p, a[2]) {
        return r;
    }
    host!(libc::SYS_openat, sx(a[0]), p.ptr(), a[2], a[3])
}

pub fn creat(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC;
    host!(
        libc::SYS_openat,
        sx(libc::AT_FDCWD as u32),
        p.ptr(),
        flags,
        a[1]
    )
}

pub fn close(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_close, a[0])
}

/// lseek(fd, off_t offset, whence): 32-bit offset; EOVERFLOW if the new
/// position does not fit (directory positions become small cookies).
pub fn lseek(_: &mut Context, a: &Args) -> SysResult {
    let fd = a[0] as i32;
    let off = dirent::seek_arg(fd, a[1] as i32 as i64, a[2] as i32);
    let r = host!(libc::SYS_lseek, sx(a[0]), off, a[2])?;
    if r <= i32::MAX as i64 {
        return Ok(r);
    }
    dirent::cookie_of(fd, r).ok_or(libc::EOVERFLOW)
}

/// _llseek(fd, offset_high, offset_low, loff_t *result, whence).
pub fn llseek(_: &mut Context, a: &Args) -> SysResult {
    let fd = a[0] as i32;
    let off = dirent::seek_arg(fd, off64(a[2], a[1]) as i64, a[4] as i32);
    let r = host!(libc::SYS_lseek, sx(a[0]), off, a[4])?;
    let r = if r > i32::MAX as i64 {
        dirent::cookie_of(fd, r).unwrap_or(r)
    } else {
        r
    };
    guest_mem::write_u64(a[3], r as u64)?;
    Ok(0)
}

pub fn dup(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_dup, a[0])
}

pub fn dup2(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_dup2, a[0], a[1])
}

pub fn dup3(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_dup3, a[0], a[1], a[2])
}

/// pipe(int fds[2]): the int pair is the same on both.
pub fn pipe(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_pipe2, gbuf(a[0], 8)?, 0)
}

pub fn pipe2(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_pipe2, gbuf(a[0], 8)?, a[1])
}

pub fn fsync(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fsync, a[0])
}

pub fn fdatasync(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fdatasync, a[0])
}

pub fn ftruncate(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_ftruncate, a[0], sx(a[1]))
}

/// ftruncate64(fd, length_low, length_high).
pub fn ftruncate64(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_ftruncate, a[0], off64(a[1], a[2]))
}

pub fn truncate(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_truncate, p.ptr(), sx(a[1]))
}

pub fn truncate64(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_truncate, p.ptr(), off64(a[1], a[2]))
}

pub fn flock(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_flock, a[0], a[1])
}

/// sendfile64(out_fd, in_fd, loff_t *offset, count): loff_t is the same.
pub fn sendfile64(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_sendfile, a[0], a[1], gbuf(a[2], 8)?, a[3])
}

/// sendfile(out_fd, in_fd, off_t *offset, count): 32-bit offset.
pub fn sendfile(_: &mut Context, a: &Args) -> SysResult {
    if a[2] == 0 {
        return host!(libc::SYS_sendfile, a[0], a[1], 0, a[3]);
    }
    let mut off = guest_mem::read_u32(a[2])? as i32 as i64;
    let r = host!(libc::SYS_sendfile, a[0], a[1], &mut off as *mut i64, a[3])?;
    guest_mem::write_u32(a[2], off as u32)?;
    Ok(r)
}

/// fadvise64_64(fd, offset lo, hi, len lo, hi, advice).
pub fn fadvise64_64(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_fadvise64,
        a[0],
        off64(a[1], a[2]),
        off64(a[3], a[4]),
        a[5]
    )
}

/// fadvise64(fd, offset lo, hi, u32 len, advice).
pub fn fadvise64(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fadvise64, a[0], off64(a[1], a[2]), a[3], a[4])
}

/// fallocate(fd, mode, offset lo, hi, len lo, hi).
pub fn fallocate(_: &mut Context, a: &Args) -> SysResult {
    host!(
        libc::SYS_fallocate,
        a[0],
        a[1],
        off64(a[2], a[3]),
        off64(a[4], a[5])
    )
}
