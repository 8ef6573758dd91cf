//! Older or rarer i386 structures (part of `structs`): the pre-LFS
//! `struct stat` (compat_stat) and `__old_kernel_stat`, the 32-bit
//! `statfs`, `sigevent`, `timex`, the old `utsname`s, with the conversions
//! the compat kernel does (`cp_compat_stat`, `cp_old_stat`,
//! `put_compat_statfs`, `get_compat_sigevent`, `get/put_old_timex32`).
//!
//! Invariant: sizes and offsets pinned below from arch/x86/include/asm/
//! compat.h and uapi headers; values that do not fit give EOVERFLOW exactly
//! where the compat kernel gives it, and are truncated where it truncates.

use super::{Plain, Timeval32};
use std::mem::{offset_of, size_of};

/// i386 `struct stat` (compat_stat, calls 106-108): 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Stat32 {
    pub dev: u32,
    pub ino: u32,
    pub mode: u16,
    pub nlink: u16,
    pub uid: u16,
    pub gid: u16,
    pub rdev: u32,
    pub size: u32,
    pub blksize: u32,
    pub blocks: u32,
    pub times: [u32; 6],
    pub unused: [u32; 2],
}

/// `struct __old_kernel_stat` (calls 18, 28, 84): 32 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct OldStat {
    pub dev: u16,
    pub ino: u16,
    pub mode: u16,
    pub nlink: u16,
    pub uid: u16,
    pub gid: u16,
    pub rdev: u16,
    pub pad: u16,
    pub size: u32,
    pub atime: u32,
    pub mtime: u32,
    pub ctime: u32,
}

/// The kernel's `new_encode_dev` of a host dev_t.
fn new_dev(d: u64) -> u32 {
    let (ma, mi) = (libc::major(d), libc::minor(d));
    (mi & 0xff) | (ma << 8) | ((mi & !0xff) << 12)
}

/// The kernel's `old_encode_dev` (8-bit major and minor).
fn old_dev(d: u64) -> u16 {
    ((libc::major(d) << 8) | (libc::minor(d) & 0xff)) as u16
}

fn low(id: u32) -> u16 {
    super::ipc::high2low(id)
}

/// As `cp_compat_stat`: EOVERFLOW for an inode, link count or size that
/// does not fit.
pub fn stat32_from(st: &libc::stat) -> Result<Stat32, i32> {
    let ino = u32::try_from(st.st_ino).map_err(|_| libc::EOVERFLOW)?;
    let nlink = u16::try_from(st.st_nlink).map_err(|_| libc::EOVERFLOW)?;
    if st.st_size as u64 > i32::MAX as u64 {
        return Err(libc::EOVERFLOW);
    }
    Ok(Stat32 {
        dev: new_dev(st.st_dev),
        ino,
        mode: st.st_mode as u16,
        nlink,
        uid: low(st.st_uid),
        gid: low(st.st_gid),
        rdev: new_dev(st.st_rdev),
        size: st.st_size as u32,
        blksize: st.st_blksize as u32,
        blocks: st.st_blocks as u32,
        times: [
            st.st_atime as u32,
            st.st_atime_nsec as u32,
            st.st_mtime as u32,
            st.st_mtime_nsec as u32,
            st.st_ctime as u32,
            st.st_ctime_nsec as u32,
        ],
        unused: [0; 2],
    })
}

/// As `cp_old_stat` on a 64-bit kernel: the size is truncated, not
/// checked.
pub fn old_stat_from(st: &libc::stat) -> Result<OldStat, i32> {
    let ino = u16::try_from(st.st_ino).map_err(|_| libc::EOVERFLOW)?;
    let nlink = u16::try_from(st.st_nlink).map_err(|_| libc::EOVERFLOW)?;
    Ok(OldStat {
        dev: old_dev(st.st_dev),
        ino,
        mode: st.st_mode as u16,
        nlink,
        uid: low(st.st_uid),
        gid: low(st.st_gid),
        rdev: old_dev(st.st_rdev),
        pad: 0,
        size: st.st_size as u32,
        atime: st.st_atime as u32,
        mtime: st.st_mtime as u32,
        ctime: st.st_ctime as u32,
    })
}

/// i386 `struct statfs` (compat_statfs): 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Statfs32 {
    pub f_type: u32,
    pub f_bsize: u32,
    pub f_blocks: u32,
    pub f_bfree: u32,
    pub f_bavail: u32,
    pub f_files: u32,
    pub f_ffree: u32,
    pub f_fsid: [i32; 2],
    pub f_namelen: u32,
    pub f_frsize: u32,
    pub f_flags: u32,
    pub f_spare: [u32; 4],
}

