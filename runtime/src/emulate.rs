//! Guest instructions the runtime carries out itself because they do not
//! exist in 64-bit mode (BCD arithmetic, salc), cpuid (filtered by
//! `translate::features`), segment-register loads, and
//! instructions that must end the guest with a signal.
//!
//! Invariant: each operation changes exactly the guest state the i386 manual
//! says it changes, in the saved `Context` (the stubs restore it afterwards),
//! or none of it when it faults (`Fault`, delivered by the dispatcher).

use crate::abi::{seg, Context, GDT_ENTRY_TLS_ENTRIES, GDT_ENTRY_TLS_MIN};
use crate::translate::lower::emu;

const CF: u64 = 0x1;
const PF: u64 = 0x4;
const AF: u64 = 0x10;
const ZF: u64 = 0x40;
const SF: u64 = 0x80;

fn szp(ctx: &mut Context, v: u8) {
    let mut f = ctx.eflags & !(SF | ZF | PF);
    if v == 0 {
        f |= ZF;
    }
    if v & 0x80 != 0 {
        f |= SF;
    }
    if v.count_ones().is_multiple_of(2) {
        f |= PF;
    }
    ctx.eflags = f;
}

fn set(ctx: &mut Context, flag: u64, on: bool) {
    if on {
        ctx.eflags |= flag;
    } else {
        ctx.eflags &= !flag;
    }
}

/// A fault an emulated instruction raises, as the i386 kernel reports it:
/// the signal, its `si_code` and `si_addr`, at the instruction (`ctx.eip`),
/// with the guest state unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub sig: i32,
    pub code: i32,
    pub addr: u32,
}

/// #GP and #BR: SIGSEGV with SI_KERNEL and no address.
const GP: Fault = Fault {
    sig: libc::SIGSEGV,
    code: 0x80,
    addr: 0,
};

/// Carry out the emulated instruction `arg` (`translate::lower::emu`; bits
/// 8.. hold an immediate).
pub fn run(ctx: &mut Context, arg: u32) -> Result<(), Fault> {
    let op = arg & 0xff;
    let imm = (arg >> 8) as u8;
    let eax = ctx.reg(0);
    let al = eax as u8;
    let ah = (eax >> 8) as u8;
    let cf = ctx.eflags & CF != 0;
    let af = ctx.eflags & AF != 0;
    let set_al = |ctx: &mut Context, v: u8| ctx.set_reg(0, (eax & !0xff) | v as u32);
    let set_ax = |ctx: &mut Context, v: u16| ctx.set_reg(0, (eax & !0xffff) | v as u32);
    match op {
        emu::DAA | emu::DAS => {
            let sub = op == emu::DAS;
            let mut v = al;
            let mut ncf = false;
            if al & 0xf > 9 || af {
                let (r, c) = if sub {
                    al.overflowing_sub(6)
                } else {
                    al.overflowing_add(6)
                };
                v = r;
                ncf = cf || c;
                set(ctx, AF, true);
            } else {
                set(ctx, AF, false);
            }
            if al > 0x99 || cf {
                v = if sub {
                    v.wrapping_sub(0x60)
                } else {
                    v.wrapping_add(0x60)
                };
                ncf = true;
            }
            set(ctx, CF, ncf);
            set_al(ctx, v);
            szp(ctx, v);
        }
        emu::AAA | emu::AAS => {
            let ax = eax as u16;
            if al & 0xf > 9 || af {
                let r = if op == emu::AAA {
                    ax.wrapping_add(0x106)
                } else {
                    // AX <- AX - 6 (the borrow reaches AH), then AH <- AH - 1.
                    ax.wrapping_sub(6).wrapping_sub(0x100)
                };
                set_ax(ctx, r & 0xff0f);
                set(ctx, AF | CF, true);
            } else {
                set_ax(ctx, ax & 0xff0f);
                set(ctx, AF | CF, false);
            }
        }
        emu::AAM => {
            if imm == 0 {
                // #DE: FPE_INTDIV at the instruction.
                return Err(Fault {
                    sig: libc::SIGFPE,
                    code: 1,
                    addr: ctx.eip as u32,
                });
            }
            let (q, r) = (al / imm, al % imm);
            set_ax(ctx, (q as u16) << 8 | r as u16);
            szp(ctx, r);
        }
        emu::AAD => {
            let v = al.wrapping_add(ah.wrapping_mul(imm));
            set_ax(ctx, v as u16);
            szp(ctx, v);
        }
        emu::SALC => set_al(ctx, if cf { 0xff } else { 0 }),
        emu::CPUID => {
            // The host's answer minus what rehost does not translate.
            let (leaf, sub) = (eax, ctx.reg(1));
            let host = crate::translate::features::host_cpuid(leaf, sub);
            let r = crate::translate::features::guest_cpuid(leaf, sub, host);
            // eax, ebx, ecx, edx are registers 0, 3, 1, 2.
            for (v, reg) in r.into_iter().zip([0, 3, 1, 2]) {
                ctx.set_reg(reg, v);
            }
        }
        emu::BOUND => {
            // #BR is delivered as SIGSEGV by Linux.
            let reg = (arg >> 8) as usize & 7;
            let addr = ctx.scratch as u32;
            let in_range = if arg & (1 << 11) != 0 {
                let v = ctx.reg(reg) as i32;
                match (
                    crate::guest_mem::read_u32(addr),
                    crate::guest_mem::read_u32(addr.wrapping_add(4)),
                ) {
                    (Ok(lo), Ok(hi)) => v >= lo as i32 && v <= hi as i32,
                    _ => false,
                }
            } else {
                let v = ctx.reg(reg) as i16;
                match crate::guest_mem::read_u32(addr) {
                    Ok(w) => v >= w as u16 as i16 && v <= (w >> 16) as u16 as i16,
                    _ => false,
                }
            };
            if !in_range {
                return Err(GP);
            }
        }
        _ => crate::fatal(&format!("unknown emulated operation {op}")),
    }
    Ok(())
}

