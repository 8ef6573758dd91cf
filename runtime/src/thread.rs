//! Guest threads: clone with CLONE_VM|CLONE_THREAD (what glibc's
//! pthread_create does on i386, after clone3 answers -ENOSYS), and the exit
//! of one thread; processes sharing memory: clone with CLONE_VM but no
//! CLONE_THREAD (LinuxThreads, `spawn_process`) or with CLONE_VFORK
//! (`vfork`).
//!
//! Each guest thread is a host thread made the runtime's way (so the host
//! runtime's own TLS is set up), with its own `Context`, host stack and
//! guest TLS descriptors; guest memory, the map table and the code cache
//! are shared. CLONE_SETTLS takes an i386 `user_desc` (the selector dance
//! of DESIGN.md), CLONE_PARENT_SETTID/CLONE_CHILD_SETTID store the new tid,
//! and CLONE_CHILD_CLEARTID is kept for the exit: the guest thread's exit
//! stores 0 there and wakes one futex waiter (pthread_join), then ends only
//! its host thread.
//!
//! Invariant: a guest thread (or LinuxThreads child) starts only after its
//! context is complete, and the CLONE_PARENT_SETTID/CLONE_CHILD_SETTID
//! stores are done before guest code of either runs on, as on Linux.

use crate::abi::{reg, Context};
use crate::{guest_mem, jit, stubs};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc;

const CLONE_VM: u64 = 0x100;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;

/// Host stack of each guest thread's runtime side.
const HOST_STACK: usize = 1 << 20;

/// Live guest threads (the process's first one included).
static LIVE: AtomicUsize = AtomicUsize::new(1);
/// The process LIVE counts the threads of (0: not recorded yet).
static OWNER: AtomicI32 = AtomicI32::new(0);

/// Number of live guest threads of the calling process. A vfork child
/// shares LIVE with its parent's threads but is a process of one thread.
pub fn live() -> usize {
    let owner = OWNER.load(Ordering::Acquire);
    // SAFETY: getpid has no preconditions.
    if owner != 0 && owner != unsafe { libc::getpid() } {
        return 1;
    }
    LIVE.load(Ordering::Acquire)
}

/// Start counting the threads of the calling process, which has only the
/// calling thread (process start-up, and a forked child: the host fork
/// copied the parent's count, but only the forking thread lives on).
pub fn own_process() {
    LIVE.store(1, Ordering::Release);
    // SAFETY: getpid has no preconditions.
    OWNER.store(unsafe { libc::getpid() }, Ordering::Release);
}

/// Is this clone a thread (shared memory, runs here)?
pub fn is_thread(flags: u64) -> bool {
    flags & CLONE_VM != 0 && flags & 0x4000 == 0 // not CLONE_VFORK
}

/// A new guest context continuing the parent's state after its clone
/// system call: the same registers (eax = 0), FPU state, selectors and TLS.
fn child_context(parent: &Context) -> Box<Context> {
    let mut child = Context::new();
    child.gpr = parent.gpr;
    child.eflags = parent.eflags;
    child.fpu = parent.fpu;
    child.sel = parent.sel;
    child.tls = parent.tls;
    child.gs_base = parent.gs_base;
    child.fs_base = parent.fs_base;
    child.map_l1 = crate::dispatch::init_map();
    child.stub_call = parent.stub_call;
    child.stub_miss = parent.stub_miss;
    child.set_reg(reg::EAX, 0);
    child
}

