//! The run-time half of translation: the code cache, translation of blocks
//! the static pass missed, and chaining of direct exits.
//!
//! Invariants: blocks are translated by the shared lowering
//! (`crate::translate`), so run-time and ahead-of-time code agree; the
//! output's `.text` stays read-only (DESIGN.md invariant 3): only exits of
//! blocks in this cache are patched, and the one write into `.text` is the
//! `int3` that diverts an invalidated static block (`textpatch`), made with
//! the page writable for that store only. A direct exit whose target is not yet translated
//! is remembered and patched when the target appears (chaining), unless
//! block tracing is on (every entry must reach the trace call).
//! With REHOST_IC=1 the indirect jmp/call sites of run-time blocks carry
//! inline caches (`translate::ic`): the JIT initialises their records,
//! fills them once a site has learned its targets, and empties entries
//! whose target's translation is dropped.

use crate::abi::{IcRecord, IC_LEARN, IC_RECORD_SIZE};
use crate::smc::{self, CodePages};
use crate::translate::{self, CodeSource, Options};
use crate::{dispatch, log, stats};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

const CACHE_SIZE: usize = 512 << 20;

struct Jit {
    base: *mut u8,
    used: usize,
    /// Unpatched exits: guest target -> addresses of rel32 fields.
    waiting: HashMap<u32, Vec<usize>>,
    /// Guest block starts the static pass translated.
    static_starts: BTreeSet<u32>,
    /// Static blocks: guest start -> (host entry, guest bytes covered).
    static_blocks: BTreeMap<u32, (u64, u32)>,
    /// Most guest bytes a static block covers (how far before a changed
    /// page a block overlapping it can start).
    static_span: u32,
    /// Chained exits into each block (run-time or static): (rel32 field,
    /// rel32 to its trampoline), so invalidation can unlink them.
    incoming: HashMap<u32, Vec<(usize, i32)>>,
    /// Pages holding translated code (self-modifying code).
    code_pages: CodePages,
    trace: bool,
    translated: u64,
    /// Blocks translated at run time that the static pass did not have, in
    /// discovery order (REHOST_PROFILE).
    discovered: Vec<u32>,
    /// Run-time blocks by host address: (code length, host-to-guest map).
    pc_maps: BTreeMap<u64, (u32, Vec<(u32, u32)>)>,
    /// Inline caches (REHOST_IC=1): `None` when off.
    ic: Option<Ic>,
}

/// The inline caches' run-time state (`translate::ic`).
struct Ic {
    /// Count hits per level in translated code (REHOST_STATS).
    counting: bool,
    /// Every record, for invalidation and the report.
    records: Vec<usize>,
    /// Targets seen by each learning site: record -> guest -> misses.
    learning: HashMap<usize, HashMap<u32, u32>>,
    /// Host-address table the entries index: append-only, so an index a
    /// thread has read always names the host code it was stored with.
    /// Slot 0 is the map-miss stub (the empty entry).
    hosts: *mut u64,
    nhosts: usize,
}

/// Slots of the inline caches' host-address table.
const IC_HOSTS_MAX: usize = 1 << 20;

/// Are inline caches asked for (REHOST_IC=1, or static code translated with
/// them) and possible (rorx needs BMI2)?
fn ic_wanted(nstatic: usize) -> bool {
    let on = std::env::var("REHOST_IC").is_ok_and(|v| !v.is_empty() && v != "0");
    let bmi2 = std::arch::is_x86_feature_detected!("bmi2");
    if nstatic != 0 && !bmi2 {
        crate::fatal("translated with --inline-caches, which need BMI2 (rorx): this CPU has none");
    }
    if on && !bmi2 {
        log::line("REHOST_IC: the host CPU has no BMI2 (rorx); inline caches stay off");
        return false;
    }
    on || nstatic != 0
}

/// Where translated code lives, for the signal handlers (set once at start).
static CACHE_BASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static STATIC_CODE: Mutex<StaticCode> = Mutex::new(StaticCode {
    text: 0,
    len: 0,
    blocks: Vec::new(),
    exec_flag: false,
    ic_records: 0,
    nic: 0,
});

