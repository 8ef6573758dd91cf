//! i386 system calls (`int 0x80`), executed as x86-64 system calls.
//!
//! Owns: the system-call table (`table`: one static list of i386 number,
//! name and handler that drives dispatch, naming and logging), i386
//! structure conversions (`structs`), and the handlers grouped by subject
//! (`fs`, `fdctl`, `path`, `dirent`, `mem`, `time`, `proc`, `tls`, `signal`,
//! `passthru`, sockets in `net`/`netmsg`, SysV IPC in `ipc`/`shm`, message
//! queues in `mq`, converted ioctls in `ioctl`, timers in `timers`, older
//! file calls in `fsmisc`, mount/swap/fanotify/modules in `admin`, NUMA
//! policy in `numa`, key rings in `keys`, disk quotas in `quota`, Landlock and secret memory in
//! `security`, the rest in `misc`), and the emulated /proc files
//! (`procfs`, `procstat`).
//!
//! Invariants:
//! - No i386 system call ever reaches the host kernel: every guest call is
//!   either a handler's x86-64 system call(s) or an answer computed here
//!   (unknown numbers give -ENOSYS).
//! - Guest pointers are either copied through `guest_mem` (EFAULT, never a
//!   crash) or passed to the host kernel after `guest_mem::check_range`
//!   (nothing past 4 GiB, where host memory lies, is reachable).
//! - The result is the i386 one: a value or -errno (Linux errno numbers are
//!   the same on i386 and x86-64), truncated to 32 bits into eax.

mod admin;
mod dirent;
pub(crate) mod exec;
mod fdctl;
mod fork;
mod fs;
mod fsmisc;
mod ioctl;
mod ipc;
mod keys;
pub(crate) mod ldt;
mod mem;
mod misc;
mod mq;
mod net;
mod netmsg;
mod numa;
mod oldsignal;
mod passthru;
mod path;
mod proc;
mod procfs;
mod procstat;
mod quota;
pub(crate) mod safe;
mod security;
mod shm;
pub(crate) mod signal;
pub mod structs;
mod table;
mod time;
mod timers;
mod tls;

use crate::abi::{reg, Context};
use crate::log;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub use proc::{clear_child_tid, set_clear_child_tid};

/// set_thread_area on another context (CLONE_SETTLS of a new guest
/// thread): `desc` is the guest's i386 `struct user_desc`.
pub fn set_thread_area_of(ctx: &mut Context, desc: u32) -> Result<(), i32> {
    tls::set_thread_area(ctx, &[desc, 0, 0, 0, 0, 0]).map(|_| ())
}

/// The environment variable a guest's execve of an i386 program re-executes
/// the host executable with (`exec`).
pub const EXEC_REQUEST: &str = exec::ENV_EXEC;
pub use signal::{guest_altstack, guest_sigaction, guest_sigmask};
/// The i386 system calls answered -ENOSYS, with reasons (`table`).
pub use table::{enosys_report, ENOSYS_REASONS};
pub use tls::segment_base;

/// The six i386 arguments: ebx, ecx, edx, esi, edi, ebp.
pub type Args = [u32; 6];
/// A value, or a positive errno.
pub type SysResult = Result<i64, i32>;
/// A system-call handler.
pub type Handler = fn(&mut Context, &Args) -> SysResult;

static GUEST_EXE: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// What readlink("/proc/self/exe") answers (absolute path of the guest).
pub fn set_guest_exe(path: &str) {
    let p = std::fs::canonicalize(path)
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_else(|_| path.as_bytes().to_vec());
    *GUEST_EXE.lock().unwrap_or_else(|e| e.into_inner()) = p;
}

pub(crate) fn guest_exe() -> Vec<u8> {
    GUEST_EXE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// i386 system-call name, for logs.
pub fn name(nr: u32) -> Option<&'static str> {
    table::lookup(nr).map(|e| e.name)
}

/// One bit per number: "unimplemented" already logged.
static WARNED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

fn warn_once(nr: u32) -> bool {
    let (w, b) = ((nr / 64) as usize, nr % 64);
    if w >= WARNED.len() {
        return true;
    }
    WARNED[w].fetch_or(1 << b, Ordering::Relaxed) & (1 << b) == 0
}

/// Run the guest system call described by `ctx` (eax = number, arguments
/// in ebx, ecx, edx, esi, edi, ebp) and put the result in eax.
pub fn handle(ctx: &mut Context) {
    let nr = ctx.reg(reg::EAX);
    let a: Args = [
        ctx.reg(reg::EBX),
        ctx.reg(reg::ECX),
        ctx.reg(reg::EDX),
        ctx.reg(reg::ESI),
        ctx.reg(reg::EDI),
        ctx.reg(reg::EBP),
    ];
    let entry = table::lookup(nr);
    let r = match entry.and_then(|e| e.handler) {
        Some(h) => h(ctx, &a),
        None => {
            if log::enabled(log::SYSCALLS) && warn_once(nr) {
                let n = entry.map_or("?", |e| e.name);
                log::line(&format!("syscall {nr} ({n}) unimplemented -> ENOSYS"));
            }
            Err(libc::ENOSYS)
        }
    };
    if r == Err(safe::NOT_STARTED) {
        // Nothing happened: eax still holds the call number, and the call
        // runs again after the pending signal's handler.
        NOT_STARTED.with(|c| c.set(true));
        return;
    }
    let v = match r {
        Ok(v) => v,
        Err(e) => -(e as i64),
    };
    if log::enabled(log::SYSCALLS) {
        log_call(nr, &a, v);
    }
    ctx.set_reg(reg::EAX, v as u32);
}

