//! The run-time half of translation: the code cache, translation of blocks
//! the static pass missed, and chaining of direct exits.
//!
//! Invariants: blocks are translated by the shared lowering
//! (`crate::translate`), so run-time and ahead-of-time code agree; the output's
//! `.text` is never written (DESIGN.md invariant 3): only exits of blocks in
//! this cache are patched. A direct exit whose target is not yet translated
//! is remembered and patched when the target appears (chaining), unless
//! block tracing is on (every entry must reach the trace call).

use crate::abi::{IcRecord, IC_RECORD_SIZE};
use crate::smc::{self, CodePages};
use crate::translate::{self, CodeSource, Options};
use crate::{dispatch, log, stats};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Mutex;

const CACHE_SIZE: usize = 512 << 20;

struct Jit {
    base: *mut u8,
    used: usize,
    /// Unpatched exits: guest target -> addresses of rel32 fields.
    waiting: HashMap<u32, Vec<usize>>,
    /// Guest block starts the static pass translated.
    static_starts: BTreeSet<u32>,
    /// Chained exits into each run-time block: (rel32 field, rel32 to its
    /// trampoline), so invalidation can unlink them.
    incoming: HashMap<u32, Vec<(usize, i32)>>,
    /// Pages holding translated code (self-modifying code).
    code_pages: CodePages,
    /// Every inline-cache record (static and run-time), for invalidation
    /// and the report.
    ic_records: Vec<usize>,
    /// Targets seen by each learning site: record -> guest target -> count.
    ic_learning: HashMap<usize, HashMap<u32, u32>>,
    trace: bool,
    translated: u64,
    /// Blocks translated at run time that the static pass did not have, in
    /// discovery order (REHOST_PROFILE).
    discovered: Vec<u32>,
}

// SAFETY: the raw pointer is only used under the JIT mutex.
unsafe impl Send for Jit {}

static JIT: Mutex<Option<Jit>> = Mutex::new(None);

/// Guest memory as a code source: identity-mapped, readable where the
/// guest mapped it.
struct GuestMemory;

impl CodeSource for GuestMemory {
    fn read(&self, addr: u32, buf: &mut [u8]) -> usize {
        // Only executable guest memory is code; the last readable byte may
        // end a page, so read byte-wise up to the mapping's end.
        let mut n = 0;
        while n < buf.len() {
            let a = addr.wrapping_add(n as u32);
            if a < addr || !crate::memory::is_mapped(a, 1) {
                break;
            }
            let run = (0x1000 - (a as usize & 0xfff)).min(buf.len() - n);
            // SAFETY: [a, a+run) lies within one mapped guest page.
            unsafe {
                std::ptr::copy_nonoverlapping(a as usize as *const u8, buf[n..].as_mut_ptr(), run)
            };
            n += run;
        }
        n
    }
}

/// Set up the code cache and register the static pass's blocks
/// (`blocks`: guest address, host address).
pub fn init(static_blocks: &[(u32, u64)]) {
    let trace = log::enabled(log::BLOCKS);
    // SAFETY: a fresh private mapping placed by the kernel (above 4 GiB,
    // the low range being reserved); RWX because exits are patched in place.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            CACHE_SIZE,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        crate::fatal("cannot allocate the code cache");
    }
    let mut static_starts = BTreeSet::new();
    let mut code_pages = CodePages::default();
    for &(g, h) in static_blocks {
        static_starts.insert(g);
        if !trace {
            dispatch::insert(g, h);
        }
        code_pages.protect(g, 1);
    }
    crate::memory::set_change_hook(invalidate_range);
    smc::install_handler();
    *JIT.lock().unwrap_or_else(|e| e.into_inner()) = Some(Jit {
        base: base as *mut u8,
        used: 0,
        waiting: HashMap::new(),
        static_starts,
        incoming: HashMap::new(),
        code_pages,
        ic_records: Vec::new(),
        ic_learning: HashMap::new(),
        trace,
        translated: 0,
        discovered: Vec::new(),
    });
}

/// Was `guest` a block start of the static pass?
pub fn is_static_start(guest: u32) -> bool {
    JIT.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .is_some_and(|j| j.static_starts.contains(&guest))
}