/// #NP and #SS: SIGBUS with SI_KERNEL and no address, as Linux reports them.
const NP: Fault = Fault {
    sig: libc::SIGBUS,
    code: 0x80,
    addr: 0,
};

/// The base of LDT selector `sel` loaded into segment register `idx`, with
/// the checks the CPU makes (`syscall::ldt` holds the table): past the
/// LDT's limit, a system descriptor (a cleared entry), execute-only code,
/// or for ss anything but a writable data segment with RPL 3 is #GP; a
/// not-present entry is #NP (#SS for ss).
fn ldt_base(idx: usize, sel: u16) -> Result<u32, Fault> {
    let d = crate::syscall::ldt::descriptor((sel >> 3) as u32).ok_or(GP)?;
    let typ = (d >> 40) & 0xf;
    let (system, code, present) = (d & (1 << 44) == 0, typ & 8 != 0, d & (1 << 47) != 0);
    let dpl = ((d >> 45) & 3) as u16;
    let conforming = code && typ & 4 != 0;
    let ok = match idx {
        seg::SS => !system && !code && typ & 2 != 0 && sel & 3 == 3 && dpl == 3,
        _ => !system && (!code || typ & 2 != 0) && (conforming || dpl >= (sel & 3).max(3)),
    };
    if !ok {
        return Err(GP);
    }
    if !present {
        return Err(NP);
    }
    Ok(crate::syscall::ldt::base_of(d))
}

/// `mov sreg, x` / `pop sreg` / `lds`...: check the selector as the CPU
/// does against the GDT an x86-64 kernel gives an ia32 process and the
/// process's LDT (`syscall::ldt`), and set the segment base the translated
/// code uses. ds/es/fs/gs take the null selector (any RPL) and, with any
/// RPL, the DPL-3 flat segments USER32_CS (entry 4, 0x23), USER_DS (5,
/// 0x2b) and USER_CS (6, 0x33, readable code), TLS entries 12-14 once
/// set_thread_area filled them, and LDT entries modify_ldt filled (ds/es
/// only with base 0: their bases are not modelled). ss takes 0x2b and
/// base-0 LDT data entries. Anything else (kernel entries, empty slots,
/// past the 16-entry GDT or the LDT) is #GP, a not-present LDT entry #NP.
/// The base is cached in the context, as a CPU caches it: a later
/// modify_ldt does not change it until the selector is loaded again.
pub fn load_segment(ctx: &mut Context, idx: usize, sel: u16) -> Result<(), Fault> {
    let entry = (sel >> 3) as u32;
    let ldt = sel & 4 != 0;
    let flat = !ldt && matches!(entry, 4..=6);
    let tls_base = || {
        let tls = GDT_ENTRY_TLS_MIN..GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES as u32;
        if ldt || !tls.contains(&entry) {
            return None;
        }
        let t = ctx.tls[(entry - GDT_ENTRY_TLS_MIN) as usize];
        (t.used != 0).then_some(t.base)
    };
    let base = if ldt {
        let b = ldt_base(idx, sel)?;
        match idx {
            seg::FS | seg::GS => Some(b),
            _ => (b == 0).then_some(0),
        }
    } else {
        match idx {
            seg::SS => (sel == crate::abi::SEL_DS).then_some(0),
            _ if sel & !3 == 0 || flat => Some(0),
            seg::FS | seg::GS => tls_base(),
            _ => tls_base().filter(|&b| b == 0),
        }
    };
    match base {
        Some(b) => {
            ctx.sel[idx] = sel;
            match idx {
                seg::GS => ctx.gs_base = b as u64,
                seg::FS => ctx.fs_base = b as u64,
                _ => {}
            }
            Ok(())
        }
        None => Err(GP),
    }
}

/// Undecodable or unsupported instruction: the guest dies of SIGILL, as on
/// a CPU without it.
pub fn raise_sigill(ctx: &Context) -> ! {
    if crate::log::enabled(crate::log::JIT) {
        crate::log::line(&format!("illegal instruction at {:#010x}", ctx.eip as u32));
    }
    raise(libc::SIGILL)
}

/// End the process with `sig`, as the kernel would for a guest fault.
pub fn raise(sig: i32) -> ! {
    // SAFETY: resetting a signal to its default action and raising it.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
        libc::_exit(128 + sig)
    }
}
