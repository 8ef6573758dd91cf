//! The FPU/SSE part of i386 signal frames: `struct _fpstate_32`, as an
//! x86-64 kernel with ia32 emulation writes it (arch/x86/kernel/fpu/
//! signal.c, uapi asm/sigcontext.h), and its read-back by (rt_)sigreturn.
//!
//! ```text
//! fpstate:      0 cw sw tag ipoff cssel dataoff datasel (u32 each; the
//!                 fnsave environment converted from the FXSAVE image)
//!              28 _st[8] (10 bytes each)   108 status (u16)   110 magic = 0
//! fpstate+112:  FXSAVE/XSAVE image (64-byte aligned), fx_sw_bytes at 464
//!               (FP_XSTATE_MAGIC1, sizes, features) when it is XSAVE,
//!               then FP_XSTATE_MAGIC2 right after the image.
//! ```
//!
//! The guest FPU state lives in one of two images, both in the host's
//! FXSAVE64/XSAVE (standard form) layout: `Context::fpu` while the runtime
//! runs (saved by the stubs), or the host signal frame's `fpregs` when a
//! host handler interrupted translated code. Everything here works on
//! such an image.
//!
//! Invariants: a handler starts with the initial FPU state, as on Linux;
//! sigreturn takes x87 state from the fnsave header (as the kernel's
//! `convert_to_fxsr`), SSE/AVX from the image, and never loads anything
//! XRSTOR would fault on (reserved MXCSR bits are refused with SIGSEGV,
//! the XSAVE header is rebuilt) nor any component outside x87/SSE/AVX/
//! AVX-512 (PKRU and the rest stay the runtime's).

use crate::abi::FPU_AREA;
use crate::guest_mem;
use std::sync::OnceLock;

/// The fnsave-style header before the image (`struct fregs_state`).
pub const HEADER: u32 = 112;
const MAGIC1: u32 = 0x4650_5853;
const MAGIC2: u32 = 0x4650_5845;
/// Offset of `fx_sw_bytes` (`sw_reserved`) in the FXSAVE image.
const SW: usize = 464;
/// Offset and size of the XSAVE header.
const XHDR: usize = 512;
const XHDR_END: usize = 576;
const FPSSE: u64 = 3;
/// Components a guest frame may set: x87, SSE, AVX, AVX-512 (opmask,
/// ZMM_Hi256, Hi16_ZMM).
const RESTORABLE: u64 = 0b1110_0111;
/// What the i386 kernel reports for the FPU code and data selectors.
const FCS: u32 = 0x23;
const FOS: u32 = 0xffff_002b;

#[derive(Clone, Copy, Debug)]
struct Geometry {
    /// The stubs save with XSAVE (else FXSAVE64).
    xsave: bool,
    /// Size of the image in a frame (XSAVE user size, or 512).
    size: usize,
    /// XCR0: the enabled user components.
    xfeatures: u64,
    /// (offset, size) of XSAVE components 0..8 (standard form).
    comp: [(usize, usize); 8],
}

static GEOMETRY: OnceLock<Geometry> = OnceLock::new();

/// Record how the stubs save the FPU (called once at start-up, before any
/// guest code and any signal).
pub fn init(xsave: bool) {
    let _ = GEOMETRY.set(compute(xsave));
}

fn compute(xsave: bool) -> Geometry {
    use std::arch::x86_64::__cpuid_count;
    let mut g = Geometry {
        xsave,
        size: 512,
        xfeatures: FPSSE,
        comp: [(0, 0); 8],
    };
    if !xsave {
        return g;
    }
    g.size = (__cpuid_count(0xd, 0).ebx as usize).clamp(XHDR_END, FPU_AREA);
    let (lo, hi): (u32, u32);
    // SAFETY: XGETBV(0) is valid: the stubs use XSAVE only when CPUID says
    // OSXSAVE, which means XCR0 is readable.
    unsafe {
        std::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi,
                        options(nomem, nostack, preserves_flags));
    }
    g.xfeatures = lo as u64 | (hi as u64) << 32;
    for (i, c) in g.comp.iter_mut().enumerate().skip(2) {
        if g.xfeatures & 1 << i != 0 {
            let l = __cpuid_count(0xd, i as u32);
            *c = (l.ebx as usize, l.eax as usize);
        }
    }
    g
}

/// Does the frame's image hold XSAVE state (else FXSAVE only)?
pub fn xsave() -> bool {
    geometry().xsave
}

