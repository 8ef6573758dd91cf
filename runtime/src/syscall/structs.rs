//! i386 structure layouts and their conversions to and from the host's.
//!
//! Invariant: every i386 structure the system-call layer reads or writes is
//! declared here, `#[repr(C)]` (with `packed(4)` where i386 aligns 64-bit
//! fields to 4), with its size and field offsets pinned by const asserts
//! taken from the kernel's i386 headers. Guest memory is only touched
//! through `guest_mem` (EFAULT on bad pointers). File-system structures
//! are here, per-task ones (rlimit, user_desc, sigaction, stack_t,
//! sysinfo, rusage, tms) in `task`, SysV IPC ones in `ipc`, socket ones
//! in `net`, and older or rarer ones (pre-LFS stat, statfs, sigevent,
//! timex) in `compat`.

use crate::guest_mem;
use std::mem::{offset_of, size_of};

mod compat;
pub mod ipc;
pub mod net;
mod task;
pub use compat::*;
pub use task::*;

/// Marker for plain i386 structures that may be copied to and from guest
/// bytes.
///
/// # Safety
/// Implementors are `#[repr(C)]`, contain only integers (or arrays/structs
/// of them) and have no implicit padding, so every byte pattern is valid.
pub unsafe trait Plain: Copy + Default {}

/// Read a `T` from guest memory.
pub fn read<T: Plain>(addr: u32) -> Result<T, i32> {
    let mut t = T::default();
    // SAFETY: T: Plain, so its bytes may be overwritten with any pattern.
    let b = unsafe { std::slice::from_raw_parts_mut(&mut t as *mut T as *mut u8, size_of::<T>()) };
    guest_mem::read_into(addr, b)?;
    Ok(t)
}

/// Write a `T` to guest memory.
pub fn write<T: Plain>(addr: u32, t: &T) -> Result<(), i32> {
    guest_mem::write_bytes(addr, bytes_of(t))
}

pub fn bytes_of<T: Plain>(t: &T) -> &[u8] {
    // SAFETY: T: Plain has no padding, so all its bytes are initialized.
    unsafe { std::slice::from_raw_parts(t as *const T as *const u8, size_of::<T>()) }
}

/// `struct stat64` of arch/x86/include/uapi/asm/stat.h (i386): 96 bytes.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Default)]
pub struct Stat64 {
    pub st_dev: u64,
    pub pad0: [u8; 4],
    pub st_ino32: u32,
    pub st_mode: u32,
    pub st_nlink: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub st_rdev: u64,
    pub pad3: [u8; 4],
    pub st_size: i64,
    pub st_blksize: u32,
    pub st_blocks: u64,
    pub st_atime: u32,
    pub st_atime_nsec: u32,
    pub st_mtime: u32,
    pub st_mtime_nsec: u32,
    pub st_ctime: u32,
    pub st_ctime_nsec: u32,
    pub st_ino: u64,
}

/// As the kernel's `cp_stat64` (arch/x86/kernel/sys_ia32.c): the inode is
/// stored twice (truncated and whole), times are truncated to 32 bits.
pub fn stat64_from(st: &libc::stat) -> Stat64 {
    Stat64 {
        st_dev: st.st_dev,
        st_ino32: st.st_ino as u32,
        st_mode: st.st_mode,
        st_nlink: st.st_nlink as u32,
        st_uid: st.st_uid,
        st_gid: st.st_gid,
        st_rdev: st.st_rdev,
        st_size: st.st_size,
        st_blksize: st.st_blksize as u32,
        st_blocks: st.st_blocks as u64,
        st_atime: st.st_atime as u32,
        st_atime_nsec: st.st_atime_nsec as u32,
        st_mtime: st.st_mtime as u32,
        st_mtime_nsec: st.st_mtime_nsec as u32,
        st_ctime: st.st_ctime as u32,
        st_ctime_nsec: st.st_ctime_nsec as u32,
        st_ino: st.st_ino,
        ..Default::default()
    }
}

