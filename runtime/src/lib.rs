//! rehost runtime: linked into every translated executable and into the
//! `rehost` command (for `rehost run`).
//!
//! Stage map:
//! - `abi`: the contract between translated code and the runtime
//! - `translate`: one lowering of i386 blocks to x86-64, shared by the static
//!   pass (translator crate) and the run-time JIT
//! - `memory`: the guest address space (low 4 GiB reservation, brk, mmap)
//! - `guest_mem`: fault-tolerant access to guest memory for system calls
//! - `loader`: maps the guest image, builds the i386 initial stack
//! - `elfload`: the runtime's minimal ELF32 reader (interpreter, execve)
//! - `interp`: dynamically linked guests: program interpreter, sysroot
//! - `start`: process start-up, ahead-of-time and run-time-only
//! - `dispatch`: the emulation manager and the map table
//! - `jit`: the run-time code cache and chaining
//! - `smc`: self-modifying code: code pages, write protection, invalidation
//! - `textpatch`: invalidated static blocks diverted by an `int3` at their entry
//! - `stubs`: hand-written entry/exit code between guest and host
//! - `emulate`: instructions the runtime carries out itself
//! - `signal`: delivery of guest signals (frames, sigreturn)
//! - `syscall`: i386 system calls on x86-64
//! - `thread`: guest threads (clone with CLONE_VM) and their exit
//! - `stats`: the discovery report (REHOST_STATS)
//! - `log`: REHOST_LOG / REHOST_STATS

pub mod abi;
pub mod dispatch;
pub mod elfload;
pub mod emulate;
pub mod guest_mem;
pub mod interp;
pub mod jit;
pub mod loader;
pub mod log;
pub mod memory;
pub mod signal;
pub mod smc;
pub mod start;
pub mod stats;
pub mod stubs;
pub mod syscall;
pub mod textpatch;
pub mod thread;
pub mod translate;

/// Report an unrecoverable runtime error in one line and exit with status 127
/// (the guest cannot continue; no partial state is kept).
pub fn fatal(msg: &str) -> ! {
    log::line(&format!("fatal: {msg}"));
    // SAFETY: terminating the process.
    unsafe { libc::_exit(127) }
}
