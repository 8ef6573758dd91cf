//! SysV IPC: the ipc(2) multiplexer (117, as the compat kernel's
//! `compat_ksys_ipc`) and the direct calls (semget 393 .. msgctl 402,
//! semtimedop_time64 420).
//!
//! Invariants:
//! - `*_ds`/`*info` buffers go through host copies converted in
//!   `structs::ipc` (IPC_64 layouts for the direct calls and for
//!   multiplexed commands carrying the IPC_64 bit, the old 16-bit-id
//!   layouts otherwise); `struct msgbuf`'s `long mtype` is 4 bytes on i386
//!   and 8 on the host, so messages are copied too.
//! - Shared memory (attach, detach, shmctl) is in `shm`, which keeps
//!   every attachment inside guest space.

use super::shm::{shmat, shmctl, shmdt};
use super::structs::{self, ipc as s};
use super::{gbuf, host, sx, Args, SysResult};
use crate::abi::Context;
use crate::guest_mem;

const IPC_64: i32 = 0x100;
pub(super) const IPC_RMID: i32 = 0;
pub(super) const IPC_SET: i32 = 1;
pub(super) const IPC_STAT: i32 = 2;
pub(super) const IPC_INFO: i32 = 3;
const SEM_STAT: i32 = 18;
const SEM_INFO: i32 = 19;
const SEM_STAT_ANY: i32 = 20;
const MSG_STAT: i32 = 11;
const MSG_INFO: i32 = 12;
const MSG_STAT_ANY: i32 = 13;
/// Largest message copied through a host buffer (the kernel's msgmax is
/// 8 KiB by default; anything this large fails there anyway).
const MSG_CAP: usize = 16 << 20;

pub(super) fn ptr<T>(t: &mut T) -> u64 {
    t as *mut T as u64
}

fn semctl(id: u32, num: u32, cmd: i32, arg: u32, v64: bool) -> SysResult {
    let stat = |h: &mut s::HostSemid| host!(libc::SYS_semctl, id, num, IPC_STAT, ptr(h));
    match cmd {
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let mut h = s::HostSemid::default();
            let r = host!(libc::SYS_semctl, id, num, cmd, ptr(&mut h))?;
            if v64 {
                structs::write(arg, &s::semid64_from(&h))?;
            } else {
                structs::write(arg, &s::semid_old_from(&h))?;
            }
            Ok(r)
        }
        IPC_SET => {
            let mut h = s::HostSemid {
                perm: if v64 {
                    s::perm_set_64(&structs::read::<s::Semid64_32>(arg)?.perm)
                } else {
                    s::perm_set_old(&structs::read::<s::SemidOld>(arg)?.perm)
                },
                ..Default::default()
            };
            host!(libc::SYS_semctl, id, num, cmd, ptr(&mut h))
        }
        // struct seminfo: ten ints on both.
        IPC_INFO | SEM_INFO => host!(libc::SYS_semctl, id, num, cmd, gbuf(arg, 40)?),
        libc::GETALL | libc::SETALL => {
            let mut h = s::HostSemid::default();
            stat(&mut h)?;
            let n = h.nsems as usize * 2;
            let mut v = if cmd == libc::SETALL {
                guest_mem::read_bytes(arg, n)?
            } else {
                vec![0u8; n]
            };
            let r = host!(libc::SYS_semctl, id, num, cmd, v.as_mut_ptr())?;
            if cmd == libc::GETALL {
                guest_mem::write_bytes(arg, &v)?;
            }
            Ok(r)
        }
        libc::SETVAL => host!(libc::SYS_semctl, id, num, cmd, sx(arg)),
        IPC_RMID | libc::GETVAL | libc::GETPID | libc::GETNCNT | libc::GETZCNT => {
            host!(libc::SYS_semctl, id, num, cmd, 0)
        }
        _ => Err(libc::EINVAL),
    }
}

fn msgctl(id: u32, cmd: i32, buf: u32, v64: bool) -> SysResult {
    match cmd {
        IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
            let mut h = s::HostMsqid::default();
            let r = host!(libc::SYS_msgctl, id, cmd, ptr(&mut h))?;
            if v64 {
                structs::write(buf, &s::msqid64_from(&h))?;
            } else {
                structs::write(buf, &s::msqid_old_from(&h))?;
            }
            Ok(r)
        }
        IPC_SET => {
            let mut h = s::HostMsqid::default();
            if v64 {
                let g: s::Msqid64_32 = structs::read(buf)?;
                h.perm = s::perm_set_64(&g.perm);
                h.qbytes = g.qbytes as u64;
            } else {
                let g: s::MsqidOld = structs::read(buf)?;
                h.perm = s::perm_set_old(&g.perm);
                h.qbytes = g.qbytes as u64;
            }
            host!(libc::SYS_msgctl, id, cmd, ptr(&mut h))
        }
        // struct msginfo: seven ints and a short on both.
        IPC_INFO | MSG_INFO => host!(libc::SYS_msgctl, id, cmd, gbuf(buf, 32)?),
        IPC_RMID => host!(libc::SYS_msgctl, id, cmd, 0),
        _ => Err(libc::EINVAL),
    }
}