/// The static pass's blocks, by host address, to map a fault in them back
/// to a guest instruction (by translating the block again: a block is a
/// function of its bytes, so the same lowering gives the same code).
struct StaticCode {
    text: u64,
    len: u64,
    /// (host address, guest start), sorted by host address.
    blocks: Vec<(u64, u32)>,
    exec_flag: bool,
    /// The static blocks' inline-cache records (translated with
    /// `--inline-caches`; counted when also translated with `--stats`).
    ic_records: usize,
    nic: usize,
}

/// One block of the static pass, as the translated executable lists it.
#[derive(Clone, Copy, Debug)]
pub struct StaticBlock {
    pub guest: u32,
    /// Host address of its code in the output's `.text`.
    pub host: u64,
    /// Guest bytes it covers from `guest`.
    pub guest_len: u32,
}

/// Register the output's `.text` range (ahead-of-time start-up).
pub fn set_static_code(text: u64, len: u64, exec_flag: bool, blocks: &[StaticBlock]) {
    crate::textpatch::set_text_end(text + len);
    let mut b: Vec<(u64, u32)> = blocks.iter().map(|s| (s.host, s.guest)).collect();
    b.sort_unstable();
    let mut s = STATIC_CODE.lock().unwrap_or_else(|e| e.into_inner());
    s.text = text;
    s.len = len;
    s.blocks = b;
    s.exec_flag = exec_flag;
}

/// Register the static pass's inline-cache records (before `init`).
pub fn set_static_ic(records: usize, n: usize) {
    let mut s = STATIC_CODE.lock().unwrap_or_else(|e| e.into_inner());
    s.ic_records = records;
    s.nic = n;
}

/// Is `rip` inside translated code (the output's `.text` or the cache)?
pub fn is_translated_code(rip: u64) -> bool {
    let base = CACHE_BASE.load(Ordering::Relaxed);
    if base != 0 && rip >= base && rip < base + CACHE_SIZE as u64 {
        return true;
    }
    if crate::textpatch::is_stub(rip) {
        return true;
    }
    let s = STATIC_CODE.lock().unwrap_or_else(|e| e.into_inner());
    rip >= s.text && rip < s.text + s.len
}

/// The guest instruction whose host code contains `rip`.
pub fn guest_eip_at(rip: u64) -> Option<u32> {
    pc_lookup(rip, false)
}

/// Length of the guest instruction at `eip`, if readable and valid.
pub fn guest_insn_len(eip: u32) -> Option<u32> {
    let mut buf = [0u8; 15];
    let n = GuestMemory.read(eip, &mut buf);
    let i = iced_x86::Decoder::with_ip(32, &buf[..n], eip as u64, iced_x86::DecoderOptions::NONE)
        .decode();
    (!i.is_invalid()).then_some(i.len() as u32)
}

/// The guest instruction whose host code starts exactly at `rip` (a guest
/// instruction boundary, where the guest state is exact).
pub fn guest_boundary_at(rip: u64) -> Option<u32> {
    pc_lookup(rip, true)
}