/// Start a guest thread continuing at `next_eip` (the instruction after
/// the parent's `int 0x80`) with the parent's registers, eax = 0 and esp =
/// `stack`. Returns the child's tid.
pub fn spawn(
    parent: &Context,
    flags: u64,
    stack: u32,
    ptid: u32,
    ctid: u32,
    tls: u32,
    next_eip: u32,
) -> Result<i64, i32> {
    let mut child = child_context(parent);
    if stack != 0 {
        child.set_reg(reg::ESP, stack);
    }
    if flags & CLONE_SETTLS != 0 {
        crate::syscall::set_thread_area_of(&mut child, tls)?;
    }
    let ctx = Box::into_raw(child) as usize;
    LIVE.fetch_add(1, Ordering::AcqRel);
    let (tx, rx) = mpsc::channel::<i32>();
    let spawned = std::thread::Builder::new()
        .name("guest".into())
        .stack_size(HOST_STACK)
        .spawn(move || {
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
            // Both tid stores happen before any guest code of either thread
            // runs on, as the kernel does them (a parent store after the child
            // ran could overwrite the 0 its exit left for pthread_join).
            if flags & CLONE_PARENT_SETTID != 0 {
                let _ = guest_mem::write_u32(ptid, tid as u32);
            }
            if flags & CLONE_CHILD_SETTID != 0 {
                let _ = guest_mem::write_u32(ctid, tid as u32);
            }
            if flags & CLONE_CHILD_CLEARTID != 0 {
                crate::syscall::set_clear_child_tid(ctid);
            }
            let ctx = ctx as *mut Context;
            crate::smc::install_altstack();
            crate::signal::set_context(ctx);
            let _ = crate::syscall::signal::guest_sigmask();
            let _ = tx.send(tid);
            let host = jit::host_code_for(next_eip);
            // SAFETY: the context was leaked for this thread and is complete;
            // `host` is translated code for the guest continuation.
            unsafe { stubs::enter(ctx, host) }
        });
    if spawned.is_err() {
        LIVE.fetch_sub(1, Ordering::AcqRel);
        // SAFETY: the thread did not start; the context is ours again.
        drop(unsafe { Box::from_raw(ctx as *mut Context) });
        return Err(libc::EAGAIN);
    }
    let tid = rx.recv().map_err(|_| libc::EAGAIN)?;
    Ok(tid as i64)
}

/// exit (1) of one guest thread: clear-child-tid, wake a joiner, and end
/// this host thread only (the process ends with its last thread).
pub fn exit_thread(status: i32) -> ! {
    LIVE.fetch_sub(1, Ordering::AcqRel);
    let ctid = crate::syscall::clear_child_tid();
    if ctid != 0 && guest_mem::write_u32(ctid, 0).is_ok() {
        // SAFETY: FUTEX_WAKE on a guest address inside guest space.
        unsafe { libc::syscall(libc::SYS_futex, ctid as usize, libc::FUTEX_WAKE, 1, 0, 0, 0) };
    }
    // SAFETY: ends the calling host thread; its host stack and the guest
    // context are leaked (reused stacks would need the thread's cooperation).
    unsafe {
        libc::syscall(libc::SYS_exit, status as libc::c_long);
    }
    std::process::abort()
}

