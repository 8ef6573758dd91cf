//! Guest ELF reader of the static pass: owns reading and validating the i386
//! program to translate, and hands the rest of the translator a `GuestElf`.
//!
//! Invariant: never panics on hostile input (header and program headers are
//! checked here by hand before goblin sees a byte, and every goblin call runs
//! under `catch_unwind`); every accepted image is ELF32 little-endian i386,
//! ET_EXEC or ET_DYN, has at least one non-empty PT_LOAD, each PT_LOAD's file
//! range lies in the file with filesz <= memsz, the (biased) loads are
//! disjoint and end at or below 0xffffe000 (ia32 TASK_SIZE), and the entry
//! lies in the file data of an executable load. Section headers and symbols
//! are optional extras: if corrupt they are dropped (see `warnings`).
//!
//! Biasing: every guest address here is biased (`raw.wrapping_add(load_bias)`).
//! ET_EXEC: bias 0. ET_DYN: the lowest load page is placed at `DYN_BASE`, as
//! the kernel does, so for the usual first p_vaddr of 0 the bias is DYN_BASE.

// Parts of the API (sections, TLS, stack flags) serve later stages.
#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::{Dynamic, ProgramHeader, RelocSection, SectionHeader, Symtab};
use std::collections::{BTreeMap, HashMap};

/// Where an ET_DYN guest is placed (x86-64 kernel, ia32 PIE, no ASLR).
pub const DYN_BASE: u32 = 0x5655_5000;
/// End of the ia32 user address space on an x86-64 kernel.
pub const USER_END: u64 = 0xffff_e000;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
pub const SHF_ALLOC: u64 = 2;
pub const SHF_EXECINSTR: u64 = 4;

const EHDR_SIZE: usize = 52;
const PHDR_SIZE: usize = 32;
const SHDR_SIZE: usize = 40;
const PAGE: u64 = 0x1000;
const CTX: Ctx = Ctx {
    container: Container::Little,
    le: Endian::Little,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ET_EXEC
    Exec,
    /// ET_DYN without PT_INTERP
    StaticPie,
    /// has PT_INTERP (ET_EXEC or ET_DYN)
    Dynamic,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub vaddr: u32,
    pub memsz: u32,
    /// PF_R=4 | PF_W=2 | PF_X=1
    pub flags: u32,
    /// The p_filesz bytes from the file.
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub addr: u32,
    pub size: u32,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    /// Biased if SHF_ALLOC and nonzero.
    pub addr: u32,
    pub offset: u32,
    pub size: u32,
    pub flags: u64,
    /// `size` bytes from the file; empty for SHT_NOBITS.
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct GuestElf {
    pub path: PathBuf,
    pub kind: Kind,
    pub load_bias: u32,
    /// Biased entry point; always `is_exec_addr`.
    pub entry: u32,
    /// Biased guest address of the program headers in memory; 0 if not mapped.
    pub phdr_addr: u32,
    pub phnum: u32,
    /// Non-empty PT_LOADs, biased, sorted by address, disjoint.
    pub segments: Vec<Segment>,
    pub interp: Option<String>,
    /// PT_TLS (biased vaddr, filesz, memsz); informational.
    pub tls: Option<(u32, u32, u32)>,
    /// PT_GNU_STACK has PF_X, or there is no PT_GNU_STACK (READ_IMPLIES_EXEC).
    pub exec_stack: bool,
    /// STT_FUNC/STT_GNU_IFUNC symbols (.symtab, then .dynsym) inside executable
    /// file data, biased, one per address (first non-empty name), sorted.
    pub functions: Vec<Symbol>,
    /// Biased .init_array/.fini_array entries that point into executable data.
    pub init_array: Vec<u32>,
    pub fini_array: Vec<u32>,
    /// Section headers whose file range is valid (SHT_NULL dropped).
    pub sections: Vec<Section>,
    /// Page-aligned end of the highest PT_LOAD (biased).
    pub brk: u32,
    /// What was ignored as corrupt (section headers, symbols, dynamic); the
    /// caller decides whether to print these.
    pub warnings: Vec<String>,
}

#[derive(Debug)]
pub struct ElfError(pub String);

impl std::fmt::Display for ElfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ElfError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ElfError> {
    Err(ElfError(msg.into()))
}

fn rd16(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..)?.first_chunk().map(|c| u16::from_le_bytes(*c))
}

fn rd32(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..)?.first_chunk().map(|c| u32::from_le_bytes(*c))
}

