//! The guest address space: [`guest_min`, 4 GiB) at host address == guest
//! address, reserved at start-up, and the region map of what the guest has
//! mapped there.
//!
//! Invariants kept here (and by every caller of [`Space`]'s host-mapping
//! primitives, which are the only code that mmaps inside guest space):
//! - Nothing of the host is ever mapped below 4 GiB: the whole range is one
//!   PROT_NONE `MAP_NORESERVE` reservation into which guest mappings are
//!   placed with `MAP_FIXED`; whatever the guest unmaps is re-reserved at
//!   once, so the reservation never has holes the host kernel could fill.
//! - The region map records every guest mapping (start -> end, *guest*
//!   protection), adjacent regions of equal protection merged.
//! - Host protections are the guest's without PROT_EXEC (guest code never
//!   runs in place; the translator only reads it), with PROT_READ added to
//!   any readable-on-i386 page (PROT_EXEC or PROT_WRITE imply read on x86).
//!
//! Guest layout, as ia32 on amd64: the stack ends at [`STACK_TOP`], guest
//! mmaps grow down from 16 MiB below the stack's lowest page, brk grows up
//! from the end of the image.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

mod regions;

pub const PAGE: u32 = 4096;
/// First address past guest space.
pub const GUEST_END: u64 = 1 << 32;
/// The guest stack grows down from here.
pub const STACK_TOP: u32 = 0xffff_e000;
pub const STACK_SIZE: u32 = 8 << 20;
/// Highest end of a guest mmap chosen by [`find_free`].
pub const MMAP_TOP: u32 = STACK_TOP - STACK_SIZE - (16 << 20);
/// Lowest address ever reserved, whatever `vm.mmap_min_addr` says.
const MIN_FLOOR: u32 = 0x10000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Exclusive end (may be 1 << 32).
    pub end: u64,
    /// Guest protection (PROT_READ | PROT_WRITE | PROT_EXEC).
    pub prot: i32,
}

/// The locked state of guest space. Obtain it with [`lock`].
pub struct Space {
    reserved: bool,
    min: u32,
    regions: BTreeMap<u32, Region>,
    brk_start: u32,
    brk: u32,
    /// Ranges mapped MAP_SHARED (start -> end): another mapping of the same
    /// pages may change them without a store to these addresses, so code
    /// there is validated on entry instead of write-protected (`smc`).
    shared: BTreeMap<u32, u64>,
}

static SPACE: Mutex<Space> = Mutex::new(Space {
    reserved: false,
    min: MIN_FLOOR,
    regions: BTreeMap::new(),
    brk_start: 0,
    brk: 0,
    shared: BTreeMap::new(),
});

/// `fn(addr, len)` called when guest bytes in a range may have changed
/// behind translated code's back (unmap, remap, protection change, a system
/// call writing into it). 0 = no hook.
static CHANGE_HOOK: AtomicUsize = AtomicUsize::new(0);

/// Register the dispatcher's "guest memory changed" callback (drops
/// translations of code in the range). Called with the memory lock *not*
/// held, before the guest runs again.
pub fn set_change_hook(hook: fn(u32, u32)) {
    CHANGE_HOOK.store(hook as usize, Ordering::Release);
}

/// Is `addr` in a MAP_SHARED guest mapping?
pub fn is_shared(addr: u32) -> bool {
    let space = lock();
    space
        .shared
        .range(..=addr)
        .next_back()
        .is_some_and(|(_, &e)| e > addr as u64)
}

/// Tell the dispatcher that [addr, addr+len) may hold new bytes.
pub fn notify_change(addr: u32, len: u32) {
    let h = CHANGE_HOOK.load(Ordering::Acquire);
    if h != 0 && len != 0 {
        // SAFETY: only `set_change_hook` stores non-zero values, and it
        // stores a `fn(u32, u32)`.
        let f: fn(u32, u32) = unsafe { std::mem::transmute::<usize, fn(u32, u32)>(h) };
        f(addr, len);
    }
}

/// Lock guest space (poison is ignored: the map stays consistent because
/// every mutation is a single insert/remove sequence without panics).
pub fn lock() -> MutexGuard<'static, Space> {
    SPACE.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn page_up(v: u64) -> u64 {
    (v + PAGE as u64 - 1) & !(PAGE as u64 - 1)
}

