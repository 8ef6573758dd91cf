//! Delivery of guest signals: i386 `sigframe`/`rt_sigframe` on the guest
//! stack, the guest handler entered through translated code, and
//! `sigreturn`/`rt_sigreturn`.
//!
//! Two ways in:
//! - *Synchronous* faults of translated code (SIGSEGV, SIGBUS, SIGFPE,
//!   SIGILL, SIGTRAP) are delivered from the host handler at once, with the
//!   guest registers taken from the host ucontext and the guest EIP from the
//!   block's host-to-guest instruction map (`jit::guest_eip_at`).
//! - *Asynchronous* signals are queued by the host handler and delivered at
//!   a guest instruction boundary: at once if the interrupted host PC is one
//!   (the block's host-to-guest map says so), else after single-stepping
//!   the host code (TF) to the next one, or at the end of the runtime call
//!   the code enters meanwhile (a system call, a map miss; the running
//!   code's map table is pointed at an all-miss table so the next lookup
//!   enters the runtime). A signal the guest blocks is blocked in the host
//!   too, so the kernel keeps it queued; one taken for delivery stays
//!   blocked on the host until the thread that took it delivers it, so
//!   further instances (real-time signals queue) wait in the kernel; none
//!   is lost.
//!
//! Invariants: the frame layouts are the i386 kernel's (unwinders and
//! `siglongjmp` read them), with the FPU/SSE/AVX state above the frame
//! (`fpstate`: taken from `Context::fpu` at a safe point, from the host
//! frame's fpregs in a host handler) and the handler started with the
//! initial FPU state; guest memory is written with fault-tolerant accesses
//! (a bad guest stack or an overflowed alternate stack kills the guest
//! with SIGSEGV, as the kernel would); host handlers run on the runtime's
//! alternate stack, and leave the host mask the guest handler runs with.

use crate::abi::{reg, Context};
use crate::guest_mem;
use crate::syscall::structs::{siginfo_to_i386, SIGINFO_SIZE};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

const SA_SIGINFO: u32 = 4;
const SA_ONSTACK: u32 = 0x0800_0000;
const SA_RESTART: u32 = 0x1000_0000;
const SA_NODEFER: u32 = 0x4000_0000;
const SA_RESETHAND: u32 = 0x8000_0000;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;
const DF: u32 = 0x400;
const TF: u32 = 0x100;

thread_local! {
    /// Asynchronous signals this thread took for delivery (bit sig-1),
    /// and their host siginfo. Per thread, as the kernel picked the
    /// thread: it delivers them itself, and keeps them blocked on the
    /// host until then (`pending_mask`). Const-initialised atomics: safe
    /// to use from the host handlers.
    static PENDING: AtomicU64 = const { AtomicU64::new(0) };
    static INFOS: [[AtomicU64; SIGINFO_SIZE / 8]; 64] =
        const { [const { [const { AtomicU64::new(0) }; SIGINFO_SIZE / 8] }; 64] };
    /// This guest thread's context, for the host signal handlers.
    static CTX: Cell<usize> = const { Cell::new(0) };
    /// Guest EIP a sigreturn asked to resume at.
    static REDIRECT: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Remember the calling thread's guest context (thread start-up).
pub fn set_context(ctx: *mut Context) {
    CTX.with(|c| c.set(ctx as usize));
}

/// The calling thread's guest context (null before `set_context`).
pub(crate) fn current_context() -> *mut Context {
    CTX.with(|c| c.get()) as *mut Context
}

/// Guest registers as i386 code sees them at a signal.
#[derive(Clone, Copy, Debug, Default)]
pub struct GuestRegs {
    pub gpr: [u32; 8],
    pub eip: u32,
    pub eflags: u32,
}

/// What ended the interrupted system call, for SA_RESTART.
#[derive(Clone, Copy, Debug)]
pub struct Interrupted {
    /// Address of the `int 0x80`.
    pub insn: u32,
    pub nr: u32,
}

fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// Install the host handler for `sig` because the guest has a handler for
/// it (or restore the default when it no longer has).
pub fn host_install(sig: u32, guest_handles: bool) {
    if matches!(
        sig as i32,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP
    ) {
        return; // always handled (install_fault_handlers)
    }
    // SAFETY: plain sigaction with a fully initialised structure.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        if guest_handles {
            sa.sa_sigaction = on_async as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        } else {
            sa.sa_sigaction = libc::SIG_DFL;
        }
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig as i32, &sa, std::ptr::null_mut());
    }
}

