//! Where a dynamically linked guest's program interpreter comes from:
//! `rehost run --sysroot DIR`, `REHOST_SYSROOT`, and the default a
//! translated output records with `rehost translate --sysroot DIR`.
//!
//! A sysroot whose `lib/ld-linux.so.2` is not a shared object (the tiny
//! static ELF) proves the sysroot was consulted: the runtime refuses it
//! with one line and status 127. A sysroot holding copies of the host's
//! interpreter and libc runs the guest as natively. The guest is
//! `printf-dyn-O2` (`make guests`); without the host's i386 libc
//! (`/lib/ld-linux.so.2`) these tests have nothing to check and pass.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rehost_tests::{
    expected, guest_command, guests_dir, rehost_bin, run_with_timeout, tiny_i386_elf, translate,
    write_executable, Outcome, TempDir, RUN_TIMEOUT,
};

const HOST_INTERP: &str = "/lib/ld-linux.so.2";

fn no_ia32() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_no-ia32"))
}

/// The dynamic printf guest, or None when the host has no i386 libc.
fn dyn_guest() -> Option<PathBuf> {
    if !Path::new(HOST_INTERP).exists() {
        eprintln!("no {HOST_INTERP}: sysroot tests skipped");
        return None;
    }
    let g = guests_dir()
        .unwrap_or_else(|e| panic!("{e}"))
        .join("printf-dyn-O2");
    assert!(
        g.is_file(),
        "{} is not built: run `make guests`",
        g.display()
    );
    Some(g)
}

/// A sysroot whose interpreter is an ET_EXEC file (refused at start-up).
fn bad_sysroot(tmp: &TempDir) -> PathBuf {
    let root = tmp.path().join("bad-root");
    fs::create_dir_all(root.join("lib")).expect("mkdir");
    write_executable(&root.join("lib/ld-linux.so.2"), &tiny_i386_elf()).expect("write");
    root
}

/// A sysroot with copies of the host's interpreter and i386 libc.
fn good_sysroot(tmp: &TempDir) -> PathBuf {
    let root = tmp.path().join("good-root");
    for (from, to) in [
        (HOST_INTERP, "lib/ld-linux.so.2"),
        ("/lib32/libc.so.6", "lib32/libc.so.6"),
        ("/lib32/libm.so.6", "lib32/libm.so.6"),
    ] {
        let to = root.join(to);
        fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        if Path::new(from).exists() {
            fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {from}: {e}"));
        }
    }
    root
}

fn run(mut cmd: Command, sysroot_env: Option<&Path>) -> Outcome {
    if let Some(r) = sysroot_env {
        cmd.env("REHOST_SYSROOT", r);
    }
    run_with_timeout(cmd, RUN_TIMEOUT).expect("spawn")
}

fn assert_refused(label: &str, o: &Outcome) {
    let err = o.stderr_text();
    assert!(
        o.code() == 127 && err.contains("program interpreter") && err.lines().count() == 1,
        "{label}: expected one line about the interpreter and status 127, got {}:\n{err}",
        o.describe()
    );
}

fn assert_native(label: &str, o: &Outcome) {
    let exp = expected("printf", "dyn-O2").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        o.code() == exp.status && o.stdout == exp.stdout,
        "{label}: {} and {} bytes of stdout, expected the native run\n{}",
        o.describe(),
        o.stdout.len(),
        o.stderr_text()
    );
}

#[test]
fn run_sysroot_option_and_variable() {
    let Some(guest) = dyn_guest() else { return };
    let rehost = rehost_bin().unwrap_or_else(|e| panic!("{e}"));
    let tmp = TempDir::new("sysroot-run").expect("temp dir");
    let cwd = tmp.subdir("cwd").expect("cwd");
    let (bad, good) = (bad_sysroot(&tmp), good_sysroot(&tmp));
    let with_option = |root: &Path| {
        let args: [&Path; 4] = [Path::new("run"), Path::new("--sysroot"), root, &guest];
        guest_command(no_ia32(), &rehost, &args, &cwd)
    };
    let plain = || guest_command(no_ia32(), &rehost, &[Path::new("run"), &guest], &cwd);
    assert_refused("run --sysroot BAD", &run(with_option(&bad), None));
    assert_refused("REHOST_SYSROOT=BAD run", &run(plain(), Some(&bad)));
    // The option wins over the variable.
    assert_native("run --sysroot GOOD", &run(with_option(&good), Some(&bad)));
    // A sysroot without the file falls back to the host's.
    assert_native("REHOST_SYSROOT=EMPTY run", &run(plain(), Some(&cwd)));
}

#[test]
fn translated_output_records_its_sysroot() {
    let Some(guest) = dyn_guest() else { return };
    let rehost = rehost_bin().unwrap_or_else(|e| panic!("{e}"));
    let tmp = TempDir::new("sysroot-translate").expect("temp dir");
    let cwd = tmp.subdir("cwd").expect("cwd");
    let (bad, good) = (bad_sysroot(&tmp), good_sysroot(&tmp));
    // Without --sysroot: the host's interpreter.
    let out = tmp.path().join("printf-dyn-O2");
    translate(&rehost, &guest, &out).unwrap_or_else(|e| panic!("{e}"));
    assert_native(
        "translated",
        &run(guest_command(no_ia32(), &out, &[], &cwd), None),
    );
    // Recorded BAD: refused; REHOST_SYSROOT overrides the record.
    let out_bad = tmp.path().join("printf-bad-root");
    let mut cmd = Command::new(&rehost);
    cmd.arg("translate")
        .arg(&guest)
        .arg("-o")
        .arg(&out_bad)
        .arg("--sysroot")
        .arg(&bad);
    let o = run_with_timeout(cmd, RUN_TIMEOUT).expect("spawn");
    assert!(
        o.status.success(),
        "translate --sysroot: {}",
        o.stderr_text()
    );
    let cmd = || guest_command(no_ia32(), &out_bad, &[], &cwd);
    assert_refused("translated with --sysroot BAD", &run(cmd(), None));
    assert_native("... and REHOST_SYSROOT=GOOD", &run(cmd(), Some(&good)));
    // --sysroot without the interpreter is refused at translation time.
    let mut cmd = Command::new(&rehost);
    cmd.arg("translate")
        .arg(&guest)
        .arg("-o")
        .arg(tmp.path().join("never"))
        .arg("--sysroot")
        .arg(&cwd);
    let o = run_with_timeout(cmd, RUN_TIMEOUT).expect("spawn");
    assert!(
        o.code() == 1 && o.stderr_text().contains("not in --sysroot"),
        "translate --sysroot EMPTY: {}: {}",
        o.describe(),
        o.stderr_text()
    );
}