/// Host code for the guest address `guest`, translating it on a miss.
pub fn host_code_for(guest: u32) -> u64 {
    if let Some(h) = dispatch::lookup(guest) {
        return h;
    }
    let mut g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    let jit = g.as_mut().expect("jit initialised");
    if let Some(h) = dispatch::lookup(guest) {
        return h;
    }
    if let Some(h) = jit.code_pages.volatile_hit(guest) {
        return h;
    }
    let t0 = std::time::Instant::now();
    let opts = Options {
        trace: jit.trace,
        exec_flag: false,
        ic_counting: log::enabled(log::STATS),
    };
    let block = translate::translate_block(&GuestMemory, guest, &|_| false, opts);
    if log::enabled(log::JIT) {
        log::line(&format!(
            "jit {guest:#010x}: {} insns, {} guest bytes, {} host bytes",
            block.ninsns,
            block.guest_len,
            block.code.len()
        ));
    }
    let code_len = (block.code.len() + 15) & !15;
    let len = code_len + block.ic_sites.len() * IC_RECORD_SIZE;
    if jit.used + len > CACHE_SIZE {
        crate::fatal("code cache full");
    }
    // SAFETY: [base+used, base+used+len) is inside the cache mapping and not
    // yet part of any block, so no thread executes it.
    let host = unsafe {
        let dst = jit.base.add(jit.used);
        std::ptr::copy_nonoverlapping(block.code.as_ptr(), dst, block.code.len());
        dst as u64
    };
    jit.used += len;
    jit.translated += 1;
    let records = host + code_len as u64;
    for (k, &site) in block.ic_sites.iter().enumerate() {
        let rec = records as usize + k * IC_RECORD_SIZE;
        // SAFETY: the record lies in the cache space just reserved.
        unsafe { (rec as *mut IcRecord).write(IcRecord::new(site)) };
        jit.ic_records.push(rec);
    }
    for r in &block.ic_refs {
        let field = host as usize + r.disp_at as usize;
        let to = records as i64 + r.site as i64 * IC_RECORD_SIZE as i64 + r.field as i64;
        let rel = i32::try_from(to - (field as i64 + 4)).expect("record next to its block");
        // SAFETY: a disp32 field of the block just copied into the cache.
        unsafe { std::ptr::write_unaligned(field as *mut i32, rel) };
    }
    if jit.static_starts.contains(&guest) {
        stats::RUNTIME_AT_STATIC.fetch_add(1, Ordering::Relaxed);
    } else {
        stats::RUNTIME_ONLY.fetch_add(1, Ordering::Relaxed);
        jit.discovered.push(guest);
    }
    if jit.code_pages.is_volatile(guest, block.guest_len) {
        // Validated on every entry instead of being mapped or chained.
        jit.code_pages.add_volatile(guest, block.guest_len, host);
    } else {
        for e in &block.exits {
            let field = host as usize + e.rel32_at as usize;
            match dispatch::lookup(e.target).filter(|_| !jit.trace) {
                Some(t) => jit.link(field, e.target, t),
                None if !jit.trace => jit.waiting.entry(e.target).or_default().push(field),
                None => {}
            }
        }
        dispatch::insert(guest, host);
        if let Some(fields) = jit.waiting.remove(&guest) {
            for f in fields {
                jit.link(f, guest, host);
            }
        }
        jit.code_pages.add(guest, block.guest_len);
    }
    stats::TRANSLATE_NS.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
    host
}

impl Jit {
    /// Chain the exit whose rel32 is at `field` to `host` (guest `target`),
    /// remembering how to unlink it.
    fn link(&mut self, field: usize, target: u32, host: u64) {
        // SAFETY: `field` is a rel32 slot of a block in the cache.
        let old = unsafe { std::ptr::read_unaligned(field as *const i32) };
        if patch(field, host) && !self.static_starts.contains(&target) {
            self.incoming.entry(target).or_default().push((field, old));
        }
    }

    /// Drop every translation of guest code in [start, start+len).
    fn invalidate(&mut self, start: u32, len: u32, fault: bool) {
        for g in self.code_pages.take_range(start, len, fault) {
            dispatch::remove(g);
            for (field, old) in self.incoming.remove(&g).unwrap_or_default() {
                // SAFETY: restoring a rel32 slot of a cached block to the
                // value it had before chaining (its own trampoline).
                unsafe { std::ptr::write_unaligned(field as *mut i32, old) };
                self.waiting.entry(g).or_default().push(field);
            }
        }
        for g in smc::static_in_range(&self.static_starts, start, len) {
            dispatch::remove(g);
        }
        self.clear_ic_entries();
    }

    /// Empty every inline-cache entry whose target lost its translation.
    fn clear_ic_entries(&mut self) {
        for &rec in &self.ic_records {
            let r = rec as *mut IcRecord;
            for level in 0..2 {
                // SAFETY: `rec` is a live record; the guest is stopped in
                // the runtime, so no translated code reads it meanwhile.
                unsafe {
                    let neg = (*r).neg_guest[level];
                    if neg != 0 && dispatch::lookup(neg.wrapping_neg()) != Some((*r).host[level]) {
                        (*r).neg_guest[level] = 0;
                        (*r).host[level] = crate::stubs::stub_miss_addr();
                    }
                }
            }
        }
    }