/// vfork and clone(CLONE_VM|CLONE_VFORK) — glibc's posix_spawn: a child
/// process sharing the parent's memory, running on a host stack of its own
/// with a copy of the guest context, while the kernel keeps the parent
/// stopped until the child execs or exits. Stores the child makes (posix_spawn
/// reports exec errors through them) are the parent's.
///
/// The child shares the runtime's heap and this thread's host TLS with the
/// stopped parent, which is consistent because the parent is stopped outside
/// every runtime lock (in a system call); the parent puts its own guest
/// context, signal tables, mask and clear-child-tid back when it resumes.
pub fn vfork(
    parent: &mut Context,
    stack: Option<u32>,
    exit_signal: u32,
    next_eip: u32,
) -> Result<i64, i32> {
    const CHILD_STACK: usize = 512 << 10;
    let mut child = child_context(parent);
    if let Some(sp) = stack {
        child.set_reg(reg::ESP, sp);
    }
    let host = jit::host_code_for(next_eip);
    let ctx = Box::into_raw(child);
    let Some((base, top)) = map_child_stack(CHILD_STACK) else {
        // SAFETY: the context was never shared.
        drop(unsafe { Box::from_raw(ctx) });
        return Err(libc::EAGAIN);
    };
    // SAFETY: the two words lie in the new stack; the child reads them.
    unsafe {
        *(top as *mut u64) = ctx as u64;
        *((top + 8) as *mut u64) = host;
    }
    let me = crate::signal::current_context();
    // The child's guest signal calls (posix_spawn resets handled signals
    // to SIG_DFL, sets the mask) and its clear-child-tid write the
    // runtime's tables in the shared memory; its host dispositions are
    // its own. The parent takes its own state back when it resumes.
    let saved = crate::syscall::signal::SavedState::take();
    let ctid = crate::syscall::clear_child_tid();
    let flags = (libc::CLONE_VM | libc::CLONE_VFORK) as u64 | exit_signal as u64;
    // SAFETY: the child starts on `top` with [ctx, host] there and never
    // returns into this frame (rehost_vfork_child enters guest code).
    let pid = unsafe { rehost_vfork(flags, top as u64) };
    crate::signal::set_context(me);
    saved.put_back();
    crate::syscall::set_clear_child_tid(ctid);
    // SAFETY: the child has exec'd or exited: its stack is ours again.
    unsafe { libc::munmap(base, CHILD_STACK) };
    if pid < 0 {
        // SAFETY: no child ran with the context.
        drop(unsafe { Box::from_raw(ctx) });
        return Err(-pid as i32);
    }
    Ok(pid)
}

extern "C" {
    fn rehost_vfork(flags: u64, stack: u64) -> i64;
}

std::arch::global_asm!(
    ".globl rehost_vfork",
    ".type rehost_vfork,@function",
    // rehost_vfork(flags, stack) -> pid or -errno, in the parent only.
    "rehost_vfork:",
    "mov eax, 56", // SYS_clone(flags, newsp, ptid, ctid, tls)
    "xor edx, edx",
    "xor r10d, r10d",
    "xor r8d, r8d",
    "syscall",
    "test rax, rax",
    "jz 2f",
    "ret",
    "2:",
    // The child, on the new stack: [rsp] = context, [rsp+8] = host code.
    "mov rdi, [rsp]",
    "mov rsi, [rsp + 8]",
    "call {child}",
    "ud2",
    child = sym vfork_child,
);

/// The vfork child's first Rust code, on its own host stack.
extern "C" fn vfork_child(ctx: *mut Context, host: u64) -> ! {
    // The parent's alternate stack may be in use by the parent's handler
    // frames; the child gets its own.
    crate::smc::install_altstack();
    crate::signal::set_context(ctx);
    crate::syscall::set_clear_child_tid(0);
    // SAFETY: the context is complete and leaked for the child; `host` is
    // translated code for the guest continuation.
    unsafe { stubs::enter(ctx, host) }
}

/// What a LinuxThreads-style child and the two host threads that make it
/// share (`spawn_process`).
struct ProcStart {
    /// 0 until the child is ready to run guest code; then its pid, or
    /// -errno if the host clone failed.
    ready: AtomicI32,
    /// 1 while the child lives; the kernel clears it and wakes the helper
    /// when the child exits (host CLONE_CHILD_CLEARTID).
    alive: AtomicU32,
    /// The host signal mask the child runs with (the spawner's).
    mask: libc::sigset_t,
    flags: u64,
    ptid: u32,
    ctid: u32,
}

/// Host stack of a LinuxThreads-style child's runtime side.
const PROCESS_STACK: usize = 1 << 20;