fn log_call(nr: u32, a: &Args, v: i64) {
    let n = name(nr).unwrap_or("?");
    let res = if (-4095..0).contains(&(v as i32)) {
        let e = std::io::Error::from_raw_os_error(-(v as i32));
        format!("-{} ({e})", -(v as i32))
    } else {
        format!("{:#x}", v as u32)
    };
    log::line(&format!(
        "syscall {nr} {n}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = {res}",
        a[0], a[1], a[2], a[3], a[4], a[5]
    ));
}

/// Log a call that never returns (exit), before making it.
pub(crate) fn log_final(nr: u32, a: &Args) {
    if log::enabled(log::SYSCALLS) {
        let n = name(nr).unwrap_or("?");
        log::line(&format!("syscall {nr} {n}({:#x}) ...", a[0]));
    }
}

pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

/// Make an x86-64 system call with up to six arguments.
pub(crate) fn host_call(nr: libc::c_long, a: &[u64]) -> SysResult {
    let mut v = [0u64; 6];
    v[..a.len()].copy_from_slice(a);
    if safe::blocking(nr) {
        let r = crate::signal::with_pending(|p| safe::call(p, nr, &v));
        return if (-4095..0).contains(&r) {
            Err(-r as i32)
        } else if r == -(safe::NOT_STARTED as i64) {
            Err(safe::NOT_STARTED)
        } else {
            Ok(r)
        };
    }
    // SAFETY: every caller passes pointer arguments that are either host
    // buffers it owns or guest addresses checked to lie below 4 GiB (guest
    // space, which holds nothing of the host).
    let r = unsafe { libc::syscall(nr, v[0], v[1], v[2], v[3], v[4], v[5]) };
    if r == -1 {
        Err(errno())
    } else {
        Ok(r)
    }
}

thread_local! {
    /// The guest system call being handled was not made: a signal was
    /// pending (`safe`). The dispatcher delivers it and restarts the call.
    static NOT_STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Did the last guest system call stop before it started? (Clears it.)
pub fn take_not_started() -> bool {
    NOT_STARTED.with(|c| c.replace(false))
}

/// `host!(SYS_x, a, b, ..)`: host system call, arguments cast to u64.
macro_rules! host {
    ($nr:expr $(, $a:expr)* $(,)?) => {
        $crate::syscall::host_call($nr, &[$(($a) as u64),*])
    };
}
pub(crate) use host;

/// An i386 `int` argument, sign-extended for the host.
pub(crate) fn sx(v: u32) -> u64 {
    v as i32 as i64 as u64
}

/// Host pointer value of a guest buffer [addr, addr+len) (EFAULT if it
/// would reach past 4 GiB). NULL stays NULL.
pub(crate) fn gbuf(addr: u32, len: usize) -> Result<u64, i32> {
    crate::guest_mem::check_range(addr, len)?;
    Ok(addr as u64)
}

/// A guest path, NUL-terminated, with the paths the runtime emulates
/// rewritten (`/proc/self/exe` names the guest, not the runtime).
pub(crate) struct GuestPath(Vec<u8>);

impl GuestPath {
    pub fn read(addr: u32) -> Result<GuestPath, i32> {
        let mut p = crate::guest_mem::read_cstr(addr)?;
        if is_self_exe(&p) {
            let exe = guest_exe();
            if !exe.is_empty() {
                p = exe;
            }
        } else if let Some(q) = crate::interp::in_sysroot(&p) {
            p = q;
        }
        p.push(0);
        Ok(GuestPath(p))
    }

    pub fn ptr(&self) -> u64 {
        self.0.as_ptr() as u64
    }
}

pub(crate) fn is_self_exe(p: &[u8]) -> bool {
    p == b"/proc/self/exe" || p == b"/proc/thread-self/exe" || {
        let pid = format!("/proc/{}/exe", std::process::id());
        p == pid.as_bytes()
    }
}

/// Tell the dispatcher the guest range [addr, addr+n) was written by the
/// kernel (read into a buffer that may hold translated code).
pub(crate) fn written(addr: u32, n: i64) -> SysResult {
    if n > 0 {
        crate::memory::notify_change(addr, n as u32);
    }
    Ok(n)
}

#[cfg(test)]
mod tests;
