//! i386 per-task structures: rlimit, user_desc, sigaction, stack_t,
//! sysinfo, rusage, tms (part of `structs`; same rules: repr(C), sizes and
//! offsets pinned below).

use super::{Plain, Timeval32};
use std::mem::{offset_of, size_of};

/// i386 `struct rlimit` {u32 cur, u32 max}; 0xffffffff is RLIM_INFINITY.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Rlimit32 {
    pub cur: u32,
    pub max: u32,
}

/// `struct user_desc` {entry_number, base_addr, limit, flag bits}: 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct UserDesc {
    pub entry_number: u32,
    pub base_addr: u32,
    pub limit: u32,
    pub flags: u32,
}

/// i386 kernel `struct sigaction` (rt_sigaction): handler, flags, restorer,
/// 64-bit mask at offset 12; 20 bytes.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Default, Debug)]
pub struct Sigaction32 {
    pub handler: u32,
    pub flags: u32,
    pub restorer: u32,
    pub mask: u64,
}

/// i386 `stack_t` {u32 ss_sp, i32 ss_flags, u32 ss_size}: 12 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Stack32 {
    pub sp: u32,
    pub flags: i32,
    pub size: u32,
}

/// i386 `struct sysinfo`: 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Sysinfo32 {
    pub uptime: i32,
    pub loads: [u32; 3],
    pub totalram: u32,
    pub freeram: u32,
    pub sharedram: u32,
    pub bufferram: u32,
    pub totalswap: u32,
    pub freeswap: u32,
    pub procs: u16,
    pub pad: u16,
    pub totalhigh: u32,
    pub freehigh: u32,
    pub mem_unit: u32,
    pub f: [u8; 8],
}

/// As the kernel's `compat_sysinfo`: if a size does not fit 32 bits, grow
/// mem_unit (up to the page size) and scale the sizes down.
pub fn sysinfo_from(h: &libc::sysinfo) -> Sysinfo32 {
    let mut unit = h.mem_unit as u64;
    let mut shift = 0;
    let sizes = [
        h.totalram,
        h.freeram,
        h.sharedram,
        h.bufferram,
        h.totalswap,
        h.freeswap,
        h.totalhigh,
        h.freehigh,
    ];
    if sizes.iter().any(|&v| v >> 32 != 0) {
        while unit < 4096 {
            unit <<= 1;
            shift += 1;
        }
    }
    let s = |v: u64| (v >> shift) as u32;
    Sysinfo32 {
        uptime: h.uptime as i32,
        loads: [h.loads[0] as u32, h.loads[1] as u32, h.loads[2] as u32],
        totalram: s(h.totalram),
        freeram: s(h.freeram),
        sharedram: s(h.sharedram),
        bufferram: s(h.bufferram),
        totalswap: s(h.totalswap),
        freeswap: s(h.freeswap),
        procs: h.procs,
        pad: 0,
        totalhigh: s(h.totalhigh),
        freehigh: s(h.freehigh),
        mem_unit: unit as u32,
        f: [0; 8],
    }
}

/// i386 `struct rusage`: two timevals and 14 longs, 72 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Rusage32 {
    pub utime: Timeval32,
    pub stime: Timeval32,
    pub rest: [i32; 14],
}

pub fn rusage_from(h: &libc::rusage) -> Rusage32 {
    let r = [
        h.ru_maxrss,
        h.ru_ixrss,
        h.ru_idrss,
        h.ru_isrss,
        h.ru_minflt,
        h.ru_majflt,
        h.ru_nswap,
        h.ru_inblock,
        h.ru_oublock,
        h.ru_msgsnd,
        h.ru_msgrcv,
        h.ru_nsignals,
        h.ru_nvcsw,
        h.ru_nivcsw,
    ];
    Rusage32 {
        utime: Timeval32::from_host(&h.ru_utime),
        stime: Timeval32::from_host(&h.ru_stime),
        rest: r.map(|v| v as i32),
    }
}

/// i386 `struct tms`: four 32-bit clock_t.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Tms32 {
    pub t: [i32; 4],
}

// SAFETY (all): repr(C) integer-only structs without implicit padding, as
// the size asserts below check.
unsafe impl Plain for Rlimit32 {}
unsafe impl Plain for UserDesc {}
unsafe impl Plain for Sigaction32 {}
unsafe impl Plain for Stack32 {}
unsafe impl Plain for Sysinfo32 {}
unsafe impl Plain for Rusage32 {}
unsafe impl Plain for Tms32 {}

const _: () = {
    assert!(size_of::<Rlimit32>() == 8);
    assert!(size_of::<Tms32>() == 16);
    assert!(offset_of!(Sigaction32, mask) == 12);
    assert!(size_of::<UserDesc>() == 16);
    assert!(size_of::<Sigaction32>() == 20);
    assert!(size_of::<Stack32>() == 12);
    assert!(size_of::<Sysinfo32>() == 64);
    assert!(offset_of!(Sysinfo32, mem_unit) == 52);
    assert!(size_of::<Rusage32>() == 72);
};

/// Size of `siginfo_t` on both (the union layout differs).
pub const SIGINFO_SIZE: usize = 128;

