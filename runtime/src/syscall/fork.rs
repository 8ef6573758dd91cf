//! New processes: fork (2), vfork (190), clone (120) and clone3 (435)
//! without CLONE_VM, as a host fork; and waitid (284).
//!
//! The child is a copy of the whole host process (runtime, code cache,
//! guest space), so it continues from the same system call with eax = 0;
//! what the i386 kernel does to the child besides (CLONE_CHILD_SETTID,
//! CLONE_CHILD_CLEARTID, CLONE_SETTLS, a new stack) is done to it here, in
//! the child, before the guest runs again.
//!
//! Invariants:
//! - The runtime's locks (JIT, guest space, map table writer) are held
//!   across the host fork, so the child never inherits one held by
//!   another thread; each process releases its own copy.
//! - vfork semantics: the parent does not run guest code again until the
//!   child has exec'd or exited (it waits for a close-on-exec pipe to
//!   close). The child does *not* share the parent's memory: that needs a
//!   second host stack and context; until then, CLONE_VM with CLONE_VFORK
//!   (glibc's posix_spawn) is run as such a vfork too. CLONE_VM without
//!   CLONE_VFORK is a thread: `crate::thread` makes it; without
//!   CLONE_THREAD either (LinuxThreads) it is a process sharing memory,
//!   also made by `crate::thread`.

use super::{host, structs, Args, SysResult};
use crate::abi::{reg, Context};
use crate::guest_mem;

const CSIGNAL: u64 = 0xff;
const CLONE_VM: u64 = 0x100;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;
/// clone3 only: the child starts with every handled signal at SIG_DFL.
const CLONE_CLEAR_SIGHAND: u64 = 1 << 32;
/// Flags carried out here (on top of a host fork).
const EMULATED: u64 = CLONE_VM
    | CLONE_PIDFD
    | CLONE_VFORK
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_CHILD_SETTID
    | CLONE_CLEAR_SIGHAND
    // CLONE_PTRACE, CLONE_DETACHED (ignored), CLONE_UNTRACED
    | 0x2000
    | 0x40_0000
    | 0x80_0000;
/// Flags the host clone gets as they are: CLONE_FS, CLONE_FILES,
/// CLONE_PARENT, CLONE_NEWNS, CLONE_SYSVSEM, the namespaces, CLONE_IO.
const PASSED: u64 = 0x200 | 0x400 | 0x8000 | 0x2_0000 | 0x4_0000 | 0xfe00_0000;
/// Flags a LinuxThreads-style child's host clone gets as they are:
/// CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_PARENT, CLONE_SYSVSEM,
/// CLONE_IO (CLONE_VM is implied).
const PROCESS_PASSED: u64 = 0x200 | 0x400 | CLONE_SIGHAND | 0x8000 | 0x4_0000 | 0x8000_0000;

/// One request, from clone's registers or clone3's `clone_args`.
struct Clone {
    flags: u64,
    exit_signal: u32,
    /// The child's esp, if it gets a new stack.
    stack: Option<u32>,
    parent_tid: u32,
    child_tid: u32,
    tls: u32,
    pidfd: u32,
}

pub fn fork(ctx: &mut Context, _: &Args) -> SysResult {
    spawn(ctx, &Clone::plain(0))
}

pub fn vfork(ctx: &mut Context, _: &Args) -> SysResult {
    spawn(ctx, &Clone::plain(CLONE_VM | CLONE_VFORK))
}

/// clone(flags, newsp, parent_tid, tls, child_tid): the i386 order
/// (CONFIG_CLONE_BACKWARDS).
pub fn clone(ctx: &mut Context, a: &Args) -> SysResult {
    let flags = a[0] as u64;
    let c = Clone {
        flags: flags & !CSIGNAL,
        exit_signal: (flags & CSIGNAL) as u32,
        stack: (a[1] != 0).then_some(a[1]),
        parent_tid: a[2],
        child_tid: a[4],
        tls: a[3],
        // clone returns the pidfd through the parent_tid pointer.
        pidfd: a[2],
    };
    if flags & CLONE_PIDFD != 0 && flags & CLONE_PARENT_SETTID != 0 {
        return Err(libc::EINVAL);
    }
    spawn(ctx, &c)
}

