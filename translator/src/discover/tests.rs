//! Tests of static discovery: DWARF encodings, unwind tables that never
//! panic on corrupt bytes, and (when `gcc -m32`/`g++ -m32` work) real
//! guests whose FDEs, landing pads and jump tables are checked against
//! what the toolchain itself says (readelf, the compiler's assembly, nm).

mod guests;

use super::dwarf::{pointer, value, Bases, Cursor};
use super::*;
use crate::elf::{self, GuestElf};
use guests::{EXCEPT_CPP, SWITCH_C};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rehost-disc-{}-{name}", std::process::id()))
}

/// Run a tool; its stdout if it succeeded.
fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        eprintln!(
            "{cmd} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Compile `src` (C or C++ by `ext`) to `tag` with `-m32 flags`. None
/// (skip the test) only if the toolchain cannot build a trivial program
/// with these flags; a failure on `src` itself is a test failure.
fn compile(tag: &str, ext: &str, src: &str, flags: &[&str]) -> Option<PathBuf> {
    let build = |tag: &str, src: &str| {
        let (file, exe) = (tmp(&format!("{tag}.{ext}")), tmp(tag));
        std::fs::write(&file, src).ok()?;
        let cc = if ext == "c" { "gcc" } else { "g++" };
        let mut args = vec!["-m32"];
        args.extend(flags);
        args.extend(["-o", exe.to_str()?, file.to_str()?]);
        let ok = run(cc, &args).is_some();
        let _ = std::fs::remove_file(&file);
        ok.then_some(exe)
    };
    if let Some(exe) = build(tag, src) {
        return Some(exe);
    }
    let trivial = build(&format!("{tag}-trivial"), "int main(void) { return 0; }\n");
    let _ = trivial.as_ref().map(std::fs::remove_file);
    assert!(
        trivial.is_none(),
        "{tag}: the toolchain works but the test program does not build"
    );
    eprintln!("skipping: no {ext} toolchain for -m32 {flags:?}");
    None
}

fn load(p: &Path) -> GuestElf {
    elf::load(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Symbols (any type) by name, from `nm`: name -> [(address, size)].
fn nm(p: &Path) -> Option<BTreeMap<String, Vec<(u32, u32)>>> {
    let text = run("nm", &["-S", "--defined-only", p.to_str()?])?;
    let mut out: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (addr, size, name) = match f.as_slice() {
            [a, s, _, n] => (a, u32::from_str_radix(s, 16).ok()?, n),
            [a, _, n] => (a, 0, n),
            _ => continue,
        };
        let addr = u32::from_str_radix(addr, 16).ok()?;
        out.entry(name.to_string()).or_default().push((addr, size));
    }
    Some(out)
}

#[test]
fn leb128_and_pointer_encodings() {
    let data = [0xe5, 0x8e, 0x26, 0x7f, 0x80, 0x7f, 0x10, 0, 0, 0];
    let mut c = Cursor::new(&data, 0x1000, 0);
    assert_eq!(c.uleb(), Some(624_485));
    assert_eq!(c.sleb(), Some(-1));
    assert_eq!(c.sleb(), Some(-128));
    assert_eq!(c.addr(), 0x1006);
    let mut c = Cursor::new(&[0xff; 20], 0, 0);
    assert_eq!(c.uleb(), None, "unterminated LEB128");
    let mut c = Cursor::new(&[0xfe, 0xff], 0, 0);
    assert_eq!(value(&mut c, 0x0a), Some(-2i32 as u32), "sdata2");
    let Some(elf) = tiny_elf(&[0u8; 64]) else {
        return;
    };
    // pcrel|sdata4 at 0x1006 holding 0x10: 0x1016.
    let mut c = Cursor::new(&data, 0x1000, 6);
    assert_eq!(pointer(&mut c, 0x1b, &elf, Bases::default()), Some(0x1016));
    let mut c = Cursor::new(&[0, 0, 0, 0], 0x1000, 0);
    assert_eq!(
        pointer(&mut c, 0x1b, &elf, Bases::default()),
        Some(0),
        "null stays null"
    );
    let mut c = Cursor::new(&[4, 0, 0, 0], 0x1000, 0);
    assert_eq!(
        pointer(&mut c, 0x30, &elf, Bases { data: Some(8) }),
        Some(12)
    );
    assert_eq!(
        pointer(&mut c, 0x50, &elf, Bases::default()),
        None,
        "aligned"
    );
}

/// An ET_EXEC with one RWX PT_LOAD at 0x08048000 holding `body` after
/// the headers, plus a PT_GNU_EH_FRAME at its start; no section headers.
fn tiny_elf(body: &[u8]) -> Option<GuestElf> {
    const BASE: u32 = 0x0804_8000;
    let hdr = 52 + 2 * 32;
    let len = (hdr + body.len()) as u32;
    let mut b = vec![0u8; 52];
    b[..8].copy_from_slice(b"\x7fELF\x01\x01\x01\x00");
    let mut put = |o: usize, v: u32, n: usize| b[o..o + n].copy_from_slice(&v.to_le_bytes()[..n]);
    for (o, v, n) in [
        (16, 2, 2),
        (18, 3, 2),
        (20, 1, 4),
        (24, BASE + hdr as u32, 4),
    ] {
        put(o, v, n);
    }
    for (o, v, n) in [(28, 52, 4), (40, 52, 2), (42, 32, 2), (44, 2, 2)] {
        put(o, v, n);
    }
    let eh = hdr as u32;
    for ph in [
        [1, 0, BASE, BASE, len, len, 7, 0x1000],
        [0x6474_e550, eh, BASE + eh, 0, 64, 64, 4, 4],
    ] {
        b.extend(ph.iter().flat_map(|v| v.to_le_bytes()));
    }
    b.extend_from_slice(body);
    elf::parse(Path::new("tiny"), &b).ok()
}

#[test]
fn corrupt_unwind_data_never_panics() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..3000 {
        let n = rng.below(600) + 1;
        let mut body: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        if round % 3 == 0 {
            // A plausible .eh_frame_hdr at the start: version 1, pcrel
            // eh_frame_ptr, udata4 count, datarel table.
            body.splice(..0, [1u8, 0x1b, 0x03, 0x3b, 8, 0, 0, 0, 3, 0, 0, 0]);
        }
        let Some(elf) = tiny_elf(&body) else {
            continue;
        };
        let cfg = discover(&elf, &[]);
        assert!(cfg.starts.iter().all(|&a| elf.is_exec_addr(a)));
        let base = elf.segments[0].vaddr;
        let data = &elf.segments[0].data;
        let mut fdes = Vec::new();
        eh_frame::parse(&elf, data, base, round % 2 == 0, &mut fdes);
        let mut pads = Vec::new();
        for _ in 0..8 {
            let at = base.wrapping_add(rng.below(data.len() + 8) as u32);
            lsda::landing_pads(&elf, at.wrapping_sub(rng.below(64) as u32), at, &mut pads);
        }
    }
    // Mutated real unwind tables, if a compiler is around.
    let Some(exe) = compile("fuzz", "cpp", EXCEPT_CPP, &["-static", "-O2"]) else {
        return;
    };
    let bytes = std::fs::read(&exe).unwrap();
    let _ = std::fs::remove_file(&exe);
    let guest = elf::parse(&exe, &bytes).unwrap();
    let mut ranges = Vec::new();
    for name in [".eh_frame", ".gcc_except_table"] {
        if let Some(s) = guest.section(name) {
            ranges.push((s.offset as usize, s.size as usize));
        }
    }
    for _ in 0..40 {
        let mut b = bytes.clone();
        for &(off, size) in &ranges {
            for _ in 0..1 + rng.below(64) {
                let at = off + rng.below(size);
                b[at] = rng.next() as u8;
            }
        }
        let guest = elf::parse(&exe, &b).unwrap();
        let _ = eh_frame::read(&guest);
    }
}

/// Landing pads the compiler wrote into its LSDAs, as label names, and
/// the functions of the file: parsed from gcc's assembly output.
fn lsda_labels(asm: &str) -> (Vec<String>, Vec<String>) {
    let (mut pads, mut funcs, mut ops) = (Vec::new(), Vec::new(), Vec::new());
    let mut in_table = false;
    for l in asm.lines().map(str::trim) {
        if let Some(f) = l
            .strip_prefix(".type\t")
            .and_then(|t| t.strip_suffix(", @function"))
        {
            funcs.push(f.to_string());
        }
        if l.starts_with(".LLSDACSB") {
            (in_table, ops) = (true, Vec::new());
        } else if l.starts_with(".LLSDACSE") {
            in_table = false;
            for e in ops.chunks(4).filter(|e| e.len() == 4) {
                let pad: &String = &e[2];
                if pad != "0" {
                    pads.push(pad.split('-').next().unwrap().to_string());
                }
            }
        } else if let Some(op) = l.strip_prefix(".uleb128 ").filter(|_| in_table) {
            ops.push(op.trim().to_string());
        }
    }
    (pads, funcs)
}

#[test]
fn stripped_cxx_fdes_and_landing_pads() {
    let Some(probe) = compile("ex-probe", "cpp", EXCEPT_CPP, &["-static", "-O2"]) else {
        return;
    };
    let _ = std::fs::remove_file(probe);
    let (src, asm, exe, strip) = (tmp("ex.cpp"), tmp("ex.s"), tmp("ex"), tmp("ex-strip"));
    std::fs::write(&src, EXCEPT_CPP).unwrap();
    let (s, a, e) = (
        src.to_str().unwrap(),
        asm.to_str().unwrap(),
        exe.to_str().unwrap(),
    );
    let built = run("g++", &["-m32", "-O2", "-S", "-o", a, s]).is_some()
        && run("g++", &["-m32", "-static", "-Wa,-L", "-o", e, a]).is_some()
        && run("strip", &["--strip-all", "-o", strip.to_str().unwrap(), e]).is_some();
    let asm_text = std::fs::read_to_string(&asm).unwrap_or_default();
    let frames = run("readelf", &["--debug-dump=frames", strip.to_str().unwrap()]);
    let syms = nm(&exe);
    for p in [&src, &asm, &exe] {
        let _ = std::fs::remove_file(p);
    }
    let (true, Some(frames), Some(syms)) = (built, frames, syms) else {
        panic!("building or inspecting the C++ guest failed (see stderr)");
    };
    let guest = load(&strip);
    let _ = std::fs::remove_file(&strip);
    assert!(guest.functions.is_empty(), "stripped guest has symbols");
    let cfg = discover(&guest, &[]);
    let unwind = eh_frame::read(&guest);

    // (1) Every FDE readelf lists is a block start, and we read the same FDEs.
    let readelf: BTreeSet<u32> = frames
        .lines()
        .filter(|l| l.contains(" FDE "))
        .filter_map(|l| l.split("pc=").nth(1)?.split("..").next())
        .filter_map(|a| u32::from_str_radix(a, 16).ok())
        .filter(|&a| guest.is_exec_addr(a))
        .collect();
    let ours: BTreeSet<u32> = unwind.fdes.iter().map(|f| f.start).collect();
    assert!(readelf.len() > 100, "too few FDEs: {}", readelf.len());
    assert_eq!(
        readelf,
        ours.iter()
            .copied()
            .filter(|&a| guest.is_exec_addr(a))
            .collect()
    );
    let missing: Vec<_> = readelf.difference(&cfg.starts).collect();
    assert!(
        missing.is_empty(),
        "FDE starts not discovered: {missing:x?}"
    );
    assert_eq!(cfg.counts.fde_seeds, readelf.len());

    // (2) The compiler's landing pads (labels kept by -Wa,-L), located in
    // this file's functions, are all found and discovered.
    let (pads, funcs) = lsda_labels(&asm_text);
    assert!(
        pads.len() >= 4,
        "too few landing pads in the assembly: {pads:?}"
    );
    let ranges: Vec<(u32, u32)> = funcs
        .iter()
        .flat_map(|f| [f.clone(), format!("{f}.cold")])
        .filter_map(|f| syms.get(&f))
        .flatten()
        .map(|&(a, n)| (a, a + n))
        .collect();
    for label in &pads {
        let at: Vec<u32> = syms.get(label).into_iter().flatten().map(|s| s.0).collect();
        let at: Vec<u32> = at
            .into_iter()
            .filter(|&a| ranges.iter().any(|r| a >= r.0 && a < r.1))
            .collect();
        assert_eq!(
            at.len(),
            1,
            "label {label} in this file's functions: {at:x?}"
        );
        assert!(
            unwind.landing_pads.contains(&at[0]),
            "landing pad {label} {:#x} not found",
            at[0]
        );
        assert!(
            cfg.starts.contains(&at[0]),
            "landing pad {label} not discovered"
        );
    }
    assert!(cfg.counts.landing_pads >= pads.len());
}

#[test]
fn eh_frame_hdr_without_section_headers() {
    let Some(exe) = compile("hdr", "cpp", EXCEPT_CPP, &["-static-pie", "-fPIE", "-O2"]) else {
        return;
    };
    let mut bytes = std::fs::read(&exe).unwrap();
    let _ = std::fs::remove_file(&exe);
    let with = elf::parse(&exe, &bytes).unwrap();
    // e_shoff, e_shnum, e_shstrndx = 0: as after `sstrip`.
    bytes[32..36].fill(0);
    bytes[48..52].fill(0);
    let without = elf::parse(&exe, &bytes).unwrap();
    assert!(without.sections.is_empty());
    let a = eh_frame::read(&with);
    let b = eh_frame::read(&without);
    let starts = |u: &eh_frame::Unwind| u.fdes.iter().map(|f| f.start).collect::<BTreeSet<_>>();
    assert!(a.fdes.len() > 100);
    let (a_starts, b_starts) = (starts(&a), starts(&b));
    let diff: Vec<_> = a_starts.symmetric_difference(&b_starts).take(10).collect();
    assert!(
        diff.is_empty(),
        "FDE starts differ without section headers: {diff:x?}"
    );
    assert_eq!(a.landing_pads, b.landing_pads);
    assert!(!a.landing_pads.is_empty());
    // R_386_RELATIVE targets still come from DT_REL.
    let funcs = Funcs::new(&without, &b.fdes);
    assert!(!pointers::scan(&without, &funcs, &|_| true).is_empty());
}

#[test]
fn jump_tables_and_label_tables() {
    let variants: [(&str, &[&str]); 3] = [
        ("static", &["-static", "-O2"]),
        ("nopie", &["-static", "-fno-pie", "-no-pie", "-O2"]),
        ("static-pie", &["-static-pie", "-fPIE", "-O2"]),
    ];
    for (tag, flags) in variants {
        let Some(exe) = compile(&format!("sw-{tag}"), "c", SWITCH_C, flags) else {
            continue;
        };
        let syms = nm(&exe);
        let guest = load(&exe);
        let _ = std::fs::remove_file(&exe);
        let syms = syms.expect("nm");
        // Jump tables alone (the non-PIC table is also a run of code
        // pointers in .rodata, which the data scan would find).
        let cfg = discover_with(&guest, &[], false);
        let at = |name: &str| syms.get(name).map(|s| s[0].0.wrapping_add(guest.load_bias));
        for k in 0..12 {
            let a = at(&format!("sw_case_{k}")).expect("case label");
            assert!(
                cfg.starts.contains(&a),
                "{tag}: case {k} at {a:#x} not discovered"
            );
        }
        assert!(cfg.counts.jump_tables >= 1, "{tag}: {:?}", cfg.counts);
        assert!(
            cfg.counts.jump_table_targets >= 12,
            "{tag}: {:?}",
            cfg.counts
        );
        let cfg = discover(&guest, &[]);
        for k in 0..4 {
            let a = at(&format!("cg_label_{k}")).expect("goto label");
            assert!(
                cfg.starts.contains(&a),
                "{tag}: label {k} at {a:#x} not discovered"
            );
        }
        assert!(cfg.counts.data_pointers >= 4, "{tag}: {:?}", cfg.counts);
        assert!(cfg.starts.iter().all(|&a| guest.is_exec_addr(a)));
    }
}
