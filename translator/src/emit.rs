//! Writing the x86-64 relocatable object of a translated guest with `object`.
//!
//! Layout: `.text` holds every host block back to back (one function symbol
//! each, named after the guest function where the guest has a name, so
//! `objdump`, `perf` and `gdb` show them) and `main`, which passes the
//! descriptor to `rehost_aot_main`; `.rodata` holds the guest image, the
//! segment table, the map entries and the guest name; `.data.rel.ro` holds
//! the `AotDescriptor` (abi.rs) pointing at them.
//!
//! Invariant: a direct exit is bound here only when its target is a static
//! block (rel32 inside `.text`); every other exit keeps its trampoline, so
//! the runtime finds the target through the map table.

use crate::elf::GuestElf;
use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationEncoding, RelocationFlags, RelocationKind,
    SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};
use rehost_runtime::abi::{AOT_MAGIC, AOT_VERSION};
use rehost_runtime::translate::{HostBlock, EXEC_FLAG_REL32_AT};
use std::collections::HashMap;

pub struct Emitted {
    pub bytes: Vec<u8>,
    /// Host code bytes: block bodies plus exit trampolines.
    pub host_bytes: usize,
    /// Of which block bodies.
    pub hot_bytes: usize,
    /// Fall-through jumps removed by the layout.
    pub elided: usize,
    /// Of which left a block whose body is one `nop`.
    pub nops: usize,
}

fn reloc64(
    obj: &mut Object,
    section: object::write::SectionId,
    offset: u64,
    sym: object::write::SymbolId,
    addend: i64,
) {
    obj.add_relocation(
        section,
        Relocation {
            offset,
            symbol: sym,
            addend,
            flags: RelocationFlags::Generic {
                kind: RelocationKind::Absolute,
                encoding: RelocationEncoding::Generic,
                size: 64,
            },
        },
    )
    .expect("relocation");
}