/// Install `handler` for the fault signal `sig`: SA_SIGINFO on the
/// runtime's alternate stack, with every asynchronous signal blocked while
/// it runs (a handler nested in it would see the runtime's context, not
/// translated code's), faults left unblocked (SA_NODEFER).
pub fn install_fault_handler(sig: i32, handler: usize) {
    // SAFETY: plain sigaction with a fully initialised structure.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
        libc::sigfillset(&mut sa.sa_mask);
        for f in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGILL,
            libc::SIGTRAP,
        ] {
            libc::sigdelset(&mut sa.sa_mask, f);
        }
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

/// Host handlers for the faults translated code can raise (SIGSEGV is
/// `smc::install_handler`'s, which forwards to `on_fault`).
pub fn install_fault_handlers() {
    for sig in [libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP] {
        install_fault_handler(sig, fault_entry as *const () as usize);
    }
}

extern "C" fn fault_entry(sig: i32, info: *mut libc::siginfo_t, uctx: *mut libc::c_void) {
    // An int3 the runtime wrote over an invalidated static block's entry
    // (before the stepping check: such a trap is never a single step).
    // SAFETY: the kernel's handler arguments.
    if sig == libc::SIGTRAP && unsafe { crate::textpatch::on_trap(info, uctx) } {
        return;
    }
    // A single-step trap (TRAP_TRACE) in or right after translated code is
    // ours: guest code never runs with TF set by the guest (popf of TF is
    // not supported).
    // SAFETY: the kernel's siginfo.
    let trace = sig == libc::SIGTRAP && unsafe { (*info).si_code } == 2;
    if sig == libc::SIGTRAP && (stepping() || trace) {
        // SAFETY: a host handler's own ucontext.
        unsafe { deliver_or_step(uctx as *mut libc::ucontext_t) };
        return;
    }
    // SAFETY: the kernel's handler arguments.
    if !unsafe { on_fault(sig, info, uctx) } {
        // Not deliverable: the default action, raised now (traps do not
        // retry their instruction).
        // SAFETY: resetting a disposition and raising it (SA_NODEFER).
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// Asynchronous signal: queue it and make the running code reach a safe
/// point soon.
extern "C" fn on_async(sig: i32, info: *mut libc::siginfo_t, uctx: *mut libc::c_void) {
    let s = sig as usize - 1;
    // SAFETY: the kernel passes a valid siginfo of SIGINFO_SIZE bytes.
    let raw = unsafe { std::slice::from_raw_parts(info as *const u8, SIGINFO_SIZE) };
    INFOS.with(|infos| {
        for (k, w) in raw.chunks_exact(8).enumerate() {
            infos[s][k].store(u64::from_le_bytes(w.try_into().unwrap()), Ordering::Relaxed);
        }
    });
    PENDING.with(|p| p.fetch_or(bit(sig as u32), Ordering::Release));
    // Keep further instances in the host kernel's queue until this one is
    // delivered (real-time signals queue; INFOS holds one): blocked in the
    // mask the kernel restores when this handler returns.
    // SAFETY: the kernel's ucontext; its mask starts with the 64 signals.
    unsafe {
        let m = &mut (*(uctx as *mut libc::ucontext_t)).uc_sigmask as *mut libc::sigset_t;
        let m = m as *mut u64;
        m.write(m.read() | bit(sig as u32));
    }
    kick(uctx);
    // SAFETY: the kernel's ucontext of this handler.
    unsafe {
        let g = &mut (*(uctx as *mut libc::ucontext_t)).uc_mcontext.gregs;
        let rip = g[libc::REG_RIP as usize] as u64;
        if let Some(to) = crate::syscall::safe::redirect(rip) {
            // About to block in a system call: make it not start.
            g[libc::REG_RIP as usize] = to as i64;
            return;
        }
    }
    // SAFETY: a host handler's own ucontext.
    unsafe { deliver_or_step(uctx as *mut libc::ucontext_t) };
}

/// Point the map table of the interrupted code and of the context at the
/// all-miss table, so the next lookup enters the runtime.
fn kick(uctx: *mut libc::c_void) {
    let kick = crate::dispatch::kick_l1();
    let ctx = current_context();
    // SAFETY: the ucontext is the kernel's; the context lives forever. The
    // runtime restores both from the real table when it delivers.
    unsafe {
        if !ctx.is_null() {
            (*ctx).map_l1 = kick;
        }
        let uc = uctx as *mut libc::ucontext_t;
        let rip = (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as u64;
        if crate::jit::is_translated_code(rip) || crate::stubs::in_enter_tail(rip) {
            (*uc).uc_mcontext.gregs[libc::REG_R14 as usize] = kick as i64;
        }
    }
}

/// Leave the runtime for guest code with the trap flag set, so a signal
/// still queued is delivered at the first guest instruction boundary.
/// The guest never sees this TF: delivery clears it, and so does the
/// SIGTRAP handler when nothing is left to deliver.
pub fn step_into_guest(ctx: &mut Context) {
    ctx.map_l1 = crate::dispatch::kick_l1();
    ctx.eflags |= TF as u64;
    set_stepping(true);
}

/// Run `f` with this thread's pending word (for `syscall::safe`).
pub fn with_pending<R>(f: impl FnOnce(&AtomicU64) -> R) -> R {
    PENDING.with(f)
}

/// Signals this thread took and has not delivered yet: the host keeps
/// further instances blocked (in its kernel queue) until then.
pub fn pending_mask() -> u64 {
    PENDING.with(|p| p.load(Ordering::Acquire))
}

/// Take the lowest deliverable queued signal (and un-kick when none is left).
fn take_pending(ctx: &mut Context) -> Option<(u32, [u8; SIGINFO_SIZE])> {
    let p = pending_mask();
    if p == 0 {
        return None;
    }
    let sig = p.trailing_zeros() + 1;
    // The siginfo first: the signal stays blocked on the host while its
    // bit is set, so no new instance can overwrite it meanwhile.
    let mut info = [0u8; SIGINFO_SIZE];
    INFOS.with(|infos| {
        for (k, w) in info.chunks_exact_mut(8).enumerate() {
            w.copy_from_slice(
                &infos[sig as usize - 1][k]
                    .load(Ordering::Relaxed)
                    .to_le_bytes(),
            );
        }
    });
    let left = PENDING.with(|p| p.fetch_and(!bit(sig), Ordering::AcqRel)) & !bit(sig);
    if left == 0 {
        ctx.map_l1 = crate::dispatch::init_map();
        if pending_mask() != 0 {
            // One arrived meanwhile: keep the kick.
            ctx.map_l1 = crate::dispatch::kick_l1();
        }
    }
    Some((sig, info))
}

/// At a safe point of a runtime call: deliver a queued signal, if any.
/// `eip` is where the guest continues; `intr` the system call this call
/// made, if any. Returns the guest EIP of the handler to run.
pub fn deliver_pending(ctx: &mut Context, eip: u32, intr: Option<Interrupted>) -> Option<u32> {
    let redirect = REDIRECT.with(|r| r.take());
    let eip = redirect.unwrap_or(eip);
    let Some((sig, info)) = take_pending(ctx) else {
        return redirect;
    };
    let mut regs = GuestRegs {
        eip,
        eflags: ctx.eflags as u32,
        ..Default::default()
    };
    for r in 0..8 {
        regs.gpr[r] = ctx.reg(r);
    }
    // An interrupted system call restarts if the handler asks for it.
    if let (Some(i), true) = (intr, regs.gpr[reg::EAX] as i32 == -libc::EINTR) {
        let restart =
            crate::syscall::signal::guest_sigaction(sig).is_some_and(|a| a.flags & SA_RESTART != 0);
        if restart {
            regs.eip = i.insn;
            regs.gpr[reg::EAX] = i.nr;
        }
    }
    match setup_frame(sig, &info, &mut regs, &mut ctx.fpu) {
        Some(h) => {
            for r in 0..8 {
                ctx.set_reg(r, regs.gpr[r]);
            }
            ctx.eflags = regs.eflags as u64;
            Some(h)
        }
        None => {
            // Not delivered (no handler any more): stop holding it back.
            crate::syscall::signal::set_guest_sigmask(crate::syscall::signal::guest_sigmask());
            Some(regs.eip)
        }
    }
}

/// A fault the runtime itself detected at guest instruction `ctx.eip`
/// (an instruction rehost raises SIGILL for): deliver it if the guest
/// handles it. Returns the handler's guest address.
pub fn deliver_sync(ctx: &mut Context, sig: i32) -> Option<u32> {
    let eip = ctx.eip as u32;
    deliver_sync_info(ctx, sig, 2, eip) // ILL_ILLOPN
}

/// As `deliver_sync`, with the siginfo's `si_code` and `si_addr`.
pub fn deliver_sync_info(ctx: &mut Context, sig: i32, code: i32, addr: u32) -> Option<u32> {
    crate::syscall::signal::guest_sigaction(sig as u32).filter(|a| a.handler > 1)?;
    let mut info = [0u8; SIGINFO_SIZE];
    info[0..4].copy_from_slice(&sig.to_le_bytes());
    info[8..12].copy_from_slice(&code.to_le_bytes());
    info[16..20].copy_from_slice(&addr.to_le_bytes()); // si_addr (host layout: offset 16)
    let mut regs = GuestRegs {
        eip: ctx.eip as u32,
        eflags: ctx.eflags as u32,
        ..Default::default()
    };
    for r in 0..8 {
        regs.gpr[r] = ctx.reg(r);
    }
    let h = setup_frame(sig as u32, &info, &mut regs, &mut ctx.fpu)?;
    for r in 0..8 {
        ctx.set_reg(r, regs.gpr[r]);
    }
    ctx.eflags = regs.eflags as u64;
    Some(h)
}

/// A sigreturn restored the guest state; resume at `eip`.
pub fn set_redirect(eip: u32) {
    REDIRECT.with(|r| r.set(Some(eip)));
}

/// Build the frame for `sig` on the guest stack and point `regs` at the
/// handler; `fp` is the interrupted guest FPU image (host FXSAVE/XSAVE
/// layout), saved into the frame and then reset for the handler. Returns
/// the handler's guest address, or None when the guest does not handle
/// the signal (default action taken here: ignored signals return None
/// after doing nothing; fatal ones end the process).
pub fn setup_frame(
    sig: u32,
    host_info: &[u8; SIGINFO_SIZE],
    regs: &mut GuestRegs,
    fp: &mut [u8],
) -> Option<u32> {
    let act = crate::syscall::signal::guest_sigaction(sig)?;
    if act.handler <= 1 {
        return None; // SIG_DFL / SIG_IGN: nothing to deliver
    }
    let mask = crate::syscall::signal::guest_sigmask();
    let mut sp = regs.gpr[reg::ESP];
    let alt = crate::syscall::signal::guest_altstack();
    // The kernel's get_sigframe: switch to the alternate stack if asked
    // and not on it already; a frame that would not fit on it is fatal.
    let armed = alt.flags & SS_DISABLE == 0 && alt.size != 0;
    let on_alt = |sp: u32| armed && sp > alt.sp && sp - alt.sp <= alt.size;
    let nested = alt.flags & SS_AUTODISARM == 0 && on_alt(sp);
    let mut entering = false;
    if act.flags & SA_ONSTACK != 0 && armed && !on_alt(sp) {
        sp = alt.sp.wrapping_add(alt.size);
        entering = true;
    }
    let info = siginfo_to_i386(host_info);
    sp = fpstate::alloc(sp);
    let size = if act.flags & SA_SIGINFO != 0 {
        frames::RT_SIZE
    } else {
        frames::LEGACY_SIZE
    };
    if (nested || entering) && !on_alt(frames::place(sp, size)) {
        // Overflowed the alternate stack.
        crate::emulate::raise(libc::SIGSEGV);
    }
    if entering && alt.flags & SS_AUTODISARM != 0 {
        // The frame keeps the old settings (uc_stack); rt_sigreturn
        // restores them.
        crate::syscall::signal::disarm_altstack();
    }
    let ok = fpstate::save(sp, fp).and_then(|()| {
        if act.flags & SA_SIGINFO != 0 {
            frames::rt(sig, &info, regs, mask, alt, &act, &mut sp)
        } else {
            frames::legacy(sig, regs, mask, &act, &mut sp)
        }
    });
    if ok.is_err() {
        // The kernel kills a task whose signal frame cannot be written.
        crate::emulate::raise(libc::SIGSEGV);
    }
    fpstate::reset(fp);
    let mut blocked = mask | act.mask;
    if act.flags & SA_NODEFER == 0 {
        blocked |= bit(sig);
    }
    crate::syscall::signal::set_guest_sigmask(blocked);
    if act.flags & SA_RESETHAND != 0 {
        crate::syscall::signal::reset_to_default(sig);
    }
    regs.gpr[reg::ESP] = sp;
    regs.eflags &= !(DF | TF);
    regs.eip = act.handler;
    Some(act.handler)
}

/// A fault of translated code (from the host SIGSEGV/SIGBUS/SIGFPE/SIGILL/
/// SIGTRAP handler): deliver it to the guest handler by rewriting the host
/// ucontext. Returns false if it is not the guest's to handle.
///
/// # Safety
/// `info` and `uctx` are the kernel's arguments to a host signal handler.
pub unsafe fn on_fault(sig: i32, info: *mut libc::siginfo_t, uctx: *mut libc::c_void) -> bool {
    // SAFETY: the kernel passes valid siginfo and ucontext pointers.
    unsafe {
        let uc = uctx as *mut libc::ucontext_t;
        let g = &mut (*uc).uc_mcontext.gregs;
        let rip = g[libc::REG_RIP as usize] as u64;
        if !crate::jit::is_translated_code(rip) {
            return false;
        }
        let handled =
            crate::syscall::signal::guest_sigaction(sig as u32).is_some_and(|a| a.handler > 1);
        if !handled {
            return false;
        }
        let code = (*info).si_code;
        let eip = if sig == libc::SIGTRAP {
            trap_eip(rip)
        } else if let Some(e) = overflow_trap_eip(sig, code, rip) {
            Some(e)
        } else {
            crate::jit::guest_eip_at(rip)
        };
        let Some(eip) = eip else { return false };
        let mut raw = [0u8; SIGINFO_SIZE];
        std::ptr::copy_nonoverlapping(info as *const u8, raw.as_mut_ptr(), SIGINFO_SIZE);
        // Only page faults get the guest's MAPERR/ACCERR; #GP and the
        // overflow trap keep SI_KERNEL, as natively.
        if sig == libc::SIGSEGV && matches!(code, 1 | 2) {
            // The PROT_NONE reservation makes every unmapped access ACCERR.
            let addr = (*info).si_addr() as u64;
            let code: i32 = if addr < (1 << 32) && crate::memory::prot_at(addr as u32).is_none() {
                1
            } else {
                2
            };
            raw[8..12].copy_from_slice(&code.to_le_bytes());
        }
        if (*info).si_addr() as u64 == rip {
            // The kernel reports the faulting (SIGILL, SIGFPE) or trapping
            // (SIGTRAP) instruction pointer: the guest's, not the host's.
            raw[16..24].copy_from_slice(&(eip as u64).to_le_bytes());
        }
        enter_handler(uc, sig as u32, &raw, eip)
    }
}

/// The guest EIP of a SIGTRAP from translated code at host `rip`: after a
/// host `int3` (guest `int3` or `int 3`), the next guest instruction;
/// `icebp` (F1) reports itself, as the kernel does for the guest (its trap
/// leaves RIP at the F1).
///
/// # Safety
/// `rip` is in translated code (checked by the caller).
unsafe fn trap_eip(rip: u64) -> Option<u32> {
    // SAFETY: translated code is mapped and readable at rip.
    if unsafe { *(rip as *const u8) } == 0xf1 {
        return crate::jit::guest_eip_at(rip);
    }
    let eip = crate::jit::guest_eip_at(rip - 1)?;
    Some(eip + crate::jit::guest_insn_len(eip)?)
}

/// `into` with OF set (and a guest `int 4`) run as a host `int 4`: the
/// overflow trap reports the address after it, which in a translated block
/// is the block's exit code, not the next guest instruction. Map it to the
/// guest instruction after the `into` (1 byte) or `int 4` (2 bytes).
///
/// # Safety
/// `rip` is in translated code (checked by the caller).
unsafe fn overflow_trap_eip(sig: i32, code: i32, rip: u64) -> Option<u32> {
    const SI_KERNEL: i32 = 0x80;
    if sig != libc::SIGSEGV || code != SI_KERNEL {
        return None;
    }
    // SAFETY: translated code is mapped and readable; rip - 2 is inside
    // the block when the instruction before rip is `int 4`.
    let before = unsafe { std::ptr::read_unaligned((rip - 2) as *const [u8; 2]) };
    if before != [0xcd, 0x04] {
        return None;
    }
    let eip = crate::jit::guest_eip_at(rip - 2)?;
    Some(eip + crate::jit::guest_insn_len(eip)?)
}

/// Deliver `sig` to the guest from a host handler that interrupted
/// translated code at guest instruction `eip`: build the frame from the
/// ucontext's registers and resume in the guest handler.
///
/// # Safety
/// `uc` is the kernel's ucontext of a host handler that interrupted
/// translated code at a guest instruction boundary (or at a fault).
unsafe fn enter_handler(
    uc: *mut libc::ucontext_t,
    sig: u32,
    raw: &[u8; SIGINFO_SIZE],
    eip: u32,
) -> bool {
    let g = &mut (*uc).uc_mcontext.gregs;
    let order = [
        libc::REG_RAX,
        libc::REG_RCX,
        libc::REG_RDX,
        libc::REG_RBX,
        libc::REG_RSP,
        libc::REG_RBP,
        libc::REG_RSI,
        libc::REG_RDI,
    ];
    let mut regs = GuestRegs {
        eip,
        eflags: g[libc::REG_EFL as usize] as u32 & !TF,
        ..Default::default()
    };
    for (k, r) in order.iter().enumerate() {
        regs.gpr[k] = g[*r as usize] as u32;
    }
    let fp = host_fpu_image(uc);
    let handler = setup_frame(sig, raw, &mut regs, fp);
    // The kernel restores the host mask from the ucontext when this host
    // handler returns: it must be the one the guest handler runs with
    // (setup_frame blocked the signal and sa_mask), or the same signal
    // could nest into the guest handler; without a handler, the plain
    // guest mask (on_async held the signal back).
    let hm = crate::syscall::signal::host_mask(crate::syscall::signal::guest_sigmask());
    (&mut (*uc).uc_sigmask as *mut libc::sigset_t as *mut u64).write(hm);
    let Some(handler) = handler else {
        return false;
    };
    let host = crate::jit::host_code_for(handler);
    for (k, r) in order.iter().enumerate() {
        g[*r as usize] = regs.gpr[k] as i64;
    }
    g[libc::REG_EFL as usize] = regs.eflags as i64;
    g[libc::REG_RIP as usize] = host as i64;
    // Pinned registers keep their values, but the map table must be the
    // real one (a pending kick is re-armed at the next safe point).
    g[libc::REG_R14 as usize] = crate::dispatch::init_map() as i64;
    true
}

/// The FPU image of a host signal frame (the guest's FPU state when the
/// handler interrupted translated code): its FXSAVE area, with the XSAVE
/// part when the kernel's `fx_sw_bytes` say there is one.
///
/// # Safety
/// `uc` is the kernel's ucontext of a running host signal handler; the
/// slice must not outlive the handler.
unsafe fn host_fpu_image<'a>(uc: *mut libc::ucontext_t) -> &'a mut [u8] {
    const MAGIC1: u32 = 0x4650_5853;
    const MAGIC2: u32 = 0x4650_5845;
    let p = (*uc).uc_mcontext.fpregs as *mut u8;
    if p.is_null() {
        return &mut [];
    }
    // The kernel's frame: 512 bytes of FXSAVE, and when magic1 at 464
    // says so, xstate_size bytes of XSAVE followed by magic2.
    let magic1 = (p.add(464) as *const u32).read_unaligned();
    let xsize = (p.add(480) as *const u32).read_unaligned() as usize;
    let len = if magic1 == MAGIC1
        && (576..=crate::abi::FPU_AREA).contains(&xsize)
        && (p.add(xsize) as *const u32).read_unaligned() == MAGIC2
    {
        xsize
    } else {
        512
    };
    std::slice::from_raw_parts_mut(p, len)
}

thread_local! {
    /// Set while this thread's translated code is single-stepped to a
    /// guest instruction boundary to deliver a queued signal there. Per
    /// thread: the trap flag is a thread's own, and another thread's guest
    /// `int3` must not be taken for this thread's step.
    static STEPPING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn stepping() -> bool {
    STEPPING.with(|c| c.get())
}

fn set_stepping(v: bool) {
    STEPPING.with(|c| c.set(v));
}

/// Stop single-stepping (the stepped thread entered the runtime, which
/// delivers the queued signal itself).
pub(crate) fn stop_stepping() {
    set_stepping(false);
}

/// An asynchronous signal interrupted translated code: deliver it right
/// there if the host PC is a guest instruction boundary; otherwise
/// single-step (host TF) to the next boundary, or until the code leaves
/// translated code for the runtime, which delivers it itself. This also
/// covers loops of chained direct jumps that never reach a lookup.
///
/// # Safety
/// As `enter_handler`; called only from host signal handlers.
unsafe fn deliver_or_step(uc: *mut libc::ucontext_t) {
    let g = &mut (*uc).uc_mcontext.gregs;
    let rip = g[libc::REG_RIP as usize] as u64;
    if crate::stubs::in_enter_tail(rip) && pending_mask() != 0 {
        // On the way into guest code, past the runtime's last check: step
        // on into translated code and deliver at its first boundary.
        g[libc::REG_EFL as usize] |= TF as i64;
        g[libc::REG_R14 as usize] = crate::dispatch::kick_l1() as i64;
        set_stepping(true);
        return;
    }
    if !crate::jit::is_translated_code(rip) {
        // Left translated code (for the runtime, which delivers), or this
        // handler interrupted the runtime itself: no stepping here.
        if g[libc::REG_EFL as usize] & TF as i64 != 0 {
            g[libc::REG_EFL as usize] &= !(TF as i64);
            set_stepping(false);
        }
        return;
    }
    let at = crate::jit::guest_boundary_at(rip);
    if crate::log::enabled(crate::log::JIT) {
        crate::log::line(&format!(
            "signal: interrupted at host {rip:#x}: guest boundary {at:x?}"
        ));
    }
    if let Some(eip) = at {
        g[libc::REG_EFL as usize] &= !(TF as i64);
        set_stepping(false);
        let ctx = current_context();
        if ctx.is_null() {
            return;
        }
        if let Some((sig, info)) = take_pending(&mut *ctx) {
            enter_handler(uc, sig, &info, eip);
        }
        return;
    }
    g[libc::REG_EFL as usize] |= TF as i64;
    set_stepping(true);
}

mod fpstate;
mod frames;
pub use fpstate::init as init_fpstate;
use frames::Restored;
pub use frames::{rt_sigreturn, sigreturn};

/// Read back a frame for (rt_)sigreturn: FPU state, guest registers and
/// mask (Err: the FPU state is unusable, nothing was changed).
pub(crate) fn restore(ctx: &mut Context, r: Restored) -> Result<u32, i32> {
    fpstate::restore(r.fpstate, &mut ctx.fpu)?;
    for k in 0..8 {
        ctx.set_reg(k, r.regs.gpr[k]);
    }
    // Only the flags user code may change (AC OF DF TF SF ZF AF PF CF).
    let user = 0x40dd5;
    ctx.eflags = (ctx.eflags & !user) | (r.regs.eflags as u64 & user);
    crate::syscall::signal::set_guest_sigmask(r.mask);
    set_redirect(r.regs.eip);
    Ok(r.regs.gpr[reg::EAX])
}

/// Guest memory helpers for the frame code.
fn put32(at: u32, v: u32) -> Result<(), i32> {
    guest_mem::write_u32(at, v)
}
