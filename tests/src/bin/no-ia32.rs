//! `no-ia32 PROGRAM [ARGS...]`: run PROGRAM as if the kernel had been booted
//! with `ia32_emulation=0`.
//!
//! Installs a seccomp-BPF filter that kills the whole process
//! (`SECCOMP_RET_KILL_PROCESS`, so it dies with SIGSYS) on any system call
//! whose `seccomp_data.arch` is not `AUDIT_ARCH_X86_64`, i.e. on every
//! `int 0x80`, `sysenter` or compat `syscall` that an untranslated i386
//! instruction could make, and allows everything else. Then it execs
//! PROGRAM (searching PATH like execvp). The filter is inherited across
//! fork, clone and execve, and `PR_SET_NO_NEW_PRIVS` makes it unprivileged.
//!
//! Exit status: PROGRAM's own, or 126 when the filter cannot be installed or
//! PROGRAM cannot be executed, 127 when PROGRAM is not found, 2 on usage.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{exit, Command};

/// `offsetof(struct seccomp_data, arch)`: `{ int nr; __u32 arch; ... }`.
const SECCOMP_DATA_ARCH_OFFSET: u32 = 4;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const SECCOMP_MODE_FILTER: libc::c_ulong = 2;

// Classic BPF opcodes (linux/filter.h).
const BPF_LD: u16 = 0x00;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_JMP: u16 = 0x05;
const BPF_JEQ: u16 = 0x10;
const BPF_K: u16 = 0x00;
const BPF_RET: u16 = 0x06;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The whole policy: load `arch`; x86-64 is allowed, anything else kills.
fn filter() -> [libc::sock_filter; 4] {
    [
        stmt(BPF_LD | BPF_W | BPF_ABS, SECCOMP_DATA_ARCH_OFFSET),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 1),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    ]
}

fn install_filter() -> io::Result<()> {
    let mut insns = filter();
    let prog = libc::sock_fprog {
        len: insns.len() as libc::c_ushort,
        filter: insns.as_mut_ptr(),
    };
    // SAFETY: plain system calls; `prog` and `insns` outlive them and the
    // kernel copies the program.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        let r = libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            0 as libc::c_ulong,
            &prog as *const libc::sock_fprog,
        );
        if r == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::ENOSYS) {
            return Err(err);
        }
        // Kernels before 3.17 have no seccomp(2).
        if libc::prctl(
            libc::PR_SET_SECCOMP,
            SECCOMP_MODE_FILTER,
            &prog as *const libc::sock_fprog,
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn main() {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    if args.is_empty() || args[0] == "-h" || args[0] == "--help" {
        eprintln!(
            "usage: no-ia32 PROGRAM [ARGS...]\n\
             runs PROGRAM under a seccomp filter that kills it (SIGSYS) on any \
             non-x86-64 system call"
        );
        exit(2);
    }
    if let Err(e) = install_filter() {
        eprintln!("no-ia32: cannot install the seccomp filter: {e}");
        exit(126);
    }
    let err = Command::new(&args[0]).args(&args[1..]).exec();
    eprintln!(
        "no-ia32: cannot execute {}: {err}",
        args[0].to_string_lossy()
    );
    exit(if err.kind() == io::ErrorKind::NotFound {
        127
    } else {
        126
    });
}