/// clone with CLONE_VM but neither CLONE_THREAD nor CLONE_VFORK, as
/// LinuxThreads (and other old thread libraries) make their threads: a new
/// process, with its own pid and exit signal, sharing the guest memory (and
/// so the runtime: code cache, map table, locks, guest signal tables, the
/// LDT). Returns the child's pid.
///
/// A raw host clone has no runtime TLS of its own (DESIGN.md), so a helper
/// host thread, made the runtime's way, lends it its TLS: the helper blocks
/// every host signal, makes the child with a raw clone (CLONE_VM, the
/// guest's CLONE_FS/FILES/SIGHAND/PARENT/SYSVSEM/IO, the exit signal; no
/// CLONE_SETTLS, so the child has the helper's TLS), and sleeps in raw
/// system calls, without touching its TLS, until the kernel reports the
/// child's exit; then it frees the child's host stack and ends. The child
/// is the only user of that TLS meanwhile: it takes the spawner's signal
/// mask back, so process-directed host signals reach it or the other guest
/// threads, never the helper. The child's guest exit ends only the child
/// (it is a process of one thread: `live()` is 1 there).
#[allow(clippy::too_many_arguments)]
pub fn spawn_process(
    parent: &Context,
    flags: u64,
    host_flags: u64,
    stack: Option<u32>,
    ptid: u32,
    ctid: u32,
    tls: u32,
    next_eip: u32,
) -> Result<i64, i32> {
    let mut child = child_context(parent);
    if let Some(sp) = stack {
        child.set_reg(reg::ESP, sp);
    }
    if flags & CLONE_SETTLS != 0 {
        crate::syscall::set_thread_area_of(&mut child, tls)?;
    }
    let host = jit::host_code_for(next_eip);
    let ctx = Box::into_raw(child) as usize;
    let start = std::sync::Arc::new(ProcStart {
        ready: AtomicI32::new(0),
        alive: AtomicU32::new(1),
        // SAFETY: an empty signal set is all zeros; the helper fills it.
        mask: unsafe { std::mem::zeroed() },
        flags,
        ptid,
        ctid,
    });
    let helper_start = start.clone();
    let spawned = std::thread::Builder::new()
        .name("guest-process".into())
        .stack_size(64 << 10)
        .spawn(move || process_helper(helper_start, host_flags, ctx as u64, host));
    if spawned.is_err() {
        // SAFETY: no child ran with the context.
        drop(unsafe { Box::from_raw(ctx as *mut Context) });
        return Err(libc::EAGAIN);
    }
    loop {
        let r = start.ready.load(Ordering::Acquire);
        if r > 0 {
            return Ok(r as i64);
        }
        if r < 0 {
            // SAFETY: the clone failed: no child ran with the context.
            drop(unsafe { Box::from_raw(ctx as *mut Context) });
            return Err(-r);
        }
        // SAFETY: FUTEX_WAIT on a word of `start`, which we hold.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                start.ready.as_ptr(),
                libc::FUTEX_WAIT,
                0,
                0,
                0,
                0,
            )
        };
    }
}

/// The helper thread of `spawn_process`.
fn process_helper(start: std::sync::Arc<ProcStart>, host_flags: u64, ctx: u64, host: u64) {
    let sp = std::sync::Arc::as_ptr(&start) as *mut ProcStart;
    // SAFETY: blocking every signal the host libc lets us block, keeping
    // the previous mask in `start` before any other thread reads it (the
    // child is made below; the spawner never reads `mask`).
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut (*sp).mask);
    }
    let Some((base, top)) = map_child_stack(PROCESS_STACK) else {
        start.ready.store(-libc::EAGAIN, Ordering::Release);
        futex_wake(start.ready.as_ptr().cast());
        return;
    };
    // SAFETY: the three words lie in the new stack; the child reads them.
    unsafe {
        *(top as *mut u64) = ctx;
        *((top + 8) as *mut u64) = host;
        *((top + 16) as *mut u64) = sp as u64;
    }
    let flags = host_flags | libc::CLONE_VM as u64 | libc::CLONE_CHILD_CLEARTID as u64;
    // SAFETY: the child starts on `top` with [ctx, host, start] there and
    // never returns into this frame (rehost_process_child enters guest code).
    let pid = unsafe { rehost_clone_process(flags, top as u64, start.alive.as_ptr() as u64) };
    if pid < 0 {
        start.ready.store(pid as i32, Ordering::Release);
        futex_wake(start.ready.as_ptr().cast());
    } else {
        // The child runs on this thread's TLS now: until it has exited,
        // only atomics and raw system calls here.
        while start.alive.load(Ordering::Acquire) != 0 {
            raw_futex_wait(start.alive.as_ptr(), 1);
        }
    }
    // SAFETY: the child has exited (or never ran): its stack is free.
    unsafe { libc::munmap(base, PROCESS_STACK) };
}

