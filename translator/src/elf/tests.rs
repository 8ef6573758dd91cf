//! Tests of the guest ELF reader: hand-built i386 images, every rejection,
//! a mutation fuzzer, and (when `gcc -m32` works) real programs.

use super::*;

const BASE: u32 = 0x0804_8000;
/// _start: mov eax,1; xor ebx,ebx; int 0x80; helper: ret; padding.
const CODE: [u8; 16] = [
    0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80, 0xc3, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
];

fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

/// ELF header + `phdrs` (p_type, p_offset, p_vaddr, p_filesz, p_memsz,
/// p_flags) + `body`. The body starts at 52 + 32 * phdrs.len().
fn build(e_type: u16, entry: u32, phdrs: &[[u32; 6]], body: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 52];
    b[..8].copy_from_slice(b"\x7fELF\x01\x01\x01\x00");
    put16(&mut b, 16, e_type);
    put16(&mut b, 18, 3);
    put32(&mut b, 20, 1);
    put32(&mut b, 24, entry);
    put32(&mut b, 28, 52);
    put16(&mut b, 40, 52);
    put16(&mut b, 42, 32);
    put16(&mut b, 44, phdrs.len() as u16);
    put16(&mut b, 46, 40);
    for &[t, off, va, fsz, msz, fl] in phdrs {
        for v in [t, off, va, va, fsz, msz, fl, 0x1000] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.extend_from_slice(body);
    b
}

/// Header, one R+X PT_LOAD covering the whole file plus 0x100 bytes of bss,
/// code at 84.
fn minimal() -> Vec<u8> {
    let len = 84 + CODE.len() as u32;
    build(2, BASE + 84, &[[1, 0, BASE, len, len + 0x100, 5]], &CODE)
}

/// Like `minimal` plus PT_GNU_STACK (RW) and section headers: .text,
/// .symtab (_start, helper), .strtab, .shstrtab.
fn rich() -> Vec<u8> {
    let stack = [0x6474_e551, 0, 0, 0, 0, 6];
    let mut b = build(2, BASE + 116, &[[1, 0, BASE, 132, 132, 5], stack], &CODE);
    b.extend_from_slice(b"\0_start\0helper\0\0"); // strtab at 132 (15 bytes)
    b.extend_from_slice(&[0; 16]); // symtab at 148
    for (name, value, size) in [(1u32, BASE + 116, 9u32), (8, BASE + 125, 1)] {
        for v in [name, value, size, 0x0001_0012] {
            b.extend_from_slice(&v.to_le_bytes()); // info 0x12 = GLOBAL FUNC, shndx 1
        }
    }
    b.extend_from_slice(b"\0.text\0.symtab\0.strtab\0.shstrtab\0\0\0\0"); // at 196 (33 bytes)
    assert_eq!(b.len(), 232);
    let shdrs: [[u32; 10]; 5] = [
        [0; 10],
        [1, 1, 6, BASE + 116, 116, 16, 0, 0, 16, 0],
        [7, 2, 0, 0, 148, 48, 3, 1, 4, 16],
        [15, 3, 0, 0, 132, 15, 0, 0, 1, 0],
        [23, 3, 0, 0, 196, 33, 0, 0, 1, 0],
    ];
    for v in shdrs.iter().flatten() {
        b.extend_from_slice(&v.to_le_bytes());
    }
    put32(&mut b, 32, 232);
    put16(&mut b, 48, 5);
    put16(&mut b, 50, 4);
    b
}

fn p(bytes: &[u8]) -> Result<GuestElf, ElfError> {
    parse(Path::new("test"), bytes)
}

fn rejects(bytes: &[u8], what: &str) {
    match p(bytes) {
        Ok(_) => panic!("accepted an image that should fail with {what:?}"),
        Err(e) => assert!(
            e.to_string().contains(what),
            "error {e:?} does not mention {what:?}"
        ),
    }
}

