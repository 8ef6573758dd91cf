//! `rehost translate` on input it must refuse. For each case it must exit
//! with a non-zero status (not die by a signal), print exactly one line on
//! stderr, never panic, and leave no output file (nor anything else) behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rehost_tests::{
    elf32, guests_dir, rehost_bin, run_with_timeout, tiny_i386_elf, write_executable, TempDir,
    TRANSLATE_TIMEOUT,
};

/// Run `rehost translate INPUT -o OUT` and check the refusal contract.
fn expect_rejected_path(label: &str, input: &Path, out_dir: &Path) {
    let rehost = rehost_bin().unwrap_or_else(|e| panic!("{e}"));
    let out = out_dir.join("out.x86_64");
    let mut cmd = Command::new(&rehost);
    cmd.arg("translate").arg(input).arg("-o").arg(&out);
    let o = run_with_timeout(cmd, TRANSLATE_TIMEOUT).expect("spawn rehost");
    let stderr = o.stderr_text();
    let shown = format!("rehost translate {} -o {}", input.display(), out.display());
    let mut problems = Vec::new();
    if o.timed_out {
        problems.push(format!("did not finish within {TRANSLATE_TIMEOUT:?}"));
    }
    let code = o.code();
    if code == 0 {
        problems.push("exited 0".to_string());
    } else if o.status.code().is_none() {
        problems.push(format!("crashed: {}", o.describe()));
    }
    if stderr.contains("panicked") {
        problems.push("panicked".to_string());
    }
    let lines = stderr.lines().count();
    if lines != 1 || !stderr.ends_with('\n') {
        problems.push(format!(
            "printed {lines} lines on stderr (expected exactly one, newline-terminated)"
        ));
    }
    if out.exists() {
        problems.push(format!("left {} behind", out.display()));
    }
    if out_dir.is_dir() {
        let left: Vec<String> = fs::read_dir(out_dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if !left.is_empty() {
            problems.push(format!("left files in the output directory: {left:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "bad input `{label}`: {}\n  command: {shown}\n  status: {}\n  stderr:\n{}",
        problems.join("; "),
        o.describe(),
        stderr
            .lines()
            .take(30)
            .map(|l| format!("    | {l}\n"))
            .collect::<String>()
    );
}

/// Write `bytes` as the input and check that it is refused.
fn expect_rejected(label: &str, bytes: &[u8]) {
    let tmp = TempDir::new(&format!("bad-{label}")).unwrap();
    let input = tmp.subdir("in").unwrap().join(label);
    write_executable(&input, bytes).unwrap();
    let out_dir = tmp.subdir("out").unwrap();
    expect_rejected_path(label, &input, &out_dir);
}

fn patched(offset: usize, bytes: &[u8]) -> Vec<u8> {
    let mut elf = tiny_i386_elf();
    elf[offset..offset + bytes.len()].copy_from_slice(bytes);
    elf
}

/// A real guest, when `make guests` has run (else the tiny ELF stands in).
fn real_guest() -> Option<PathBuf> {
    let g = guests_dir().ok()?.join("ret3-O2");
    g.is_file().then_some(g)
}

#[test]
fn not_an_elf() {
    expect_rejected("script", b"#!/bin/sh\necho this is not an ELF file\n");
}

#[test]
fn empty_file() {
    expect_rejected("empty", b"");
}

#[test]
fn elf64_x86_64() {
    let bytes = fs::read("/bin/true")
        .or_else(|_| fs::read(std::env::current_exe().unwrap()))
        .unwrap();
    assert_eq!(&bytes[..5], b"\x7fELF\x02");
    expect_rejected("elf64", &bytes);
}

#[test]
fn elf32_of_another_machine() {
    // EM_ARM (40)
    expect_rejected(
        "elf32-arm",
        &patched(elf32::E_MACHINE, &40u16.to_le_bytes()),
    );
}

#[test]
fn elf32_x32_machine() {
    // An ELF32 container for EM_X86_64 (62): x32, not i386.
    expect_rejected(
        "elf32-x32",
        &patched(elf32::E_MACHINE, &62u16.to_le_bytes()),
    );
}

#[test]
fn elf32_big_endian() {
    expect_rejected("elf32-msb", &patched(5, &[2]));
}

#[test]
fn truncated_header() {
    expect_rejected("truncated-tiny", &tiny_i386_elf()[..30]);
    if let Some(g) = real_guest() {
        let bytes = fs::read(g).unwrap();
        expect_rejected("truncated-guest", &bytes[..30]);
    }
}

#[test]
fn truncated_program_headers() {
    // The header is whole but the file ends inside the program header table.
    expect_rejected("truncated-phdrs", &tiny_i386_elf()[..60]);
}

#[test]
fn corrupt_program_header_offset() {
    expect_rejected(
        "bad-phoff-tiny",
        &patched(elf32::E_PHOFF, &0xffff_fff0u32.to_le_bytes()),
    );
    if let Some(g) = real_guest() {
        let mut bytes = fs::read(g).unwrap();
        bytes[elf32::E_PHOFF..elf32::E_PHOFF + 4].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        expect_rejected("bad-phoff-guest", &bytes);
    }
}

#[test]
fn corrupt_program_header_count() {
    expect_rejected(
        "bad-phnum",
        &patched(elf32::E_PHNUM, &0xffffu16.to_le_bytes()),
    );
    expect_rejected(
        "bad-phentsize",
        &patched(elf32::E_PHENTSIZE, &7u16.to_le_bytes()),
    );
}

#[test]
fn segment_beyond_end_of_file() {
    // PT_LOAD p_offset (at phoff 52 + 4) far past the end of the file.
    expect_rejected(
        "bad-p-offset",
        &patched(52 + 4, &0x0100_0000u32.to_le_bytes()),
    );
}

#[test]
fn missing_file() {
    let tmp = TempDir::new("bad-missing").unwrap();
    let out_dir = tmp.subdir("out").unwrap();
    expect_rejected_path("missing", &tmp.path().join("does-not-exist"), &out_dir);
}

#[test]
fn directory_as_input() {
    let tmp = TempDir::new("bad-dir").unwrap();
    let input = tmp.subdir("in").unwrap();
    let out_dir = tmp.subdir("out").unwrap();
    expect_rejected_path("directory", &input, &out_dir);
}

#[test]
fn unwritable_output() {
    // A valid guest, but the output directory does not exist.
    let tmp = TempDir::new("bad-out").unwrap();
    let input = tmp.subdir("in").unwrap().join("tiny");
    write_executable(&input, &tiny_i386_elf()).unwrap();
    let out_dir = tmp.path().join("no-such-dir");
    expect_rejected_path("unwritable-output", &input, &out_dir);
}
