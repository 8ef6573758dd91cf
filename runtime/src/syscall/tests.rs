//! System calls driven through `handle` as translated code would, with
//! guest buffers in real guest space (each test uses its own addresses).

use super::*;
use crate::guest_mem as gm;
use crate::memory;

mod ipc_net_calls;
mod memory_calls;

pub(super) fn call(ctx: &mut Context, nr: u32, a: [u32; 6]) -> i32 {
    ctx.set_reg(reg::EAX, nr);
    for (r, v) in [reg::EBX, reg::ECX, reg::EDX, reg::ESI, reg::EDI, reg::EBP]
        .into_iter()
        .zip(a)
    {
        ctx.set_reg(r, v);
    }
    handle(ctx);
    ctx.reg(reg::EAX) as i32
}

/// Map `len` bytes of read-write guest memory at `addr`.
pub(super) fn scratch(addr: u32, len: u32) -> Box<Context> {
    memory::reserve_guest_space().unwrap();
    memory::map_fixed(addr, len, libc::PROT_READ | libc::PROT_WRITE).unwrap();
    Context::new()
}

fn cstr(addr: u32, s: &str) -> u32 {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    gm::write_bytes(addr, &v).unwrap();
    addr
}

#[test]
fn table_is_sorted_and_named() {
    assert!(table::TABLE.windows(2).all(|w| w[0].nr < w[1].nr));
    assert_eq!(name(1), Some("exit"));
    assert_eq!(name(252), Some("exit_group"));
    assert_eq!(name(192), Some("mmap2"));
    assert_eq!(name(383), Some("statx"));
    assert_eq!(name(403), Some("clock_gettime64"));
    assert_eq!(name(422), Some("futex_time64"));
    assert_eq!(name(415), None);
    assert_eq!(name(100_000), None);
}