/// msgsnd: i386 {i32 mtype; text} -> host {i64 mtype; text}.
fn msgsnd(id: u32, msgp: u32, size: u32, flags: u32) -> SysResult {
    let n = size as i32;
    if n < 0 || n as usize > MSG_CAP {
        return Err(libc::EINVAL);
    }
    let mtype = guest_mem::read_u32(msgp)? as i32 as i64;
    let mut b = mtype.to_le_bytes().to_vec();
    b.extend(guest_mem::read_bytes(msgp.wrapping_add(4), n as usize)?);
    host!(libc::SYS_msgsnd, id, b.as_ptr(), n, flags)
}

fn msgrcv(id: u32, msgp: u32, size: u32, typ: u32, flags: u32) -> SysResult {
    let n = size as i32;
    if n < 0 {
        return Err(libc::EINVAL);
    }
    let cap = (n as usize).min(MSG_CAP);
    guest_mem::check_range(msgp, 4 + cap)?;
    let mut b = vec![0u8; 8 + cap];
    let r = host!(libc::SYS_msgrcv, id, b.as_mut_ptr(), cap, sx(typ), flags)?;
    let mut out = b[..4].to_vec();
    out.extend_from_slice(&b[8..8 + r as usize]);
    guest_mem::write_bytes(msgp, &out)?;
    Ok(r)
}

/// sembuf is {u16, i16, i16} on both; `ts` is a host timespec or NULL.
fn semtimedop(id: u32, sops: u32, nsops: u32, ts: u64) -> SysResult {
    let len = (nsops as usize).saturating_mul(6);
    host!(libc::SYS_semtimedop, id, gbuf(sops, len)?, nsops, ts)
}

fn semtimedop32(id: u32, sops: u32, nsops: u32, tsp: u32) -> SysResult {
    if tsp == 0 {
        return semtimedop(id, sops, nsops, 0);
    }
    let t: structs::Timespec32 = structs::read(tsp)?;
    let ts = t.to_host();
    semtimedop(id, sops, nsops, &ts as *const libc::timespec as u64)
}

fn version(cmd: u32) -> (i32, bool) {
    let c = cmd as i32;
    (c & !IPC_64, c & IPC_64 != 0)
}

/// ipc(call, first, second, third, ptr, fifth).
pub fn ipc(_: &mut Context, a: &Args) -> SysResult {
    let [call, first, second, third, p, fifth] = *a;
    let ver = call >> 16;
    match call & 0xffff {
        1 => semtimedop(first, p, second, 0),
        2 => host!(libc::SYS_semget, sx(first), sx(second), sx(third)),
        3 => {
            if p == 0 {
                return Err(libc::EINVAL);
            }
            let pad = guest_mem::read_u32(p)?;
            let (cmd, v64) = version(third);
            semctl(first, second, cmd, pad, v64)
        }
        4 => semtimedop32(first, p, second, fifth),
        11 => msgsnd(first, p, second, third),
        12 => {
            if (first as i32) < 0 || (second as i32) < 0 {
                return Err(libc::EINVAL);
            }
            if ver == 0 {
                if p == 0 {
                    return Err(libc::EINVAL);
                }
                let [msgp, typ] = guest_mem::read_u32s::<2>(p)?;
                return msgrcv(first, msgp, second, typ, third);
            }
            msgrcv(first, p, second, fifth, third)
        }
        13 => host!(libc::SYS_msgget, sx(first), sx(second)),
        14 => {
            let (cmd, v64) = version(second);
            msgctl(first, cmd, p, v64)
        }
        21 => {
            if ver == 1 {
                return Err(libc::EINVAL);
            }
            let raddr = shmat(first, p, second as i32)?;
            guest_mem::write_u32(third, raddr)?;
            Ok(0)
        }
        22 => shmdt(p),
        23 => host!(libc::SYS_shmget, sx(first), second, sx(third)),
        24 => {
            let (cmd, v64) = version(second);
            shmctl(first, cmd, p, v64)
        }
        _ => Err(libc::ENOSYS),
    }
}

pub fn semget(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_semget, sx(a[0]), sx(a[1]), sx(a[2]))
}

/// semctl(semid, semnum, cmd, union semun): always the IPC_64 layouts.
pub fn semctl_direct(_: &mut Context, a: &Args) -> SysResult {
    semctl(a[0], a[1], a[2] as i32, a[3], true)
}

/// semtimedop_time64: __kernel_timespec is the host's timespec.
pub fn semtimedop_time64(_: &mut Context, a: &Args) -> SysResult {
    let ts = if a[3] == 0 { 0 } else { gbuf(a[3], 16)? };
    semtimedop(a[0], a[1], a[2], ts)
}

pub fn shmget(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_shmget, sx(a[0]), a[1], sx(a[2]))
}

pub fn shmctl_direct(_: &mut Context, a: &Args) -> SysResult {
    shmctl(a[0], a[1] as i32, a[2], true)
}

pub fn shmat_direct(_: &mut Context, a: &Args) -> SysResult {
    shmat(a[0], a[1], a[2] as i32).map(|v| v as i64)
}

pub fn shmdt_direct(_: &mut Context, a: &Args) -> SysResult {
    shmdt(a[0])
}

pub fn msgget(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_msgget, sx(a[0]), sx(a[1]))
}

pub fn msgsnd_direct(_: &mut Context, a: &Args) -> SysResult {
    msgsnd(a[0], a[1], a[2], a[3])
}

pub fn msgrcv_direct(_: &mut Context, a: &Args) -> SysResult {
    msgrcv(a[0], a[1], a[2], a[3], a[4])
}

pub fn msgctl_direct(_: &mut Context, a: &Args) -> SysResult {
    msgctl(a[0], a[1] as i32, a[2], true)
}