/// A private host stack of `size` bytes for a child process: the mapping's
/// base and the 16-aligned top the child starts on (64 bytes below the end,
/// room for the words the child reads at start), or None if mmap fails.
fn map_child_stack(size: usize) -> Option<(*mut libc::c_void, usize)> {
    // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    (base != libc::MAP_FAILED).then(|| (base, (base as usize + size - 64) & !15))
}

/// FUTEX_WAKE of every waiter on `addr`, without touching errno.
fn futex_wake(addr: *const u32) {
    // SAFETY: a futex system call on a word we hold; no memory is written.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") libc::SYS_futex => _,
            in("rdi") addr,
            in("rsi") libc::FUTEX_WAKE,
            in("rdx") i32::MAX,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
}

/// FUTEX_WAIT while `*addr == val`, without touching errno (the TLS it
/// lives in is lent to a child).
fn raw_futex_wait(addr: *const u32, val: u32) {
    // SAFETY: a futex system call on a word we hold, with no timeout.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") libc::SYS_futex => _,
            in("rdi") addr,
            in("rsi") libc::FUTEX_WAIT,
            in("rdx") val,
            in("r10") 0u64,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
}

extern "C" {
    fn rehost_clone_process(flags: u64, stack: u64, ctid: u64) -> i64;
}

std::arch::global_asm!(
    ".globl rehost_clone_process",
    ".type rehost_clone_process,@function",
    // rehost_clone_process(flags, stack, ctid) -> pid or -errno, in the
    // caller only.
    "rehost_clone_process:",
    "mov r10, rdx", // SYS_clone(flags, newsp, ptid, ctid, tls)
    "xor edx, edx",
    "xor r8d, r8d",
    "mov eax, 56",
    "syscall",
    "test rax, rax",
    "jz 2f",
    "ret",
    "2:",
    // The child, on the new stack: [rsp] = context, [rsp+8] = host code,
    // [rsp+16] = the ProcStart.
    "mov rdi, [rsp]",
    "mov rsi, [rsp + 8]",
    "mov rdx, [rsp + 16]",
    "call {child}",
    "ud2",
    child = sym process_child,
);

/// A LinuxThreads-style child's first Rust code, on its own host stack and
/// the helper's TLS.
extern "C" fn process_child(ctx: *mut Context, host: u64, start: *const ProcStart) -> ! {
    // SAFETY: the helper keeps `start` alive until this process exits.
    let start = unsafe { &*start };
    // SAFETY: the spawner's mask, saved by the helper before the clone.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &start.mask, std::ptr::null_mut()) };
    // A CLONE_VM child starts without an alternate stack.
    crate::smc::install_altstack();
    crate::signal::set_context(ctx);
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    if start.flags & CLONE_PARENT_SETTID != 0 {
        let _ = guest_mem::write_u32(start.ptid, pid as u32);
    }
    if start.flags & CLONE_CHILD_SETTID != 0 {
        let _ = guest_mem::write_u32(start.ctid, pid as u32);
    }
    let clear = if start.flags & CLONE_CHILD_CLEARTID != 0 {
        start.ctid
    } else {
        0
    };
    crate::syscall::set_clear_child_tid(clear);
    let _ = crate::syscall::signal::guest_sigmask();
    start.ready.store(pid, Ordering::Release);
    futex_wake(start.ready.as_ptr().cast());
    // SAFETY: the context is complete and leaked for the child; `host` is
    // translated code for the guest continuation.
    unsafe { stubs::enter(ctx, host) }
}
