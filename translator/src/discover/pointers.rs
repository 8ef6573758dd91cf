//! Code pointers stored in data: function pointers (vtables, callback
//! tables, `.init_array`), label tables of computed gotos (glibc's printf
//! state machine), and the targets of R_386_RELATIVE / R_386_IRELATIVE
//! relocations. None of these is reached by a direct jump or call.
//!
//! Conservative rules (a data word is read as a link-time address, plus the
//! load bias): a word is a code pointer if it is a known function start (an
//! FDE or a function symbol); a run of at least `MIN_RUN` consecutive words
//! that all point into the same function is a label table; a relocation
//! target is taken if it lies inside a known function (or no extents are
//! known). Label-table and relocation targets must also decode as a block.
//!
//! Invariant: speculative; a wrong pointer only costs translation work.

use super::{phdrs, Funcs};
use crate::elf::{GuestElf, PF_X, SHF_ALLOC, SHF_EXECINSTR};
use std::collections::BTreeSet;

/// Shortest run of same-function words taken as a label table.
const MIN_RUN: usize = 3;
const R_386_RELATIVE: u32 = 8;
const R_386_IRELATIVE: u32 = 42;
/// Sections that hold no absolute code pointers (or only non-address data).
const SKIP: [&str; 12] = [
    ".eh_frame",
    ".eh_frame_hdr",
    ".gcc_except_table",
    ".rel.dyn",
    ".rel.plt",
    ".dynsym",
    ".dynstr",
    ".hash",
    ".gnu.hash",
    ".interp",
    ".dynamic",
    ".comment",
];

fn word(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Data to scan: (guest address, file bytes) of the allocated non-code
/// sections, or of the non-executable segments without section headers.
fn regions(elf: &GuestElf) -> Vec<(u32, &[u8])> {
    let secs: Vec<_> = elf
        .sections
        .iter()
        .filter(|s| s.flags & SHF_ALLOC != 0 && s.flags & SHF_EXECINSTR == 0 && s.addr != 0)
        .filter(|s| !SKIP.contains(&s.name.as_str()) && !s.name.starts_with(".note"))
        .filter(|s| !s.name.starts_with(".gnu.version"))
        .map(|s| (s.addr, s.data.as_slice()))
        .collect();
    if !elf.sections.is_empty() {
        return secs;
    }
    let data = elf.segments.iter().filter(|s| s.flags & PF_X == 0);
    data.map(|s| (s.vaddr, s.data.as_slice())).collect()
}

/// (biased slot, type) of the REL relocations, from sections or DT_REL/DT_JMPREL.
fn relocations(elf: &GuestElf) -> BTreeSet<(u32, u32)> {
    let mut tables: Vec<&[u8]> = [".rel.dyn", ".rel.plt"]
        .iter()
        .filter_map(|n| elf.section(n))
        .map(|s| s.data.as_slice())
        .collect();
    let dynamic = phdrs::dynamic(elf);
    let tag = |t: u32| dynamic.iter().find(|d| d.0 == t).map(|d| d.1);
    for (at, size) in [(17, 18), (23, 2)] {
        if let (Some(a), Some(n)) = (tag(at), tag(size)) {
            tables.extend(elf.read(a.wrapping_add(elf.load_bias), n as usize));
        }
    }
    let mut out = BTreeSet::new();
    for t in tables {
        for r in t.chunks_exact(8) {
            out.insert((word(r).wrapping_add(elf.load_bias), word(&r[4..]) & 0xff));
        }
    }
    out
}

/// Code addresses found in data; `plausible` says whether an address
/// decodes as a block.
pub fn scan(elf: &GuestElf, funcs: &Funcs, plausible: &dyn Fn(u32) -> bool) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    for (addr, bytes) in regions(elf) {
        let skip = (addr.wrapping_neg() & 3) as usize;
        let Some(bytes) = bytes.get(skip..) else {
            continue;
        };
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|w| word(w).wrapping_add(elf.load_bias))
            .collect();
        let mut i = 0;
        while i < words.len() {
            let v = words[i];
            if !elf.is_exec_addr(v) {
                i += 1;
                continue;
            }
            if funcs.starts.contains(&v) {
                out.insert(v);
            }
            // A run of words inside the same function: a label table.
            let Some(range) = funcs.containing(v) else {
                i += 1;
                continue;
            };
            let inside = |w: u32| w >= range.0 && w < range.1;
            let run = words[i..].iter().take_while(|&&w| inside(w)).count();
            if run < MIN_RUN {
                i += 1;
                continue;
            }
            out.extend(words[i..i + run].iter().filter(|&&w| plausible(w)));
            i += run;
        }
    }
    for (slot, ty) in relocations(elf) {
        if ty != R_386_RELATIVE && ty != R_386_IRELATIVE {
            continue;
        }
        let Some(v) = elf
            .read(slot, 4)
            .map(|w| word(w).wrapping_add(elf.load_bias))
        else {
            continue;
        };
        let known = funcs.is_empty() || funcs.containing(v).is_some();
        if elf.is_exec_addr(v) && (funcs.starts.contains(&v) || (known && plausible(v))) {
            out.insert(v);
        }
    }
    out
}