/// Host protection for a guest protection (see the module invariants).
pub fn host_prot(prot: i32) -> i32 {
    let mut h = prot & (libc::PROT_READ | libc::PROT_WRITE);
    if prot & (libc::PROT_EXEC | libc::PROT_WRITE) != 0 {
        h |= libc::PROT_READ;
    }
    h
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

fn mmap_min_addr() -> u32 {
    let v = std::fs::read_to_string("/proc/sys/vm/mmap_min_addr")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(MIN_FLOOR as u64);
    page_up(v.max(MIN_FLOOR as u64)).min(1 << 31) as u32
}

/// Reserve [max(vm.mmap_min_addr, 64 KiB), 4 GiB) for the guest, after
/// checking that nothing of the host lies there. Idempotent.
pub fn reserve_guest_space() -> Result<(), String> {
    let mut s = lock();
    if s.reserved {
        return Ok(());
    }
    let maps = std::fs::read_to_string("/proc/self/maps")
        .map_err(|e| format!("cannot read /proc/self/maps: {e}"))?;
    for line in maps.lines() {
        let start = line
            .split('-')
            .next()
            .and_then(|a| u64::from_str_radix(a, 16).ok());
        if start.is_some_and(|a| a < GUEST_END) {
            return Err(format!(
                "a host mapping lies below 4 GiB, where the guest must live: {line}\n\
                 (the executable must be a PIE loaded high; is ASLR or a personality flag in the way?)"
            ));
        }
    }
    let min = mmap_min_addr();
    let len = (GUEST_END - min as u64) as usize;
    let flags =
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE;
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
    let p = unsafe { libc::mmap(min as usize as *mut _, len, libc::PROT_NONE, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        let e = std::io::Error::last_os_error();
        let hint = match e.raw_os_error() {
            Some(libc::ENOMEM) => " (is RLIMIT_AS / `ulimit -v` limiting the address space?)",
            Some(libc::EEXIST) => " (something is already mapped there)",
            _ => "",
        };
        return Err(format!(
            "cannot reserve guest space [{min:#x}, 4 GiB): {e}{hint}"
        ));
    }
    if p as usize != min as usize {
        // An old kernel that ignores MAP_FIXED_NOREPLACE placed it elsewhere.
        // SAFETY: p..p+len is the mapping just created.
        unsafe { libc::munmap(p, len) };
        return Err(format!(
            "cannot reserve guest space at {min:#x}: the kernel placed it at {p:p}"
        ));
    }
    s.reserved = true;
    s.min = min;
    Ok(())
}

fn check_range(s: &Space, addr: u32, len: u32) -> Result<u64, String> {
    if !addr.is_multiple_of(PAGE) {
        return Err(format!("guest address {addr:#x} is not page-aligned"));
    }
    let end = page_up(addr as u64 + len as u64);
    if addr < s.min || end > GUEST_END {
        return Err(format!(
            "guest range {addr:#x}+{len:#x} is outside guest space"
        ));
    }
    Ok(end)
}

/// Map anonymous zero-filled memory at a fixed guest address (loader).
pub fn map_fixed(addr: u32, len: u32, prot: i32) -> Result<(), String> {
    reserve_guest_space()?;
    let mut s = lock();
    let end = check_range(&s, addr, len)?;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED;
    s.host_map(addr, end, prot, flags, -1, 0).map_err(|e| {
        format!(
            "mmap {addr:#x}+{len:#x}: {}",
            std::io::Error::from_raw_os_error(e)
        )
    })?;
    Ok(())
}

/// Change the protection of mapped guest pages (loader).
pub fn protect(addr: u32, len: u32, prot: i32) -> Result<(), String> {
    let mut s = lock();
    let end = check_range(&s, addr, len)?;
    s.host_protect(addr, end, prot).map_err(|e| {
        format!(
            "mprotect {addr:#x}+{len:#x}: {}",
            std::io::Error::from_raw_os_error(e)
        )
    })
}

/// Set the initial program break (page-aligned up).
pub fn init_brk(start: u32) {
    let mut s = lock();
    let b = page_up(start as u64).min(MMAP_TOP as u64) as u32;
    s.brk_start = b;
    s.brk = b;
}

/// The brk system call: move the break to `new` if possible; the answer is
/// the (new or unchanged) break. `new` = 0 asks for the current one.
pub fn brk(new: u32) -> u32 {
    let mut s = lock();
    let cur = s.brk;
    if s.brk_start == 0 || new < s.brk_start {
        return cur;
    }
    let (old_end, new_end) = (page_up(cur as u64), page_up(new as u64));
    if new_end > old_end {
        let grow = old_end as u32;
        if new_end > MMAP_TOP as u64 || !s.is_free(grow, new_end) {
            return cur;
        }
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED;
        if s.host_map(
            grow,
            new_end,
            libc::PROT_READ | libc::PROT_WRITE,
            flags,
            -1,
            0,
        )
        .is_err()
        {
            return cur;
        }
    } else if new_end < old_end && s.host_unmap(new_end as u32, old_end).is_err() {
        return cur;
    }
    s.brk = new;
    drop(s);
    if new_end < old_end {
        notify_change(new_end as u32, (old_end - new_end) as u32);
    }
    new
}

/// A free, page-aligned range of `len` bytes for a guest mmap: top-down
/// from [`MMAP_TOP`] to the program break; failing that, below the break,
/// and last in the gap under the stack.
pub fn find_free(len: u32) -> Option<u32> {
    lock().find_free(len)
}

/// Is the whole range mapped by the guest (any protection)?
pub fn is_mapped(addr: u32, len: u32) -> bool {
    lock().covered(addr, addr as u64 + len as u64)
}

/// Guest protection of the page holding `addr`, if mapped.
pub fn prot_at(addr: u32) -> Option<i32> {
    lock().region_at(addr).map(|(_, r)| r.prot)
}

/// A copy of the region map, (start, end, guest prot), for /proc/self/maps
/// emulation and SIGSEGV si_code correction.
pub fn regions() -> Vec<(u32, u64, i32)> {
    lock()
        .regions
        .iter()
        .map(|(&k, r)| (k, r.end, r.prot))
        .collect()
}

impl Space {
    /// Lowest guest address.
    pub fn min(&self) -> u32 {
        self.min
    }

    pub fn is_reserved(&self) -> bool {
        self.reserved
    }

    /// Host mmap with MAP_FIXED at [start, end) (inside guest space, checked
    /// by the caller) and record it. On failure the range is re-reserved if
    /// the kernel left a hole, and the errno is returned.
    pub fn host_map(
        &mut self,
        start: u32,
        end: u64,
        prot: i32,
        flags: i32,
        fd: i32,
        off: u64,
    ) -> Result<(), i32> {
        debug_assert!(start >= self.min && end <= GUEST_END && flags & libc::MAP_FIXED != 0);
        let len = (end - start as u64) as usize;
        // SAFETY: [start, end) lies in guest space (reserved for the guest,
        // nothing of the host there), so MAP_FIXED replaces only guest pages.
        let p = unsafe {
            libc::mmap(
                start as usize as *mut _,
                len,
                host_prot(prot),
                flags,
                fd,
                off as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            let e = errno();
            self.repair(start, end);
            return Err(e);
        }
        self.record(start, end, prot);
        self.forget_shared(start, end);
        if flags & libc::MAP_SHARED != 0 {
            self.shared.insert(start, end);
        }
        Ok(())
    }

    /// Unmap guest pages: re-reserve them PROT_NONE and forget them.
    pub fn host_unmap(&mut self, start: u32, end: u64) -> Result<(), i32> {
        reserve_range(start, end)?;
        self.forget(start, end);
        self.forget_shared(start, end);
        Ok(())
    }

    /// Drop shared-mapping records overlapping [start, end) (whole records:
    /// a partial unmap only makes the rest be treated as private).
    fn forget_shared(&mut self, start: u32, end: u64) {
        let hit: Vec<u32> = self
            .shared
            .range(..)
            .filter(|(&s, &e)| (s as u64) < end && e > start as u64)
            .map(|(&s, _)| s)
            .collect();
        for s in hit {
            self.shared.remove(&s);
        }
    }

    /// mprotect mapped guest pages and record the new protection.
    pub fn host_protect(&mut self, start: u32, end: u64, prot: i32) -> Result<(), i32> {
        if !self.covered(start, end) {
            return Err(libc::ENOMEM);
        }
        // SAFETY: the range is mapped guest memory.
        let r = unsafe {
            libc::mprotect(
                start as usize as *mut _,
                (end - start as u64) as usize,
                host_prot(prot),
            )
        };
        if r != 0 {
            return Err(errno());
        }
        self.record(start, end, prot);
        Ok(())
    }

    /// After a failed host mmap/mremap over [start, end): if the kernel
    /// unmapped the range before failing (mincore then says ENOMEM), put the
    /// reservation back and forget the guest mappings that were there.
    pub fn repair(&mut self, start: u32, end: u64) {
        let len = (end - start as u64) as usize;
        let mut vec = vec![0u8; len.div_ceil(PAGE as usize)];
        // SAFETY: mincore only writes `vec`, one byte per page.
        let r = unsafe { libc::mincore(start as usize as *mut _, len, vec.as_mut_ptr()) };
        if r != 0 && errno() == libc::ENOMEM {
            let _ = self.host_unmap(start, end);
        }
    }
}

/// mmap PROT_NONE reservation pages over [start, end) (a guest range).
pub fn reserve_range(start: u32, end: u64) -> Result<(), i32> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED;
    let len = (end - start as u64) as usize;
    // SAFETY: [start, end) is guest space; replacing it with PROT_NONE is
    // always allowed.
    let p = unsafe { libc::mmap(start as usize as *mut _, len, libc::PROT_NONE, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        Err(errno())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
