//! Comparing a case's final state from a translated run with the native
//! one. Masked: the flags the sequence left undefined (EFLAGS and x87
//! C0-C3, from `Sim`), the FPU instruction and data pointers with their
//! selectors (fxsave bytes 8..24: translated code stores host addresses
//! there), and fxsave bytes 288..512 (xmm8-15 and reserved space: written
//! by a 64-bit fxsave, untouched by a 32-bit one). Unless strict, also the
//! 16 stack bytes around esp at each pushf/popf: rehost lowers them through
//! a 64-bit pushfq/popfq that writes below the guest esp, which i386 leaves
//! unspecified (a signal frame may land there); the bytes stay different
//! after esp moves down again (enter, sub esp), so the mask stays too.

use crate::layout::{GPR_NAMES, WIN, WIN_SIZE};
use crate::sim::{eflags_bits, fsw_bits};
use crate::state::Record;

/// fxsave byte ranges that are never compared.
const FX_MASKED: [(usize, usize); 2] = [(8, 24), (288, 512)];

/// Bytes of the fxsave area, named for reports.
fn fx_field(at: usize) -> String {
    match at {
        0..=1 => "fcw".into(),
        2..=3 => "fsw".into(),
        4 => "ftw".into(),
        6..=7 => "fop".into(),
        24..=27 => "mxcsr".into(),
        28..=31 => "mxcsr_mask".into(),
        32..=159 => format!("st{}/mm{}", (at - 32) / 16, (at - 32) / 16),
        160..=287 => format!("xmm{}", (at - 160) / 16),
        _ => format!("fx+{at}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().rev().map(|x| format!("{x:02x}")).collect()
}

/// What a comparison ignores besides the fixed fxsave fields.
#[derive(Clone, Debug)]
pub struct Mask {
    /// Undefined flags (iced `RflagsBits`) at the end of the case.
    pub undef: u32,
    /// Window ranges not compared (rehost's pushf/popf scratch).
    pub skip: Vec<(u32, u32)>,
    /// General registers not compared (`Sim::unknown`).
    pub regs: u8,
}

/// Differences between `want` (native) and `got`, one line each; empty if
/// the states agree.
pub fn diff(want: &Record, got: &Record, mask: &Mask) -> Vec<String> {
    let undef = mask.undef;
    let mut d = Vec::new();
    for (n, (name, (w, g))) in GPR_NAMES
        .iter()
        .zip(want.gprs.iter().zip(&got.gprs))
        .enumerate()
    {
        if w != g && mask.regs >> n & 1 == 0 {
            d.push(format!("{name}: expected {w:08x}, got {g:08x}"));
        }
    }
    let fmask = !eflags_bits(undef);
    if (want.eflags ^ got.eflags) & fmask != 0 {
        d.push(format!(
            "eflags: expected {:08x}, got {:08x} (differ in {:08x}, undefined {:08x})",
            want.eflags,
            got.eflags,
            (want.eflags ^ got.eflags) & fmask,
            !fmask
        ));
    }
    let fsw_mask = !fsw_bits(undef);
    let mut fx_want = want.fx.clone();
    let mut fx_got = got.fx.clone();
    for (lo, hi) in FX_MASKED {
        fx_want[lo..hi].fill(0);
        fx_got[lo..hi].fill(0);
    }
    for fx in [&mut fx_want, &mut fx_got] {
        let fsw = u16::from_le_bytes([fx[2], fx[3]]) & fsw_mask;
        fx[2..4].copy_from_slice(&fsw.to_le_bytes());
    }
    let mut at = 0;
    while at < 512 {
        let (lo, hi) = field_range(at);
        if fx_want[lo..hi] != fx_got[lo..hi] {
            d.push(format!(
                "{}: expected {}, got {}",
                fx_field(lo),
                hex(&fx_want[lo..hi]),
                hex(&fx_got[lo..hi])
            ));
        }
        at = hi;
    }
    for n in 0..8 {
        let (w, g) = (
            &want.ymmh[16 * n..16 * n + 16],
            &got.ymmh[16 * n..16 * n + 16],
        );
        if w != g {
            d.push(format!(
                "ymm{n}[255:128]: expected {}, got {}",
                hex(w),
                hex(g)
            ));
        }
    }
    let (mut win_want, mut win_got) = (want.win.clone(), got.win.clone());
    for &(lo, hi) in &mask.skip {
        let lo = (lo.clamp(WIN, WIN + WIN_SIZE) - WIN) as usize;
        let hi = (hi.clamp(WIN, WIN + WIN_SIZE) - WIN) as usize;
        if lo < hi {
            win_want[lo..hi].fill(0);
            win_got[lo..hi].fill(0);
        }
    }
    let (want_win, got_win) = (&win_want, &win_got);
    let mut shown = 0;
    let mut k = 0;
    while k < want_win.len() {
        if want_win[k] == got_win[k] {
            k += 1;
            continue;
        }
        let start = k;
        while k < want_win.len() && want_win[k] != got_win[k] && k - start < 16 {
            k += 1;
        }
        if shown < 8 {
            d.push(format!(
                "memory {:#x}..{:#x}: expected {}, got {} (bytes in memory order)",
                WIN as usize + start,
                WIN as usize + k,
                want_win[start..k]
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<String>(),
                got_win[start..k]
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<String>(),
            ));
        }
        shown += 1;
    }
    if shown > 8 {
        d.push(format!("... and {} more differing memory runs", shown - 8));
    }
    d
}

/// The fxsave field containing byte `at`: [lo, hi).
fn field_range(at: usize) -> (usize, usize) {
    match at {
        0..=1 => (0, 2),
        2..=3 => (2, 4),
        4 => (4, 5),
        5 => (5, 6),
        6..=7 => (6, 8),
        8..=23 => (8, 24),
        24..=27 => (24, 28),
        28..=31 => (28, 32),
        32..=159 => {
            let lo = 32 + (at - 32) / 16 * 16;
            (lo, lo + 16)
        }
        160..=287 => {
            let lo = 160 + (at - 160) / 16 * 16;
            (lo, lo + 16)
        }
        _ => (at, 512),
    }
}