/// Which union member a siginfo carries (the kernel's `siginfo_layout`).
enum Layout {
    Kill,
    Timer,
    Rt,
    Chld,
    Fault,
    Poll,
    Sys,
}

fn layout(sig: u32, code: i32) -> Layout {
    const SI_TIMER: i32 = -2;
    const SI_SIGIO: i32 = -5;
    if code > 0 && code < 0x80 {
        match sig {
            4 | 5 | 7 | 8 | 11 => Layout::Fault,
            17 => Layout::Chld,
            29 => Layout::Poll,
            31 => Layout::Sys,
            _ if code <= 6 => Layout::Poll,
            _ => Layout::Kill,
        }
    } else if code == SI_TIMER {
        Layout::Timer
    } else if code == SI_SIGIO {
        Layout::Poll
    } else if code < 0 {
        Layout::Rt
    } else {
        Layout::Kill
    }
}

/// The host's `siginfo_t` (x86-64) in i386 `compat_siginfo` form, as the
/// kernel's `copy_siginfo_to_external32`: the union moves from offset 16 to
/// 12, and longs, pointers and clock_t shrink to 32 bits. The layout is
/// chosen from (signal, si_code) like the kernel's `siginfo_layout`.
pub fn siginfo_to_i386(h: &[u8; SIGINFO_SIZE]) -> [u8; SIGINFO_SIZE] {
    let rd32 = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
    let rd64 = |o: usize| u64::from_le_bytes(h[o..o + 8].try_into().unwrap_or([0; 8]));
    let mut g = [0u8; SIGINFO_SIZE];
    g[..12].copy_from_slice(&h[..12]);
    let (sig, code) = (rd32(0), rd32(8) as i32);
    let mut put = |o: usize, v: u32| g[o..o + 4].copy_from_slice(&v.to_le_bytes());
    match layout(sig, code) {
        Layout::Kill => {
            put(12, rd32(16));
            put(16, rd32(20));
        }
        Layout::Timer | Layout::Rt => {
            // tid/overrun or pid/uid, then the (low half of the) sigval.
            put(12, rd32(16));
            put(16, rd32(20));
            put(20, rd64(24) as u32);
        }
        Layout::Chld => {
            put(12, rd32(16));
            put(16, rd32(20));
            put(20, rd32(24));
            put(24, rd64(32) as u32);
            put(28, rd64(40) as u32);
        }
        Layout::Fault => {
            // addr, then addr_lsb / bounds / pkey, each shrunk.
            put(12, rd64(16) as u32);
            put(16, rd32(24) & 0xffff);
            put(20, rd64(32) as u32);
            put(24, rd64(40) as u32);
        }
        Layout::Poll => {
            put(12, rd64(16) as u32);
            put(16, rd32(24));
        }
        Layout::Sys => {
            put(12, rd64(16) as u32);
            put(16, rd32(24));
            put(20, rd32(28));
        }
    }
    g
}

/// An i386 `compat_siginfo` in the host's layout, as the kernel's
/// `copy_siginfo_from_user32` (rt_sigqueueinfo and friends): the union
/// moves from offset 12 to 16; longs and clock_t are sign-extended,
/// pointers zero-extended, a sigval keeps its int (upper half zero).
pub fn siginfo_from_i386(g: &[u8; SIGINFO_SIZE]) -> [u8; SIGINFO_SIZE] {
    let rd32 = |o: usize| u32::from_le_bytes([g[o], g[o + 1], g[o + 2], g[o + 3]]);
    let mut h = [0u8; SIGINFO_SIZE];
    h[..12].copy_from_slice(&g[..12]);
    let (sig, code) = (rd32(0), rd32(8) as i32);
    let put32 = |h: &mut [u8; SIGINFO_SIZE], o: usize, v: u32| {
        h[o..o + 4].copy_from_slice(&v.to_le_bytes())
    };
    let put64 = |h: &mut [u8; SIGINFO_SIZE], o: usize, v: u64| {
        h[o..o + 8].copy_from_slice(&v.to_le_bytes())
    };
    let sext = |v: u32| v as i32 as i64 as u64;
    match layout(sig, code) {
        Layout::Kill => {
            put32(&mut h, 16, rd32(12));
            put32(&mut h, 20, rd32(16));
        }
        Layout::Timer | Layout::Rt => {
            put32(&mut h, 16, rd32(12));
            put32(&mut h, 20, rd32(16));
            put32(&mut h, 24, rd32(20));
        }
        Layout::Chld => {
            put32(&mut h, 16, rd32(12));
            put32(&mut h, 20, rd32(16));
            put32(&mut h, 24, rd32(20));
            put64(&mut h, 32, sext(rd32(24)));
            put64(&mut h, 40, sext(rd32(28)));
        }
        Layout::Fault => {
            put64(&mut h, 16, rd32(12) as u64);
        }
        Layout::Poll => {
            put64(&mut h, 16, sext(rd32(12)));
            put32(&mut h, 24, rd32(16));
        }
        Layout::Sys => {
            put64(&mut h, 16, rd32(12) as u64);
            put32(&mut h, 24, rd32(16));
            put32(&mut h, 28, rd32(20));
        }
    }
    h
}
