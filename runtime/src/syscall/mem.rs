//! Guest memory-management calls: brk, mmap2/mmap, munmap, mprotect,
//! madvise, mremap, msync, mincore, mlock, mlockall/munlockall,
//! remap_file_pages.
//!
//! Invariant: every mapping lands inside guest space, placed by
//! `memory` (top-down below the stack) unless the guest asks for
//! MAP_FIXED; all host mmaps here use MAP_FIXED over the reservation while
//! the memory lock is held, so the region map and the host agree and the
//! reservation never has holes (the one exception, in-place mremap growth,
//! is a hole of the growth range for the duration of one mremap call).
//! Ranges whose contents may change under translated code are reported
//! through `memory::notify_change` after the lock is dropped. mlockall
//! locks the guest's mappings, not the runtime's (its code cache and the
//! reservation would be populated): MCL_CURRENT locks each guest region,
//! MCL_FUTURE each later mmap and brk growth (mremap keeps the lock).

use super::{host, Args, SysResult};
use crate::abi::Context;
use crate::guest_mem;
use crate::memory::{self, page_up, GUEST_END, PAGE};
use std::sync::atomic::{AtomicU32, Ordering};

pub fn brk(_: &mut Context, a: &Args) -> SysResult {
    let old = memory::brk(0);
    let new = memory::brk(a[0]);
    if new > old {
        let from = page_up(old as u64);
        lock_future(from as u32, page_up(new as u64).saturating_sub(from));
    }
    Ok(new as i64)
}

const MCL_CURRENT: u32 = 1;
const MCL_FUTURE: u32 = 2;
const MCL_ONFAULT: u32 = 4;
const MLOCK_ONFAULT: u32 = 1;

/// MCL_FUTURE (with MCL_ONFAULT) of the last mlockall, 0 if none.
static FUTURE: AtomicU32 = AtomicU32::new(0);

/// A new guest mapping under mlockall(MCL_FUTURE): lock it (best effort;
/// the kernel would refuse the mapping past RLIMIT_MEMLOCK).
fn lock_future(addr: u32, len: u64) {
    let f = FUTURE.load(Ordering::Relaxed);
    if f & MCL_FUTURE != 0 && len != 0 {
        let fl = if f & MCL_ONFAULT != 0 {
            MLOCK_ONFAULT
        } else {
            0
        };
        let _ = host!(libc::SYS_mlock2, addr, len, fl);
    }
}

/// mlockall(flags): the guest's mappings (see the module notes).
pub fn mlockall(_: &mut Context, a: &Args) -> SysResult {
    let f = a[0];
    if f & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || f & (MCL_CURRENT | MCL_FUTURE) == 0 {
        return Err(libc::EINVAL);
    }
    if f & MCL_CURRENT != 0 {
        let fl = if f & MCL_ONFAULT != 0 {
            MLOCK_ONFAULT
        } else {
            0
        };
        for (start, end, prot) in memory::regions() {
            if prot != libc::PROT_NONE {
                host!(libc::SYS_mlock2, start, end - start as u64, fl)?;
            }
        }
    }
    FUTURE.store(f & (MCL_FUTURE | MCL_ONFAULT), Ordering::Relaxed);
    Ok(0)
}

/// munlockall(): the runtime locks nothing itself, so the host call is
/// exactly the guest's.
pub fn munlockall(_: &mut Context, _: &Args) -> SysResult {
    FUTURE.store(0, Ordering::Relaxed);
    host!(libc::SYS_munlockall)
}

/// remap_file_pages(start, size, prot, pgoff, flags): rearranges the pages
/// of a shared file mapping inside it (guest ranges only); translations of
/// code there are dropped, as the bytes change.
pub fn remap_file_pages(_: &mut Context, a: &Args) -> SysResult {
    let (start, size) = (a[0] & !(PAGE - 1), a[1]);
    let end = page_up(a[0] as u64 + size as u64);
    if end > GUEST_END || !memory::is_mapped(start, (end - start as u64) as u32) {
        return Err(libc::EINVAL);
    }
    let r = host!(libc::SYS_remap_file_pages, a[0], size, a[2], a[3], a[4])?;
    memory::notify_change(start, (end - start as u64) as u32);
    Ok(r)
}

