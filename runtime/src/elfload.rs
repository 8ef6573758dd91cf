//! The runtime's own minimal ELF32 reader: enough of an i386 program or
//! shared object to load it (PT_LOAD segments, entry, program headers,
//! PT_INTERP) at a load bias, for the guest's program interpreter
//! (`ld-linux.so.2`) and for programs a guest starts with execve.
//!
//! Invariant: never panics on hostile bytes (every read is bounds-checked;
//! every error is one clear line); an accepted file is ELF32 little-endian
//! EM_386/EM_486, ET_EXEC or ET_DYN, has at least one non-empty PT_LOAD,
//! each PT_LOAD's file range lies in the file with filesz <= memsz, and
//! once placed its loads are disjoint, sorted and end at or below
//! `memory::STACK_TOP` (the end of ia32 user space). No goblin here: the
//! runtime stays small.

use crate::loader::{GuestImage, Segment};

/// Where a main ET_DYN program goes (the ia32 kernel's ELF_ET_DYN_BASE
/// without randomisation; the static pass places it at the same address).
pub const DYN_BASE: u32 = 0x5655_5000;

const EHDR_SIZE: usize = 52;
const PHDR_SIZE: usize = 32;
const PAGE: u32 = 0x1000;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;

/// One PT_LOAD, as in the file (not biased).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    pub offset: u32,
    pub vaddr: u32,
    pub filesz: u32,
    pub memsz: u32,
    /// PF_R=4 | PF_W=2 | PF_X=1
    pub flags: u32,
}

/// A validated i386 ELF file, not yet placed.
pub struct ElfFile<'a> {
    bytes: &'a [u8],
    /// ET_DYN (position-independent: placed at a chosen bias)?
    pub is_dyn: bool,
    pub entry: u32,
    phoff: u32,
    pub phnum: u32,
    /// Non-empty PT_LOADs sorted by vaddr.
    pub loads: Vec<Load>,
    /// PT_INTERP path, without its NUL.
    pub interp: Option<Vec<u8>>,
    pt_phdr: Option<u32>,
}

fn rd16(b: &[u8], o: usize) -> u16 {
    b.get(o..o + 2)
        .map_or(0, |c| u16::from_le_bytes([c[0], c[1]]))
}

