//! Function starts from the unwind tables: every `.eh_frame` FDE names the
//! start and length of a function (kept even by `strip --strip-all`), and an
//! FDE's LSDA leads to the C++ landing pads (see `lsda`).
//!
//! `.eh_frame` is found by section header, else through PT_GNU_EH_FRAME
//! (`.eh_frame_hdr`: its `eh_frame_ptr` and its sorted table of FDE starts).
//!
//! Invariant: speculative. Corrupt or truncated records are skipped, never
//! trusted and never a panic; the result only seeds discovery.

use super::dwarf::{pointer, value, Bases, Cursor, OMIT};
use super::{lsda, phdrs};
use crate::elf::GuestElf;
use std::collections::HashMap;

/// One function as its FDE describes it (biased addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fde {
    pub start: u32,
    pub len: u32,
    /// The language-specific data area, if the FDE has one.
    pub lsda: Option<u32>,
}

/// What the unwind tables say about code.
#[derive(Default, Debug)]
pub struct Unwind {
    /// FDEs in table order (starts need not be code: the caller filters).
    pub fdes: Vec<Fde>,
    /// Landing pads from the LSDAs, each inside some FDE's range.
    pub landing_pads: Vec<u32>,
}

/// The parts of a CIE its FDEs need.
#[derive(Clone, Copy)]
struct Cie {
    fde_enc: u8,
    lsda_enc: u8,
    /// Augmentation "z...": FDEs carry an augmentation-data length.
    z: bool,
}

/// Read the unwind tables of `elf`.
pub fn read(elf: &GuestElf) -> Unwind {
    let mut fdes = Vec::new();
    match elf.section(".eh_frame").filter(|s| s.addr != 0) {
        Some(s) => parse(elf, &s.data, s.addr, false, &mut fdes),
        None => from_hdr(elf, &mut fdes),
    }
    let mut pads = Vec::new();
    for f in &fdes {
        if let Some(l) = f.lsda {
            lsda::landing_pads(elf, f.start, l, &mut pads);
        }
    }
    // A pad may lie outside its own FDE (a cold part's pads are in the hot
    // part) but always inside some function.
    let mut ranges: Vec<(u32, u32)> = fdes
        .iter()
        .map(|f| (f.start, f.start.saturating_add(f.len)))
        .collect();
    ranges.sort_unstable();
    let in_some = |p: u32| {
        let i = ranges.partition_point(|r| r.0 <= p);
        ranges[..i].iter().rev().take(4).any(|r| p < r.1)
    };
    let mut landing_pads: Vec<u32> = pads.into_iter().filter(|&p| in_some(p)).collect();
    landing_pads.sort_unstable();
    landing_pads.dedup();
    Unwind { fdes, landing_pads }
}

/// Without section headers: `.eh_frame_hdr` through PT_GNU_EH_FRAME.
fn from_hdr(elf: &GuestElf, out: &mut Vec<Fde>) {
    let Some(ph) = phdrs::find(elf, phdrs::PT_GNU_EH_FRAME) else {
        return;
    };
    let Some(mut c) = Cursor::at(elf, ph.vaddr) else {
        return;
    };
    let bases = Bases {
        data: Some(ph.vaddr),
    };
    let Some([1, ptr_enc, count_enc, table_enc]) =
        c.bytes(4).and_then(|b| <[u8; 4]>::try_from(b).ok())
    else {
        return;
    };
    let Some(eh_frame) = pointer(&mut c, ptr_enc, elf, bases).filter(|&a| a != 0) else {
        return;
    };
    if let Some(s) = elf.segment_of(eh_frame) {
        let off = (eh_frame - s.vaddr) as usize;
        if let Some(data) = s.data.get(off..) {
            parse(elf, data, eh_frame, true, out);
        }
    }
    // The search table lists every FDE start, even ones the walk missed.
    if count_enc == OMIT || table_enc == OMIT {
        return;
    }
    let Some(count) = value(&mut c, count_enc) else {
        return;
    };
    let known: std::collections::HashSet<u32> = out.iter().map(|f| f.start).collect();
    for _ in 0..count.min(1 << 20) {
        let Some(start) = pointer(&mut c, table_enc, elf, bases) else {
            break;
        };
        if pointer(&mut c, table_enc, elf, bases).is_none() {
            break;
        }
        if start != 0 && !known.contains(&start) {
            out.push(Fde {
                start,
                len: 0,
                lsda: None,
            });
        }
    }
}

