//! modify_ldt (123): the process's i386 local descriptor table, emulated
//! in the runtime as Linux's arch/x86/kernel/ldt.c keeps it (the host's
//! modify_ldt is never called), and the descriptor lookup segment loads
//! of LDT selectors need (`emulate::load_segment`).
//!
//! Invariants: the table is per process: a static of the runtime, so
//! CLONE_VM threads and processes share it and a host fork copies it, as
//! the LDT belongs to the mm on Linux. Entries are raw 8-byte descriptors
//! stored whole (atomically), and the table only grows, so a reader never
//! sees half an entry.

use super::{structs, Args, SysResult};
use crate::abi::Context;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// LDT_ENTRIES.
pub const ENTRIES: usize = 8192;
const ENTRY_SIZE: usize = 8;
/// What func 2 (read the default LDT) gives on an x86-64 kernel.
const DEFAULT_SIZE: usize = 128;

static LDT: [AtomicU64; ENTRIES] = [const { AtomicU64::new(0) }; ENTRIES];
/// nr_entries: highest entry ever written + 1 (0: the process has no LDT).
static NR: AtomicU32 = AtomicU32::new(0);

/// The descriptor of LDT entry `index`, or None past the LDT's limit.
pub fn descriptor(index: u32) -> Option<u64> {
    (index < NR.load(Ordering::Acquire)).then(|| LDT[index as usize].load(Ordering::Acquire))
}

/// modify_ldt(func, ptr, bytecount).
pub fn modify_ldt(_: &mut Context, a: &Args) -> SysResult {
    let (ptr, count) = (a[1], a[2] as usize);
    match a[0] as i32 {
        0 => read_ldt(ptr, count),
        1 => write_ldt(ptr, count, true),
        2 => read_default(ptr, count),
        0x11 => write_ldt(ptr, count, false),
        _ => Err(libc::ENOSYS),
    }
}

/// func 0: the entries, zero-filled up to `count` (at most the whole
/// table); 0 when the process has no LDT.
fn read_ldt(ptr: u32, count: usize) -> SysResult {
    let nr = NR.load(Ordering::Acquire) as usize;
    if nr == 0 {
        return Ok(0);
    }
    let count = count.min(ENTRIES * ENTRY_SIZE);
    let mut buf = vec![0u8; count];
    for (i, chunk) in buf.chunks_mut(ENTRY_SIZE).take(nr).enumerate() {
        let d = LDT[i].load(Ordering::Acquire).to_le_bytes();
        chunk.copy_from_slice(&d[..chunk.len()]);
    }
    crate::guest_mem::write_bytes(ptr, &buf)?;
    Ok(count as i64)
}

/// func 2: zeros.
fn read_default(ptr: u32, count: usize) -> SysResult {
    let count = count.min(DEFAULT_SIZE);
    crate::guest_mem::write_bytes(ptr, &vec![0u8; count])?;
    Ok(count as i64)
}

/// func 1 (`old`) and 0x11: write one entry from an i386 `user_desc`.
fn write_ldt(ptr: u32, count: usize, old: bool) -> SysResult {
    if count != std::mem::size_of::<structs::UserDesc>() {
        return Err(libc::EINVAL);
    }
    let d: structs::UserDesc = structs::read(ptr)?;
    if d.entry_number as usize >= ENTRIES {
        return Err(libc::EINVAL);
    }
    let f = d.flags;
    let contents = (f >> 1) & 3;
    let not_present = (f >> 5) & 1;
    if contents == 3 && (old || not_present == 0) {
        return Err(libc::EINVAL);
    }
    let desc = if old && d.base_addr == 0 && d.limit == 0 || is_empty(&d) {
        0
    } else {
        let mut desc = fill(&d);
        if old {
            desc &= !(1 << 52); // avl
        }
        desc
    };
    LDT[d.entry_number as usize].store(desc, Ordering::Release);
    NR.fetch_max(d.entry_number + 1, Ordering::AcqRel);
    Ok(0)
}

/// LDT_empty (x86-64): zero base and limit, read_exec_only and
/// seg_not_present set, every other flag clear.
fn is_empty(d: &structs::UserDesc) -> bool {
    d.base_addr == 0 && d.limit == 0 && d.flags & 0xff == 0x28
}

/// fill_ldt: the descriptor for `d` (accessed bit set, S = 1, DPL 3, L = 0).
fn fill(d: &structs::UserDesc) -> u64 {
    let f = d.flags as u64;
    let (base, limit) = (d.base_addr as u64, d.limit as u64);
    let seg_32bit = f & 1;
    let contents = (f >> 1) & 3;
    let read_exec_only = (f >> 3) & 1;
    let limit_in_pages = (f >> 4) & 1;
    let not_present = (f >> 5) & 1;
    let useable = (f >> 6) & 1;
    let typ = ((read_exec_only ^ 1) << 1) | (contents << 2) | 1;
    (limit & 0xffff)
        | (base & 0xff_ffff) << 16
        | typ << 40
        | 1 << 44
        | 3 << 45
        | (not_present ^ 1) << 47
        | ((limit >> 16) & 0xf) << 48
        | useable << 52
        | seg_32bit << 54
        | limit_in_pages << 55
        | (base >> 24) << 56
}

/// The base address a descriptor holds.
pub fn base_of(desc: u64) -> u32 {
    ((desc >> 16) & 0xff_ffff) as u32 | ((desc >> 56) as u32) << 24
}