/// `struct compat_iovec`: {u32 base, u32 len}, 8 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Iovec32 {
    pub base: u32,
    pub len: u32,
}

/// UIO_MAXIOV.
pub const IOV_MAX: u32 = 1024;

/// Convert guest iovecs to host ones, as the compat kernel does: more than
/// IOV_MAX entries or a negative (as i32) length -> EINVAL; a buffer that
/// would reach past 4 GiB -> EFAULT.
pub fn iovecs_from(v: &[Iovec32]) -> Result<Vec<libc::iovec>, i32> {
    if v.len() > IOV_MAX as usize {
        return Err(libc::EINVAL);
    }
    let mut out = Vec::with_capacity(v.len());
    for e in v {
        if (e.len as i32) < 0 {
            return Err(libc::EINVAL);
        }
        guest_mem::check_range(e.base, e.len as usize)?;
        out.push(libc::iovec {
            iov_base: e.base as usize as *mut _,
            iov_len: e.len as usize,
        });
    }
    Ok(out)
}

/// Read `cnt` guest iovecs at `addr` and convert them.
pub fn read_iovecs(addr: u32, cnt: u32) -> Result<Vec<libc::iovec>, i32> {
    if cnt > IOV_MAX {
        return Err(libc::EINVAL);
    }
    let raw = guest_mem::read_bytes(addr, cnt as usize * 8)?;
    let v: Vec<Iovec32> = raw
        .chunks_exact(8)
        .map(|c| Iovec32 {
            base: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            len: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    iovecs_from(&v)
}

/// `struct old_timespec32` {i32 sec, i32 nsec}.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Timespec32 {
    pub sec: i32,
    pub nsec: i32,
}

impl Timespec32 {
    pub fn to_host(self) -> libc::timespec {
        libc::timespec {
            tv_sec: self.sec as i64,
            tv_nsec: self.nsec as i64,
        }
    }
    /// Truncating, as the kernel's `put_old_timespec32`.
    pub fn from_host(t: &libc::timespec) -> Timespec32 {
        Timespec32 {
            sec: t.tv_sec as i32,
            nsec: t.tv_nsec as i32,
        }
    }
}

/// `struct old_timeval32` {i32 sec, i32 usec}.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Timeval32 {
    pub sec: i32,
    pub usec: i32,
}

impl Timeval32 {
    pub fn from_host(t: &libc::timeval) -> Timeval32 {
        Timeval32 {
            sec: t.tv_sec as i32,
            usec: t.tv_usec as i32,
        }
    }
    pub fn to_host(self) -> libc::timeval {
        libc::timeval {
            tv_sec: self.sec as i64,
            tv_usec: self.usec as i64,
        }
    }
}

/// i386 `struct flock` (F_GETLK/F_SETLK/F_SETLKW = 5/6/7): 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Flock32 {
    pub l_type: i16,
    pub l_whence: i16,
    pub l_start: i32,
    pub l_len: i32,
    pub l_pid: i32,
}

/// i386 `struct flock64` (F_GETLK64.. = 12/13/14, OFD locks): 24 bytes,
/// 64-bit fields at 4-byte alignment. The host's is 32 bytes.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Default)]
pub struct Flock64_32 {
    pub l_type: i16,
    pub l_whence: i16,
    pub l_start: i64,
    pub l_len: i64,
    pub l_pid: i32,
}

pub fn flock64_to_host(f: &Flock64_32) -> libc::flock {
    // SAFETY: libc::flock is plain integers; all-zero is valid.
    let mut h: libc::flock = unsafe { std::mem::zeroed() };
    h.l_type = f.l_type;
    h.l_whence = f.l_whence;
    h.l_start = f.l_start;
    h.l_len = f.l_len;
    h.l_pid = f.l_pid;
    h
}

