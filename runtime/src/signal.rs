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
//!   too, so the kernel keeps it queued; none is lost.
//!
//! Invariants: the frame layouts are the i386 kernel's (unwinders and
//! `siglongjmp` read them); guest memory is written with fault-tolerant
//! accesses (a bad guest stack kills the guest with SIGSEGV, as the kernel
//! would); host handlers run on the runtime's alternate stack.

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
const DF: u32 = 0x400;
const TF: u32 = 0x100;

/// Queued asynchronous signals (bit sig-1) and their host siginfo.
static PENDING: AtomicU64 = AtomicU64::new(0);
static INFOS: [[AtomicU64; SIGINFO_SIZE / 8]; 64] =
    [const { [const { AtomicU64::new(0) }; SIGINFO_SIZE / 8] }; 64];
thread_local! {
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
    if sig == libc::SIGTRAP && (STEPPING.load(Ordering::Relaxed) || trace) {
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
    for (k, w) in raw.chunks_exact(8).enumerate() {
        INFOS[s][k].store(u64::from_le_bytes(w.try_into().unwrap()), Ordering::Relaxed);
    }
    PENDING.fetch_or(bit(sig as u32), Ordering::Release);
    kick(uctx);
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
        if crate::jit::is_translated_code(rip) {
            (*uc).uc_mcontext.gregs[libc::REG_R14 as usize] = kick as i64;
        }
    }
}

/// Take the lowest deliverable queued signal (and un-kick when none is left).
fn take_pending(ctx: &mut Context) -> Option<(u32, [u8; SIGINFO_SIZE])> {
    let p = PENDING.load(Ordering::Acquire);
    if p == 0 {
        return None;
    }
    let sig = p.trailing_zeros() + 1;
    PENDING.fetch_and(!bit(sig), Ordering::AcqRel);
    if PENDING.load(Ordering::Acquire) == 0 {
        ctx.map_l1 = crate::dispatch::init_map();
    }
    let mut info = [0u8; SIGINFO_SIZE];
    for (k, w) in info.chunks_exact_mut(8).enumerate() {
        w.copy_from_slice(
            &INFOS[sig as usize - 1][k]
                .load(Ordering::Relaxed)
                .to_le_bytes(),
        );
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
    match setup_frame(sig, &info, &mut regs) {
        Some(h) => {
            for r in 0..8 {
                ctx.set_reg(r, regs.gpr[r]);
            }
            ctx.eflags = regs.eflags as u64;
            Some(h)
        }
        None => Some(regs.eip),
    }
}

/// A fault the runtime itself detected at guest instruction `ctx.eip`
/// (an instruction rehost raises SIGILL for): deliver it if the guest
/// handles it. Returns the handler's guest address.
pub fn deliver_sync(ctx: &mut Context, sig: i32) -> Option<u32> {
    crate::syscall::signal::guest_sigaction(sig as u32).filter(|a| a.handler > 1)?;
    let mut info = [0u8; SIGINFO_SIZE];
    info[0..4].copy_from_slice(&sig.to_le_bytes());
    info[8..12].copy_from_slice(&2i32.to_le_bytes()); // ILL_ILLOPN
    info[16..20].copy_from_slice(&(ctx.eip as u32).to_le_bytes()); // si_addr (host layout: offset 16)
    let mut regs = GuestRegs {
        eip: ctx.eip as u32,
        eflags: ctx.eflags as u32,
        ..Default::default()
    };
    for r in 0..8 {
        regs.gpr[r] = ctx.reg(r);
    }
    let h = setup_frame(sig as u32, &info, &mut regs)?;
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
/// handler. Returns the handler's guest address, or None when the guest
/// does not handle the signal (default action taken here: ignored signals
/// return None after doing nothing; fatal ones end the process).
pub fn setup_frame(sig: u32, host_info: &[u8; SIGINFO_SIZE], regs: &mut GuestRegs) -> Option<u32> {
    let act = crate::syscall::signal::guest_sigaction(sig)?;
    if act.handler <= 1 {
        return None; // SIG_DFL / SIG_IGN: nothing to deliver
    }
    let mask = crate::syscall::signal::guest_sigmask();
    let mut sp = regs.gpr[reg::ESP];
    let alt = crate::syscall::signal::guest_altstack();
    if act.flags & SA_ONSTACK != 0
        && alt.flags & 2 == 0
        && alt.size != 0
        && !(alt.sp..alt.sp.wrapping_add(alt.size)).contains(&sp)
    {
        sp = alt.sp.wrapping_add(alt.size);
    }
    let info = siginfo_to_i386(host_info);
    let ok = if act.flags & SA_SIGINFO != 0 {
        frames::rt(sig, &info, regs, mask, alt, &act, &mut sp)
    } else {
        frames::legacy(sig, regs, mask, &act, &mut sp)
    };
    if ok.is_err() {
        // The kernel kills a task whose signal frame cannot be written.
        crate::emulate::raise(libc::SIGSEGV);
    }
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
        let eip = if sig == libc::SIGTRAP {
            crate::jit::guest_eip_at(rip - 1).map(|e| e + 1)
        } else {
            crate::jit::guest_eip_at(rip)
        };
        let Some(eip) = eip else { return false };
        let mut raw = [0u8; SIGINFO_SIZE];
        std::ptr::copy_nonoverlapping(info as *const u8, raw.as_mut_ptr(), SIGINFO_SIZE);
        if sig == libc::SIGSEGV {
            // The PROT_NONE reservation makes every unmapped access ACCERR.
            let addr = (*info).si_addr() as u64;
            let code: i32 = if addr < (1 << 32) && crate::memory::prot_at(addr as u32).is_none() {
                1
            } else {
                2
            };
            raw[8..12].copy_from_slice(&code.to_le_bytes());
        }
        enter_handler(uc, sig as u32, &raw, eip)
    }
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
    let Some(handler) = setup_frame(sig, raw, &mut regs) else {
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

/// Set while translated code is single-stepped to a guest instruction
/// boundary to deliver a queued signal there.
static STEPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Stop single-stepping (the stepped thread entered the runtime, which
/// delivers the queued signal itself).
pub(crate) fn stop_stepping() {
    STEPPING.store(false, Ordering::Relaxed);
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
    if !crate::jit::is_translated_code(rip) {
        // Left translated code (for the runtime, which delivers), or this
        // handler interrupted the runtime itself: no stepping here.
        if g[libc::REG_EFL as usize] & TF as i64 != 0 {
            g[libc::REG_EFL as usize] &= !(TF as i64);
            STEPPING.store(false, Ordering::Relaxed);
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
        STEPPING.store(false, Ordering::Relaxed);
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
    STEPPING.store(true, Ordering::Relaxed);
}

mod frames;
use frames::Restored;
pub use frames::{rt_sigreturn, sigreturn};

/// Read back a frame for (rt_)sigreturn: guest registers and mask.
pub(crate) fn restore(ctx: &mut Context, r: Restored) -> u32 {
    for k in 0..8 {
        ctx.set_reg(k, r.regs.gpr[k]);
    }
    // Only the flags user code may change (AC OF DF TF SF ZF AF PF CF).
    let user = 0x40dd5;
    ctx.eflags = (ctx.eflags & !user) | (r.regs.eflags as u64 & user);
    crate::syscall::signal::set_guest_sigmask(r.mask);
    set_redirect(r.regs.eip);
    r.regs.gpr[reg::EAX]
}

/// Guest memory helpers for the frame code.
fn put32(at: u32, v: u32) -> Result<(), i32> {
    guest_mem::write_u32(at, v)
}
