//! Layout and conversion checks against the kernel's i386 definitions.

use super::*;

#[test]
fn stat64_layout() {
    let offs = [
        (offset_of!(Stat64, st_dev), 0),
        (offset_of!(Stat64, st_ino32), 12),
        (offset_of!(Stat64, st_mode), 16),
        (offset_of!(Stat64, st_nlink), 20),
        (offset_of!(Stat64, st_uid), 24),
        (offset_of!(Stat64, st_gid), 28),
        (offset_of!(Stat64, st_rdev), 32),
        (offset_of!(Stat64, st_size), 44),
        (offset_of!(Stat64, st_blksize), 52),
        (offset_of!(Stat64, st_blocks), 56),
        (offset_of!(Stat64, st_atime), 64),
        (offset_of!(Stat64, st_atime_nsec), 68),
        (offset_of!(Stat64, st_mtime), 72),
        (offset_of!(Stat64, st_mtime_nsec), 76),
        (offset_of!(Stat64, st_ctime), 80),
        (offset_of!(Stat64, st_ctime_nsec), 84),
        (offset_of!(Stat64, st_ino), 88),
    ];
    for (got, want) in offs {
        assert_eq!(got, want);
    }
    // SAFETY: libc::stat is plain integers.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    st.st_ino = 0x1_2345_6789;
    st.st_size = 0x1_0000_0001;
    st.st_mode = 0o100644;
    st.st_mtime = 1_700_000_000;
    let s = stat64_from(&st);
    let b = bytes_of(&s);
    assert_eq!(&b[12..16], &0x2345_6789u32.to_le_bytes());
    assert_eq!(&b[88..96], &0x1_2345_6789u64.to_le_bytes());
    assert_eq!(&b[44..52], &0x1_0000_0001u64.to_le_bytes());
    assert_eq!(&b[16..20], &0o100644u32.to_le_bytes());
    assert_eq!(&b[72..76], &1_700_000_000u32.to_le_bytes());
}

#[test]
fn iovec_conversion() {
    let v = [
        Iovec32 {
            base: 0x1000,
            len: 16,
        },
        Iovec32 {
            base: 0x8000_0000,
            len: 0x7fff_ffff,
        },
    ];
    let h = iovecs_from(&v).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].iov_base as usize, 0x1000);
    assert_eq!(h[0].iov_len, 16);
    assert_eq!(h[1].iov_base as usize, 0x8000_0000);
    assert_eq!(h[1].iov_len, 0x7fff_ffff);
    assert_eq!(
        iovecs_from(&[Iovec32 {
            base: 0,
            len: 0x8000_0000
        }])
        .err(),
        Some(libc::EINVAL)
    );
    assert_eq!(
        iovecs_from(&[Iovec32 {
            base: 0xffff_0000,
            len: 0x10001
        }])
        .err(),
        Some(libc::EFAULT)
    );
    assert_eq!(
        iovecs_from(&vec![Iovec32::default(); 1025]).err(),
        Some(libc::EINVAL)
    );
}

#[test]
fn flock_conversion() {
    let f = Flock64_32 {
        l_type: 1,
        l_whence: 0,
        l_start: 1 << 40,
        l_len: 5,
        l_pid: 0,
    };
    let b = bytes_of(&f);
    assert_eq!(&b[4..12], &(1u64 << 40).to_le_bytes());
    let h = flock64_to_host(&f);
    assert_eq!((h.l_type, h.l_start, h.l_len), (1, 1 << 40, 5));
    assert_eq!(flock32_from_host(&h).err(), Some(libc::EOVERFLOW));
    let back = flock64_from_host(&h);
    assert_eq!({ back.l_start }, 1 << 40);
}

#[test]
fn sysinfo_scaling() {
    // SAFETY: libc::sysinfo is plain integers.
    let mut h: libc::sysinfo = unsafe { std::mem::zeroed() };
    h.mem_unit = 1;
    h.totalram = 16 << 30;
    h.freeram = 1 << 30;
    let s = sysinfo_from(&h);
    assert_eq!(s.mem_unit, 4096);
    assert_eq!(s.totalram, (16u64 << 30 >> 12) as u32);
}

#[test]
fn siginfo_layouts() {
    let mut h = [0u8; SIGINFO_SIZE];
    let put = |h: &mut [u8; SIGINFO_SIZE], o: usize, v: u64, n: usize| {
        h[o..o + n].copy_from_slice(&v.to_le_bytes()[..n])
    };
    // SIGCHLD, CLD_EXITED: pid, uid, status, utime, stime.
    put(&mut h, 0, 17, 4);
    put(&mut h, 8, 1, 4);
    put(&mut h, 16, 1234, 4);
    put(&mut h, 20, 1000, 4);
    put(&mut h, 24, 3, 4);
    put(&mut h, 32, 7, 8);
    put(&mut h, 40, 9, 8);
    let g = siginfo_to_i386(&h);
    let rd = |o: usize| u32::from_le_bytes(g[o..o + 4].try_into().unwrap());
    assert_eq!(
        (rd(0), rd(8), rd(12), rd(16), rd(20), rd(24), rd(28)),
        (17, 1, 1234, 1000, 3, 7, 9)
    );
    // SIGUSR1 from kill(): pid, uid.
    let mut h = [0u8; SIGINFO_SIZE];
    put(&mut h, 0, 10, 4);
    put(&mut h, 16, 55, 4);
    put(&mut h, 20, 66, 4);
    let g = siginfo_to_i386(&h);
    assert_eq!(&g[12..20], &[55, 0, 0, 0, 66, 0, 0, 0]);
    // SIGSEGV SEGV_MAPERR: the address.
    let mut h = [0u8; SIGINFO_SIZE];
    put(&mut h, 0, 11, 4);
    put(&mut h, 8, 1, 4);
    put(&mut h, 16, 0x0804_9000, 8);
    let g = siginfo_to_i386(&h);
    assert_eq!(&g[12..16], &0x0804_9000u32.to_le_bytes());
}

#[test]
fn siginfo_from_i386_round_trips() {
    // sigqueue(): SI_QUEUE with pid, uid and an int value.
    let mut g = [0u8; SIGINFO_SIZE];
    let put = |g: &mut [u8; SIGINFO_SIZE], o: usize, v: u32| {
        g[o..o + 4].copy_from_slice(&v.to_le_bytes())
    };
    put(&mut g, 0, 10);
    put(&mut g, 8, -1i32 as u32);
    put(&mut g, 12, 4321);
    put(&mut g, 16, 1000);
    put(&mut g, 20, 0xdead_beef);
    let h = siginfo_from_i386(&g);
    assert_eq!(&h[16..20], &4321u32.to_le_bytes());
    assert_eq!(&h[20..24], &1000u32.to_le_bytes());
    assert_eq!(&h[24..32], &0xdead_beefu64.to_le_bytes());
    assert_eq!(siginfo_to_i386(&h), g);
    // SIGCHLD: clock_t values are sign-extended.
    let mut g = [0u8; SIGINFO_SIZE];
    put(&mut g, 0, 17);
    put(&mut g, 8, 1);
    put(&mut g, 24, -5i32 as u32);
    let h = siginfo_from_i386(&g);
    assert_eq!(&h[32..40], &(-5i64).to_le_bytes());
    assert_eq!(siginfo_to_i386(&h), g);
}