/// clone3(struct clone_args *, size): every field is a u64 on i386 too.
pub fn clone3(ctx: &mut Context, a: &Args) -> SysResult {
    const VER0: usize = 64;
    const KNOWN: usize = 88;
    let size = a[1] as usize;
    if !(VER0..=4096).contains(&size) {
        return Err(libc::EINVAL);
    }
    let raw = guest_mem::read_bytes(a[0], size)?;
    if raw[KNOWN.min(size)..].iter().any(|&b| b != 0) {
        return Err(libc::E2BIG);
    }
    let f = |k: usize| {
        raw.get(8 * k..8 * k + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    let ptr = |k: usize| u32::try_from(f(k)).map_err(|_| libc::EFAULT);
    let (flags, exit_signal, stack, stack_size) = (f(0), f(4), f(5), f(6));
    // set_tid (8, 9) and cgroup (10, CLONE_INTO_CGROUP) are not carried out.
    if flags & CSIGNAL != 0 || exit_signal > 64 || f(9) != 0 || flags >> 32 & !1 != 0 {
        return Err(libc::EINVAL);
    }
    if flags & CLONE_CLEAR_SIGHAND != 0 && flags & CLONE_SIGHAND != 0 {
        return Err(libc::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(libc::EINVAL);
    }
    let top = u32::try_from(stack + stack_size).map_err(|_| libc::EINVAL)?;
    let c = Clone {
        flags,
        exit_signal: exit_signal as u32,
        stack: (stack != 0).then_some(top),
        parent_tid: ptr(3)?,
        child_tid: ptr(2)?,
        tls: ptr(7)?,
        pidfd: ptr(1)?,
    };
    spawn(ctx, &c)
}

impl Clone {
    fn plain(flags: u64) -> Clone {
        Clone {
            flags,
            exit_signal: libc::SIGCHLD as u32,
            stack: None,
            parent_tid: 0,
            child_tid: 0,
            tls: 0,
            pidfd: 0,
        }
    }
}

fn spawn(ctx: &mut Context, c: &Clone) -> SysResult {
    let f = c.flags;
    if f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0
        || f & CLONE_THREAD != 0 && f & CLONE_SIGHAND == 0
    {
        return Err(libc::EINVAL);
    }
    if f & (CLONE_VM | CLONE_THREAD | CLONE_VFORK) == CLONE_VM {
        // LinuxThreads-style: a process sharing memory (crate::thread).
        if f & !(EMULATED | PASSED | CLONE_SIGHAND) != 0 {
            return Err(libc::EINVAL);
        }
        let next = ctx.eip as u32 + 2; // after the int 0x80
        return crate::thread::spawn_process(
            ctx,
            f,
            f & PROCESS_PASSED | c.exit_signal as u64,
            c.stack,
            c.parent_tid,
            c.child_tid,
            c.tls,
            next,
        );
    }
    if f & CLONE_VM != 0 && (f & CLONE_VFORK == 0 || f & (CLONE_THREAD | CLONE_SIGHAND) != 0) {
        // A thread: shared memory, a second guest context (crate::thread).
        let next = ctx.eip as u32 + 2; // after the int 0x80
        return crate::thread::spawn(
            ctx,
            f,
            c.stack.unwrap_or(0),
            c.parent_tid,
            c.child_tid,
            c.tls,
            next,
        );
    }
    if f & !(EMULATED | PASSED) != 0 {
        return Err(libc::EINVAL);
    }
    if f & (CLONE_VM | CLONE_VFORK) == CLONE_VM | CLONE_VFORK && f & !(CLONE_VM | CLONE_VFORK) == 0
    {
        // vfork proper: shared memory, the parent stopped by the kernel.
        let next = ctx.eip as u32 + 2; // after the int 0x80
        return crate::thread::vfork(ctx, c.stack, c.exit_signal, next);
    }
    let vfork = f & CLONE_VFORK != 0;
    let gate = if vfork { Some(VforkGate::new()?) } else { None };
    let pid = host_fork(f & PASSED, c.exit_signal)?;
    if pid == 0 {
        if let Some(g) = gate {
            g.child();
        }
        child_setup(ctx, c);
        return Ok(0);
    }
    if f & CLONE_PARENT_SETTID != 0 {
        let _ = guest_mem::write_u32(c.parent_tid, pid as u32);
    }
    if f & CLONE_PIDFD != 0 {
        // The child cannot be reaped before we wait for it: no pid reuse.
        if let Ok(fd) = host!(libc::SYS_pidfd_open, pid, 0) {
            let _ = guest_mem::write_u32(c.pidfd, fd as u32);
        }
    }
    if let Some(g) = gate {
        g.parent();
    }
    Ok(pid as i64)
}

/// A host fork (or, with other flags or exit signal, a host clone) with
/// the runtime's locks held; 0 in the child.
fn host_fork(passed: u64, exit_signal: u32) -> Result<i32, i32> {
    let r = crate::jit::with_lock_held(|| {
        let _space = crate::memory::lock();
        crate::dispatch::with_lock_held(|| {
            if passed == 0 && exit_signal == libc::SIGCHLD as u32 {
                // SAFETY: fork runs the host libc's atfork handlers, so the
                // child's libc (malloc, stdio) is consistent.
                unsafe { libc::fork() as i64 }
            } else {
                // SAFETY: a clone without CLONE_VM or a new stack behaves
                // like fork (the child returns here on a copy of our stack).
                unsafe { libc::syscall(libc::SYS_clone, passed | exit_signal as u64, 0, 0, 0, 0) }
            }
        })
    });
    if r < 0 {
        Err(super::errno())
    } else {
        Ok(r as i32)
    }
}

/// What the i386 kernel does to a new child before it runs.
fn child_setup(ctx: &mut Context, c: &Clone) {
    crate::thread::own_process();
    // SAFETY: gettid has no arguments.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
    if c.flags & CLONE_CHILD_SETTID != 0 {
        let _ = guest_mem::write_u32(c.child_tid, tid);
    }
    let clear = if c.flags & CLONE_CHILD_CLEARTID != 0 {
        c.child_tid
    } else {
        0
    };
    super::set_clear_child_tid(clear);
    if c.flags & CLONE_SETTLS != 0 {
        let _ = super::tls::set_thread_area(ctx, &[c.tls, 0, 0, 0, 0, 0]);
    }
    if c.flags & CLONE_CLEAR_SIGHAND != 0 {
        for sig in 1..=64 {
            // Handlers (not SIG_DFL = 0 or SIG_IGN = 1) go back to SIG_DFL.
            if super::guest_sigaction(sig).is_some_and(|a| a.handler > 1) {
                super::signal::reset_to_default(sig);
            }
        }
    }
    if let Some(sp) = c.stack {
        ctx.set_reg(reg::ESP, sp);
    }
}

/// The parent of a vfork waits until the child execs or exits: the child
/// holds the write end of a close-on-exec pipe, the parent reads to EOF.
struct VforkGate {
    r: i32,
    w: i32,
}

impl VforkGate {
    fn new() -> Result<VforkGate, i32> {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 fills `fds`.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(super::errno());
        }
        Ok(VforkGate {
            r: fds[0],
            w: fds[1],
        })
    }

    /// In the child: keep only the write end, moved out of the guest's
    /// way (high descriptor numbers), until exec or exit closes it.
    fn child(mut self) {
        // SAFETY: descriptor juggling on our own pipe.
        unsafe {
            libc::close(self.r);
            let mut lim: libc::rlimit = std::mem::zeroed();
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
            let hi = (lim.rlim_cur.min(1024) as i32 - 8).max(64);
            let moved = libc::fcntl(self.w, libc::F_DUPFD_CLOEXEC, hi);
            if moved >= 0 {
                libc::close(self.w);
            }
        }
        (self.r, self.w) = (-1, -1);
    }

    /// In the parent: wait for end of file (the child exec'd or exited).
    fn parent(mut self) {
        // SAFETY: reads into a local byte from our own pipe.
        unsafe {
            libc::close(self.w);
            self.w = -1;
            let mut b = 0u8;
            while libc::read(self.r, (&mut b as *mut u8).cast(), 1) < 0
                && super::errno() == libc::EINTR
            {}
        }
    }
}

impl Drop for VforkGate {
    fn drop(&mut self) {
        for fd in [self.r, self.w] {
            if fd >= 0 {
                // SAFETY: closing our own pipe end.
                unsafe { libc::close(fd) };
            }
        }
    }
}

/// waitid(idtype, id, siginfo_t *, options, struct rusage *).
pub fn waitid(_: &mut Context, a: &Args) -> SysResult {
    let mut info = [0u8; structs::SIGINFO_SIZE];
    // SAFETY: host buffer the kernel fills.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rup = if a[4] == 0 {
        0
    } else {
        &mut ru as *mut libc::rusage as u64
    };
    let r = host!(
        libc::SYS_waitid,
        a[0],
        super::sx(a[1]),
        info.as_mut_ptr(),
        a[3],
        rup
    )?;
    if a[2] != 0 {
        guest_mem::write_bytes(a[2], &structs::siginfo_to_i386(&info))?;
    }
    if a[4] != 0 {
        structs::write(a[4], &structs::rusage_from(&ru))?;
    }
    Ok(r)
}