/// `bytes[off..off+len]` if it lies inside `bytes`.
fn range(bytes: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let end = off.checked_add(len)?;
    bytes.get(usize::try_from(off).ok()?..usize::try_from(end).ok()?)
}

/// Run a goblin call; a panic inside becomes `None`.
fn guarded<T>(f: impl FnOnce() -> Option<T>) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok().flatten()
}

/// NUL-terminated string at `idx` of a string table.
fn cstr(table: &[u8], idx: usize) -> Option<String> {
    let s = table.get(idx..)?;
    let n = s.iter().position(|&c| c == 0)?;
    Some(String::from_utf8_lossy(&s[..n]).into_owned())
}

fn machine_name(m: u16) -> &'static str {
    #[rustfmt::skip]
    const NAMES: [(u16, &str); 10] = [
        (0, "none"), (2, "SPARC"), (8, "MIPS"), (20, "PowerPC"), (21, "PowerPC64"), (22, "S390"),
        (40, "ARM"), (62, "x86-64"), (183, "AArch64"), (243, "RISC-V"),
    ];
    NAMES.iter().find(|n| n.0 == m).map_or("unknown", |n| n.1)
}

struct Phdr {
    p_type: u32,
    offset: u32,
    vaddr: u32,
    filesz: u32,
    memsz: u32,
    flags: u32,
}

/// Read and parse the guest program at `path`.
pub fn load(path: &Path) -> Result<GuestElf, ElfError> {
    match std::fs::read(path) {
        Ok(bytes) => parse(path, &bytes),
        Err(e) => {
            let msg = e.to_string();
            let msg = msg.split(" (os error").next().unwrap_or(&msg);
            err(format!("cannot read {}: {}", path.display(), msg))
        }
    }
}