fn geometry() -> Geometry {
    match GEOMETRY.get() {
        Some(g) => *g,
        None => compute(false),
    }
}

fn get16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn get32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn get64(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}
fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

/// Bytes the math frame takes (image, and MAGIC2 with XSAVE).
fn math_size(g: &Geometry) -> u32 {
    (g.size + if g.xsave { 4 } else { 0 }) as u32
}

/// Where the FPU state goes below `sp` (`fpu__alloc_mathframe`): the
/// image 64-byte aligned, the fnsave header before it. Returns the address
/// of `struct _fpstate_32`, which is also the new top for the frame.
pub fn alloc(sp: u32) -> u32 {
    let g = geometry();
    (sp.wrapping_sub(math_size(&g)) & !63).wrapping_sub(HEADER)
}

/// The full i387 tag word from the FXSAVE abridged one (`twd_fxsr_to_i387`).
fn twd_to_i387(fx: &[u8]) -> u32 {
    let tos = (get16(fx, 2) >> 11) & 7;
    let abridged = fx[4];
    let mut ret = 0xffff_0000u32;
    for i in 0..8u16 {
        let tag = if abridged & (1 << i) == 0 {
            3 // empty
        } else {
            let st = 32 + 16 * ((i.wrapping_sub(tos)) & 7) as usize;
            let exp = get16(fx, st + 8) & 0x7fff;
            let mant = get64(fx, st);
            match exp {
                0x7fff => 2,
                0 if mant == 0 => 1,
                0 => 2,
                _ if mant >> 63 != 0 => 0,
                _ => 2,
            }
        };
        ret |= tag << (2 * i);
    }
    ret
}

/// The abridged tag byte from a full tag word (`twd_i387_to_fxsr`).
fn twd_to_fxsr(twd: u32) -> u8 {
    let mut t = !twd;
    t = (t | (t >> 1)) & 0x5555;
    t = (t | (t >> 1)) & 0x3333;
    t = (t | (t >> 2)) & 0x0f0f;
    t = (t | (t >> 4)) & 0x00ff;
    t as u8
}

/// Write the guest FPU state `img` as `struct _fpstate_32` at `at` (from
/// `alloc`). The image is left as it was.
pub fn save(at: u32, img: &[u8]) -> Result<(), i32> {
    let g = geometry();
    let n = g.size;
    let mut buf = [0u8; HEADER as usize + FPU_AREA + 4];
    let (env, rest) = buf.split_at_mut(HEADER as usize);
    let fx = &mut rest[..n];
    let have = img.len().min(n);
    fx[..have].copy_from_slice(&img[..have]);
    if g.xsave {
        let mut bv = if img.len() >= XHDR_END {
            get64(fx, XHDR)
        } else {
            FPSSE
        };
        // Components in their initial state may hold stale bytes: show
        // their initial values (`fpstate_sanitize_xstate`).
        if bv & 1 == 0 {
            fx[..24].fill(0);
            put16(fx, 0, 0x37f);
            fx[32..160].fill(0);
        }
        if bv & 2 == 0 {
            fx[160..416].fill(0);
        }
        for (i, &(off, size)) in g.comp.iter().enumerate().skip(2) {
            if bv & 1 << i == 0 && size != 0 && off + size <= n {
                fx[off..off + size].fill(0);
            }
        }
        bv |= FPSSE;
        put64(fx, XHDR, bv);
        fx[XHDR + 8..XHDR_END].fill(0);
        put32(fx, SW, MAGIC1);
        put32(fx, SW + 4, math_size(&g) + HEADER);
        put64(fx, SW + 8, g.xfeatures);
        put32(fx, SW + 16, n as u32);
        fx[SW + 20..512].fill(0);
    } else {
        fx[SW..512].fill(0);
    }
    // The FPU instruction pointer is a host address in translated code:
    // show the guest instruction's.
    let fip = get64(fx, 8);
    let fip = if fip >> 32 != 0 {
        crate::jit::guest_eip_at(fip).unwrap_or(0)
    } else {
        fip as u32
    };
    put64(fx, 8, fip as u64);
    // The fnsave environment (`convert_from_fxsr`, x86-64 flavour).
    put32(env, 0, get16(fx, 0) as u32 | 0xffff_0000);
    put32(env, 4, get16(fx, 2) as u32 | 0xffff_0000);
    put32(env, 8, twd_to_i387(fx));
    put32(env, 12, fip);
    put32(env, 16, FCS);
    put32(env, 20, get64(fx, 16) as u32);
    put32(env, 24, FOS);
    for i in 0..8 {
        env[28 + 10 * i..38 + 10 * i].copy_from_slice(&fx[32 + 16 * i..42 + 16 * i]);
    }
    let sw = get16(fx, 2);
    put16(env, 108, sw);
    put16(env, 110, 0); // X86_FXSR_MAGIC
    let mut len = HEADER as usize + n;
    if g.xsave {
        put32(&mut buf, len, MAGIC2);
        len += 4;
    }
    guest_mem::write_bytes(at, &buf[..len])
}