/// Walk the records of `data` (an `.eh_frame` at guest address `addr`);
/// `stop_at_zero`: a zero length ends the table (its size is unknown).
pub(super) fn parse(
    elf: &GuestElf,
    data: &[u8],
    addr: u32,
    stop_at_zero: bool,
    out: &mut Vec<Fde>,
) {
    let mut cies: HashMap<usize, Option<Cie>> = HashMap::new();
    let mut pos = 0usize;
    while let Some(len) = Cursor::new(data, addr, pos).u32() {
        if len == 0 {
            if stop_at_zero {
                return;
            }
            pos += 4;
            continue;
        }
        // 64-bit DWARF (length 0xffffffff) does not occur on i386: stop.
        let Some(end) = (pos + 4).checked_add(len as usize) else {
            return;
        };
        if len == u32::MAX || end > data.len() {
            return;
        }
        let id_pos = pos + 4;
        let mut c = Cursor::new(&data[..end], addr, id_pos);
        match c.u32() {
            Some(0) | None => {}
            Some(id) => {
                let cie_pos = id_pos.checked_sub(id as usize);
                let cie =
                    cie_pos.and_then(|p| *cies.entry(p).or_insert_with(|| cie(data, addr, p)));
                if let Some(f) = cie.and_then(|cie| fde(elf, &mut c, cie)) {
                    out.push(f);
                }
            }
        }
        pos = end;
    }
}

/// The CIE record at `pos` of `data`.
fn cie(data: &[u8], addr: u32, pos: usize) -> Option<Cie> {
    let mut c = Cursor::new(data, addr, pos);
    let len = c.u32()?;
    if len == 0 || len == u32::MAX {
        return None;
    }
    let mut c = c.sub(len as usize)?;
    if c.u32()? != 0 {
        return None;
    }
    let version = c.u8()?;
    let aug = c.cstr()?;
    if aug.starts_with(b"eh") {
        c.u32()?;
    }
    c.uleb()?; // code alignment
    c.sleb()?; // data alignment
    if version == 1 {
        c.u8()?;
    } else {
        c.uleb()?;
    }
    let mut cie = Cie {
        fde_enc: 0,
        lsda_enc: OMIT,
        z: aug.first() == Some(&b'z'),
    };
    if !cie.z {
        // Without 'z' only an empty (or the old "eh") augmentation is readable.
        return (aug.is_empty() || aug == b"eh").then_some(cie);
    }
    let n = c.uleb()?;
    let mut a = c.sub(usize::try_from(n).ok()?)?;
    for &ch in &aug[1..] {
        match ch {
            b'L' => cie.lsda_enc = a.u8()?,
            b'R' => cie.fde_enc = a.u8()?,
            b'P' => {
                let enc = a.u8()?;
                value(&mut a, enc)?; // the personality routine: not needed
            }
            b'S' | b'B' | b'G' => {}
            // Unknown letters: the rest of the data is skipped by its length.
            _ => break,
        }
    }
    Some(cie)
}

/// The FDE whose fields (after the CIE pointer) `c` is at.
fn fde(elf: &GuestElf, c: &mut Cursor, cie: Cie) -> Option<Fde> {
    let start = pointer(c, cie.fde_enc, elf, Bases::default())?;
    let len = value(c, cie.fde_enc & 0x0f)?;
    let mut lsda = None;
    if cie.z {
        let n = c.uleb()?;
        let mut a = c.sub(usize::try_from(n).ok()?)?;
        if cie.lsda_enc != OMIT {
            lsda = pointer(&mut a, cie.lsda_enc, elf, Bases::default()).filter(|&l| l != 0);
        }
    }
    (start != 0).then_some(Fde { start, len, lsda })
}