#[test]
fn accepts_minimal_exec() {
    let img = minimal();
    let e = p(&img).unwrap();
    assert_eq!(e.kind, Kind::Exec);
    assert_eq!((e.load_bias, e.entry, e.phnum), (0, BASE + 84, 1));
    assert_eq!(e.phdr_addr, BASE + 52);
    assert_eq!(e.segments.len(), 1);
    assert_eq!(e.segments[0].data, img);
    assert_eq!(e.brk, (BASE + 100 + 0x100 + 0xfff) & !0xfff);
    assert!(e.exec_stack && e.interp.is_none() && e.tls.is_none());
    assert!(e.functions.is_empty() && e.sections.is_empty() && e.warnings.is_empty());
    assert_eq!(e.read(BASE + 84, 2), Some(&CODE[..2]));
    assert_eq!(e.read(BASE + 99, 1), Some(&[0x90][..]));
    assert_eq!(e.read(BASE + 99, 2), None); // runs into bss
    assert_eq!(e.read(BASE - 1, 1), None);
    assert!(e.is_exec_addr(BASE) && e.is_exec_addr(BASE + 99));
    assert!(!e.is_exec_addr(BASE + 100) && !e.is_exec_addr(0));
}

#[test]
fn accepts_rich_exec() {
    let e = p(&rich()).unwrap();
    assert!(!e.exec_stack);
    let names: Vec<_> = e
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.addr, f.size))
        .collect();
    assert_eq!(
        names,
        [("_start", BASE + 116, 9), ("helper", BASE + 125, 1)]
    );
    let text = e.section(".text").unwrap();
    assert_eq!(
        (text.addr, text.size, &text.data[..]),
        (BASE + 116, 16, &CODE[..])
    );
    assert_eq!(e.sections.len(), 4);
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
}

#[test]
fn corrupt_sections_are_ignored() {
    let mut img = rich();
    put32(&mut img, 32, 0xffff_0000); // e_shoff out of the file
    let e = p(&img).unwrap();
    assert!(e.sections.is_empty() && e.functions.is_empty() && !e.warnings.is_empty());
    let mut img = rich();
    put32(&mut img, 232 + 80 + 16, 0x7fff_0000); // .symtab sh_offset
    let e = p(&img).unwrap();
    assert!(e.functions.is_empty() && e.section(".text").is_some());
}

#[test]
fn accepts_pie_and_interp() {
    let len = 84 + CODE.len() as u32;
    let img = build(3, 84, &[[1, 0, 0, len, len, 5]], &CODE);
    let e = p(&img).unwrap();
    assert_eq!(
        (e.kind, e.load_bias, e.entry),
        (Kind::StaticPie, DYN_BASE, DYN_BASE + 84)
    );
    assert_eq!(e.segments[0].vaddr, DYN_BASE);
    assert_eq!(e.phdr_addr, DYN_BASE + 52);

    let mut body = CODE.to_vec();
    body.extend_from_slice(b"/lib/ld-linux.so.2\0");
    let len = 116 + body.len() as u32;
    let interp = [3, 132, 132, 19, 19, 4];
    let img = build(3, 116, &[[1, 0, 0, len, len, 5], interp], &body);
    let e = p(&img).unwrap();
    assert_eq!(e.kind, Kind::Dynamic);
    assert_eq!(e.interp.as_deref(), Some("/lib/ld-linux.so.2"));
}

#[test]
fn rejects_bad_idents() {
    let mut img = minimal();
    img[0] = b'M';
    rejects(&img, "bad magic");
    rejects(b"MZ", "bad magic");
    rejects(b"", "not an ELF file");
    let mut img = minimal();
    img[4] = 2;
    rejects(
        &img,
        "ELF64 file: rehost translates 32-bit i386 programs only",
    );
    rejects(&img[..5], "ELF64");
    let mut img = minimal();
    img[5] = 2;
    rejects(&img, "big-endian");
    let mut img = minimal();
    put16(&mut img, 18, 40);
    rejects(&img, "not an i386 program (e_machine 40 = ARM)");
    put16(&mut img, 18, 62);
    rejects(&img, "x86-64");
}

#[test]
fn rejects_truncated_header() {
    let img = minimal();
    for n in [1, 3, 4, 5, 6, 16, 28, 44, 51] {
        rejects(&img[..n], "truncated ELF header");
    }
    rejects(&img[..60], "program header table out of file bounds");
}