/// Validate and parse an i386 ELF image already in memory.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<GuestElf, ElfError> {
    const MAGIC: &[u8; 4] = b"\x7fELF";
    if bytes.is_empty() {
        return err("not an ELF file (empty file)");
    }
    if !MAGIC.starts_with(&bytes[..bytes.len().min(4)]) {
        return err("not an ELF file (bad magic)");
    }
    match bytes.get(4) {
        Some(1) | None => {}
        Some(2) => return err("ELF64 file: rehost translates 32-bit i386 programs only"),
        Some(c) => return err(format!("bad ELF class {c}")),
    }
    match bytes.get(5) {
        Some(1) | None => {}
        Some(2) => return err("big-endian ELF file: rehost translates i386 programs only"),
        Some(d) => return err(format!("bad ELF data encoding {d}")),
    }
    let n = bytes.len();
    if n < EHDR_SIZE {
        return err(format!("truncated ELF header ({n} of {EHDR_SIZE} bytes)"));
    }
    let h16 = |o| rd16(bytes, o).unwrap_or(0);
    let h32 = |o| rd32(bytes, o).unwrap_or(0);
    let (e_type, e_machine, e_entry, e_phoff) = (h16(16), h16(18), h32(24), h32(28));
    let (e_ehsize, e_phentsize, e_phnum) = (h16(40), h16(42), h16(44));
    // The kernel takes EM_486 as well (elf_check_arch_ia32).
    if e_machine != 3 && e_machine != 6 {
        let m = format!("{e_machine} = {}", machine_name(e_machine));
        return err(format!("not an i386 program (e_machine {m})"));
    }
    match e_type {
        2 | 3 => {}
        0 => return err("not an executable (ET_NONE)"),
        1 => return err("not an executable (ET_REL)"),
        4 => return err("not an executable (ET_CORE)"),
        t => return err(format!("not an executable (e_type {t:#x})")),
    }
    if (e_ehsize as usize) < EHDR_SIZE {
        return err(format!("bad e_ehsize {e_ehsize} (expected {EHDR_SIZE})"));
    }
    if e_phentsize as usize != PHDR_SIZE {
        return err(format!("bad e_phentsize {e_phentsize} (expected 32)"));
    }
    if e_phnum == 0 {
        return err("no program headers");
    }
    let phtab = range(bytes, e_phoff as u64, e_phnum as u64 * PHDR_SIZE as u64);
    let Some(phtab) = phtab else {
        return err("program header table out of file bounds");
    };
    let phdrs: Vec<Phdr> = phtab
        .chunks_exact(PHDR_SIZE)
        .map(|p| {
            let f = |o| rd32(p, o).unwrap_or(0);
            Phdr {
                p_type: f(0),
                offset: f(4),
                vaddr: f(8),
                filesz: f(16),
                memsz: f(20),
                flags: f(24),
            }
        })
        .collect();

    // PT_LOADs: file ranges, sizes, then placement.
    let mut loads: Vec<(usize, &Phdr)> = Vec::new();
    for (i, p) in phdrs.iter().enumerate().filter(|(_, p)| p.p_type == 1) {
        if p.filesz > p.memsz {
            return err(format!("segment {i}: p_filesz > p_memsz"));
        }
        if range(bytes, p.offset as u64, p.filesz as u64).is_none() {
            return err(format!("segment {i} file range out of bounds"));
        }
        if p.memsz != 0 {
            loads.push((i, p));
        }
    }
    let Some(min_vaddr) = loads.iter().map(|(_, p)| p.vaddr).min() else {
        return err("no PT_LOAD segment");
    };
    let min_page = min_vaddr & !(PAGE as u32 - 1);
    let load_bias = if e_type == 3 {
        DYN_BASE.wrapping_sub(min_page)
    } else {
        0
    };
    // Where the lowest page lands, computed without wrap-around.
    let base = min_page.wrapping_add(load_bias) as u64;
    loads.sort_by_key(|(_, p)| p.vaddr);
    let mut segments = Vec::with_capacity(loads.len());
    let mut prev: Option<(usize, u64)> = None;
    for &(i, p) in &loads {
        let start = base + (p.vaddr - min_page) as u64;
        let end = start + p.memsz as u64;
        if end > USER_END {
            return err(format!("segment {i} ends past the i386 address space"));
        }
        if let Some((j, prev_end)) = prev {
            if start < prev_end {
                return err(format!("segments {j} and {i} overlap"));
            }
        }
        prev = Some((i, end));
        let data = range(bytes, p.offset as u64, p.filesz as u64).unwrap_or_default();
        let data = data.to_vec();
        let (vaddr, memsz, flags) = (start as u32, p.memsz, p.flags & 7);
        segments.push(Segment {
            vaddr,
            memsz,
            flags,
            data,
        });
    }
    if !segments.iter().any(|s| s.flags & PF_X != 0) {
        return err("no executable PT_LOAD segment");
    }
    let brk_end = prev.map_or(0, |(_, e)| e).div_ceil(PAGE) * PAGE;

    let mut interp = None;
    let mut tls = None;
    let mut exec_stack = true;
    let mut pt_phdr = None;
    let mut has_dynamic = false;
    for p in &phdrs {
        match p.p_type {
            3 if interp.is_none() => {
                let s = range(bytes, p.offset as u64, p.filesz as u64);
                let Some(s) = s.filter(|s| s.len() >= 2 && s.len() <= 4096 && s.last() == Some(&0))
                else {
                    return err("bad PT_INTERP (out of file bounds or not a NUL-terminated path)");
                };
                interp = Some(String::from_utf8_lossy(&s[..s.len() - 1]).into_owned());
            }
            2 => has_dynamic = true,
            6 if pt_phdr.is_none() => pt_phdr = Some(p.vaddr.wrapping_add(load_bias)),
            7 => tls = Some((p.vaddr.wrapping_add(load_bias), p.filesz, p.memsz)),
            0x6474_e551 => exec_stack = p.flags & PF_X != 0,
            _ => {}
        }
    }
    let kind = match (interp.is_some(), e_type) {
        (true, _) => Kind::Dynamic,
        (false, 3) => Kind::StaticPie,
        _ => Kind::Exec,
    };

    let mut elf = GuestElf {
        path: path.to_path_buf(),
        kind,
        load_bias,
        entry: e_entry.wrapping_add(load_bias),
        phdr_addr: 0,
        phnum: e_phnum as u32,
        segments,
        interp,
        tls,
        exec_stack,
        functions: Vec::new(),
        init_array: Vec::new(),
        fini_array: Vec::new(),
        sections: Vec::new(),
        brk: brk_end as u32,
        warnings: Vec::new(),
    };
    if !elf.is_exec_addr(elf.entry) {
        let msg = format!(
            "entry point {:#x} is not inside an executable segment",
            elf.entry
        );
        return err(msg);
    }
    let phsize = e_phnum as usize * PHDR_SIZE;
    // From PT_PHDR if it points at mapped file data, else the load holding e_phoff.
    let at_phoff = |p: &Phdr| {
        let end = p.offset as u64 + p.filesz as u64;
        let inside = e_phoff >= p.offset && e_phoff as u64 + phsize as u64 <= end;
        // `then` with a closure: the subtraction runs only when `inside`.
        inside.then(|| {
            p.vaddr
                .wrapping_add(e_phoff - p.offset)
                .wrapping_add(load_bias)
        })
    };
    let mapped = pt_phdr.filter(|&a| elf.read(a, phsize).is_some());
    elf.phdr_addr = mapped
        .or_else(|| loads.iter().find_map(|(_, p)| at_phoff(p)))
        .unwrap_or(0);

    let raw_shdrs = elf.read_sections(bytes);
    elf.read_symbols(bytes, &raw_shdrs);
    let dynamic = has_dynamic.then(|| elf.read_dynamic(bytes, phtab, e_phnum));
    elf.read_init_fini(&raw_shdrs, &dynamic.unwrap_or_default());
    Ok(elf)
}

