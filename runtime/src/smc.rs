//! Self-modifying and run-time generated code: which guest pages hold
//! translated code, their write protection, and what to drop when they
//! change.
//!
//! Invariant (DESIGN.md invariant 4): a translation is used only while the
//! guest bytes it came from are unchanged. Every guest page holding code
//! translated at run time whose guest protection allows writing is
//! write-protected in the host; a guest store to it faults, `on_segv` drops
//! the page's translations (map entries, and chained exits into them, which
//! go back to their trampolines), gives the page back its guest protection
//! and lets the store retry. System calls that change guest memory (munmap,
//! mmap over it, mprotect, read() into it) call `invalidate_range` through
//! `memory::notify_change`, before and after the change. Pages that fault
//! over and over (code and data on one page, such as GCC trampolines on an
//! executable stack) become *volatile*: no longer protected, their blocks are
//! kept out of the map table and re-validated against the guest bytes on
//! every entry, so data stores there cost nothing.
//!
//! Ahead-of-time blocks on a changed page lose their map entries too, so
//! indirect jumps, returns and run-time translations reach fresh code; the
//! direct jumps bound between static blocks at translation time cannot be
//! unlinked, so `jit` also diverts each such block's host entry to the
//! runtime with an `int3` (`textpatch`): a bound jump into it then reaches
//! the translation of the new guest bytes.

use std::collections::{BTreeMap, HashMap, HashSet};

const PAGE: u32 = 4096;
/// Invalidations of one page after which it becomes volatile.
const VOLATILE_AFTER: u32 = 4;

#[derive(Default)]
pub struct CodePages {
    /// Guest page -> run-time block starts translated from it.
    blocks: HashMap<u32, Vec<u32>>,
    /// Pages write-protected in the host by us.
    protected: HashSet<u32>,
    /// Invalidations per page.
    invalidations: HashMap<u32, u32>,
    /// Pages whose blocks are validated on entry instead.
    volatile: HashSet<u32>,
    /// Volatile blocks: guest start -> (guest bytes, host code).
    volatile_blocks: HashMap<u32, (Vec<u8>, u64)>,
}

fn pages_of(start: u32, len: u32) -> impl Iterator<Item = u32> {
    let first = start & !(PAGE - 1);
    let last = start.wrapping_add(len.max(1) - 1) & !(PAGE - 1);
    let n = (last.wrapping_sub(first) / PAGE) as usize + 1;
    (0..n).map(move |k| first.wrapping_add(k as u32 * PAGE))
}

/// Guest bytes of a block, as they are now.
pub fn guest_bytes(start: u32, len: u32) -> Vec<u8> {
    crate::guest_mem::read_bytes(start, len as usize).unwrap_or_default()
}

impl CodePages {
    /// Is any page of [start, start+len) volatile? Pages of MAP_SHARED
    /// mappings always are: a write through another mapping of the same
    /// memory changes them without touching these addresses.
    pub fn is_volatile(&mut self, start: u32, len: u32) -> bool {
        for p in pages_of(start, len) {
            if self.volatile.contains(&p) {
                return true;
            }
            if crate::memory::is_shared(p) {
                self.volatile.insert(p);
                return true;
            }
        }
        false
    }

    /// A volatile block still valid for the current guest bytes.
    pub fn volatile_hit(&self, start: u32) -> Option<u64> {
        let (bytes, host) = self.volatile_blocks.get(&start)?;
        (guest_bytes(start, bytes.len() as u32) == *bytes).then_some(*host)
    }

    /// Record a volatile block made from `bytes` (the guest bytes at
    /// `start` it was translated from).
    pub fn add_volatile(&mut self, start: u32, bytes: Vec<u8>, host: u64) {
        self.volatile_blocks.insert(start, (bytes, host));
    }

    /// Record a run-time block and write-protect its pages where the guest
    /// could write them.
    pub fn add(&mut self, start: u32, len: u32) {
        for p in pages_of(start, len) {
            self.blocks.entry(p).or_default().push(start);
        }
        self.protect(start, len);
    }

    /// Write-protect the pages of [start, start+len) that the guest can write.
    pub fn protect(&mut self, start: u32, len: u32) {
        for p in pages_of(start, len) {
            if self.protected.contains(&p) {
                continue;
            }
            if let Some(prot) = crate::memory::prot_at(p) {
                if prot & libc::PROT_WRITE != 0 {
                    // SAFETY: p is a mapped guest page; read-only keeps its
                    // contents and only makes guest stores fault.
                    if unsafe {
                        libc::mprotect(p as usize as *mut _, PAGE as usize, libc::PROT_READ)
                    } == 0
                    {
                        self.protected.insert(p);
                    }
                }
            }
        }
    }

    /// Is `addr` in a page we write-protected?
    pub fn is_protected(&self, addr: u32) -> bool {
        self.protected.contains(&(addr & !(PAGE - 1)))
    }

    /// Forget the pages of [start, start+len): returns the run-time block
    /// starts to drop, and un-protects the pages (guest protection back).
    pub fn take_range(&mut self, start: u32, len: u32, count_fault: bool) -> Vec<u32> {
        let mut dropped = Vec::new();
        for p in pages_of(start, len) {
            if let Some(v) = self.blocks.remove(&p) {
                dropped.extend(v);
            }
            self.volatile_blocks
                .retain(|&s, (b, _)| !pages_of(s, b.len() as u32).any(|q| q == p));
            if self.protected.remove(&p) {
                if let Some(prot) = crate::memory::prot_at(p) {
                    // SAFETY: p is a mapped guest page; restoring the host
                    // protection that `memory` gives it.
                    unsafe {
                        libc::mprotect(
                            p as usize as *mut _,
                            PAGE as usize,
                            crate::memory::host_prot(prot),
                        )
                    };
                }
            }
            if count_fault {
                let n = self.invalidations.entry(p).or_default();
                *n += 1;
                if *n >= VOLATILE_AFTER {
                    self.volatile.insert(p);
                }
            }
        }
        dropped
    }
}

