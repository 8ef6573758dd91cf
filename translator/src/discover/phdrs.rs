//! The guest's program headers and dynamic table as discovery sees them,
//! for binaries whose section headers are gone (PT_GNU_EH_FRAME, DT_REL).
//!
//! Invariant: speculative. Headers come from the mapped PT_PHDR copy, else
//! from the ELF header at the start of the first PT_LOAD's file data; any
//! inconsistency yields fewer headers, never a panic.

use crate::elf::GuestElf;

pub const PT_DYNAMIC: u32 = 2;
pub const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
const PHDR_SIZE: usize = 32;

/// One program header (addresses biased).
#[derive(Clone, Copy, Debug)]
pub struct Phdr {
    pub p_type: u32,
    pub vaddr: u32,
    pub filesz: u32,
}

fn rd32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The raw program header table.
fn table(elf: &GuestElf) -> Option<&[u8]> {
    let n = elf.phnum as usize * PHDR_SIZE;
    if elf.phdr_addr != 0 {
        if let Some(t) = elf.read(elf.phdr_addr, n) {
            return Some(t);
        }
    }
    let first = &elf.segments.first()?.data;
    if !first.starts_with(b"\x7fELF") {
        return None;
    }
    let phoff = rd32(first, 28)? as usize;
    let phnum = u16::from_le_bytes(first.get(44..46)?.try_into().ok()?) as usize;
    first.get(phoff..phoff.checked_add(phnum * PHDR_SIZE)?)
}

/// All program headers readable from the image.
pub fn program_headers(elf: &GuestElf) -> Vec<Phdr> {
    let Some(t) = table(elf) else {
        return Vec::new();
    };
    t.chunks_exact(PHDR_SIZE)
        .filter_map(|p| {
            Some(Phdr {
                p_type: rd32(p, 0)?,
                vaddr: rd32(p, 8)?.wrapping_add(elf.load_bias),
                filesz: rd32(p, 16)?,
            })
        })
        .collect()
}

/// The first program header of type `p_type`.
pub fn find(elf: &GuestElf, p_type: u32) -> Option<Phdr> {
    program_headers(elf)
        .into_iter()
        .find(|p| p.p_type == p_type)
}

/// (d_tag, d_val) pairs of PT_DYNAMIC, up to DT_NULL.
pub fn dynamic(elf: &GuestElf) -> Vec<(u32, u32)> {
    let Some(d) = find(elf, PT_DYNAMIC) else {
        return Vec::new();
    };
    let Some(bytes) = elf.read(d.vaddr, d.filesz as usize) else {
        return Vec::new();
    };
    bytes
        .chunks_exact(8)
        .map_while(|e| Some((rd32(e, 0)?, rd32(e, 4)?)).filter(|&(t, _)| t != 0))
        .collect()
}