/// Build the object file for `blocks` (sorted by guest address).
/// With `exec_flags`, the blocks were translated with `Options::exec_flag`
/// and get their executed-flag bytes.
pub fn emit(elf: &GuestElf, blocks: &[HostBlock], exec_flags: bool) -> Emitted {
    let crate::layout::Layout {
        mut text,
        offsets,
        sizes,
        hot_len,
        elided,
        nops,
    } = crate::layout::layout(blocks);
    let host_bytes = text.len();
    // main: lea rcx, [rip + descriptor]; jmp rehost_aot_main
    let main_off = text.len() as u64;
    text.extend_from_slice(&[0x48, 0x8d, 0x0d, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0]);

    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let text_id = obj.section_id(StandardSection::Text);
    let text_base = obj.append_section_data(text_id, &text, 16);
    debug_assert_eq!(text_base, 0);

    let names: HashMap<u32, &str> = elf
        .functions
        .iter()
        .map(|f| (f.addr, f.name.as_str()))
        .collect();
    for b in blocks {
        let name = match names.get(&b.guest_start) {
            Some(n) => format!("g.{n}"),
            None => format!("g.blk_{:08x}", b.guest_start),
        };
        obj.add_symbol(Symbol {
            name: name.into_bytes(),
            value: offsets[&b.guest_start] as u64,
            size: sizes[&b.guest_start] as u64,
            kind: SymbolKind::Text,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(text_id),
            flags: SymbolFlags::None,
        });
    }
    let text_sym = obj.section_symbol(text_id);
    obj.add_symbol(Symbol {
        name: b"main".to_vec(),
        value: main_off,
        size: 12,
        kind: SymbolKind::Text,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(text_id),
        flags: SymbolFlags::None,
    });
    let aot_main = obj.add_symbol(Symbol {
        name: b"rehost_aot_main".to_vec(),
        value: 0,
        size: 0,
        kind: SymbolKind::Text,
        scope: SymbolScope::Unknown,
        weak: false,
        section: SymbolSection::Undefined,
        flags: SymbolFlags::None,
    });

    // .rodata: image blob, segment table, block table, guest name.
    let ro = obj.section_id(StandardSection::ReadOnlyData);
    let mut image = Vec::new();
    let mut segs = Vec::new();
    for s in &elf.segments {
        let off = image.len() as u64;
        image.extend_from_slice(&s.data);
        while image.len() % 16 != 0 {
            image.push(0);
        }
        for v in [s.vaddr, s.memsz, s.data.len() as u32, s.flags] {
            segs.extend_from_slice(&v.to_le_bytes());
        }
        segs.extend_from_slice(&off.to_le_bytes());
    }
    let image_off = obj.append_section_data(ro, &image, 16);
    let segs_off = obj.append_section_data(ro, &segs, 8);
    let mut table = Vec::with_capacity(blocks.len() * 12);
    for b in blocks {
        table.extend_from_slice(&b.guest_start.to_le_bytes());
        table.extend_from_slice(&offsets[&b.guest_start].to_le_bytes());
        table.extend_from_slice(&b.guest_len.to_le_bytes());
    }
    let table_off = obj.append_section_data(ro, &table, 8);
    let mut gname = elf.path.to_string_lossy().into_owned().into_bytes();
    gname.push(0);
    let name_off = obj.append_section_data(ro, &gname, 1);
    let ro_sym = obj.section_symbol(ro);

    // The descriptor (layout of abi::AotDescriptor).
    let data = obj.add_section(
        Vec::new(),
        b".data.rel.ro.rehost".to_vec(),
        SectionKind::Data,
    );
    let mut d = Vec::new();
    d.extend_from_slice(&AOT_MAGIC.to_le_bytes());
    d.extend_from_slice(&AOT_VERSION.to_le_bytes());
    for v in [
        elf.entry,
        elf.phdr_addr,
        elf.phnum,
        elf.segments.len() as u32,
    ] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    let ptr_fields = d.len(); // segments, image, image_len, blocks, nblocks, text, text_len, guest_name
    d.extend_from_slice(&[0u8; 8 * 8]);
    d.extend_from_slice(&elf.brk.to_le_bytes());
    d.extend_from_slice(&0u32.to_le_bytes());
    let executed_field = d.len();
    d.extend_from_slice(&0u64.to_le_bytes());
    let ic_field = d.len();
    d.extend_from_slice(&0u64.to_le_bytes());
    let nic: usize = blocks.iter().map(|b| b.ic_sites.len()).sum();
    d.extend_from_slice(&(nic as u64).to_le_bytes());
    let put = |d: &mut Vec<u8>, k: usize, v: u64| {
        d[ptr_fields + 8 * k..ptr_fields + 8 * k + 8].copy_from_slice(&v.to_le_bytes())
    };
    put(&mut d, 2, image.len() as u64);
    put(&mut d, 4, blocks.len() as u64);
    put(&mut d, 6, host_bytes as u64);
    assert_eq!(d.len(), rehost_runtime::abi::AOT_DESCRIPTOR_SIZE);
    let desc_off = obj.append_section_data(data, &d, 8);
    reloc64(
        &mut obj,
        data,
        desc_off + ptr_fields as u64,
        ro_sym,
        segs_off as i64,
    );
    reloc64(
        &mut obj,
        data,
        desc_off + ptr_fields as u64 + 8,
        ro_sym,
        image_off as i64,
    );
    reloc64(
        &mut obj,
        data,
        desc_off + ptr_fields as u64 + 24,
        ro_sym,
        table_off as i64,
    );
    reloc64(
        &mut obj,
        data,
        desc_off + ptr_fields as u64 + 40,
        text_sym,
        0,
    );
    reloc64(
        &mut obj,
        data,
        desc_off + ptr_fields as u64 + 56,
        ro_sym,
        name_off as i64,
    );
    let data_sym = obj.section_symbol(data);

    // Executed flags: one .bss byte per block, set by the block's first store.
    let pc32 = RelocationFlags::Generic {
        kind: RelocationKind::Relative,
        encoding: RelocationEncoding::Generic,
        size: 32,
    };
    if exec_flags {
        let bss = obj.section_id(StandardSection::UninitializedData);
        let flags_off = obj.append_section_bss(bss, blocks.len().max(1) as u64, 16);
        let bss_sym = obj.section_symbol(bss);
        reloc64(
            &mut obj,
            data,
            desc_off + executed_field as u64,
            bss_sym,
            flags_off as i64,
        );
        for (k, b) in blocks.iter().enumerate() {
            let at = offsets[&b.guest_start] as u64 + EXEC_FLAG_REL32_AT as u64;
            // The store ends 5 bytes after its rel32 field starts (rel32 + imm8).
            let addend = flags_off as i64 + k as i64 - 5;
            obj.add_relocation(
                text_id,
                Relocation {
                    offset: at,
                    symbol: bss_sym,
                    addend,
                    flags: pc32,
                },
            )
            .expect("relocation");
        }
    }

    if nic > 0 {
        let (sec, base) = emit_ic_records(&mut obj, blocks, &offsets, text_id, nic);
        let sym = obj.section_symbol(sec);
        reloc64(&mut obj, data, desc_off + ic_field as u64, sym, base as i64);
    }

    // main's two relocations.
    obj.add_relocation(
        text_id,
        Relocation {
            offset: main_off + 3,
            symbol: data_sym,
            addend: desc_off as i64 - 4,
            flags: pc32,
        },
    )
    .expect("relocation");
    let plt32 = RelocationFlags::Generic {
        kind: RelocationKind::PltRelative,
        encoding: RelocationEncoding::Generic,
        size: 32,
    };
    obj.add_relocation(
        text_id,
        Relocation {
            offset: main_off + 8,
            symbol: aot_main,
            addend: -4,
            flags: plt32,
        },
    )
    .expect("relocation");

    // No executable stack.
    obj.add_section(Vec::new(), b".note.GNU-stack".to_vec(), SectionKind::Note);

    Emitted {
        bytes: obj.write().expect("writing the object"),
        host_bytes,
        hot_bytes: hot_len,
        elided,
        nops,
    }
}