/// mmap2(addr, len, prot, flags, fd, pgoffset): offset in 4096-byte pages.
pub fn mmap2(_: &mut Context, a: &Args) -> SysResult {
    do_mmap(
        a[0],
        a[1],
        a[2] as i32,
        a[3] as i32,
        a[4] as i32,
        (a[5] as u64) << 12,
    )
}

/// Old mmap(struct mmap_arg_struct *): six u32, byte offset page-aligned.
pub fn old_mmap(_: &mut Context, a: &Args) -> SysResult {
    let v = guest_mem::read_u32s::<6>(a[0])?;
    if !v[5].is_multiple_of(PAGE) {
        return Err(libc::EINVAL);
    }
    do_mmap(
        v[0],
        v[1],
        v[2] as i32,
        v[3] as i32,
        v[4] as i32,
        v[5] as u64,
    )
}

fn do_mmap(addr: u32, len: u32, prot: i32, flags: i32, fd: i32, off: u64) -> SysResult {
    if len == 0 {
        return Err(libc::EINVAL);
    }
    let len = page_up(len as u64);
    if len >= GUEST_END {
        return Err(libc::ENOMEM);
    }
    if !matches!(
        flags & 0xf,
        libc::MAP_SHARED | libc::MAP_PRIVATE | libc::MAP_SHARED_VALIDATE
    ) {
        return Err(libc::EINVAL);
    }
    let fixed = flags & libc::MAP_FIXED != 0;
    let noreplace = flags & libc::MAP_FIXED_NOREPLACE != 0;
    let fd = if flags & libc::MAP_ANONYMOUS != 0 {
        -1
    } else {
        fd
    };
    let hflags = (flags & !(libc::MAP_FIXED_NOREPLACE | libc::MAP_32BIT | libc::MAP_GROWSDOWN))
        | libc::MAP_FIXED;
    let mut s = memory::lock();
    if !s.is_reserved() {
        return Err(libc::ENOMEM);
    }
    let start = if fixed || noreplace {
        if !addr.is_multiple_of(PAGE) {
            return Err(libc::EINVAL);
        }
        if addr < s.min() {
            return Err(libc::EPERM);
        }
        if addr as u64 + len > GUEST_END {
            return Err(libc::ENOMEM);
        }
        if !fixed && !s.is_free(addr, addr as u64 + len) {
            return Err(libc::EEXIST);
        }
        addr
    } else {
        let hint = page_up(addr as u64);
        if hint != 0 && hint < GUEST_END && s.fits(hint as u32, len as u32) {
            hint as u32
        } else {
            s.find_free(len as u32).ok_or(libc::ENOMEM)?
        }
    };
    let end = start as u64 + len;
    let had = !s.is_free(start, end);
    s.host_map(start, end, prot, hflags, fd, off)?;
    drop(s);
    if had {
        memory::notify_change(start, len as u32);
    }
    lock_future(start, len);
    Ok(start as i64)
}

pub fn munmap(_: &mut Context, a: &Args) -> SysResult {
    let (addr, len) = (a[0], a[1]);
    if !addr.is_multiple_of(PAGE) || len == 0 {
        return Err(libc::EINVAL);
    }
    let end = page_up(addr as u64 + len as u64);
    if end > GUEST_END {
        return Err(libc::EINVAL);
    }
    let mut s = memory::lock();
    let lo = addr.max(s.min());
    if (lo as u64) < end && s.is_reserved() {
        s.host_unmap(lo, end)?;
        drop(s);
        memory::notify_change(lo, (end - lo as u64) as u32);
    }
    Ok(0)
}

