//! SysV shared memory: shmat, shmdt and shmctl for `ipc` (multiplexed and
//! direct calls).
//!
//! Invariant: shmat only ever maps inside guest space: the address is the
//! guest's (checked, EINVAL over existing guest mappings unless
//! SHM_REMAP) or one chosen by `memory` with the memory lock held, and the
//! host call always carries SHM_REMAP over the reservation (never
//! SHM_EXEC: guest code does not run in place). Every attachment is
//! recorded in the region map; shmdt re-reserves what the kernel
//! unmapped, so the reservation never keeps a hole. `shmid_ds` and the
//! info blocks go through host copies (`structs::ipc`).

use super::ipc::{ptr, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT};
use super::structs::{self, ipc as s};
use super::{host, SysResult};
use crate::guest_mem;
use crate::memory::{self, page_up, GUEST_END, PAGE};
use std::collections::BTreeMap;
use std::sync::Mutex;

const SHM_STAT: i32 = 13;
const SHM_INFO: i32 = 14;
const SHM_STAT_ANY: i32 = 15;
const SHM_RDONLY: i32 = 0o10000;
const SHM_RND: i32 = 0o20000;
const SHM_REMAP: i32 = 0o40000;
const SHM_EXEC: i32 = 0o100000;

/// Guest shm attachments: start -> length (guarded by the memory lock's
/// ordering: only touched with it held).
static ATTACHED: Mutex<BTreeMap<u32, u32>> = Mutex::new(BTreeMap::new());

pub(super) fn shmctl(id: u32, cmd: i32, buf: u32, v64: bool) -> SysResult {
    match cmd {
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let mut h = s::HostShmid::default();
            let r = host!(libc::SYS_shmctl, id, cmd, ptr(&mut h))?;
            if v64 {
                structs::write(buf, &s::shmid64_from(&h))?;
            } else {
                structs::write(buf, &s::shmid_old_from(&h))?;
            }
            Ok(r)
        }
        IPC_SET => {
            let mut h = s::HostShmid {
                perm: if v64 {
                    s::perm_set_64(&structs::read::<s::Shmid64_32>(buf)?.perm)
                } else {
                    s::perm_set_old(&structs::read::<s::ShmidOld>(buf)?.perm)
                },
                ..Default::default()
            };
            host!(libc::SYS_shmctl, id, cmd, ptr(&mut h))
        }
        IPC_INFO => {
            let mut h = s::HostShminfo::default();
            let r = host!(libc::SYS_shmctl, id, cmd, ptr(&mut h))?;
            let mut g = s::Shminfo32::default();
            g.v[0] = h.v[0].min(i32::MAX as u64) as u32;
            for i in 1..5 {
                g.v[i] = h.v[i] as u32;
            }
            // The old `struct shminfo` is the first five words.
            let n = if v64 { 36 } else { 20 };
            guest_mem::write_bytes(buf, &structs::bytes_of(&g)[..n])?;
            Ok(r)
        }
        SHM_INFO => {
            let mut h = s::HostShmInfo::default();
            let r = host!(libc::SYS_shmctl, id, cmd, ptr(&mut h))?;
            let g = s::ShmInfo32 {
                used_ids: h.used_ids,
                v: h.v.map(|v| v as u32),
            };
            structs::write(buf, &g)?;
            Ok(r)
        }
        IPC_RMID | libc::SHM_LOCK | libc::SHM_UNLOCK => host!(libc::SYS_shmctl, id, cmd, 0),
        _ => Err(libc::EINVAL),
    }
}

/// Attach shm segment `id` inside guest space; returns the address.
pub(super) fn shmat(id: u32, addr: u32, flags: i32) -> Result<u32, i32> {
    let mut ds = s::HostShmid::default();
    host!(libc::SYS_shmctl, id, IPC_STAT, ptr(&mut ds))?;
    let len = page_up(ds.segsz);
    let mut a = addr;
    if !a.is_multiple_of(PAGE) {
        if flags & SHM_RND == 0 {
            return Err(libc::EINVAL);
        }
        a &= !(PAGE - 1);
        if a == 0 && flags & SHM_REMAP != 0 {
            return Err(libc::EINVAL);
        }
    }
    let mut prot = libc::PROT_READ;
    if flags & SHM_RDONLY == 0 {
        prot |= libc::PROT_WRITE;
    }
    if flags & SHM_EXEC != 0 {
        prot |= libc::PROT_EXEC;
    }
    let mut sp = memory::lock();
    if len == 0 || len >= GUEST_END || !sp.is_reserved() {
        return Err(libc::EINVAL);
    }
    let start = if a == 0 {
        sp.find_free(len as u32).ok_or(libc::ENOMEM)?
    } else {
        let free = sp.is_free(a, a as u64 + len);
        if a < sp.min() || a as u64 + len > GUEST_END || (flags & SHM_REMAP == 0 && !free) {
            return Err(libc::EINVAL);
        }
        a
    };
    let end = start as u64 + len;
    let had = !sp.is_free(start, end);
    // Never PROT_EXEC on the host: guest code does not run in place.
    let hflags = (flags & SHM_RDONLY) | SHM_REMAP;
    match host!(libc::SYS_shmat, id, start, hflags) {
        Ok(p) if p == start as i64 => {}
        Ok(p) => {
            // Cannot happen with SHM_REMAP at a fixed address; undo.
            let _ = host!(libc::SYS_shmdt, p);
            sp.repair(start, end);
            return Err(libc::ENOMEM);
        }
        Err(e) => {
            sp.repair(start, end);
            return Err(e);
        }
    }
    sp.record(start, end, prot);
    lock_attached().insert(start, len as u32);
    drop(sp);
    if had {
        memory::notify_change(start, len as u32);
    }
    Ok(start)
}

fn lock_attached() -> std::sync::MutexGuard<'static, BTreeMap<u32, u32>> {
    ATTACHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// shmdt: the kernel unmaps the segment's mappings from `addr` on; put
/// the reservation back wherever it left a hole.
pub(super) fn shmdt(addr: u32) -> SysResult {
    let mut sp = memory::lock();
    host!(libc::SYS_shmdt, addr)?;
    let len = lock_attached().remove(&addr).unwrap_or(PAGE);
    let end = (addr as u64 + len as u64).min(GUEST_END);
    let mut p = addr as u64;
    while p < end {
        let hole = |q: u64| {
            let mut v = 0u8;
            // SAFETY: mincore only writes the one byte of `v`.
            let r = unsafe { libc::mincore(q as usize as *mut _, PAGE as usize, &mut v) };
            r != 0 && super::errno() == libc::ENOMEM
        };
        if !hole(p) {
            p += PAGE as u64;
            continue;
        }
        let mut q = p + PAGE as u64;
        while q < end && hole(q) {
            q += PAGE as u64;
        }
        let _ = sp.host_unmap(p as u32, q);
        p = q;
    }
    drop(sp);
    memory::notify_change(addr, (end - addr as u64) as u32);
    Ok(0)
}