/// The inline-cache records of the static blocks' indirect jmp/call sites
/// (`--inline-caches`) in a writable section, 64-aligned, learning (budget
/// `IC_LEARN`), their host-table pointer left for the runtime to set; and
/// the relocations of the code's rip-relative references to them. Returns
/// the section and the records' offset in it.
fn emit_ic_records(
    obj: &mut Object,
    blocks: &[HostBlock],
    offsets: &HashMap<u32, u32>,
    text_id: object::write::SectionId,
    nic: usize,
) -> (object::write::SectionId, u64) {
    use rehost_runtime::abi::{IC_BUDGET, IC_LEARN, IC_RECORD_SIZE};
    let sec = obj.add_section(Vec::new(), b".data.rehost.ic".to_vec(), SectionKind::Data);
    let mut recs = vec![0u8; nic * IC_RECORD_SIZE];
    let mut firsts = Vec::with_capacity(blocks.len());
    let mut first = 0usize;
    for b in blocks {
        firsts.push(first);
        for (k, &site) in b.ic_sites.iter().enumerate() {
            let r = (first + k) * IC_RECORD_SIZE;
            recs[r + IC_BUDGET..r + IC_BUDGET + 4].copy_from_slice(&IC_LEARN.to_le_bytes());
            recs[r + IC_BUDGET + 4..r + IC_BUDGET + 8].copy_from_slice(&site.to_le_bytes());
        }
        first += b.ic_sites.len();
    }
    let base = obj.append_section_data(sec, &recs, IC_RECORD_SIZE as u64);
    let sym = obj.section_symbol(sec);
    let pc32 = RelocationFlags::Generic {
        kind: RelocationKind::Relative,
        encoding: RelocationEncoding::Generic,
        size: 32,
    };
    for (b, &first) in blocks.iter().zip(&firsts) {
        for r in &b.ic_refs {
            let rec = base + ((first + r.site as usize) * IC_RECORD_SIZE) as u64;
            obj.add_relocation(
                text_id,
                Relocation {
                    offset: offsets[&b.guest_start] as u64 + r.disp_at as u64,
                    symbol: sym,
                    addend: (rec + r.field as u64) as i64 - 4,
                    flags: pc32,
                },
            )
            .expect("relocation");
        }
    }
    (sec, base)
}
