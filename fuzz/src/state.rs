//! Guest CPU state on both ends of a case: random initial states (general
//! registers, EFLAGS, fxsave images, the pool windows are copied from) and
//! the parsed output record (layout in `layout`).

use crate::layout::*;
use crate::rng::Rng;

/// Arithmetic flags: CF PF AF ZF SF OF.
pub const ARITH_FLAGS: u32 = 0x8d5;
pub const DF: u32 = 0x400;

/// The initial state of one case, before its window and fx image are
/// resolved: registers in `GPR_NAMES` order (esp = initial esp).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Init {
    pub gprs: [u32; 8],
    pub eflags: u32,
    /// Index of the fxsave image in the program's table.
    pub fx: u32,
    /// Offset in the pool the window is copied from.
    pub pool_off: u32,
}

impl Init {
    pub fn random(rng: &mut Rng) -> Init {
        let mut gprs = [0u32; 8];
        for g in gprs.iter_mut() {
            *g = rng.interesting32();
        }
        gprs[4] = ESP_LO + rng.below((ESP_HI - ESP_LO) as u64) as u32;
        if rng.chance(3, 4) {
            gprs[4] &= !3;
        }
        let eflags = 0x202 | (rng.u32() & (ARITH_FLAGS | DF));
        Init {
            gprs,
            eflags,
            fx: rng.below(FX_COUNT as u64) as u32,
            pool_off: rng.below(((POOL_SIZE - WIN_SIZE) / 4) as u64) as u32 * 4,
        }
    }
}

/// A random 32-bit float pattern, edge cases first.
pub fn f32_bits(rng: &mut Rng) -> u32 {
    let sign = (rng.below(2) as u32) << 31;
    sign | match rng.below(12) {
        0 => 0,
        1 => 0x3f80_0000,                           // 1.0
        2 => 0x7f80_0000,                           // inf
        3 => 0x7fc0_0000 | (rng.u32() & 0x3f_ffff), // qNaN
        4 => 0x7f80_0001 | (rng.u32() & 0x3f_ffff), // sNaN
        5 => rng.u32() & 0x7f_ffff,                 // denormal
        6 => rng.pick(&[
            0x3f00_0000,
            0x3fc0_0000,
            0x4020_0000,
            0x4f00_0000,
            0x7f7f_ffff,
        ]),
        _ => ((100 + rng.below(60) as u32) << 23) | (rng.u32() & 0x7f_ffff),
    }
}

/// A random 64-bit float pattern, edge cases first.
pub fn f64_bits(rng: &mut Rng) -> u64 {
    let sign = rng.below(2) << 63;
    let frac = rng.u64() & 0xf_ffff_ffff_ffff;
    sign | match rng.below(12) {
        0 => 0,
        1 => 0x3ff0_0000_0000_0000,
        2 => 0x7ff0_0000_0000_0000,
        3 => 0x7ff8_0000_0000_0000 | (frac >> 1),
        4 => 0x7ff0_0000_0000_0001 | (frac >> 1),
        5 => frac,
        6 => rng.pick(&[
            0x3fe0_0000_0000_0000,
            0x41e0_0000_0000_0000,
            0x43e0_0000_0000_0000,
        ]),
        _ => ((1000 + rng.below(60)) << 52) | frac,
    }
}

/// 16 random bytes, as float, double or integer lanes.
pub fn vec128(rng: &mut Rng) -> [u8; 16] {
    let mut b = [0u8; 16];
    match rng.below(4) {
        0 => {
            for k in 0..4 {
                b[4 * k..4 * k + 4].copy_from_slice(&f32_bits(rng).to_le_bytes());
            }
        }
        1 => {
            for k in 0..2 {
                b[8 * k..8 * k + 8].copy_from_slice(&f64_bits(rng).to_le_bytes());
            }
        }
        2 => {
            for k in 0..4 {
                b[4 * k..4 * k + 4].copy_from_slice(&rng.interesting32().to_le_bytes());
            }
        }
        _ => rng.fill(&mut b),
    }
    b
}