/// mprotect: PROT_GROWSDOWN/PROT_GROWSUP are accepted and ignored (guest
/// stacks are not grows-down mappings here); PROT_SEM is ignored.
pub fn mprotect(_: &mut Context, a: &Args) -> SysResult {
    let (addr, len, prot) = (a[0], a[1], a[2] as i32);
    let known = 7 | 8 | libc::PROT_GROWSDOWN | libc::PROT_GROWSUP;
    if !addr.is_multiple_of(PAGE) || prot & !known != 0 {
        return Err(libc::EINVAL);
    }
    if prot & libc::PROT_GROWSDOWN != 0 && prot & libc::PROT_GROWSUP != 0 {
        return Err(libc::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let end = page_up(addr as u64 + len as u64);
    if end > GUEST_END {
        return Err(libc::ENOMEM);
    }
    memory::lock().host_protect(addr, end, prot & 7)?;
    memory::notify_change(addr, (end - addr as u64) as u32);
    Ok(0)
}

/// madvise: only on ranges the guest has mapped (ENOMEM otherwise, as the
/// reservation is not guest memory); advice that drops contents is reported.
pub fn madvise(_: &mut Context, a: &Args) -> SysResult {
    let (addr, len, advice) = (a[0], a[1], a[2] as i32);
    if !addr.is_multiple_of(PAGE) {
        return Err(libc::EINVAL);
    }
    let end = page_up(addr as u64 + len as u64);
    if end > GUEST_END {
        return Err(libc::EINVAL);
    }
    if end == addr as u64 {
        return Ok(0);
    }
    let s = memory::lock();
    if !s.covered(addr, end) {
        return Err(libc::ENOMEM);
    }
    let r = host!(libc::SYS_madvise, addr, end - addr as u64, advice)?;
    drop(s);
    if matches!(
        advice,
        libc::MADV_DONTNEED | libc::MADV_FREE | libc::MADV_REMOVE | 24
    ) {
        memory::notify_change(addr, (end - addr as u64) as u32);
    }
    Ok(r)
}

const MREMAP_MAYMOVE: i32 = 1;
const MREMAP_FIXED: i32 = 2;
const MREMAP_DONTUNMAP: i32 = 4;

/// mremap(old, old_size, new_size, flags, new_addr), kept inside guest
/// space: MREMAP_MAYMOVE picks the destination with `find_free` and passes
/// MREMAP_FIXED; in-place growth first lifts the reservation over the
/// growth range, so the kernel can extend the mapping there.
pub fn mremap(_: &mut Context, a: &Args) -> SysResult {
    let (old, flags, new_addr) = (a[0], a[3] as i32, a[4]);
    let (old_len, new_len) = (page_up(a[1] as u64), page_up(a[2] as u64));
    let may_move = flags & MREMAP_MAYMOVE != 0;
    if !old.is_multiple_of(PAGE) || flags & !7 != 0 || new_len == 0 {
        return Err(libc::EINVAL);
    }
    if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 && !may_move)
        || (flags & MREMAP_DONTUNMAP != 0 && old_len != new_len)
    {
        return Err(libc::EINVAL);
    }
    let old_end = old as u64 + old_len;
    if old_end > GUEST_END || new_len >= GUEST_END {
        return Err(libc::EINVAL);
    }
    let mut s = memory::lock();
    let (_, reg) = s.region_at(old).ok_or(libc::EFAULT)?;
    if reg.end < old_end {
        return Err(libc::EFAULT);
    }
    let prot = reg.prot;
    let keep_old = flags & MREMAP_DONTUNMAP != 0 || old_len == 0;
    let moved = |s: &mut memory::Space, dest: u32, fl: i32| -> SysResult {
        let dest_end = dest as u64 + new_len;
        let r = host!(libc::SYS_mremap, old, old_len, new_len, fl, dest);
        if let Err(e) = r {
            s.repair(dest, dest_end);
            return Err(e);
        }
        if !keep_old {
            s.host_unmap(old, old_end)?;
        } else if old_len != 0 {
            s.record(old, old_end, prot);
        }
        s.record(dest, dest_end, prot);
        Ok(dest as i64)
    };
    let res = if flags & MREMAP_FIXED != 0 {
        let dest_end = new_addr as u64 + new_len;
        let overlap = (new_addr as u64) < old_end && dest_end > old as u64;
        if !new_addr.is_multiple_of(PAGE) || new_addr < s.min() || dest_end > GUEST_END || overlap {
            return Err(libc::EINVAL);
        }
        moved(&mut s, new_addr, flags)
    } else if new_len <= old_len && old_len != 0 {
        host!(libc::SYS_mremap, old, old_len, new_len, 0)?;
        if new_len < old_len {
            s.host_unmap(old + new_len as u32, old_end)?;
        }
        Ok(old as i64)
    } else {
        let grow_end = old as u64 + new_len;
        let mut done = false;
        if old_len != 0 && grow_end <= GUEST_END && s.is_free(old_end as u32, grow_end) {
            // SAFETY: [old_end, grow_end) is free guest space (reservation
            // only); it is re-reserved below unless the mapping grew into it.
            unsafe { libc::munmap(old_end as usize as *mut _, (grow_end - old_end) as usize) };
            if host!(libc::SYS_mremap, old, old_len, new_len, 0).is_ok() {
                s.record(old, grow_end, prot);
                done = true;
            } else {
                let _ = memory::reserve_range(old_end as u32, grow_end);
            }
        }
        if done {
            Ok(old as i64)
        } else if !may_move {
            Err(libc::ENOMEM)
        } else {
            let dest = s.find_free(new_len as u32).ok_or(libc::ENOMEM)?;
            moved(
                &mut s,
                dest,
                MREMAP_MAYMOVE | MREMAP_FIXED | (flags & MREMAP_DONTUNMAP),
            )
        }
    };
    drop(s);
    if let Ok(v) = res {
        if v as u32 != old && !keep_old {
            memory::notify_change(old, old_len as u32);
        } else if new_len < old_len {
            memory::notify_change(old + new_len as u32, (old_len - new_len) as u32);
        }
    }
    res
}

fn mapped_range(addr: u32, len: u64) -> Result<(u64, u64), i32> {
    let end = page_up(addr as u64 + len);
    if !addr.is_multiple_of(PAGE) || end > GUEST_END {
        return Err(libc::EINVAL);
    }
    if !memory::lock().covered(addr, end) {
        return Err(libc::ENOMEM);
    }
    Ok((addr as u64, end - addr as u64))
}

pub fn msync(_: &mut Context, a: &Args) -> SysResult {
    let (p, n) = mapped_range(a[0], a[1] as u64)?;
    host!(libc::SYS_msync, p, n, a[2])
}

/// mincore(addr, len, unsigned char *vec): one byte per page.
pub fn mincore(_: &mut Context, a: &Args) -> SysResult {
    let (p, n) = mapped_range(a[0], a[1] as u64)?;
    let vec = super::gbuf(a[2], n.div_ceil(PAGE as u64) as usize)?;
    host!(libc::SYS_mincore, p, n, vec)
}

pub fn mlock(_: &mut Context, a: &Args) -> SysResult {
    let (p, n) = mapped_range(a[0] & !(PAGE - 1), a[1] as u64 + (a[0] % PAGE) as u64)?;
    host!(libc::SYS_mlock, p, n)
}

pub fn munlock(_: &mut Context, a: &Args) -> SysResult {
    let (p, n) = mapped_range(a[0] & !(PAGE - 1), a[1] as u64 + (a[0] % PAGE) as u64)?;
    host!(libc::SYS_munlock, p, n)
}
