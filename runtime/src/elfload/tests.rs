use super::*;

const BASE: u32 = 0x0804_8000;

/// A minimal ELF32: one R+X load of the whole file at `vaddr`, an optional
/// PT_INTERP and PT_PHDR.
fn tiny(e_type: u16, vaddr: u32, interp: Option<&[u8]>) -> Vec<u8> {
    let nph = 1 + 2 * interp.is_some() as u32;
    let body_off = 52 + 32 * nph;
    let mut body = vec![0x90u8; 16];
    let interp_off = body_off + body.len() as u32;
    if let Some(i) = interp {
        body.extend_from_slice(i);
        body.push(0);
    }
    let size = body_off + body.len() as u32;
    let mut f = Vec::new();
    f.extend([0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    f.extend(e_type.to_le_bytes());
    f.extend(3u16.to_le_bytes());
    f.extend(1u32.to_le_bytes());
    f.extend((vaddr + body_off).to_le_bytes()); // entry
    f.extend(52u32.to_le_bytes()); // phoff
    f.extend([0u8; 8]);
    f.extend(52u16.to_le_bytes());
    f.extend(32u16.to_le_bytes());
    f.extend((nph as u16).to_le_bytes());
    f.extend([0u8; 6]);
    let ph = |f: &mut Vec<u8>, t: u32, off: u32, va: u32, sz: u32, fl: u32| {
        for v in [t, off, va, va, sz, sz, fl, 0x1000] {
            f.extend(v.to_le_bytes());
        }
    };
    if let Some(i) = interp {
        ph(&mut f, PT_PHDR, 52, vaddr + 52, 32 * nph, 4);
        ph(
            &mut f,
            PT_INTERP,
            interp_off,
            vaddr + interp_off,
            i.len() as u32 + 1,
            4,
        );
    }
    ph(&mut f, PT_LOAD, 0, vaddr, size, 5);
    f.extend(body);
    f
}

#[test]
fn exec_and_dyn_placement() {
    let b = tiny(2, BASE, None);
    assert!(is_i386_elf(&b));
    let f = parse(&b).unwrap();
    assert!(!f.is_dyn && f.interp.is_none());
    assert_eq!(f.main_bias(), 0);
    let img = f.image(0).unwrap();
    assert_eq!(img.entry, BASE + 84);
    assert_eq!(img.phdr, BASE + 52);
    assert_eq!(img.segments[0].vaddr, BASE);
    assert_eq!(img.brk, BASE + 0x1000);
    assert!(f.image(0x1000).is_err());
    assert!(interp_of(&img).is_none());

    let d = tiny(3, 0, Some(b"/lib/ld-linux.so.2"));
    let f = parse(&d).unwrap();
    assert!(f.is_dyn);
    assert_eq!(f.interp.as_deref(), Some(&b"/lib/ld-linux.so.2"[..]));
    assert_eq!(f.main_bias(), DYN_BASE);
    assert_eq!(f.span(), Some(0x1000));
    let img = f.image(DYN_BASE).unwrap();
    assert_eq!(img.phdr, DYN_BASE + 52);
    assert_eq!(img.entry, DYN_BASE + 52 + 96);
    assert_eq!(interp_of(&img).as_deref(), Some(&b"/lib/ld-linux.so.2"[..]));
    // Past the end of ia32 user space.
    assert!(f.image(0xffff_f000).is_err());
}

#[test]
fn rejects_bad_headers_clearly() {
    let good = tiny(2, BASE, None);
    assert!(parse(b"").is_err());
    assert!(parse(b"#!/bin/sh\n").is_err());
    let mut x = good.clone();
    x[4] = 2; // ELF64
    assert!(parse(&x).is_err() && !is_i386_elf(&x));
    let mut x = good.clone();
    x[18] = 62; // x86-64
    assert!(parse(&x).err().unwrap().contains("not an i386"));
    let mut x = good.clone();
    x[16] = 1; // ET_REL
    assert!(parse(&x).is_err());
    let mut x = good.clone();
    x[44] = 200; // phnum past the file
    assert!(parse(&x).err().unwrap().contains("out of file bounds"));
    let mut x = good.clone();
    x[52 + 16..52 + 20].copy_from_slice(&0x10_0000u32.to_le_bytes()); // filesz
    assert!(parse(&x).is_err());
}

/// Every truncation and many byte flips of a valid file: errors or
/// images, never a panic.
#[test]
fn never_panics() {
    let good = tiny(3, 0, Some(b"/lib/ld-linux.so.2"));
    for n in 0..good.len() {
        if let Ok(f) = parse(&good[..n]) {
            let _ = f.span();
            if let Ok(img) = f.image(f.main_bias()) {
                let _ = interp_of(&img);
            }
        }
    }
    let mut seed = 0x1234_5678u32;
    for _ in 0..20000 {
        let mut x = good.clone();
        for _ in 0..3 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let i = (seed >> 8) as usize % x.len();
            x[i] = (seed >> 24) as u8;
        }
        if let Ok(f) = parse(&x) {
            let _ = f.span();
            for bias in [0, f.main_bias(), 0xfff0_0000] {
                if let Ok(img) = f.image(bias) {
                    let _ = interp_of(&img);
                }
            }
        }
    }
}

/// The host's i386 dynamic loader, when installed, parses as an ET_DYN
/// without an interpreter of its own.
#[test]
fn host_ld_linux() {
    let Ok(b) = std::fs::read("/lib/ld-linux.so.2") else {
        return;
    };
    let f = parse(&b).unwrap();
    assert!(f.is_dyn && f.interp.is_none());
    let img = f.image(0x4000_0000 - f.min_page()).unwrap();
    assert!(img.segments.iter().any(|s| s.flags & 1 != 0));
    assert!(img.entry > 0x4000_0000);
}