/// As `put_compat_statfs`: block counts and sizes must fit 32 bits; file
/// counts too unless they are -1.
pub fn statfs32_from(h: &super::HostStatfs) -> Result<Statfs32, i32> {
    let big = |v: u64| v >> 32 != 0;
    let wide = h.f_blocks | h.f_bfree | h.f_bavail | h.f_bsize as u64 | h.f_frsize as u64;
    if big(wide) || (h.f_files != u64::MAX && big(h.f_files)) {
        return Err(libc::EOVERFLOW);
    }
    if h.f_ffree != u64::MAX && big(h.f_ffree) {
        return Err(libc::EOVERFLOW);
    }
    Ok(Statfs32 {
        f_type: h.f_type as u32,
        f_bsize: h.f_bsize as u32,
        f_blocks: h.f_blocks as u32,
        f_bfree: h.f_bfree as u32,
        f_bavail: h.f_bavail as u32,
        f_files: h.f_files as u32,
        f_ffree: h.f_ffree as u32,
        f_fsid: h.f_fsid,
        f_namelen: h.f_namelen as u32,
        f_frsize: h.f_frsize as u32,
        f_flags: h.f_flags as u32,
        f_spare: [0; 4],
    })
}

/// i386 `struct sigevent` (compat_sigevent): 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Sigevent32 {
    pub value: u32,
    pub signo: i32,
    pub notify: i32,
    /// `_tid` (SIGEV_THREAD_ID) or glibc's SIGEV_THREAD data.
    pub un: [u32; 13],
}

/// The x86-64 kernel's `sigevent`: 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct HostSigevent {
    pub value: u64,
    pub signo: i32,
    pub notify: i32,
    pub un: [u32; 12],
}

/// As `get_compat_sigevent`: value, signo, notify and the thread id.
pub fn sigevent_to_host(g: &Sigevent32) -> HostSigevent {
    let mut h = HostSigevent {
        value: g.value as u64,
        signo: g.signo,
        notify: g.notify,
        ..Default::default()
    };
    h.un[0] = g.un[0];
    h
}

/// i386 `struct timex` (old_timex32): 128 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Timex32 {
    pub modes: u32,
    /// offset, freq, maxerror, esterror, status, constant, precision,
    /// tolerance.
    pub a: [i32; 8],
    pub time: Timeval32,
    /// tick, ppsfreq, jitter, shift, stabil, jitcnt, calcnt, errcnt,
    /// stbcnt, tai.
    pub b: [i32; 10],
    pub pad: [i32; 11],
}

pub fn timex_to_host(g: &Timex32) -> libc::timex {
    // SAFETY: plain integers; all-zero is valid.
    let mut h: libc::timex = unsafe { std::mem::zeroed() };
    h.modes = g.modes;
    let a = g.a.map(|v| v as i64);
    (h.offset, h.freq, h.maxerror, h.esterror) = (a[0], a[1], a[2], a[3]);
    h.status = g.a[4];
    (h.constant, h.precision, h.tolerance) = (a[5], a[6], a[7]);
    h.time = g.time.to_host();
    let b = g.b.map(|v| v as i64);
    (h.tick, h.ppsfreq, h.jitter) = (b[0], b[1], b[2]);
    h.shift = g.b[3];
    (h.stabil, h.jitcnt, h.calcnt, h.errcnt, h.stbcnt) = (b[4], b[5], b[6], b[7], b[8]);
    h.tai = g.b[9];
    h
}

pub fn timex_from_host(h: &libc::timex) -> Timex32 {
    let t = |v: i64| v as i32;
    Timex32 {
        modes: h.modes,
        a: [
            t(h.offset),
            t(h.freq),
            t(h.maxerror),
            t(h.esterror),
            h.status,
            t(h.constant),
            t(h.precision),
            t(h.tolerance),
        ],
        time: Timeval32::from_host(&h.time),
        b: [
            t(h.tick),
            t(h.ppsfreq),
            t(h.jitter),
            h.shift,
            t(h.stabil),
            t(h.jitcnt),
            t(h.calcnt),
            t(h.errcnt),
            t(h.stbcnt),
            h.tai,
        ],
        pad: [0; 11],
    }
}

// SAFETY (all): repr(C) integer-only structs without implicit padding, as
// the size asserts below check.
unsafe impl Plain for Stat32 {}
unsafe impl Plain for OldStat {}
unsafe impl Plain for Statfs32 {}
unsafe impl Plain for Sigevent32 {}
unsafe impl Plain for HostSigevent {}
unsafe impl Plain for Timex32 {}

const _: () = {
    assert!(size_of::<Stat32>() == 64);
    assert!(offset_of!(Stat32, rdev) == 16);
    assert!(offset_of!(Stat32, times) == 32);
    assert!(size_of::<OldStat>() == 32);
    assert!(offset_of!(OldStat, size) == 16);
    assert!(size_of::<Statfs32>() == 64);
    assert!(offset_of!(Statfs32, f_fsid) == 28);
    assert!(size_of::<Sigevent32>() == 64);
    assert!(size_of::<HostSigevent>() == 64);
    assert!(size_of::<Timex32>() == 128);
    assert!(offset_of!(Timex32, time) == 36);
    assert!(size_of::<libc::timex>() == 208);
};