/// Static blocks with guest bytes in [start, start+len), pages rounded:
/// (guest start, host entry). `blocks` maps a guest start to (host entry,
/// guest length); no block is longer than `span`, so a block overlapping
/// the range starts at most `span` bytes before it.
pub fn static_in_range(
    blocks: &BTreeMap<u32, (u64, u32)>,
    span: u32,
    start: u32,
    len: u32,
) -> Vec<(u32, u64)> {
    let lo = start & !(PAGE - 1);
    let hi = (start as u64 + len as u64 + PAGE as u64 - 1) & !(PAGE as u64 - 1);
    blocks
        .range(lo.saturating_sub(span)..)
        .take_while(|(&s, _)| (s as u64) < hi)
        .filter(|(&s, &(_, n))| s as u64 + n.max(1) as u64 > lo as u64)
        .map(|(&s, &(h, _))| (s, h))
        .collect()
}

/// Install the SIGSEGV handler (on an alternate stack: translated code runs
/// on the guest stack) that turns write faults on protected code pages into
/// invalidations.
pub fn install_handler() {
    install_altstack();
    crate::signal::install_fault_handler(libc::SIGSEGV, on_segv as *const () as usize);
}

/// Give the calling host thread an alternate signal stack: translated code
/// runs on the guest stack, where host signal frames must never land (they
/// would overwrite guest data below esp). Every thread that runs guest code
/// calls this first.
pub fn install_altstack() {
    const ALT: usize = 256 << 10;
    // SAFETY: a fresh mapping for the alternate signal stack, then a plain
    // sigaltstack call with a fully initialised structure.
    unsafe {
        let stack = libc::mmap(
            std::ptr::null_mut(),
            ALT,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if stack != libc::MAP_FAILED {
            let ss = libc::stack_t {
                ss_sp: stack,
                ss_flags: 0,
                ss_size: ALT,
            };
            libc::sigaltstack(&ss, std::ptr::null_mut());
        }
    }
}

/// SIGSEGV: a guest store into a protected code page invalidates the page
/// and retries; anything else ends the process with SIGSEGV as natively.
///
/// The handler takes the JIT lock and frees memory: this is safe because
/// the faults it handles come from translated guest code, which never runs
/// while the runtime holds a lock or is inside the allocator.
extern "C" fn on_segv(_sig: i32, info: *mut libc::siginfo_t, uctx: *mut libc::c_void) {
    // SAFETY: the kernel passes valid siginfo and ucontext pointers.
    let (addr, write) = unsafe {
        let addr = (*info).si_addr() as u64;
        let uc = uctx as *mut libc::ucontext_t;
        let err = (*uc).uc_mcontext.gregs[libc::REG_ERR as usize];
        (addr, err & 2 != 0)
    };
    if write && addr < (1 << 32) && crate::jit::write_fault(addr as u32) {
        return;
    }
    // SAFETY: the kernel's handler arguments.
    if unsafe { crate::signal::on_fault(_sig, info, uctx) } {
        return;
    }
    // Not ours: the process dies of SIGSEGV as natively. Raised here, not
    // left to a retried instruction: a trap (int 4, into) does not retry.
    // SAFETY: resetting a disposition and raising it (SA_NODEFER: unblocked).
    unsafe {
        libc::signal(libc::SIGSEGV, libc::SIG_DFL);
        libc::raise(libc::SIGSEGV);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(list: &[(u32, u32)]) -> (BTreeMap<u32, (u64, u32)>, u32) {
        let map = list
            .iter()
            .map(|&(g, n)| (g, (0x1000_0000_0000 + g as u64, n)))
            .collect();
        let span = list.iter().map(|&(_, n)| n).max().unwrap_or(1);
        (map, span)
    }

    fn starts(v: Vec<(u32, u64)>) -> Vec<u32> {
        v.into_iter().map(|(g, _)| g).collect()
    }

    #[test]
    fn static_blocks_overlapping_a_page() {
        // One ending right at the page, one running into it, one inside,
        // one starting on the next page.
        let (b, span) = blocks(&[(0x1ff0, 0x10), (0x1ffe, 7), (0x2800, 3), (0x3000, 5)]);
        assert_eq!(
            starts(static_in_range(&b, span, 0x2345, 1)),
            [0x1ffe, 0x2800]
        );
        // A range is rounded out to whole pages.
        assert_eq!(
            starts(static_in_range(&b, span, 0x2fff, 2)),
            [0x1ffe, 0x2800, 0x3000]
        );
        assert!(static_in_range(&b, span, 0x5000, 0x1000).is_empty());
    }

    #[test]
    fn empty_blocks_and_the_bottom_of_the_address_space() {
        let (b, span) = blocks(&[(0, 0), (0x0fff, 2)]);
        assert_eq!(starts(static_in_range(&b, span, 0, 1)), [0, 0x0fff]);
        assert_eq!(starts(static_in_range(&b, span, 0x1000, 1)), [0x0fff]);
    }
}