impl GuestElf {
    /// `len` bytes at guest address `addr` from one segment's file data
    /// (None if any byte is outside it, e.g. in bss).
    pub fn read(&self, addr: u32, len: usize) -> Option<&[u8]> {
        let s = self.segment_of(addr)?;
        let off = (addr - s.vaddr) as usize;
        s.data.get(off..off.checked_add(len)?)
    }

    /// Is `addr` inside the file data of an executable PT_LOAD?
    pub fn is_exec_addr(&self, addr: u32) -> bool {
        self.segment_of(addr)
            .is_some_and(|s| s.flags & PF_X != 0 && ((addr - s.vaddr) as usize) < s.data.len())
    }

    /// The segment whose [vaddr, vaddr+memsz) holds `addr`.
    pub fn segment_of(&self, addr: u32) -> Option<&Segment> {
        let i = self
            .segments
            .partition_point(|s| s.vaddr <= addr)
            .checked_sub(1)?;
        let s = &self.segments[i];
        ((addr - s.vaddr) < s.memsz).then_some(s)
    }

    /// The first section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(msg.into());
    }

    /// Section headers via goblin; returns them raw (index = section index)
    /// for the symbol and array readers, and fills `self.sections`.
    fn read_sections(&mut self, bytes: &[u8]) -> Vec<SectionHeader> {
        let h16 = |o| rd16(bytes, o).unwrap_or(0);
        let (shoff, entsize, shnum) = (rd32(bytes, 32).unwrap_or(0), h16(46), h16(48));
        if shoff == 0 {
            return Vec::new();
        }
        let fits = range(bytes, shoff as u64, shnum.max(1) as u64 * SHDR_SIZE as u64).is_some();
        if entsize as usize != SHDR_SIZE || !fits {
            self.warn("corrupt section header table ignored");
            return Vec::new();
        }
        let parsed =
            guarded(|| SectionHeader::parse(bytes, shoff as usize, shnum as usize, CTX).ok());
        let Some(shdrs) = parsed else {
            self.warn("corrupt section headers ignored");
            return Vec::new();
        };
        // SHN_XINDEX: the real index is in section 0's sh_link.
        let strndx = match h16(50) {
            0xffff => shdrs.first().map_or(0, |s| s.sh_link),
            n => n as u32,
        };
        let names = shdrs
            .get(strndx as usize)
            .and_then(|s| range(bytes, s.sh_offset, s.sh_size));
        let mut bad = 0;
        for sh in shdrs.iter().filter(|s| s.sh_type != 0) {
            let nobits = sh.sh_type == 8; // SHT_NOBITS
            let data = if nobits {
                Some(&[][..])
            } else {
                range(bytes, sh.sh_offset, sh.sh_size)
            };
            let (Some(data), Ok(size), Ok(addr)) =
                (data, u32::try_from(sh.sh_size), u32::try_from(sh.sh_addr))
            else {
                bad += 1;
                continue;
            };
            let bias = if sh.sh_flags & SHF_ALLOC != 0 && addr != 0 {
                self.load_bias
            } else {
                0
            };
            self.sections.push(Section {
                name: names.and_then(|t| cstr(t, sh.sh_name)).unwrap_or_default(),
                addr: addr.wrapping_add(bias),
                offset: sh.sh_offset as u32,
                size,
                flags: sh.sh_flags,
                data: data.to_vec(),
            });
        }
        if bad > 0 {
            self.warn(format!("{bad} section(s) with out-of-file ranges ignored"));
        }
        shdrs
    }

    /// Function symbols of SHT_SYMTAB, then SHT_DYNSYM.
    fn read_symbols(&mut self, bytes: &[u8], shdrs: &[SectionHeader]) {
        let mut by_addr = BTreeMap::<u32, Symbol>::new();
        for ty in [2u32, 11] {
            for sh in shdrs.iter().filter(|s| s.sh_type == ty) {
                let table = range(bytes, sh.sh_offset, sh.sh_size);
                let link = shdrs.get(sh.sh_link as usize);
                let strtab = link.and_then(|s| range(bytes, s.sh_offset, s.sh_size));
                let (Some(_), Some(strtab), 0 | 16) = (table, strtab, sh.sh_entsize) else {
                    self.warn("corrupt symbol table ignored");
                    continue;
                };
                let (off, count) = (sh.sh_offset as usize, sh.sh_size as usize / 16);
                let syms = guarded(|| Some(Symtab::parse(bytes, off, count, CTX).ok()?.to_vec()));
                let Some(syms) = syms else {
                    self.warn("corrupt symbol table ignored");
                    continue;
                };
                for sym in syms {
                    let t = sym.st_type();
                    if (t != 2 && t != 10) || sym.st_value == 0 || sym.st_shndx == 0 {
                        continue;
                    }
                    let addr = (sym.st_value as u32).wrapping_add(self.load_bias);
                    if !self.is_exec_addr(addr) {
                        continue;
                    }
                    let name = cstr(strtab, sym.st_name).unwrap_or_default();
                    let size = sym.st_size as u32;
                    let new = || Symbol {
                        name: String::new(),
                        addr,
                        size,
                    };
                    let e = by_addr.entry(addr).or_insert_with(new);
                    if e.name.is_empty() {
                        e.name = name;
                    }
                    if e.size == 0 {
                        e.size = size;
                    }
                }
            }
        }
        self.functions = by_addr.into_values().collect();
    }

    /// (d_tag, d_val) of PT_DYNAMIC via goblin.
    fn read_dynamic(&mut self, bytes: &[u8], phtab: &[u8], phnum: u16) -> Vec<(u64, u64)> {
        let dyns = guarded(|| {
            let phdrs = ProgramHeader::parse(phtab, 0, phnum as usize, CTX).ok()?;
            let d = Dynamic::parse(bytes, &phdrs, CTX).ok()??;
            Some(d.dyns.iter().map(|d| (d.d_tag, d.d_val)).collect())
        });
        dyns.unwrap_or_else(|| {
            self.warn("corrupt PT_DYNAMIC ignored");
            Vec::new()
        })
    }

    /// .init_array/.fini_array from DT_* if present, else from the sections.
    fn read_init_fini(&mut self, shdrs: &[SectionHeader], dynamic: &[(u64, u64)]) {
        let tag = |t: u64| dynamic.iter().find(|d| d.0 == t).map(|d| d.1 as u32);
        // R_386_RELATIVE addends of RELA relocations, by (biased) slot. REL
        // (usual on i386) and RELR keep the addend in the slot itself.
        let bias = self.load_bias;
        let table = tag(7)
            .zip(tag(8))
            .and_then(|(a, n)| self.read(a.wrapping_add(bias), n as usize));
        let parse = |t: &[u8]| Some(RelocSection::parse(t, 0, t.len(), true, CTX).ok()?.to_vec());
        let relocs = table.and_then(|t| guarded(|| parse(t))).unwrap_or_default();
        let mut rela = HashMap::new();
        for r in relocs.iter().filter(|r| r.r_type == 8) {
            let (slot, addend) = (r.r_offset as u32, r.r_addend.unwrap_or(0) as u32);
            rela.insert(slot.wrapping_add(bias), addend);
        }
        let arrays = [(25u64, 27u64, 14u32), (26, 28, 15)].map(|(dt, dtsz, sht)| {
            let at = tag(dt).zip(tag(dtsz)).or_else(|| {
                let sh = shdrs.iter().find(|s| s.sh_type == sht)?;
                Some((sh.sh_addr as u32, sh.sh_size as u32))
            });
            let (addr, size) = at.map_or((0, 0), |(a, n)| (a.wrapping_add(bias), n as usize));
            let data = self.read(addr, size).unwrap_or(&[]);
            let mut out = Vec::new();
            for (i, slot) in data.chunks_exact(4).enumerate() {
                let slot_addr = addr.wrapping_add(4 * i as u32);
                let v = match (rd32(slot, 0).unwrap_or(0), rela.get(&slot_addr)) {
                    (_, Some(&addend)) => addend.wrapping_add(bias),
                    (0 | u32::MAX, None) => continue,
                    (v, None) => v.wrapping_add(bias),
                };
                if self.is_exec_addr(v) {
                    out.push(v);
                }
            }
            out
        });
        [self.init_array, self.fini_array] = arrays;
    }
}

#[cfg(test)]
mod tests;