    /// An inline-cache site missed while learning (abi::Reason::IcMiss).
    fn ic_learn(&mut self, rec: usize, target: u32, host: u64) {
        let counts = self.ic_learning.entry(rec).or_default();
        *counts.entry(target).or_default() += 1;
        let r = rec as *mut IcRecord;
        // SAFETY: `rec` is a record of a block in the cache or the output's
        // .data; only the runtime writes it, under the JIT lock.
        unsafe {
            (*r).budget = (*r).budget.saturating_sub(1);
            if (*r).budget > 0 {
                return;
            }
            let mut by_count: Vec<(u32, u32)> = counts.iter().map(|(&g, &n)| (g, n)).collect();
            by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            // A site whose two most frequent targets cover less than 90% of
            // what it saw is polymorphic: its compares would mispredict, so
            // it keeps empty (never-taken) entries and uses the map table.
            let total: u32 = by_count.iter().map(|&(_, n)| n).sum();
            let top2: u32 = by_count.iter().take(2).map(|&(_, n)| n).sum();
            let mut level = 0;
            for (g, _) in by_count.into_iter().filter(|_| top2 * 10 >= total * 9) {
                if level == 2 {
                    break;
                }
                // Only targets with a mapped (non-volatile) translation.
                if let Some(h) = dispatch::lookup(g) {
                    (*r).host[level] = h;
                    (*r).neg_guest[level] = g.wrapping_neg();
                    level += 1;
                }
            }
            (*r).learned = 1;
        }
        self.ic_learning.remove(&rec);
        let _ = host;
    }
}

/// The learning path of an inline-cache site: translate (or find) the target
/// and record it for the site. Returns the host code to continue at.
pub fn ic_miss(rec: usize, target: u32) -> u64 {
    let host = host_code_for(target);
    let mut g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(jit) = g.as_mut() {
        jit.ic_learn(rec, target, host);
    }
    host
}

/// Register the static pass's inline-cache records.
pub fn add_static_ic_records(records: *mut IcRecord, n: usize) {
    let mut g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(jit) = g.as_mut() {
        for k in 0..n {
            // SAFETY: pointer arithmetic within the output's record array.
            jit.ic_records.push(unsafe { records.add(k) } as usize);
        }
    }
}

/// Inline-cache totals for the report: (sites, sites learned, hits level 0,
/// hits level 1, map-table lookups).
pub fn ic_totals() -> (usize, usize, u64, u64, u64) {
    let g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    let Some(jit) = g.as_ref() else {
        return (0, 0, 0, 0, 0);
    };
    let mut t = (jit.ic_records.len(), 0, 0, 0, 0);
    for &rec in &jit.ic_records {
        // SAFETY: live records; racy reads only skew the report.
        let r = unsafe { &*(rec as *const IcRecord) };
        t.1 += (r.learned != 0) as usize;
        t.2 += r.hits[0];
        t.3 += r.hits[1];
        t.4 += r.lookups;
    }
    t
}

/// `memory`'s change hook: guest bytes in [start, start+len) may change or
/// have changed (munmap, mmap, mprotect, a system call writing there).
pub fn invalidate_range(start: u32, len: u32) {
    let mut g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(jit) = g.as_mut() {
        jit.invalidate(start, len, false);
    }
}

/// A guest store faulted at `addr`: if it is a page we protected, drop its
/// translations and let the store retry (true).
pub fn write_fault(addr: u32) -> bool {
    let mut g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    let Some(jit) = g.as_mut() else { return false };
    if !jit.code_pages.is_protected(addr) {
        return false;
    }
    jit.invalidate(addr & !0xfff, 1, true);
    true
}

/// Point the rel32 field at `field` to `target`, if it reaches.
fn patch(field: usize, target: u64) -> bool {
    let rel = target as i64 - (field as i64 + 4);
    let Ok(rel) = i32::try_from(rel) else {
        return false;
    };
    stats::CHAINED.fetch_add(1, Ordering::Relaxed);
    // SAFETY: `field` is a rel32 slot of a block in the writable cache;
    // single-threaded guests cannot be executing it mid-update (threads
    // arrive with a later issue, which must make this atomic).
    unsafe { std::ptr::write_unaligned(field as *mut i32, rel) };
    true
}

/// Number of blocks translated at run time.
pub fn translated_count() -> u64 {
    JIT.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map_or(0, |j| j.translated)
}

/// Guest addresses of blocks discovered only at run time.
pub fn discovered() -> Vec<u32> {
    JIT.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map_or(Vec::new(), |j| j.discovered.clone())
}
