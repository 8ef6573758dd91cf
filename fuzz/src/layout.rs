//! The guest program's memory layout and the output record: the whole
//! contract between the program builder (`program`), the generator (`gen`,
//! which must keep every memory access inside the window) and the comparator
//! (`compare`, which parses the records). Change it here and nowhere else.
//!
//! ```text
//! CODE_BASE  ELF headers, then the code of every case, then exit_group   (r-x)
//! DATA_BASE  WIN      window: what the cases may read and write          (rw-)
//!            OUT      the record of the case that just ran (written out)
//!            IN       per case: popad image (8 dwords) + EFLAGS (+ pad)
//!            JT       start address of every case, then of the exit
//!            FX       fxsave images, fxrstor'd by the cases
//!            POOL     random bytes; each case copies its window from here
//!            ALT      the alternate signal stack of the fault handler
//! ```
//!
//! A case that faults dies of its signal after a handler (on ALT) wrote
//! the fault record (`FAULT_REC`): signal, guest EIP, si_code, si_addr, so
//! faults are compared by where and how they happened, not only by signal.
//!
//! The page below `DATA_BASE` is unmapped, so an access below the window
//! faults instead of passing silently. The window is split in a data half
//! (explicit memory operands, string ops) and a stack half (esp starts in
//! it); the generator keeps every access at least `MARGIN` bytes inside.
//!
//! One record per case, written with `write(1, OUT, REC_LEN)` right after
//! the case, so a crash shows which case it happened in:
//!
//! | offset | size | what                                                   |
//! |--------|------|--------------------------------------------------------|
//! | 0      | 32   | pushad image: edi esi ebp (esp, ignored) ebx edx ecx eax |
//! | 32     | 4    | EFLAGS (pushfd)                                        |
//! | 36     | 4    | esp after the case                                     |
//! | 40     | 4    | case index                                             |
//! | 44     | 4    | `MAGIC`                                                |
//! | 48     | 512  | fxsave area (x87, MMX, xmm0-7, MXCSR)                  |
//! | 560    | 128  | upper halves of ymm0-7 (zero when the host has no AVX) |
//! | 688    | 2048 | the window                                             |

/// Where the code segment (and the ELF headers) is loaded.
pub const CODE_BASE: u32 = 0x0804_8000;
/// Where the data segment starts; the page below is unmapped.
pub const DATA_BASE: u32 = 0x1000_0000;
/// The window every case may access.
pub const WIN: u32 = DATA_BASE;
pub const WIN_SIZE: u32 = 2048;
/// The data half of the window: [WIN, WIN_DATA_END).
pub const WIN_DATA_END: u32 = WIN + WIN_SIZE / 2;
/// Accesses stay this far inside the window.
pub const MARGIN: u32 = 64;
/// Initial esp lies in [ESP_LO, ESP_HI).
pub const ESP_LO: u32 = WIN + WIN_SIZE * 5 / 8;
pub const ESP_HI: u32 = WIN + WIN_SIZE * 7 / 8;
/// Lowest and highest esp a case may reach (pushes and pops are bounded).
pub const ESP_MIN: u32 = WIN_DATA_END + MARGIN;
pub const ESP_MAX: u32 = WIN + WIN_SIZE - MARGIN;
/// The output record buffer.
pub const OUT: u32 = DATA_BASE + 0x1000;
/// Where the entry stub reads the index of the first case to run (from
/// stdin; 0 if stdin is empty).
pub const START: u32 = OUT + 0xc00;
/// The fault record a guest signal handler writes before the program dies
/// of the signal (`FAULT_LEN` bytes: `FAULT_MAGIC`, signal, EIP from the
/// ucontext, si_code, si_addr).
pub const FAULT_REC: u32 = START + 0x10;
pub const FAULT_LEN: usize = 20;
pub const FAULT_MAGIC: u32 = 0xfa17_c0de;
/// The i386 `struct sigaction` the entry installs for the fault signals.
pub const SIGACT: u32 = START + 0x40;
/// The `stack_t` of the alternate signal stack.
pub const SIGALT: u32 = START + 0x60;
/// Size of the alternate signal stack (after the pool).
pub const ALT_SIZE: u32 = 64 * 1024;
/// Signals whose handler writes the fault record: SIGILL, SIGTRAP, SIGBUS,
/// SIGFPE, SIGSEGV.
pub const FAULT_SIGNALS: [u32; 5] = [4, 5, 7, 8, 11];

/// First per-case input slot.
pub const IN: u32 = DATA_BASE + 0x2000;
/// Bytes per input slot.
pub const IN_SLOT: u32 = 48;
/// Number of fxsave images per program.
pub const FX_COUNT: u32 = 32;
/// Size of the random pool the windows are copied from.
pub const POOL_SIZE: u32 = 64 * 1024;

pub const REC_GPRS: usize = 0;
pub const REC_EFLAGS: usize = 32;
pub const REC_ESP: usize = 36;
pub const REC_CASE: usize = 40;
pub const REC_MAGIC: usize = 44;
pub const REC_FX: usize = 48;
pub const REC_YMMH: usize = 560;
pub const REC_WIN: usize = 688;
pub const REC_LEN: usize = REC_WIN + WIN_SIZE as usize;
pub const MAGIC: u32 = 0xf022_c0de;

/// Addresses of the per-program tables, which depend on the case count.
#[derive(Clone, Copy, Debug)]
pub struct Tables {
    pub jt: u32,
    pub fx: u32,
    pub pool: u32,
    /// The alternate signal stack (a signal frame does not fit below esp:
    /// the page under the window is unmapped).
    pub alt: u32,
    pub end: u32,
}

impl Tables {
    pub fn new(cases: usize) -> Tables {
        let jt = IN + cases as u32 * IN_SLOT;
        let fx = (jt + 4 * (cases as u32 + 1) + 0xfff) & !0xfff;
        let pool = fx + FX_COUNT * 512;
        let alt = pool + POOL_SIZE;
        Tables {
            jt,
            fx,
            pool,
            alt,
            end: alt + ALT_SIZE,
        }
    }
}

/// Order of the general registers in a `[u32; 8]` state: iced's (and the
/// i386 encoding's) order eax ecx edx ebx esp ebp esi edi.
pub const GPR_NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

/// Index of each register (in `GPR_NAMES` order) in a pushad/popad image.
pub const PUSHAD_SLOT: [usize; 8] = [7, 6, 5, 4, 3, 2, 1, 0];