pub fn flock64_from_host(h: &libc::flock) -> Flock64_32 {
    Flock64_32 {
        l_type: h.l_type,
        l_whence: h.l_whence,
        l_start: h.l_start,
        l_len: h.l_len,
        l_pid: h.l_pid,
    }
}

pub fn flock32_to_host(f: &Flock32) -> libc::flock {
    let w = Flock64_32 {
        l_type: f.l_type,
        l_whence: f.l_whence,
        l_start: f.l_start as i64,
        l_len: f.l_len as i64,
        l_pid: f.l_pid,
    };
    flock64_to_host(&w)
}

/// EOVERFLOW when start/len do not fit (as the compat kernel).
pub fn flock32_from_host(h: &libc::flock) -> Result<Flock32, i32> {
    let start = i32::try_from(h.l_start).map_err(|_| libc::EOVERFLOW)?;
    let len = i32::try_from(h.l_len).map_err(|_| libc::EOVERFLOW)?;
    Ok(Flock32 {
        l_type: h.l_type,
        l_whence: h.l_whence,
        l_start: start,
        l_len: len,
        l_pid: h.l_pid,
    })
}

/// i386 `struct statfs64` (compat_statfs64, packed, aligned 4): 84 bytes.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Default)]
pub struct Statfs64 {
    pub f_type: u32,
    pub f_bsize: u32,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: u32,
    pub f_frsize: u32,
    pub f_flags: u32,
    pub f_spare: [u32; 4],
}

/// The x86-64 kernel's `struct statfs` (libc hides f_flags): 120 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct HostStatfs {
    pub f_type: i64,
    pub f_bsize: i64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: i64,
    pub f_frsize: i64,
    pub f_flags: i64,
    pub f_spare: [i64; 4],
}

pub fn statfs64_from(h: &HostStatfs) -> Statfs64 {
    Statfs64 {
        f_type: h.f_type as u32,
        f_bsize: h.f_bsize as u32,
        f_blocks: h.f_blocks,
        f_bfree: h.f_bfree,
        f_bavail: h.f_bavail,
        f_files: h.f_files,
        f_ffree: h.f_ffree,
        f_fsid: h.f_fsid,
        f_namelen: h.f_namelen as u32,
        f_frsize: h.f_frsize as u32,
        f_flags: h.f_flags as u32,
        f_spare: [0; 4],
    }
}

// SAFETY (all): repr(C) integer-only structs without implicit padding, as
// the size asserts below check.
unsafe impl Plain for Stat64 {}
unsafe impl Plain for Iovec32 {}
unsafe impl Plain for Timespec32 {}
unsafe impl Plain for Timeval32 {}
unsafe impl Plain for Flock32 {}
unsafe impl Plain for Flock64_32 {}
unsafe impl Plain for Statfs64 {}
unsafe impl Plain for HostStatfs {}
unsafe impl Plain for u32 {}
unsafe impl Plain for u64 {}
unsafe impl Plain for [u32; 2] {}
unsafe impl Plain for [Timeval32; 2] {}
unsafe impl Plain for [Timespec32; 2] {}

const _: () = {
    assert!(size_of::<Stat64>() == 96);
    assert!(offset_of!(Stat64, st_ino32) == 12);
    assert!(offset_of!(Stat64, st_rdev) == 32);
    assert!(offset_of!(Stat64, st_size) == 44);
    assert!(offset_of!(Stat64, st_blocks) == 56);
    assert!(offset_of!(Stat64, st_ino) == 88);
    assert!(size_of::<Iovec32>() == 8);
    assert!(size_of::<Timespec32>() == 8);
    assert!(size_of::<Flock32>() == 16);
    assert!(size_of::<Flock64_32>() == 24);
    assert!(offset_of!(Flock64_32, l_pid) == 20);
    assert!(size_of::<Statfs64>() == 84);
    assert!(size_of::<HostStatfs>() == 120);
    assert!(offset_of!(Statfs64, f_fsid) == 48);
};

#[cfg(test)]
mod tests;
