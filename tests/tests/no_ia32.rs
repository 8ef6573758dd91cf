//! The `no-ia32` wrapper stands in for a kernel booted with
//! `ia32_emulation=0`. These tests prove it: x86-64 programs run normally
//! under it, while an i386 program is killed with SIGSYS at its first system
//! call, so the differential tests cannot pass by letting `int 0x80` through.

use std::path::Path;
use std::process::Command;

use rehost_tests::{
    guests_dir, run_with_timeout, tiny_i386_elf, write_executable, TempDir, RUN_TIMEOUT,
};

fn no_ia32() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_no-ia32"))
}

fn run(cmd: Command) -> rehost_tests::Outcome {
    run_with_timeout(cmd, RUN_TIMEOUT).expect("spawn")
}

#[test]
fn native_i386_program_is_killed_with_sigsys() {
    let tmp = TempDir::new("no-ia32").unwrap();
    let tiny = tmp.path().join("tiny");
    write_executable(&tiny, &tiny_i386_elf()).unwrap();

    // Without the filter this kernel runs it (ia32 emulation is on here).
    let native = run(Command::new(&tiny));
    assert_eq!(
        (native.code(), native.stdout.as_slice()),
        (7, &b"ok\n"[..]),
        "the tiny i386 program should print ok and exit 7 natively: {}; stderr {}",
        native.describe(),
        native.stderr_text()
    );

    // Under no-ia32 its first int 0x80 (the write) kills it.
    let mut cmd = Command::new(no_ia32());
    cmd.arg(&tiny);
    let o = run(cmd);
    assert_eq!(
        o.code(),
        128 + libc::SIGSYS,
        "expected death by SIGSYS, got {}; stderr {}",
        o.describe(),
        o.stderr_text()
    );
    assert!(o.stdout.is_empty(), "the write must not have happened");
}

#[test]
fn filter_is_inherited_by_children() {
    let tmp = TempDir::new("no-ia32-inherit").unwrap();
    let tiny = tmp.path().join("tiny");
    write_executable(&tiny, &tiny_i386_elf()).unwrap();
    // An x86-64 shell runs fine under the filter, its i386 child does not.
    let mut cmd = Command::new(no_ia32());
    cmd.args(["sh", "-c", "echo shell ran; \"$0\"; echo child status $?"])
        .arg(&tiny);
    let o = run(cmd);
    assert_eq!(o.code(), 0, "{}", o.stderr_text());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("shell ran\nchild status {}\n", 128 + libc::SIGSYS)
    );
}

#[test]
fn gcc_built_i386_guest_is_killed_with_sigsys() {
    // The real guests too (glibc's start-up makes i386 calls at once).
    let Ok(dir) = guests_dir() else {
        eprintln!("guests not built; covered by the tiny ELF test");
        return;
    };
    let guest = dir.join("ret3-O2");
    if !guest.is_file() {
        eprintln!(
            "{} not built; covered by the tiny ELF test",
            guest.display()
        );
        return;
    }
    let native = run(Command::new(&guest));
    assert_eq!(native.code(), 3, "natively: {}", native.describe());
    let mut cmd = Command::new(no_ia32());
    cmd.arg(&guest);
    let o = run(cmd);
    assert_eq!(o.code(), 128 + libc::SIGSYS, "{}", o.describe());
    assert!(o.stdout.is_empty());
}

#[test]
fn x86_64_programs_run_normally() {
    let mut cmd = Command::new(no_ia32());
    cmd.args(["echo", "hello", "world"]);
    let o = run(cmd);
    assert_eq!(
        (o.code(), o.stdout.as_slice()),
        (0, &b"hello world\n"[..]),
        "{}",
        o.stderr_text()
    );

    let mut cmd = Command::new(no_ia32());
    cmd.args(["--", "sh", "-c", "exit 5"]);
    assert_eq!(run(cmd).code(), 5);
}

#[test]
fn missing_program_and_usage() {
    let mut cmd = Command::new(no_ia32());
    cmd.arg("/nonexistent/program");
    let o = run(cmd);
    assert_eq!(o.code(), 127);
    assert!(
        o.stderr_text().contains("no-ia32: cannot execute"),
        "{}",
        o.stderr_text()
    );

    let o = run(Command::new(no_ia32()));
    assert_eq!(o.code(), 2);
    assert!(o.stderr_text().contains("usage"));
}