/// An 80-bit x87 register value (10 bytes, in a 16-byte slot).
fn x87_reg(rng: &mut Rng) -> [u8; 16] {
    let mut b = [0u8; 16];
    let sign = (rng.below(2) as u16) << 15;
    let (mant, exp): (u64, u16) = match rng.below(10) {
        0 => (0, 0),
        1 => (1 << 63, 0x7fff),               // inf
        2 => (0xc000_0000_0000_0000, 0x7fff), // qNaN
        3 => (rng.u64() >> 1, 0),             // denormal
        4 => (rng.u64(), 0xffff),             // MMX-looking
        5 => (1 << 63 | rng.u64() >> 40, 0x3fff + rng.below(32) as u16), // small integers
        _ => (1 << 63 | rng.u64(), 0x3fc0 + rng.below(128) as u16),
    };
    b[..8].copy_from_slice(&mant.to_le_bytes());
    b[8..10].copy_from_slice(&((exp & 0x7fff) | sign).to_le_bytes());
    b
}

/// A random fxsave image that fxrstor accepts: every x87 and SSE exception
/// masked (the cases must not fault), random rounding, precision, flags,
/// stack top, tags, registers and MXCSR.
pub fn fx_image(rng: &mut Rng) -> [u8; 512] {
    let mut fx = [0u8; 512];
    let pc = rng.pick(&[0u16, 2, 3]);
    let fcw = 0x7f | pc << 8 | (rng.below(4) as u16) << 10;
    let mut fsw = (rng.u32() as u16) & 0x4700 | (rng.below(8) as u16) << 11;
    if rng.chance(1, 4) {
        fsw |= rng.u32() as u16 & 0x7f;
    }
    let ftw = match rng.below(4) {
        0 => 0u8,
        1 => 0xff,
        _ => rng.u32() as u8,
    };
    let mut mxcsr = 0x1f80 | (rng.below(4) as u32) << 13;
    if rng.chance(1, 4) {
        mxcsr |= 1 << 15; // FZ
    }
    if rng.chance(1, 4) {
        mxcsr |= 1 << 6; // DAZ
    }
    if rng.chance(1, 4) {
        mxcsr |= rng.u32() & 0x3f;
    }
    fx[0..2].copy_from_slice(&fcw.to_le_bytes());
    fx[2..4].copy_from_slice(&fsw.to_le_bytes());
    fx[4] = ftw;
    fx[24..28].copy_from_slice(&mxcsr.to_le_bytes());
    for i in 0..8 {
        fx[32 + 16 * i..48 + 16 * i].copy_from_slice(&x87_reg(rng));
        fx[160 + 16 * i..176 + 16 * i].copy_from_slice(&vec128(rng));
    }
    fx
}

/// The pool the windows are copied from: dwords of integers, floats and
/// random bytes mixed, so memory operands see edge values too.
pub fn pool(rng: &mut Rng) -> Vec<u8> {
    let mut p = vec![0u8; POOL_SIZE as usize];
    for chunk in p.chunks_mut(16) {
        chunk.copy_from_slice(&vec128(rng));
    }
    p
}

/// One parsed output record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// In `GPR_NAMES` order; esp is the esp after the case.
    pub gprs: [u32; 8],
    pub eflags: u32,
    pub case: u32,
    pub fx: Vec<u8>,
    pub ymmh: Vec<u8>,
    pub win: Vec<u8>,
}

fn dword(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

impl Record {
    /// Parses one `REC_LEN`-byte record; None if its magic is wrong.
    pub fn parse(b: &[u8]) -> Option<Record> {
        if b.len() < REC_LEN || dword(b, REC_MAGIC) != MAGIC {
            return None;
        }
        let mut gprs = [0u32; 8];
        for (r, g) in gprs.iter_mut().enumerate() {
            *g = dword(b, REC_GPRS + 4 * PUSHAD_SLOT[r]);
        }
        gprs[4] = dword(b, REC_ESP);
        Some(Record {
            gprs,
            eflags: dword(b, REC_EFLAGS),
            case: dword(b, REC_CASE),
            fx: b[REC_FX..REC_FX + 512].to_vec(),
            ymmh: b[REC_YMMH..REC_YMMH + 128].to_vec(),
            win: b[REC_WIN..REC_LEN].to_vec(),
        })
    }
}
