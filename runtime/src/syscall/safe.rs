//! Blocking host system calls that a guest signal can interrupt without a
//! race (the technique of QEMU's `safe_syscall`).
//!
//! An asynchronous signal reaching the runtime is queued (`signal`'s
//! PENDING) and delivered at the end of the runtime call. A signal that
//! arrives after the runtime last looked but before a blocking call enters
//! the kernel would otherwise be noticed only when the call returns, which
//! for `read` on an idle pipe or a futex wait is never. So blocking calls go
//! through `rehost_safe_syscall`: it tests this thread's pending word and
//! then makes the call, and the host signal handler (`on_async`), finding
//! the interrupted PC between that test and the `syscall` instruction,
//! moves it to a return of `NOT_STARTED` instead. The guest system call is
//! then restarted after the handler runs, as natively the handler runs
//! before the call (`dispatch`). A signal during the call interrupts it
//! with EINTR from the kernel as usual (the host handlers have no
//! SA_RESTART).
//!
//! Invariant: between `rehost_safe_syscall_start` and
//! `rehost_safe_syscall_end` nothing has a side effect but the `syscall`
//! instruction, which is the last instruction before `_end`.

use std::sync::atomic::AtomicU64;

/// The internal result of a call that was not made because a signal was
/// pending (never seen by the guest).
pub const NOT_STARTED: i32 = 0x1000;

std::arch::global_asm!(
    ".pushsection .text.rehost_safe_syscall,\"ax\",@progbits",
    ".globl rehost_safe_syscall",
    ".globl rehost_safe_syscall_start",
    ".globl rehost_safe_syscall_end",
    ".globl rehost_safe_syscall_not_started",
    // (pending: *const u64, nr: i64, args: *const [u64; 6]) -> i64
    "rehost_safe_syscall:",
    "    mov rax, rsi",
    "    mov r11, rdx",
    "    mov rcx, rdi",
    "    mov rdi, [r11]",
    "    mov rsi, [r11 + 8]",
    "    mov rdx, [r11 + 16]",
    "    mov r10, [r11 + 24]",
    "    mov r8, [r11 + 32]",
    "    mov r9, [r11 + 40]",
    "rehost_safe_syscall_start:",
    "    cmp qword ptr [rcx], 0",
    "    jne rehost_safe_syscall_not_started",
    "    syscall",
    "rehost_safe_syscall_end:",
    "    ret",
    "rehost_safe_syscall_not_started:",
    "    mov rax, -0x1000",
    "    ret",
    ".popsection",
);

extern "C" {
    fn rehost_safe_syscall(pending: *const AtomicU64, nr: i64, args: *const [u64; 6]) -> i64;
    fn rehost_safe_syscall_start();
    fn rehost_safe_syscall_end();
    fn rehost_safe_syscall_not_started();
}

/// Make the blocking call `nr`: the raw result (negative errno), or
/// `-NOT_STARTED` when a signal was already pending.
pub fn call(pending: &AtomicU64, nr: libc::c_long, args: &[u64; 6]) -> i64 {
    // SAFETY: the wrapper makes one system call with these arguments (the
    // callers' pointer arguments are host buffers or checked guest
    // addresses, as for `host_call`) and reads `pending`, a live atomic.
    unsafe { rehost_safe_syscall(pending, nr, args) }
}

/// Called by the host handler of an asynchronous signal with the
/// interrupted PC: where to resume instead, if the thread was between the
/// pending test and the system call.
pub fn redirect(rip: u64) -> Option<u64> {
    let start = rehost_safe_syscall_start as *const () as usize as u64;
    let end = rehost_safe_syscall_end as *const () as usize as u64;
    (start..end)
        .contains(&rip)
        .then_some(rehost_safe_syscall_not_started as *const () as usize as u64)
}

/// Host calls that may block indefinitely: these go through the wrapper.
const BLOCKING: &[libc::c_long] = &[
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_pread64,
    libc::SYS_pwrite64,
    libc::SYS_preadv,
    libc::SYS_pwritev,
    libc::SYS_preadv2,
    libc::SYS_pwritev2,
    libc::SYS_open,
    libc::SYS_openat,
    libc::SYS_wait4,
    libc::SYS_waitid,
    libc::SYS_futex,
    libc::SYS_nanosleep,
    libc::SYS_clock_nanosleep,
    libc::SYS_poll,
    libc::SYS_ppoll,
    libc::SYS_select,
    libc::SYS_pselect6,
    libc::SYS_epoll_wait,
    libc::SYS_epoll_pwait,
    libc::SYS_epoll_pwait2,
    libc::SYS_accept,
    libc::SYS_accept4,
    libc::SYS_connect,
    libc::SYS_recvfrom,
    libc::SYS_recvmsg,
    libc::SYS_recvmmsg,
    libc::SYS_sendto,
    libc::SYS_sendmsg,
    libc::SYS_sendmmsg,
    libc::SYS_msgrcv,
    libc::SYS_msgsnd,
    libc::SYS_semop,
    libc::SYS_semtimedop,
    libc::SYS_pause,
    libc::SYS_rt_sigtimedwait,
    libc::SYS_flock,
    libc::SYS_fcntl,
    libc::SYS_mq_timedreceive,
    libc::SYS_mq_timedsend,
    libc::SYS_splice,
    libc::SYS_tee,
    libc::SYS_sendfile,
    libc::SYS_ioctl,
];

pub fn blocking(nr: libc::c_long) -> bool {
    BLOCKING.contains(&nr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn a_pending_signal_stops_the_call_before_it_starts() {
        let p = AtomicU64::new(0);
        let r = call(&p, libc::SYS_getpid, &[0; 6]);
        assert_eq!(r, std::process::id() as i64);
        p.store(1 << 9, Ordering::Relaxed);
        let r = call(&p, libc::SYS_getpid, &[0; 6]);
        assert_eq!(r, -(NOT_STARTED as i64));
    }

    #[test]
    fn only_the_window_before_the_syscall_is_redirected() {
        let start = rehost_safe_syscall_start as *const () as usize as u64;
        let end = rehost_safe_syscall_end as *const () as usize as u64;
        assert!(redirect(start).is_some());
        assert!(redirect(end - 2).is_some()); // at the syscall instruction
        assert!(redirect(end).is_none()); // the call was made
    }
}