fn pc_lookup(rip: u64, exact: bool) -> Option<u32> {
    let find = |map: &[(u32, u32)], off: u32| {
        if exact {
            map.iter().find(|&&(o, _)| o == off).map(|&(_, e)| e)
        } else {
            map.iter().rev().find(|&&(o, _)| o <= off).map(|&(_, e)| e)
        }
    };
    {
        let g = JIT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((&start, (len, map))) = g.as_ref()?.pc_maps.range(..=rip).next_back() {
            if rip < start + *len as u64 {
                return find(map, (rip - start) as u32);
            }
        }
    }
    let (host, guest, exec_flag, ic) = {
        let s = STATIC_CODE.lock().unwrap_or_else(|e| e.into_inner());
        let k = s
            .blocks
            .partition_point(|&(h, _)| h <= rip)
            .checked_sub(1)?;
        (s.blocks[k].0, s.blocks[k].1, s.exec_flag, s.nic != 0)
    };
    let starts = JIT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()?
        .static_starts
        .clone();
    let opts = Options {
        trace: false,
        exec_flag,
        ic,
        ic_counting: ic && exec_flag,
    };
    let b = translate::translate_block(&GuestMemory, guest, &|a| starts.contains(&a), opts);
    let off = rip - host;
    (off < b.body_len as u64)
        .then(|| find(&b.pc_map, off as u32))
        .flatten()
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

/// Guest memory as a code source that remembers what it read.
#[derive(Default)]
struct Recording {
    reads: std::cell::RefCell<Vec<(u32, Vec<u8>)>>,
}

impl CodeSource for Recording {
    fn read(&self, addr: u32, buf: &mut [u8]) -> usize {
        let n = GuestMemory.read(addr, buf);
        self.reads.borrow_mut().push((addr, buf[..n].to_vec()));
        n
    }
}

impl Recording {
    /// The bytes of [start, start+len) as last read (the decoder reads an
    /// instruction's bytes last in the window at its own address).
    fn bytes(&self, start: u32, len: u32) -> Vec<u8> {
        let mut out = vec![0u8; len as usize];
        for (a, b) in self.reads.borrow().iter() {
            for (k, &x) in b.iter().enumerate() {
                let off = a.wrapping_add(k as u32).wrapping_sub(start) as usize;
                if off < out.len() {
                    out[off] = x;
                }
            }
        }
        out
    }
}

/// Set up the code cache and register the static pass's blocks.
pub fn init(static_blocks: &[StaticBlock]) {
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
    CACHE_BASE.store(base as u64, Ordering::Relaxed);
    crate::signal::install_fault_handlers();
    let mut static_starts = BTreeSet::new();
    let mut by_guest = BTreeMap::new();
    let mut static_span = 1;
    let mut code_pages = CodePages::default();
    for b in static_blocks {
        static_starts.insert(b.guest);
        by_guest.insert(b.guest, (b.host, b.guest_len));
        static_span = static_span.max(b.guest_len);
        if !trace {
            dispatch::insert(b.guest, b.host);
        }
        // Every page it covers: a block may run on into the next page.
        code_pages.protect(b.guest, b.guest_len);
    }
    let (static_ic, nstatic_ic) = {
        let s = STATIC_CODE.lock().unwrap_or_else(|e| e.into_inner());
        (s.ic_records, s.nic)
    };
    let ic = ic_wanted(nstatic_ic).then(|| {
        // SAFETY: a fresh private mapping for the host-address table.
        let hosts = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                IC_HOSTS_MAX * 8,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if hosts == libc::MAP_FAILED {
            crate::fatal("cannot allocate the inline caches' table");
        }
        let hosts = hosts as *mut u64;
        // SAFETY: slot 0 of the table just mapped.
        unsafe { *hosts = crate::stubs::stub_miss_addr() };
        let mut records = Vec::with_capacity(nstatic_ic);
        for k in 0..nstatic_ic {
            let rec = static_ic + k * IC_RECORD_SIZE;
            // SAFETY: the output's writable record array (`nic` records);
            // no guest code has run yet.
            unsafe { (*(rec as *mut IcRecord)).hosts = hosts as u64 };
            records.push(rec);
        }
        Ic {
            counting: log::enabled(log::STATS),
            records,
            learning: HashMap::new(),
            hosts,
            nhosts: 1,
        }
    });
    crate::memory::set_change_hook(invalidate_range);
    smc::install_handler();
    *JIT.lock().unwrap_or_else(|e| e.into_inner()) = Some(Jit {
        base: base as *mut u8,
        used: 0,
        waiting: HashMap::new(),
        static_starts,
        static_blocks: by_guest,
        static_span,
        incoming: HashMap::new(),
        code_pages,
        trace,
        translated: 0,
        discovered: Vec::new(),
        pc_maps: BTreeMap::new(),
        ic,
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
        ic: jit.ic.is_some(),
        ic_counting: jit.ic.as_ref().is_some_and(|ic| ic.counting),
    };
    // The guest bytes a translation is made from must be the ones its page
    // protection (or volatile validation) guards: another thread may store
    // to the page between the reads and the protection. So the bytes read
    // are recorded, the pages protected, and the bytes compared again; on
    // a difference the block is translated again, now under protection (a
    // store faults and waits for this lock).
    let mut retried = false;
    let (block, used, volatile) = loop {
        let src = Recording::default();
        let block = translate::translate_block(&src, guest, &|_| false, opts);
        let used = src.bytes(guest, block.guest_len);
        let volatile = jit.code_pages.is_volatile(guest, block.guest_len);
        if volatile || retried {
            break (block, used, volatile);
        }
        jit.code_pages.protect(guest, block.guest_len);
        if smc::guest_bytes(guest, block.guest_len) == used {
            break (block, used, volatile);
        }
        retried = true;
    };
    if log::enabled(log::JIT) {
        log::line(&format!(
            "jit {guest:#010x}: {} insns, {} guest bytes, {} host bytes",
            block.ninsns,
            block.guest_len,
            block.code.len()
        ));
    }
    if !block.ic_sites.is_empty() {
        // Records are placed 64-aligned (one cache line each).
        jit.used = (jit.used + IC_RECORD_SIZE - 1) & !(IC_RECORD_SIZE - 1);
    }
    let len = (block.code.len() + 15) & !15;
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
    if let Some(ic) = jit.ic.as_mut() {
        for (k, &site) in block.ic_sites.iter().enumerate() {
            let rec = host as usize + block.ic_records_at as usize + k * IC_RECORD_SIZE;
            // SAFETY: the record lies in the block just copied, not yet
            // reachable by any thread.
            unsafe {
                (rec as *mut IcRecord).write(IcRecord {
                    entry: [0; 2],
                    budget: IC_LEARN,
                    site,
                    hits: [0; 2],
                    lookups: 0,
                    fills: 0,
                    hosts: ic.hosts as u64,
                })
            };
            ic.records.push(rec);
        }
    }
    jit.pc_maps
        .insert(host, (block.code.len() as u32, block.pc_map.clone()));
    if jit.static_starts.contains(&guest) {
        stats::RUNTIME_AT_STATIC.fetch_add(1, Ordering::Relaxed);
    } else {
        stats::RUNTIME_ONLY.fetch_add(1, Ordering::Relaxed);
        jit.discovered.push(guest);
    }
    if volatile {
        // Validated on every entry (against the bytes it was made from)
        // instead of being mapped or chained.
        jit.code_pages.add_volatile(guest, used, host);
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
        if patch(field, host) {
            self.incoming.entry(target).or_default().push((field, old));
        }
    }

    /// Drop every translation of guest code in [start, start+len).
    /// Static blocks there lose their map entries, chained exits into them
    /// are unlinked, and their host entries are diverted to the runtime
    /// (`textpatch`), which the direct jumps bound between static blocks
    /// then reach.
    fn invalidate(&mut self, start: u32, len: u32, fault: bool) {
        for g in self.code_pages.take_range(start, len, fault) {
            dispatch::remove(g);
            self.unlink(g);
        }
        for (g, h) in smc::static_in_range(&self.static_blocks, self.static_span, start, len) {
            dispatch::remove(g);
            self.unlink(g);
            crate::textpatch::divert(h, g);
        }
        if let Some(ic) = self.ic.as_mut() {
            ic.drop_stale();
        }
    }

    /// Point the chained exits into `g` back at their trampolines.
    fn unlink(&mut self, g: u32) {
        for (field, old) in self.incoming.remove(&g).unwrap_or_default() {
            // SAFETY: restoring a rel32 slot of a cached block to the
            // value it had before chaining (its own trampoline).
            unsafe { std::ptr::write_unaligned(field as *mut i32, old) };
            self.waiting.entry(g).or_default().push(field);
        }
    }
}

impl Ic {
    /// The record at `rec` (a record of a block in the cache).
    fn record<'a>(rec: usize) -> (&'a [AtomicU64; 2], &'a AtomicU32) {
        // SAFETY: records are 64-aligned and live as long as the cache;
        // code reads them concurrently, hence atomics.
        unsafe {
            (
                &*(rec as *const [AtomicU64; 2]),
                &*((rec + crate::abi::IC_BUDGET) as *const AtomicU32),
            )
        }
    }

    /// Empty every entry whose target lost its translation (or now has
    /// another one), and let the site learn again.
    fn drop_stale(&mut self) {
        for &rec in &self.records {
            let (entries, budget) = Ic::record(rec);
            for e in entries {
                let v = e.load(Ordering::Relaxed);
                if v == 0 {
                    continue;
                }
                let target = (v as u32).wrapping_neg();
                // SAFETY: indices stored in entries are below nhosts.
                let host = unsafe { *self.hosts.add((v >> 32) as usize) };
                if dispatch::lookup(target) != Some(host) {
                    // One 8-byte store: a thread sees the old pair (stale
                    // code, as with a chained exit being unlinked) or the
                    // empty entry.
                    e.store(0, Ordering::Release);
                    budget.store(IC_LEARN, Ordering::Relaxed);
                    stats::IC_DROPPED.fetch_add(1, Ordering::Relaxed);
                    if log::enabled(log::JIT) {
                        // SAFETY: the site field of a live record.
                        let site = unsafe { (*(rec as *const IcRecord)).site };
                        log::line(&format!(
                            "ic: site {site:#010x} drops target {target:#010x}"
                        ));
                    }
                    self.learning.remove(&rec);
                }
            }
        }
    }

    /// A learning site missed on `target`: count it; after `IC_LEARN`
    /// misses fill the entries, most frequent target first, with the two
    /// most frequent targets that have a mapped (non-volatile) translation,
    /// if they took at least 90% of the misses. A polymorphic site keeps
    /// empty entries: its compares, never taken, stay well predicted and
    /// fall through to the map lookup, whose indirect jump the branch
    /// target buffer predicts (a partly filled cache measured slower on
    /// the bench's switch dispatch).
    fn learn(&mut self, rec: usize, target: u32) {
        stats::IC_RUNTIME.fetch_add(1, Ordering::Relaxed);
        let (entries, budget) = Ic::record(rec);
        let left = budget.load(Ordering::Relaxed);
        if left == 0 {
            return;
        }
        let counts = self.learning.entry(rec).or_default();
        *counts.entry(target).or_default() += 1;
        budget.store(left - 1, Ordering::Relaxed);
        if left > 1 {
            return;
        }
        let counts = self.learning.remove(&rec).unwrap_or_default();
        let total: u32 = counts.values().sum();
        let mut by_count: Vec<(u32, u32)> = counts.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top2: u32 = by_count.iter().take(2).map(|&(_, n)| n).sum();
        let mut level = 0;
        for (g, _) in by_count {
            if level == 2 || (top2 as u64) * 10 < total as u64 * 9 {
                break;
            }
            let Some(h) = dispatch::lookup(g) else {
                continue;
            };
            if self.nhosts == IC_HOSTS_MAX {
                break;
            }
            // SAFETY: a fresh slot of the table, published by the entry
            // store below (Release).
            unsafe { *self.hosts.add(self.nhosts) = h };
            let v = ((self.nhosts as u64) << 32) | g.wrapping_neg() as u64;
            self.nhosts += 1;
            entries[level].store(v, Ordering::Release);
            level += 1;
        }
        for e in &entries[level..] {
            e.store(0, Ordering::Release);
        }
        // SAFETY: the fills counter of a live record, written under the lock.
        unsafe { (*(rec as *mut IcRecord)).fills += 1 };
    }
}

/// An inline-cache site missed while learning (abi::Reason::IcMiss):
/// translate (or find) the target, then let the site learn it.
pub fn ic_miss(rec: usize, target: u32) {
    host_code_for(target);
    let mut g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(ic) = g.as_mut().and_then(|j| j.ic.as_mut()) {
        ic.learn(rec, target);
    }
}

/// Inline-cache totals for the report, `None` when they are off:
/// (sites, sites filled, level-1 hits, level-2 hits, map lookups).
pub fn ic_totals() -> Option<(usize, usize, u64, u64, u64)> {
    let g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    let ic = g.as_ref()?.ic.as_ref()?;
    let mut t = (ic.records.len(), 0, 0, 0, 0);
    for &rec in &ic.records {
        // SAFETY: live records; racy reads only skew the report.
        let r = unsafe { std::ptr::read_volatile(rec as *const IcRecord) };
        t.1 += (r.entry[0] != 0) as usize;
        t.2 += r.hits[0];
        t.3 += r.hits[1];
        t.4 += r.lookups;
    }
    Some(t)
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
    // SAFETY: `field` is a rel32 slot of a block in the writable cache,
    // within one cache line, so the store is atomic for any thread
    // executing the jump (it sees the old or the new target, both valid).
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

/// Run `f` with the JIT lock held (fork: the child must not inherit the
/// lock held by another thread; each process releases its own copy).
pub fn with_lock_held<R>(f: impl FnOnce() -> R) -> R {
    let _g = JIT.lock().unwrap_or_else(|e| e.into_inner());
    crate::textpatch::with_lock_held(f)
}
