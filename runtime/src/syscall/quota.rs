//! Disk quotas: quotactl (131) and quotactl_fd (443).
//!
//! The structures are the same on i386 and x86-64 but two (the kernel's
//! compat code converts the same two): `struct if_dqblk` (Q_GETQUOTA,
//! Q_SETQUOTA) is 68 bytes on i386, where its u64s are 4-byte aligned, and
//! 72 on x86-64 (tail padding only); XFS's `fs_quota_stat` (Q_XGETQSTAT)
//! holds two `fs_qfilestat` of 20 instead of 24 bytes. Q_QUOTAON's address
//! is the path of the quota file.
//!
//! Invariant: every other address is a checked guest range of the largest
//! quota structure's size.

use super::path::{opt_path, ptr};
use super::{host, sx, Args, GuestPath, SysResult};
use crate::abi::Context;
use crate::guest_mem;

const Q_QUOTAON: u32 = 0x80_0002;
const Q_GETQUOTA: u32 = 0x80_0007;
const Q_SETQUOTA: u32 = 0x80_0008;
const Q_XGETQSTAT: u32 = 0x5805;
/// Bytes of i386 `struct if_dqblk`.
const DQBLK32: usize = 68;
/// Bytes of `fs_quota_stat` on i386 and on x86-64.
const QSTAT32: usize = 68;
const QSTAT64: usize = 80;
/// Largest structure a quota command reads or writes (fs_quota_statv).
const MAX_STRUCT: usize = 160;

/// Run `call` with the host form of the quota command's address.
fn with_addr(cmd: u32, addr: u32, call: impl FnOnce(u64) -> SysResult) -> SysResult {
    match cmd >> 8 {
        Q_QUOTAON => {
            let p = GuestPath::read(addr)?;
            call(p.ptr())
        }
        Q_GETQUOTA => {
            let mut b = [0u8; 72];
            let r = call(b.as_mut_ptr() as u64)?;
            guest_mem::write_bytes(addr, &b[..DQBLK32])?;
            Ok(r)
        }
        Q_SETQUOTA => {
            let mut b = [0u8; 72];
            guest_mem::read_into(addr, &mut b[..DQBLK32])?;
            call(b.as_ptr() as u64)
        }
        Q_XGETQSTAT => {
            let mut h = [0u8; QSTAT64];
            let r = call(h.as_mut_ptr() as u64)?;
            let mut g = [0u8; QSTAT32];
            g[..28].copy_from_slice(&h[..28]); // header, user quota file
            g[28..48].copy_from_slice(&h[32..52]); // group quota file
            g[48..68].copy_from_slice(&h[56..76]); // counts and limits
            guest_mem::write_bytes(addr, &g)?;
            Ok(r)
        }
        _ if addr == 0 => call(0),
        _ => {
            guest_mem::check_range(addr, MAX_STRUCT)?;
            crate::memory::notify_change(addr, MAX_STRUCT as u32);
            call(addr as u64)
        }
    }
}

/// quotactl(cmd, special, id, addr): special is a block device path (or
/// NULL for Q_SYNC).
pub fn quotactl(_: &mut Context, a: &Args) -> SysResult {
    let special = opt_path(a[1])?;
    with_addr(a[0], a[3], |addr| {
        host!(libc::SYS_quotactl, a[0], ptr(&special), sx(a[2]), addr)
    })
}

/// quotactl_fd(fd, cmd, id, addr).
pub fn quotactl_fd(_: &mut Context, a: &Args) -> SysResult {
    with_addr(a[1], a[3], |addr| {
        host!(libc::SYS_quotactl_fd, sx(a[0]), a[1], sx(a[2]), addr)
    })
}
