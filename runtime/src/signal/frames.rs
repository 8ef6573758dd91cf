//! The i386 signal frames, byte for byte as the i386 kernel lays them out
//! (arch/x86/include/asm/sigframe.h, uapi sigcontext.h, ucontext.h), and
//! the two system calls that read them back.
//!
//! ```text
//! sigframe:    0 pretcode  4 sig  8 sigcontext(88)  96 fpstate_unused(624)
//!              720 extramask  724 retcode[8]
//! rt_sigframe: 0 pretcode  4 sig  8 pinfo  12 puc  16 siginfo(128)
//!              144 ucontext: flags, link, stack(12), sigcontext(88) @164,
//!                            sigmask(8) @252          260 retcode[8]
//! above both:  struct _fpstate_32 (`fpstate`), which sigcontext.fpstate
//!              points to
//! sigcontext:  gs fs es ds (u16+pad), edi esi ebp esp ebx edx ecx eax,
//!              trapno err eip, cs, eflags, esp_at_signal, ss, fpstate,
//!              oldmask, cr2
//! ```
//!
//! Invariant: the return address is the guest's SA_RESTORER when given,
//! else the frame's own retcode, which holds the bytes of glibc's restorers
//! (`pop eax; mov eax, 119; int 0x80` and `mov eax, 173; int 0x80`) so
//! unwinders recognise signal frames either way. The FPU state is saved
//! above the frame and the handler starts with the initial one (`fpstate`).

use super::{put32, GuestRegs};
use crate::abi::{reg, seg, Context};
use crate::guest_mem;
use crate::syscall::structs::{Sigaction32, Stack32};

const SA_RESTORER: u32 = 0x0400_0000;
/// Guest registers in sigcontext order, from offset 16, 4 bytes each.
const SC_GPRS: [usize; 8] = [
    reg::EDI,
    reg::ESI,
    reg::EBP,
    reg::ESP,
    reg::EBX,
    reg::EDX,
    reg::ECX,
    reg::EAX,
];
const RETCODE_LEGACY: [u8; 8] = [0x58, 0xb8, 0x77, 0, 0, 0, 0xcd, 0x80];
const RETCODE_RT: [u8; 8] = [0xb8, 0xad, 0, 0, 0, 0xcd, 0x80, 0];

/// Guest state read back by (rt_)sigreturn.
pub(crate) struct Restored {
    pub regs: GuestRegs,
    pub mask: u64,
    /// Guest address of the frame's `_fpstate_32` (0: none).
    pub fpstate: u32,
}

/// Sizes of the two frames; where the legacy one keeps its mask's upper half.
pub(super) const LEGACY_SIZE: u32 = 732;
pub(super) const RT_SIZE: u32 = 268;
const EXTRAMASK: u32 = 720;
const LEGACY_RETCODE: u32 = 724;
/// uc_flags: the fpstate holds XSAVE state (UC_FP_XSTATE).
const UC_FP_XSTATE: u32 = 1;

/// Place a frame of `size` bytes below `sp` as the kernel does: at handler
/// entry esp + 4 is 16-byte aligned, as after a call.
pub(super) fn place(sp: u32, size: u32) -> u32 {
    (sp.wrapping_sub(size).wrapping_add(4) & !15).wrapping_sub(4)
}

fn selectors() -> [u16; 6] {
    let ctx = super::current_context() as *const Context;
    if ctx.is_null() {
        return [0x2b, 0x23, 0x2b, 0x2b, 0, 0];
    }
    // SAFETY: the guest context lives for the whole process.
    unsafe { (*ctx).sel }
}

fn write_sigcontext(
    at: u32,
    regs: &GuestRegs,
    mask: u64,
    cr2: u32,
    fpstate: u32,
) -> Result<(), i32> {
    let sel = selectors();
    let mut b = [0u8; 88];
    let mut put = |off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    put(0, sel[seg::GS] as u32);
    put(4, sel[seg::FS] as u32);
    put(8, sel[seg::ES] as u32);
    put(12, sel[seg::DS] as u32);
    for (k, r) in SC_GPRS.into_iter().enumerate() {
        put(16 + 4 * k, regs.gpr[r]);
    }
    put(48, 0); // trapno
    put(52, 0); // err
    put(56, regs.eip);
    put(60, sel[seg::CS] as u32);
    put(64, regs.eflags);
    put(68, regs.gpr[reg::ESP]);
    put(72, sel[seg::SS] as u32);
    put(76, fpstate);
    put(80, mask as u32);
    put(84, cr2);
    guest_mem::write_bytes(at, &b)
}

fn read_sigcontext(at: u32) -> Result<(GuestRegs, u32), i32> {
    let b = guest_mem::read_bytes(at, 88)?;
    let get = |off: usize| u32::from_le_bytes(b[off..off + 4].try_into().unwrap());
    let mut regs = GuestRegs {
        eip: get(56),
        eflags: get(64),
        ..Default::default()
    };
    for (k, r) in SC_GPRS.into_iter().enumerate() {
        regs.gpr[r] = get(16 + 4 * k);
    }
    Ok((regs, get(76)))
}