/// Put `img` in the state a signal handler starts with (Linux clears the
/// user FPU state after saving it into the frame): x87 and SSE at their
/// defaults, AVX and AVX-512 registers in their initial state. Other
/// components and xmm8-15 (never guest state) are left alone.
pub fn reset(img: &mut [u8]) {
    img[..24].fill(0);
    put16(img, 0, 0x37f);
    put32(img, 24, 0x1f80);
    img[32..288].fill(0);
    if geometry().xsave && img.len() >= XHDR_END {
        let bv = get64(img, XHDR);
        put64(img, XHDR, (bv & !RESTORABLE) | FPSSE);
    }
}

/// (rt_)sigreturn: load the frame's `_fpstate_32` at `at` into `img` (the
/// context's image); `at` = 0 means the initial state. Nothing is changed
/// when the frame cannot be read or holds state XRSTOR would refuse.
pub fn restore(at: u32, img: &mut [u8]) -> Result<(), i32> {
    if at == 0 {
        reset(img);
        return Ok(());
    }
    let g = geometry();
    let mut env = [0u8; HEADER as usize];
    guest_mem::read_into(at, &mut env)?;
    let fx_at = at.checked_add(HEADER).ok_or(libc::EFAULT)?;
    let mut data = [0u8; FPU_AREA];
    guest_mem::read_into(fx_at, &mut data[..512])?;
    let mut user = FPSSE;
    let mut size = 512;
    if g.xsave {
        let xsize = get32(&data, SW + 16) as usize;
        let ok = get32(&data, SW) == MAGIC1
            && (XHDR_END..=g.size).contains(&xsize)
            && xsize <= get32(&data, SW + 4) as usize
            && guest_mem::read_u32(fx_at.wrapping_add(xsize as u32)) == Ok(MAGIC2);
        if ok {
            guest_mem::read_into(fx_at, &mut data[..xsize])?;
            user = get64(&data, SW + 8) & g.xfeatures & RESTORABLE;
            size = xsize;
        }
    }
    let mask = match get32(img, 28) {
        0 => 0xffbf,
        m => m,
    };
    if get32(&data, 24) & !mask != 0 {
        return Err(libc::EINVAL);
    }
    // xmm8-15 (288..416) are not i386 state: the image keeps its own.
    img[..288].copy_from_slice(&data[..288]);
    put32(img, 28, mask);
    if g.xsave && img.len() >= XHDR_END {
        let bv = if size > 512 {
            get64(&data, XHDR) & user
        } else {
            FPSSE
        };
        for (i, &(off, len)) in g.comp.iter().enumerate().skip(2) {
            if bv & 1 << i != 0 && off + len <= size.min(img.len()) {
                img[off..off + len].copy_from_slice(&data[off..off + len]);
            }
        }
        let old = get64(img, XHDR);
        put64(img, XHDR, (old & !RESTORABLE) | bv);
        img[XHDR + 8..XHDR_END].fill(0);
    }
    // The x87 state comes from the fnsave header (`convert_to_fxsr`).
    put16(img, 0, get32(&env, 0) as u16);
    put16(img, 2, get32(&env, 4) as u16);
    img[4] = twd_to_fxsr(get32(&env, 8));
    put16(img, 6, (get32(&env, 16) >> 16) as u16);
    put64(img, 8, get32(&env, 12) as u64);
    put64(img, 16, get32(&env, 20) as u64);
    for i in 0..8 {
        img[32 + 16 * i..42 + 16 * i].copy_from_slice(&env[28 + 10 * i..38 + 10 * i]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_words_round_trip() {
        // Two valid registers at the top of the stack (TOS = 6).
        let mut fx = [0u8; 512];
        put16(&mut fx, 2, 6 << 11);
        fx[4] = 0b1100_0000;
        for r in 0..2 {
            put64(&mut fx, 32 + 16 * r, 1 << 63);
            put16(&mut fx, 40 + 16 * r, 0x3fff);
        }
        let full = twd_to_i387(&fx);
        assert_eq!(full, 0xffff_0fff);
        assert_eq!(twd_to_fxsr(full), 0b1100_0000);
        assert_eq!(twd_to_fxsr(0xffff_ffff), 0);
    }

    /// Save an image into a guest frame, change the frame as a handler
    /// would, read it back.
    #[test]
    fn save_and_restore_through_guest_memory() {
        let at_top = 0x6110_0000u32;
        crate::memory::reserve_guest_space().unwrap();
        crate::memory::map_fixed(0x6100_0000, 0x10_0000, libc::PROT_READ | libc::PROT_WRITE)
            .unwrap();
        crate::stubs::init_fpu_mode();
        let ctx = crate::abi::Context::new();
        let mut img = ctx.fpu;
        // st(0) = 1.5 (TOS 7, one valid register), FCW round-down, an
        // xmm1 value, MXCSR round-down.
        put16(&mut img, 0, 0x77f);
        put16(&mut img, 2, 7 << 11);
        img[4] = 0x80;
        put64(&mut img, 32, 0xc000_0000_0000_0000);
        put16(&mut img, 40, 0x3fff);
        put64(&mut img, 176, 0x4002_0000_0000_0000); // xmm1 = 2.25
        put32(&mut img, 24, 0x3f80);
        if xsave() {
            put64(&mut img, XHDR, FPSSE);
        }
        let at = alloc(at_top);
        save(at, &img).unwrap();
        let env = guest_mem::read_bytes(at, HEADER as usize).unwrap();
        assert_eq!(get32(&env, 0), 0xffff_077f);
        assert_eq!(get32(&env, 8) & 0xffff, 0x3fff);
        assert_eq!(get16(&env, 110), 0); // X86_FXSR_MAGIC
        assert_eq!(&env[28..38], &img[32..42]);
        let fx = at + HEADER;
        assert_eq!(guest_mem::read_u32(fx + 24).unwrap(), 0x3f80);
        if xsave() {
            assert_eq!(guest_mem::read_u32(fx + SW as u32).unwrap(), MAGIC1);
            let n = guest_mem::read_u32(fx + SW as u32 + 16).unwrap();
            assert_eq!(guest_mem::read_u32(fx + n).unwrap(), MAGIC2);
        }
        // A handler sets st(0) = 42.0 (in the fnsave header), xmm1 = 7.25
        // and MXCSR (in the image), and FCW.
        guest_mem::write_bytes(at + 28, &[0, 0, 0, 0, 0, 0, 0, 0xa8, 0x04, 0x40]).unwrap();
        guest_mem::write_u32(at, 0xc7f).unwrap();
        guest_mem::write_u64(fx + 176, 0x401d_0000_0000_0000).unwrap();
        guest_mem::write_u32(fx + 24, 0x7f80).unwrap();
        let mut back = crate::abi::Context::new().fpu;
        restore(at, &mut back).unwrap();
        assert_eq!(get16(&back, 0), 0xc7f);
        assert_eq!(get64(&back, 32), 0xa800_0000_0000_0000);
        assert_eq!(get16(&back, 40), 0x4004);
        assert_eq!(back[4], 0x80);
        assert_eq!(get64(&back, 176), 0x401d_0000_0000_0000);
        assert_eq!(get32(&back, 24), 0x7f80);
        if xsave() {
            assert_eq!(get64(&back, XHDR) & FPSSE, FPSSE);
            assert!(back[XHDR + 8..XHDR_END].iter().all(|&b| b == 0));
        }
        // Reserved MXCSR bits: refused, nothing changed.
        guest_mem::write_u32(fx + 24, 0xdead_0000).unwrap();
        let before = back;
        assert_eq!(restore(at, &mut back), Err(libc::EINVAL));
        assert!(before == back);
        // A bad frame address: EFAULT.
        assert_eq!(restore(0xffff_fff0, &mut back), Err(libc::EFAULT));
        // No fpstate: the initial state.
        restore(0, &mut back).unwrap();
        assert_eq!((get16(&back, 0), get32(&back, 24)), (0x37f, 0x1f80));
    }

    #[test]
    fn alloc_aligns_the_image() {
        let a = alloc(0x1000_0000);
        assert_eq!((a + HEADER) % 64, 0);
        assert!(a + HEADER + math_size(&geometry()) <= 0x1000_0000);
    }
}