#[test]
fn rejects_bad_types_and_sizes() {
    let mut img = minimal();
    put16(&mut img, 16, 1);
    rejects(&img, "not an executable (ET_REL)");
    put16(&mut img, 16, 4);
    rejects(&img, "not an executable (ET_CORE)");
    let mut img = minimal();
    put16(&mut img, 42, 56);
    rejects(&img, "e_phentsize");
    let mut img = minimal();
    put16(&mut img, 44, 0);
    rejects(&img, "no program headers");
    let mut img = minimal();
    let n = img.len() as u32;
    put32(&mut img, 28, n);
    rejects(&img, "program header table out of file bounds");
    put32(&mut img, 28, u32::MAX - 8);
    rejects(&img, "program header table out of file bounds");
    let mut img = minimal();
    put16(&mut img, 44, 0xffff);
    rejects(&img, "program header table out of file bounds");
}

#[test]
fn rejects_bad_segments() {
    let len = 84 + CODE.len() as u32;
    let seg = |off, va, fsz, msz, fl| build(2, BASE + 84, &[[1, off, va, fsz, msz, fl]], &CODE);
    rejects(
        &seg(0, BASE, len + 1, len + 1, 5),
        "segment 0 file range out of bounds",
    );
    rejects(
        &seg(u32::MAX, BASE, 2, 2, 5),
        "segment 0 file range out of bounds",
    );
    rejects(&seg(0, BASE, len, len - 1, 5), "p_filesz");
    rejects(&seg(0, BASE, len, len, 4), "no executable PT_LOAD");
    rejects(&seg(0, 0xffff_f000, len, len, 5), "address space");
    rejects(&seg(0, 0xffff_dff0, len, len, 5), "address space");
    rejects(&seg(0, BASE, 0, 0, 5), "no PT_LOAD");
    rejects(
        &build(2, BASE + 84, &[[4, 0, BASE, len, len, 5]], &CODE),
        "no PT_LOAD",
    );
    let two = [[1, 0, BASE, len, len, 5], [1, 0, BASE + len - 1, 4, 4, 6]];
    rejects(
        &build(2, BASE + 116, &two, &CODE),
        "segments 0 and 1 overlap",
    );
    let two = [[1, 0, BASE + len, 4, 4, 6], [1, 0, BASE, len, len + 1, 5]];
    rejects(&build(2, BASE + 116, &two, &CODE), "overlap");
    let interp = [
        [1, 0, BASE, len + 32, len + 32, 5],
        [3, 0, 0, 0x10000, 0, 4],
    ];
    rejects(&build(2, BASE + 116, &interp, &CODE), "PT_INTERP");
}

#[test]
fn rejects_entry_outside_exec() {
    let len = 84 + CODE.len() as u32;
    for entry in [0, BASE - 1, BASE + len, BASE + len + 0x80, u32::MAX] {
        let img = build(2, entry, &[[1, 0, BASE, len, len + 0x100, 5]], &CODE);
        rejects(&img, "entry point");
    }
    // In a data segment.
    let two = [
        [1, 0, BASE, len, len, 5],
        [1, 0, BASE + 0x1000, len, len, 6],
    ];
    rejects(&build(2, BASE + 0x1000 + 84, &two, &CODE), "entry point");
}

/// xorshift64*
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn fuzz(seed: &[u8], iterations: usize, rng: &mut Rng) -> usize {
    let mut accepted = 0;
    for _ in 0..iterations {
        let mut img = seed.to_vec();
        for _ in 0..1 + rng.below(8) {
            // Mostly hit the headers and tables, sometimes anywhere.
            let at = match rng.below(4) {
                0 => rng.below(img.len()),
                1 if img.len() > 512 => img.len() - 1 - rng.below(512),
                _ => rng.below(img.len().min(320)),
            };
            img[at] = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                _ => rng.next() as u8,
            };
        }
        if rng.below(16) == 0 {
            img.truncate(rng.below(img.len() + 1));
        }
        if let Ok(e) = p(&img) {
            accepted += 1;
            // Accepted images keep the documented guarantees.
            assert!(e.is_exec_addr(e.entry));
            assert!(e
                .segments
                .windows(2)
                .all(|w| w[0].vaddr as u64 + w[0].memsz as u64 <= w[1].vaddr as u64));
            assert!(e.functions.iter().all(|f| e.is_exec_addr(f.addr)));
            assert!(e
                .init_array
                .iter()
                .chain(&e.fini_array)
                .all(|&a| e.is_exec_addr(a)));
        }
    }
    accepted
}