fn ret_addr(act: &Sigaction32, frame: u32, retcode_off: u32) -> u32 {
    if act.flags & SA_RESTORER != 0 && act.restorer != 0 {
        act.restorer
    } else {
        frame + retcode_off
    }
}

/// The legacy frame (handler without SA_SIGINFO), below `sp`, which is
/// the address of the saved FPU state (`fpstate::alloc`).
pub(super) fn legacy(
    sig: u32,
    regs: &mut GuestRegs,
    mask: u64,
    act: &Sigaction32,
    sp: &mut u32,
) -> Result<(), i32> {
    let fp = *sp;
    let f = place(fp, LEGACY_SIZE);
    write_sigcontext(f + 8, regs, mask, 0, fp)?;
    put32(f, ret_addr(act, f, LEGACY_RETCODE))?;
    put32(f + 4, sig)?;
    put32(f + EXTRAMASK, (mask >> 32) as u32)?;
    guest_mem::write_bytes(f + LEGACY_RETCODE, &RETCODE_LEGACY)?;
    regs.gpr[reg::EAX] = sig;
    regs.gpr[reg::EDX] = 0;
    regs.gpr[reg::ECX] = 0;
    *sp = f;
    Ok(())
}

/// The rt frame (handler with SA_SIGINFO), below `sp`, which is the
/// address of the saved FPU state (`fpstate::alloc`).
pub(super) fn rt(
    sig: u32,
    info: &[u8],
    regs: &mut GuestRegs,
    mask: u64,
    alt: Stack32,
    act: &Sigaction32,
    sp: &mut u32,
) -> Result<(), i32> {
    let fp = *sp;
    let f = place(fp, RT_SIZE);
    let cr2 = if matches!(sig as i32, libc::SIGSEGV | libc::SIGBUS) {
        u32::from_le_bytes(info[12..16].try_into().unwrap())
    } else {
        0
    };
    put32(f, ret_addr(act, f, 260))?;
    put32(f + 4, sig)?;
    put32(f + 8, f + 16)?;
    put32(f + 12, f + 144)?;
    guest_mem::write_bytes(f + 16, &info[..128])?;
    let flags = if super::fpstate::xsave() {
        UC_FP_XSTATE
    } else {
        0
    };
    put32(f + 144, flags)?;
    put32(f + 148, 0)?; // uc_link
    put32(f + 152, alt.sp)?;
    put32(f + 156, alt.flags as u32)?;
    put32(f + 160, alt.size)?;
    write_sigcontext(f + 164, regs, mask, cr2, fp)?;
    guest_mem::write_u64(f + 252, mask)?;
    guest_mem::write_bytes(f + 260, &RETCODE_RT)?;
    // i386 kernels also pass the arguments in registers (regparm handlers).
    regs.gpr[reg::EAX] = sig;
    regs.gpr[reg::EDX] = f + 16;
    regs.gpr[reg::ECX] = f + 144;
    *sp = f;
    Ok(())
}

/// sigreturn (119): esp points just past `sig` (restorer popped it).
pub fn sigreturn(ctx: &mut Context, _: &crate::syscall::Args) -> crate::syscall::SysResult {
    let sc = ctx.reg(reg::ESP);
    let (regs, fpstate) = read_sigcontext(sc).map_err(|_| fatal_frame())?;
    let lo = guest_mem::read_u32(sc + 80).map_err(|_| fatal_frame())? as u64;
    let extramask = sc.wrapping_sub(8).wrapping_add(EXTRAMASK);
    let hi = guest_mem::read_u32(extramask).map_err(|_| fatal_frame())? as u64;
    let r = Restored {
        regs,
        mask: lo | hi << 32,
        fpstate,
    };
    Ok(super::restore(ctx, r).map_err(|_| fatal_frame())? as i64)
}

/// rt_sigreturn (173): esp points just past `pretcode`.
pub fn rt_sigreturn(ctx: &mut Context, _: &crate::syscall::Args) -> crate::syscall::SysResult {
    let uc = ctx.reg(reg::ESP).wrapping_add(140);
    let (regs, fpstate) = read_sigcontext(uc + 20).map_err(|_| fatal_frame())?;
    let mask = guest_mem::read_u64(uc + 108).map_err(|_| fatal_frame())?;
    // uc_stack: the alternate stack as it was (restore_altstack; errors
    // are ignored, as the kernel does).
    if let Ok(st) = crate::syscall::structs::read::<Stack32>(uc + 8) {
        crate::syscall::signal::restore_altstack(st, ctx.reg(reg::ESP));
    }
    let r = Restored {
        regs,
        mask,
        fpstate,
    };
    Ok(super::restore(ctx, r).map_err(|_| fatal_frame())? as i64)
}

/// A frame that cannot be read back: the kernel sends SIGSEGV.
fn fatal_frame() -> i32 {
    crate::emulate::raise(libc::SIGSEGV)
}