#[test]
fn basic_calls() {
    let a = 0x5200_0000;
    let mut ctx = scratch(a, 0x1000);
    assert_eq!(call(&mut ctx, 20, [0; 6]), std::process::id() as i32);
    assert_eq!(call(&mut ctx, 9999, [0; 6]), -libc::ENOSYS);
    // clone(CLONE_SIGHAND) without CLONE_VM: refused before any fork.
    assert_eq!(call(&mut ctx, 120, [0x800, 0, 0, 0, 0, 0]), -libc::EINVAL);
    assert_eq!(call(&mut ctx, 311, [0; 6]), -libc::ENOSYS);
    assert_eq!(call(&mut ctx, 386, [0; 6]), -libc::ENOSYS);
    // write(1, unmapped, 4) -> EFAULT from the host kernel.
    assert_eq!(
        call(&mut ctx, 4, [1, 0x5300_0000, 4, 0, 0, 0]),
        -libc::EFAULT
    );
    // A buffer running past 4 GiB is cut there; the kernel faults on the
    // reservation.
    assert_eq!(
        call(&mut ctx, 4, [1, 0xffff_fff0, 0x20, 0, 0, 0]),
        -libc::EFAULT
    );
    // clock_gettime(CLOCK_MONOTONIC, a) / clock_gettime64
    assert_eq!(call(&mut ctx, 265, [1, a, 0, 0, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 403, [1, a, 0, 0, 0, 0]), 0);
    assert_eq!(
        call(&mut ctx, 265, [1, 0x5300_0000, 0, 0, 0, 0]),
        -libc::EFAULT
    );
    // uname
    assert_eq!(call(&mut ctx, 122, [a, 0, 0, 0, 0, 0]), 0);
    assert_eq!(gm::read_cstr(a), Ok(b"Linux".to_vec()));
    // time(&t) agrees with its result.
    let t = call(&mut ctx, 13, [a, 0, 0, 0, 0, 0]);
    assert_eq!(gm::read_u32(a), Ok(t as u32));
    // ugetrlimit(RLIMIT_NOFILE) fits 32 bits; getrlimit clamps to 0x7fffffff.
    assert_eq!(call(&mut ctx, 191, [libc::RLIMIT_NOFILE, a, 0, 0, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 76, [libc::RLIMIT_AS, a, 0, 0, 0, 0]), 0);
    assert!(gm::read_u32(a + 4).unwrap() <= 0x7fff_ffff);
    // getrandom
    assert_eq!(call(&mut ctx, 355, [a, 16, 0, 0, 0, 0]), 16);
}

#[test]
fn thread_area() {
    let a = 0x5210_0000;
    let mut ctx = scratch(a, 0x1000);
    let desc = |e: u32, base: u32, flags: u32| {
        let mut v = Vec::new();
        for w in [e, base, 0xfffff, flags] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        gm::write_bytes(a, &v).unwrap();
    };
    desc(u32::MAX, 0x1000, 0x51);
    assert_eq!(call(&mut ctx, 243, [a, 0, 0, 0, 0, 0]), 0);
    assert_eq!(gm::read_u32(a), Ok(12));
    assert_eq!(ctx.tls[0].base, 0x1000);
    assert_eq!(segment_base(&ctx, 0x63), Some(0x1000));
    assert_eq!(segment_base(&ctx, 0x6b), None);
    // The next -1 gets 13; a loaded selector sees a changed base at once.
    desc(u32::MAX, 0x2000, 0x51);
    assert_eq!(call(&mut ctx, 243, [a, 0, 0, 0, 0, 0]), 0);
    assert_eq!(gm::read_u32(a), Ok(13));
    ctx.sel[crate::abi::seg::GS] = 0x63;
    desc(12, 0x3000, 0x51);
    assert_eq!(call(&mut ctx, 243, [a, 0, 0, 0, 0, 0]), 0);
    assert_eq!(ctx.gs_base, 0x3000);
    // Bad entry, 16-bit segment.
    desc(5, 0, 0x51);
    assert_eq!(call(&mut ctx, 243, [a, 0, 0, 0, 0, 0]), -libc::EINVAL);
    desc(14, 0x1000, 0x50);
    assert_eq!(call(&mut ctx, 243, [a, 0, 0, 0, 0, 0]), -libc::EINVAL);
    // get_thread_area
    desc(13, 0, 0);
    assert_eq!(call(&mut ctx, 244, [a, 0, 0, 0, 0, 0]), 0);
    assert_eq!(gm::read_u32(a + 4), Ok(0x2000));
    assert_eq!(gm::read_u32(a + 12), Ok(0x51));
    desc(14, 0, 0);
    assert_eq!(call(&mut ctx, 244, [a, 0, 0, 0, 0, 0]), 0);
    assert_eq!(gm::read_u32(a + 12), Ok(0x28));
    // Clearing slot 12 with an empty descriptor.
    desc(12, 0, 0x28);
    gm::write_u32(a + 8, 0).unwrap();
    assert_eq!(call(&mut ctx, 243, [a, 0, 0, 0, 0, 0]), 0);
    assert_eq!(ctx.tls[0].used, 0);
}

#[test]
fn files() {
    let a = 0x5220_0000;
    let mut ctx = scratch(a, 0x2000);
    let dir = std::env::temp_dir().join(format!("rehost-sys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("f");
    let path = cstr(a, file.to_str().unwrap());
    // open(path, O_CREAT|O_RDWR|O_TRUNC, 0644)
    let fd = call(&mut ctx, 5, [path, 0o1102, 0o644, 0, 0, 0]);
    assert!(fd >= 0, "{fd}");
    let fd = fd as u32;
    // writev of two i386 iovecs.
    gm::write_bytes(a + 0x100, b"hello world").unwrap();
    let iov = [a + 0x100, 5, a + 0x105, 6];
    let raw: Vec<u8> = iov.iter().flat_map(|w| w.to_le_bytes()).collect();
    gm::write_bytes(a + 0x200, &raw).unwrap();
    assert_eq!(call(&mut ctx, 146, [fd, a + 0x200, 2, 0, 0, 0]), 11);
    // lseek(fd, 0, SEEK_SET), read back.
    assert_eq!(call(&mut ctx, 19, [fd, 0, 0, 0, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 3, [fd, a + 0x300, 64, 0, 0, 0]), 11);
    assert_eq!(gm::read_bytes(a + 0x300, 11).unwrap(), b"hello world");
    // _llseek(fd, 1, 0 -> 4 GiB, &result, SEEK_SET); lseek then overflows.
    assert_eq!(call(&mut ctx, 140, [fd, 1, 0, a + 0x400, 0, 0]), 0);
    assert_eq!(gm::read_u64(a + 0x400), Ok(1 << 32));
    assert_eq!(call(&mut ctx, 19, [fd, 0, 1, 0, 0, 0]), -libc::EOVERFLOW);
    // fstat64 against the host's stat.
    assert_eq!(call(&mut ctx, 197, [fd, a + 0x500, 0, 0, 0, 0]), 0);
    let md = std::fs::metadata(&file).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(gm::read_u64(a + 0x500 + 44), Ok(11));
    assert_eq!(gm::read_u64(a + 0x500 + 88), Ok(md.ino()));
    assert_eq!(gm::read_u32(a + 0x500 + 16), Ok(md.mode()));
    assert_eq!(gm::read_u64(a + 0x500), Ok(md.dev()));
    // stat64 by path, lstat64, fstatat64.
    assert_eq!(call(&mut ctx, 195, [path, a + 0x600, 0, 0, 0, 0]), 0);
    assert_eq!(gm::read_bytes(a + 0x600, 96), gm::read_bytes(a + 0x500, 96));
    assert_eq!(
        call(&mut ctx, 300, [(-100i32) as u32, path, a + 0x600, 0, 0, 0]),
        0
    );
    // fcntl64(F_SETLK64) then F_GETLK64 on a 24-byte i386 flock64.
    let mut fl = vec![1u8, 0, 0, 0]; // F_WRLCK, SEEK_SET
    fl.extend_from_slice(&0i64.to_le_bytes());
    fl.extend_from_slice(&5i64.to_le_bytes());
    fl.extend_from_slice(&0i32.to_le_bytes());
    gm::write_bytes(a + 0x700, &fl).unwrap();
    assert_eq!(call(&mut ctx, 221, [fd, 13, a + 0x700, 0, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 221, [fd, 12, a + 0x700, 0, 0, 0]), 0);
    // Our own lock does not conflict: F_UNLCK comes back.
    assert_eq!(gm::read_bytes(a + 0x700, 2).unwrap(), vec![2, 0]);
    assert_eq!(
        call(&mut ctx, 55, [fd, 12, a + 0x700, 0, 0, 0]),
        -libc::EINVAL
    );
    // ioctl TCGETS on a file: host ENOTTY; unknown request: ENOTTY.
    assert_eq!(
        call(&mut ctx, 54, [fd, 0x5401, a + 0x800, 0, 0, 0]),
        -libc::ENOTTY
    );
    assert_eq!(
        call(&mut ctx, 54, [fd, 0x1234, a + 0x800, 0, 0, 0]),
        -libc::ENOTTY
    );
    assert_eq!(call(&mut ctx, 54, [fd, 0x541B, a + 0x800, 0, 0, 0]), 0); // FIONREAD
    assert_eq!(call(&mut ctx, 6, [fd, 0, 0, 0, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 6, [fd, 0, 0, 0, 0, 0]), -libc::EBADF);
    // getdents64 / getdents over the directory.
    let d = call(
        &mut ctx,
        295,
        [
            (-100i32) as u32,
            cstr(a + 0x900, dir.to_str().unwrap()),
            0o200000,
            0,
            0,
            0,
        ],
    );
    assert!(d >= 0);
    let n = call(&mut ctx, 220, [d as u32, a + 0x1000, 0x1000, 0, 0, 0]);
    assert!(n > 0);
    let buf = gm::read_bytes(a + 0x1000, n as usize).unwrap();
    assert!(buf.windows(2).any(|w| w == b"f\0"));
    assert_eq!(call(&mut ctx, 19, [d as u32, 0, 0, 0, 0, 0]), 0);
    let n = call(&mut ctx, 141, [d as u32, a + 0x1000, 0x1000, 0, 0, 0]);
    assert!(n > 0);
    let buf = gm::read_bytes(a + 0x1000, n as usize).unwrap();
    let mut pos = 0;
    let mut names = Vec::new();
    while pos < buf.len() {
        let reclen = u16::from_le_bytes([buf[pos + 8], buf[pos + 9]]) as usize;
        let name = &buf[pos + 10..pos + reclen];
        names.push(name[..name.iter().position(|&c| c == 0).unwrap()].to_vec());
        pos += reclen;
    }
    assert!(names.contains(&b"f".to_vec()) && names.contains(&b".".to_vec()));
    assert_eq!(call(&mut ctx, 6, [d as u32, 0, 0, 0, 0, 0]), 0);
    // readlink of an ordinary file: EINVAL; unlink; access now ENOENT.
    assert_eq!(
        call(&mut ctx, 85, [path, a + 0x300, 64, 0, 0, 0]),
        -libc::EINVAL
    );
    assert_eq!(call(&mut ctx, 10, [path, 0, 0, 0, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 33, [path, 0, 0, 0, 0, 0]), -libc::ENOENT);
    assert_eq!(
        call(
            &mut ctx,
            40,
            [cstr(a + 0x900, dir.to_str().unwrap()), 0, 0, 0, 0, 0]
        ),
        0
    );
    // A path in unmapped memory.
    assert_eq!(
        call(&mut ctx, 5, [0x5300_0000, 0, 0, 0, 0, 0]),
        -libc::EFAULT
    );
    // readlink("/proc/self/exe") names the guest, cut to the buffer size.
    set_guest_exe("/bin/sh");
    let exe = guest_exe();
    let p = cstr(a + 0x100, "/proc/self/exe");
    assert_eq!(call(&mut ctx, 85, [p, a + 0x200, 4, 0, 0, 0]), 4);
    assert_eq!(gm::read_bytes(a + 0x200, 4).unwrap(), exe[..4].to_vec());
    let n = call(&mut ctx, 305, [(-100i32) as u32, p, a + 0x200, 256, 0, 0]);
    assert_eq!(n as usize, exe.len());
}

#[test]
fn signals_and_sleep() {
    let a = 0x5230_0000;
    let mut ctx = scratch(a, 0x1000);
    // rt_sigaction(SIGUSR1, {handler 0x8048000, SA_SIGINFO, restorer, mask}, &old, 8)
    let act: Vec<u8> = [0x0804_8000u32, 4, 0x0804_9000, 0x1234, 0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    gm::write_bytes(a, &act).unwrap();
    assert_eq!(call(&mut ctx, 174, [10, a, a + 0x40, 8, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 174, [10, 0, a + 0x40, 8, 0, 0]), 0);
    assert_eq!(gm::read_bytes(a + 0x40, 20).unwrap(), act);
    assert_eq!(guest_sigaction(10).map(|s| s.handler), Some(0x0804_8000));
    assert_eq!(call(&mut ctx, 174, [9, a, 0, 8, 0, 0]), -libc::EINVAL);
    assert_eq!(call(&mut ctx, 174, [10, a, 0, 4, 0, 0]), -libc::EINVAL);
    // rt_sigprocmask: block SIGSEGV and SIGUSR2; the guest sees both, the host not SEGV.
    gm::write_u64(a + 0x80, (1 << 10) | (1 << 11)).unwrap();
    assert_eq!(call(&mut ctx, 175, [0, a + 0x80, a + 0x88, 8, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 175, [0, 0, a + 0x88, 8, 0, 0]), 0);
    assert_eq!(gm::read_u64(a + 0x88).unwrap() & 0xc00, 0xc00);
    let mut host_mask = 0u64;
    host!(
        libc::SYS_rt_sigprocmask,
        libc::SIG_BLOCK,
        0,
        &mut host_mask as *mut u64,
        8
    )
    .unwrap();
    assert_eq!(host_mask & 0xc00, 1 << 11);
    // A blocked SIGUSR2 sent to ourselves waits in the host queue for
    // rt_sigtimedwait, with an i386 siginfo (pid at offset 12).
    let me = call(&mut ctx, 224, [0; 6]) as u32;
    assert_eq!(
        call(&mut ctx, 270, [std::process::id(), me, 12, 0, 0, 0]),
        0
    );
    gm::write_u64(a + 0x90, 1 << 11).unwrap();
    gm::write_bytes(a + 0x98, &[0, 0, 0, 0, 0, 0xe1, 0xf5, 0x05]).unwrap(); // 0.1 s
    assert_eq!(
        call(&mut ctx, 177, [a + 0x90, a + 0x400, a + 0x98, 8, 0, 0]),
        12
    );
    assert_eq!(gm::read_u32(a + 0x400), Ok(12));
    assert_eq!(gm::read_u32(a + 0x400 + 12), Ok(std::process::id()));
    assert_eq!(call(&mut ctx, 175, [1, a + 0x80, 0, 8, 0, 0]), 0);
    // sigaltstack: too small, then set and read back.
    let ss: Vec<u8> = [0x0a00_0000u32, 0, 1024]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    gm::write_bytes(a + 0x100, &ss).unwrap();
    assert_eq!(
        call(&mut ctx, 186, [a + 0x100, 0, 0, 0, 0, 0]),
        -libc::ENOMEM
    );
    gm::write_u32(a + 0x108, 0x4000).unwrap();
    assert_eq!(call(&mut ctx, 186, [a + 0x100, a + 0x120, 0, 0, 0, 0]), 0);
    assert_eq!(gm::read_u32(a + 0x124), Ok(2)); // old: SS_DISABLE
                                                // nanosleep of 1 ms with 32-bit timespecs.
    gm::write_bytes(a + 0x200, &[0, 0, 0, 0, 0x40, 0x42, 0x0f, 0]).unwrap();
    assert_eq!(call(&mut ctx, 162, [a + 0x200, a + 0x208, 0, 0, 0, 0]), 0);
    // futex: FUTEX_WAKE on a guest word, FUTEX_WAIT with a mismatching value.
    gm::write_u32(a + 0x300, 7).unwrap();
    assert_eq!(call(&mut ctx, 240, [a + 0x300, 1 | 128, 1, 0, 0, 0]), 0);
    assert_eq!(
        call(&mut ctx, 240, [a + 0x300, 128, 8, a + 0x200, 0, 0]),
        -libc::EAGAIN
    );
    assert_eq!(
        call(&mut ctx, 422, [a + 0x300, 128, 8, 0, 0, 0]),
        -libc::EAGAIN
    );
    // set_tid_address returns our tid.
    assert_eq!(
        call(&mut ctx, 258, [a + 0x300, 0, 0, 0, 0, 0]),
        call(&mut ctx, 224, [0; 6])
    );
    assert_eq!(clear_child_tid(), a + 0x300);
}

#[test]
fn modify_ldt() {
    use crate::abi::seg;
    let a = 0x52e0_0000;
    let mut ctx = scratch(a, 0x1000);
    let desc = |e: u32, base: u32, limit: u32, flags: u32| {
        let mut v = Vec::new();
        for w in [e, base, limit, flags] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        gm::write_bytes(a, &v).unwrap();
    };
    // Entry 9: base 0x12345678, limit 0xfff, 32-bit, useable.
    desc(9, 0x1234_5678, 0xfff, 0x41);
    assert_eq!(call(&mut ctx, 123, [0x11, a, 16, 0, 0, 0]), 0);
    assert_eq!(call(&mut ctx, 123, [0x11, a, 8, 0, 0, 0]), -libc::EINVAL);
    assert_eq!(call(&mut ctx, 123, [3, a, 16, 0, 0, 0]), -libc::ENOSYS);
    assert_eq!(call(&mut ctx, 123, [0x11, 16, 16, 0, 0, 0]), -libc::EFAULT);
    desc(8192, 0, 1, 0x41);
    assert_eq!(call(&mut ctx, 123, [0x11, a, 16, 0, 0, 0]), -libc::EINVAL);
    // Read back: 10 entries and zeros up to the byte count.
    assert_eq!(call(&mut ctx, 123, [0, a + 0x100, 96, 0, 0, 0]), 96);
    let raw = gm::read_bytes(a + 0x100 + 72, 8).unwrap();
    let d = u64::from_le_bytes(raw.try_into().unwrap());
    assert_eq!(d, 0x1250_f334_5678_0fff);
    assert_eq!(gm::read_u32(a + 0x100 + 88), Ok(0));
    // %gs takes the entry's base; ds does not (non-zero base).
    let sel = (9 << 3) | 7;
    assert!(crate::emulate::load_segment(&mut ctx, seg::GS, sel).is_ok());
    assert_eq!((ctx.sel[seg::GS], ctx.gs_base), (sel, 0x1234_5678));
    assert!(crate::emulate::load_segment(&mut ctx, seg::DS, sel).is_err());
    // Clearing the entry keeps the loaded base; a reload faults.
    desc(9, 0, 0, 0x28);
    assert_eq!(call(&mut ctx, 123, [0x11, a, 16, 0, 0, 0]), 0);
    assert_eq!(ctx.gs_base, 0x1234_5678);
    let f = crate::emulate::load_segment(&mut ctx, seg::GS, sel).unwrap_err();
    assert_eq!(f.sig, libc::SIGSEGV);
    // Not present: #NP, SIGBUS.
    desc(9, 0x1000, 0xfff, 0x21);
    assert_eq!(call(&mut ctx, 123, [0x11, a, 16, 0, 0, 0]), 0);
    let f = crate::emulate::load_segment(&mut ctx, seg::FS, sel).unwrap_err();
    assert_eq!(f.sig, libc::SIGBUS);
    // Past the LDT's limit.
    assert!(crate::emulate::load_segment(&mut ctx, seg::GS, (100 << 3) | 7).is_err());
}