fn rd32(b: &[u8], o: usize) -> u32 {
    b.get(o..o + 4)
        .map_or(0, |c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

fn range(b: &[u8], off: u32, len: u32) -> Option<&[u8]> {
    b.get(off as usize..off as usize + len as usize)
}

/// Do these first bytes of a file start an i386 ELF executable or shared
/// object (what the ia32 kernel would try to run)?
pub fn is_i386_elf(head: &[u8]) -> bool {
    head.len() >= 20
        && head.starts_with(b"\x7fELF\x01\x01")
        && matches!(rd16(head, 16), 2 | 3)
        && matches!(rd16(head, 18), 3 | 6)
}

/// Validate `bytes` as an i386 ELF program or shared object.
pub fn parse(bytes: &[u8]) -> Result<ElfFile<'_>, String> {
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if bytes.len() < EHDR_SIZE {
        return Err("truncated ELF header".into());
    }
    if bytes[4] != 1 || bytes[5] != 1 {
        return Err("not a 32-bit little-endian ELF file".into());
    }
    let (e_type, e_machine) = (rd16(bytes, 16), rd16(bytes, 18));
    if e_machine != 3 && e_machine != 6 {
        return Err(format!("not an i386 program (e_machine {e_machine})"));
    }
    if e_type != 2 && e_type != 3 {
        return Err(format!("not an executable (e_type {e_type})"));
    }
    let (entry, phoff) = (rd32(bytes, 24), rd32(bytes, 28));
    let (ehsize, phentsize, phnum) = (rd16(bytes, 40), rd16(bytes, 42), rd16(bytes, 44));
    if (ehsize as usize) < EHDR_SIZE || phentsize as usize != PHDR_SIZE || phnum == 0 {
        return Err("bad ELF header (e_ehsize, e_phentsize or e_phnum)".into());
    }
    let phtab = (phoff as u64 + phnum as u64 * PHDR_SIZE as u64 <= bytes.len() as u64)
        .then(|| &bytes[phoff as usize..phoff as usize + phnum as usize * PHDR_SIZE])
        .ok_or("program header table out of file bounds")?;
    let mut loads = Vec::new();
    let (mut interp, mut pt_phdr) = (None, None);
    for (i, p) in phtab.chunks_exact(PHDR_SIZE).enumerate() {
        let f = |o| rd32(p, o);
        match f(0) {
            PT_LOAD => {
                let l = Load {
                    offset: f(4),
                    vaddr: f(8),
                    filesz: f(16),
                    memsz: f(20),
                    flags: f(24) & 7,
                };
                if l.filesz > l.memsz || range(bytes, l.offset, l.filesz).is_none() {
                    return Err(format!("segment {i}: bad file range or p_filesz > p_memsz"));
                }
                if l.memsz != 0 {
                    loads.push(l);
                }
            }
            PT_INTERP if interp.is_none() => {
                let s = range(bytes, f(4), f(16))
                    .filter(|s| s.len() >= 2 && s.len() <= 4096 && s.last() == Some(&0))
                    .ok_or("bad PT_INTERP")?;
                interp = Some(s[..s.len() - 1].to_vec());
            }
            PT_PHDR if pt_phdr.is_none() => pt_phdr = Some(f(8)),
            _ => {}
        }
    }
    if loads.is_empty() {
        return Err("no PT_LOAD segment".into());
    }
    loads.sort_by_key(|l| l.vaddr);
    Ok(ElfFile {
        bytes,
        is_dyn: e_type == 3,
        entry,
        phoff,
        phnum: phnum as u32,
        loads,
        interp,
        pt_phdr,
    })
}

impl<'a> ElfFile<'a> {
    /// First page of the lowest load, unbiased.
    pub fn min_page(&self) -> u32 {
        self.loads[0].vaddr & !(PAGE - 1)
    }

    /// Bytes from the lowest load's page to the page-rounded end of the
    /// highest load (what must be free to place the file); None if the
    /// loads wrap past 4 GiB.
    pub fn span(&self) -> Option<u32> {
        let end = self
            .loads
            .iter()
            .map(|l| l.vaddr as u64 + l.memsz as u64)
            .max()?;
        let span = end.div_ceil(PAGE as u64) * PAGE as u64 - self.min_page() as u64;
        u32::try_from(span).ok()
    }

    /// The file placed at `bias` (ET_EXEC: must be 0), as the loader maps
    /// it: segments, biased entry, program header address, initial break.
    pub fn image(&self, bias: u32) -> Result<GuestImage<'a>, String> {
        if !self.is_dyn && bias != 0 {
            return Err("an ET_EXEC file cannot be moved".into());
        }
        let mut segments = Vec::with_capacity(self.loads.len());
        let mut prev_end = 0u64;
        for l in &self.loads {
            let start = l.vaddr as u64 + bias as u64;
            let end = start + l.memsz as u64;
            if start < prev_end {
                return Err("PT_LOAD segments overlap".into());
            }
            if end > crate::memory::STACK_TOP as u64 {
                return Err(format!(
                    "segment at {start:#x}..{end:#x} lies outside the i386 address space"
                ));
            }
            prev_end = end;
            segments.push(Segment {
                vaddr: start as u32,
                memsz: l.memsz,
                flags: l.flags,
                data: range(self.bytes, l.offset, l.filesz).unwrap_or_default(),
            });
        }
        let phsize = self.phnum * PHDR_SIZE as u32;
        let in_file = |l: &Load| {
            (self.phoff >= l.offset
                && self.phoff as u64 + phsize as u64 <= l.offset as u64 + l.filesz as u64)
                .then(|| l.vaddr + (self.phoff - l.offset))
        };
        let phdr = self
            .pt_phdr
            .or_else(|| self.loads.iter().find_map(in_file))
            .map_or(0, |a| a.wrapping_add(bias));
        Ok(GuestImage {
            entry: self.entry.wrapping_add(bias),
            phdr,
            phnum: self.phnum,
            segments,
            brk: (prev_end.div_ceil(PAGE as u64) * PAGE as u64).min(u32::MAX as u64) as u32,
        })
    }

    /// The bias at which a main program goes: 0 for ET_EXEC, the lowest
    /// page at [`DYN_BASE`] for ET_DYN (as the static pass places it).
    pub fn main_bias(&self) -> u32 {
        if self.is_dyn {
            DYN_BASE.wrapping_sub(self.min_page())
        } else {
            0
        }
    }
}

/// The PT_INTERP path of a placed image, read from its program headers in
/// the image's own segment bytes (a translated output carries those, not
/// the file). None for static programs or when the headers are not in the
/// image.
pub fn interp_of(img: &GuestImage) -> Option<Vec<u8>> {
    let read = |addr: u32, len: u32| -> Option<&[u8]> {
        let s = img
            .segments
            .iter()
            .find(|s| addr >= s.vaddr && addr - s.vaddr < s.memsz)?;
        let off = (addr - s.vaddr) as usize;
        s.data.get(off..off.checked_add(len as usize)?)
    };
    let phdrs = read(img.phdr, img.phnum.checked_mul(PHDR_SIZE as u32)?)?;
    let ph: Vec<&[u8]> = phdrs.chunks_exact(PHDR_SIZE).collect();
    let interp = ph.iter().find(|p| rd32(p, 0) == PT_INTERP)?;
    // Bias from PT_PHDR (a dynamic program has one; ld.so needs it too).
    let bias = ph
        .iter()
        .find(|p| rd32(p, 0) == PT_PHDR)
        .map_or(0, |p| img.phdr.wrapping_sub(rd32(p, 8)));
    let s = read(rd32(interp, 8).wrapping_add(bias), rd32(interp, 16))?;
    let s = s.strip_suffix(&[0]).filter(|s| !s.is_empty())?;
    (!s.contains(&0)).then(|| s.to_vec())
}

#[cfg(test)]
mod tests;
