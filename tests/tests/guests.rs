//! The differential tests: one test per guest program in `tests/guests/`,
//! each checking every built variant (`NAME-O0`, `NAME-O2`, `NAME-pie-O2`,
//! `NAME-O2-strip`, ...) in both modes (translated, `rehost run`) under the
//! no-ia32 seccomp filter against the native recording in `tests/expected/`.
//! A failing test lists every failed check, then a diff of each.

use std::path::Path;

use rehost_tests::{check_guest, check_program, guest_names, report, tiny_i386_elf, Expected};

fn no_ia32() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_no-ia32"))
}

fn check(name: &str) {
    report(&format!("guest {name}"), check_guest(name, no_ia32()));
}

macro_rules! guest_tests {
    ($($name:ident),* $(,)?) => {
        /// One test per guest program.
        mod guest {
            $(
                #[test]
                fn $name() {
                    super::check(stringify!($name));
                }
            )*
        }
        const GUESTS: &[&str] = &[$(stringify!($name)),*];
    };
}

guest_tests!(
    altstack,
    args,
    asm,
    asm_misc,
    bits,
    cgoto,
    dirents,
    div64,
    except,
    exec,
    execsig,
    exit42,
    fileio,
    fork,
    forkthreads,
    fptable,
    jit,
    ldt,
    malloc,
    morecalls,
    oldcalls,
    oldsignals,
    polling,
    printf,
    procself,
    qsort,
    recursion,
    ret3,
    rodata_switch,
    setjmp,
    sigqueue,
    signals,
    signals2,
    signals_fp,
    sockets,
    spawn,
    sse2,
    strings,
    switch,
    sysv_ipc,
    terminal,
    textsmc,
    threads,
    threadstress,
    tls,
    x87,
);

/// Adding `tests/guests/NAME.c` without adding NAME above must fail.
#[test]
fn every_guest_source_has_a_test() {
    let sources = guest_names();
    let mut listed: Vec<String> = GUESTS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        sources, listed,
        "tests/guests/ and the guest_tests! list in tests/tests/guests.rs disagree"
    );
}

/// Every guest has a recorded native output (`make record`).
#[test]
fn every_guest_has_expected_output() {
    let missing: Vec<&str> = GUESTS
        .iter()
        .copied()
        .filter(|n| rehost_tests::expected(n, "O0").is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "no expected output for {missing:?}: run `make record`"
    );
}

/// A hand-made 120-byte i386 ELF without libc: the smallest possible guest.
#[test]
fn tiny_elf() {
    let tmp = rehost_tests::TempDir::new("tiny-guest").expect("temp dir");
    let guest = tmp.path().join("tiny");
    rehost_tests::write_executable(&guest, &tiny_i386_elf()).expect("write tiny ELF");
    let exp = Expected {
        stdout: b"ok\n".to_vec(),
        status: 7,
    };
    report("tiny ELF", check_program("tiny", &guest, &exp, no_ia32()));
}