#[test]
fn fuzz_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let accepted = fuzz(&minimal(), 10_000, &mut rng) + fuzz(&rich(), 10_000, &mut rng);
    assert!(
        accepted > 100,
        "mutations too destructive: {accepted} accepted"
    );
    if let Some(exe) = gcc32("fuzz", &["-static"]) {
        fuzz(&std::fs::read(&exe).unwrap(), 2_000, &mut rng);
        let _ = std::fs::remove_file(exe);
    }
}

/// Compile a small C program with `gcc -m32 extra`; None if that fails.
fn gcc32(tag: &str, extra: &[&str]) -> Option<PathBuf> {
    let dir = std::env::temp_dir();
    let src = dir.join(format!("rehost-elf-{}-{tag}.c", std::process::id()));
    let exe = dir.join(format!("rehost-elf-{}-{tag}", std::process::id()));
    let prog = "#include <stdio.h>\n__attribute__((constructor)) static void ctor(void) { puts(\"ctor\"); }\n\
                int main(void) { puts(\"hello\"); return 0; }\n";
    std::fs::write(&src, prog).ok()?;
    let out = std::process::Command::new("gcc")
        .arg("-m32")
        .args(extra)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output();
    let _ = std::fs::remove_file(&src);
    match out {
        Ok(o) if o.status.success() => Some(exe),
        _ => {
            eprintln!("skipping: gcc -m32 {extra:?} failed");
            None
        }
    }
}

#[test]
fn real_gcc_programs() {
    let cases: [(&str, &[&str], Kind); 4] = [
        ("static", &["-static"], Kind::Exec),
        ("static-pie", &["-static-pie"], Kind::StaticPie),
        ("pie", &["-pie", "-fPIE"], Kind::Dynamic),
        ("nopie", &["-no-pie"], Kind::Dynamic),
    ];
    for (tag, flags, kind) in cases {
        let Some(exe) = gcc32(tag, flags) else {
            continue;
        };
        let e = load(&exe);
        let _ = std::fs::remove_file(&exe);
        let e = e.unwrap_or_else(|err| panic!("{tag}: {err}"));
        assert_eq!(e.kind, kind, "{tag}");
        assert!(e.warnings.is_empty(), "{tag}: {:?}", e.warnings);
        let text = e.section(".text").expect(".text");
        assert!(
            e.entry >= text.addr && e.entry < text.addr + text.size,
            "{tag}: entry not in .text"
        );
        let main = e.functions.iter().find(|f| f.name == "main").expect("main");
        assert!(
            main.addr >= text.addr && main.addr < text.addr + text.size,
            "{tag}"
        );
        assert!(
            e.functions.iter().any(|f| f.name == "ctor"),
            "{tag}: no ctor symbol"
        );
        let ctor = e.functions.iter().find(|f| f.name == "ctor").unwrap().addr;
        assert!(
            e.init_array.contains(&ctor),
            "{tag}: init_array {:x?} lacks ctor {ctor:#x}",
            e.init_array
        );
        assert!(!e.fini_array.is_empty(), "{tag}: empty fini_array");
        assert!(
            e.phdr_addr != 0 && e.read(e.phdr_addr, 32 * e.phnum as usize).is_some(),
            "{tag}"
        );
        assert_eq!(
            e.load_bias,
            if e.segments[0].vaddr == DYN_BASE {
                DYN_BASE
            } else {
                0
            }
        );
        assert_eq!(e.brk % 0x1000, 0);
    }
    assert!(
        matches!(load(Path::new("/nonexistent/x")), Err(ElfError(m)) if m == "cannot read /nonexistent/x: No such file or directory")
    );
}
