//! Memory-management system calls against real guest space, and the
//! no-holes invariant of the reservation checked from /proc/self/maps.

use super::call;
use crate::abi::Context;
use crate::guest_mem as gm;
use crate::memory;

#[test]
fn memory_calls() {
    memory::reserve_guest_space().unwrap();
    let mut ctx = Context::new();
    let (rw, priv_anon) = (3, 0x22);
    // mmap2(NULL, 8192, RW, PRIVATE|ANON, -1, 0): placed top-down below the stack.
    let p = call(
        &mut ctx,
        192,
        [0, 0x2000, rw, priv_anon, u32::MAX, 0, 0][..6]
            .try_into()
            .unwrap(),
    ) as u32;
    assert!(
        p as u64 + 0x2000 <= memory::MMAP_TOP as u64 && p > 0x1000_0000,
        "{p:#x}"
    );
    assert!(memory::is_mapped(p, 0x2000));
    gm::write_u32(p + 0x1ffc, 42).unwrap();
    // MAP_FIXED_NOREPLACE over it: EEXIST; MAP_FIXED outside guest space: ENOMEM.
    assert_eq!(
        call(
            &mut ctx,
            192,
            [p, 0x1000, rw, priv_anon | 0x100000, u32::MAX, 0]
        ),
        -libc::EEXIST
    );
    assert_eq!(
        call(
            &mut ctx,
            192,
            [0xffff_f000, 0x2000, rw, priv_anon | 0x10, u32::MAX, 0]
        ),
        -libc::ENOMEM
    );
    assert_eq!(
        call(
            &mut ctx,
            192,
            [0x1000, 0x1000, rw, priv_anon | 0x10, u32::MAX, 0]
        ),
        -libc::EPERM
    );
    // mprotect read-only: guest_mem writes fault, reads work.
    assert_eq!(call(&mut ctx, 125, [p, 0x2000, 1, 0, 0, 0]), 0);
    assert_eq!(gm::write_u32(p, 1), Err(libc::EFAULT));
    assert_eq!(gm::read_u32(p + 0x1ffc), Ok(42));
    assert_eq!(call(&mut ctx, 125, [p, 0x2000, rw, 0, 0, 0]), 0);
    // mremap grow with MAYMOVE keeps the contents.
    let q = call(&mut ctx, 163, [p, 0x2000, 0x10_0000, 1, 0, 0]) as u32;
    assert!(q as u64 + 0x10_0000 <= 1 << 32 && q >= 0x10000, "{q:#x}");
    assert_eq!(gm::read_u32(q + 0x1ffc), Ok(42));
    assert!(memory::is_mapped(q, 0x10_0000));
    // Grow in place blocked by a neighbour: MAYMOVE moves it, without it ENOMEM.
    let n = call(
        &mut ctx,
        192,
        [q + 0x10_0000, 0x1000, rw, priv_anon | 0x10, u32::MAX, 0],
    ) as u32;
    assert_eq!(n, q + 0x10_0000);
    assert_eq!(
        call(&mut ctx, 163, [q, 0x10_0000, 0x20_0000, 0, 0, 0]),
        -libc::ENOMEM
    );
    let m = call(&mut ctx, 163, [q, 0x10_0000, 0x20_0000, 1, 0, 0]) as u32;
    assert_ne!(m, q);
    assert_eq!(gm::read_u32(m + 0x1ffc), Ok(42));
    assert!(!memory::is_mapped(q, 1) && memory::is_mapped(m, 0x20_0000));
    assert_eq!(gm::read_u32(q + 0x1ffc), Err(libc::EFAULT));
    // MREMAP_FIXED back to q.
    assert_eq!(
        call(&mut ctx, 163, [m, 0x20_0000, 0x10_0000, 3, q, 0]) as u32,
        q
    );
    assert_eq!(gm::read_u32(q + 0x1ffc), Ok(42));
    assert!(!memory::is_mapped(m, 1));
    // shrink in place
    assert_eq!(
        call(&mut ctx, 163, [q, 0x10_0000, 0x1000, 0, 0, 0]) as u32,
        q
    );
    assert!(!memory::is_mapped(q + 0x1000, 1));
    // munmap: the range becomes reservation again.
    assert_eq!(call(&mut ctx, 91, [q, 0x1000, 0, 0, 0, 0]), 0);
    assert!(!memory::is_mapped(q, 1));
    assert_eq!(gm::read_u32(q), Err(libc::EFAULT));
    // madvise on unmapped guest space: ENOMEM.
    assert_eq!(call(&mut ctx, 219, [q, 0x1000, 4, 0, 0, 0]), -libc::ENOMEM);
    // old mmap with an argument block.
    let blk = call(&mut ctx, 192, [0, 0x1000, rw, priv_anon, u32::MAX, 0]) as u32;
    let args: Vec<u8> = [0u32, 0x3000, rw, priv_anon, u32::MAX, 0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    gm::write_bytes(blk, &args).unwrap();
    let r = call(&mut ctx, 90, [blk, 0, 0, 0, 0, 0]) as u32;
    assert!(memory::is_mapped(r, 0x3000));
    // brk: init, grow, read/write, shrink.
    memory::init_brk(0x0900_0123);
    assert_eq!(call(&mut ctx, 45, [0, 0, 0, 0, 0, 0]) as u32, 0x0900_1000);
    assert_eq!(
        call(&mut ctx, 45, [0x0902_0010, 0, 0, 0, 0, 0]) as u32,
        0x0902_0010
    );
    gm::write_u32(0x0902_000c, 5).unwrap();
    assert!(memory::is_mapped(0x0900_1000, 0x20000));
    assert_eq!(
        call(&mut ctx, 45, [0x0900_2000, 0, 0, 0, 0, 0]) as u32,
        0x0900_2000
    );
    assert!(!memory::is_mapped(0x0900_2000, 1));
    assert_eq!(
        call(&mut ctx, 45, [0x100, 0, 0, 0, 0, 0]) as u32,
        0x0900_2000
    );
    assert_no_holes();
}

/// Every byte of guest space is mapped on the host (reservation or guest).
fn assert_no_holes() {
    let min = memory::lock().min() as u64;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut pos = min;
    for l in maps.lines() {
        let r = l.split(' ').next().unwrap();
        let (s, e) = r.split_once('-').unwrap();
        let (s, e) = (
            u64::from_str_radix(s, 16).unwrap(),
            u64::from_str_radix(e, 16).unwrap(),
        );
        if s >= 1 << 32 {
            break;
        }
        assert_eq!(s, pos, "hole in guest space at {pos:#x}");
        pos = e;
    }
    assert_eq!(pos, 1 << 32);
}
