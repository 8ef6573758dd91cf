//! Region-map logic on a private `Space`, and real mappings in guest space.

use super::*;

#[test]
fn region_map_split_merge() {
    let mut s = Space {
        reserved: true,
        min: 0x10000,
        regions: BTreeMap::new(),
        brk_start: 0,
        brk: 0,
        shared: BTreeMap::new(),
    };
    s.record(0x10000, 0x20000, 3);
    s.record(0x20000, 0x30000, 3);
    assert_eq!(s.regions.len(), 1);
    s.record(0x14000, 0x15000, 1);
    assert_eq!(s.regions.len(), 3);
    assert!(s.covered(0x10000, 0x30000));
    s.forget(0x12000, 0x16000);
    assert!(!s.covered(0x10000, 0x30000));
    assert!(s.covered(0x16000, 0x30000));
    assert!(s.is_free(0x12000, 0x16000));
    assert!(!s.is_free(0x11000, 0x13000));
    s.record(0xffff_f000, GUEST_END, 3);
    assert!(s.covered(0xffff_f000, GUEST_END));
    s.forget(0xffff_f000, GUEST_END);
    assert!(s.region_at(0xffff_f000).is_none());
}

#[test]
fn find_free_is_top_down_and_skips_regions() {
    let mut s = Space {
        reserved: true,
        min: 0x10000,
        regions: BTreeMap::new(),
        brk_start: 0,
        brk: 0x80000,
        shared: BTreeMap::new(),
    };
    let a = s.find_free(0x3000).unwrap();
    assert_eq!(a as u64 + 0x3000, MMAP_TOP as u64);
    s.record(a, a as u64 + 0x3000, 3);
    let b = s.find_free(0x1000).unwrap();
    assert_eq!(b + 0x1000, a);
    s.record(0x80000, a as u64, 3);
    assert_eq!(s.find_free(0x1000), Some(0x7f000));
}

#[test]
fn map_protect_unmap_real() {
    reserve_guest_space().unwrap();
    reserve_guest_space().unwrap();
    let a = 0x3000_0000;
    map_fixed(a, 0x2000, libc::PROT_READ | libc::PROT_WRITE).unwrap();
    assert!(is_mapped(a, 0x2000));
    assert!(!is_mapped(a, 0x3000));
    // SAFETY: just mapped read-write.
    unsafe { *(a as usize as *mut u32) = 7 };
    protect(a, 0x1000, libc::PROT_READ | libc::PROT_EXEC).unwrap();
    assert_eq!(prot_at(a), Some(libc::PROT_READ | libc::PROT_EXEC));
    lock().host_unmap(a, a as u64 + 0x2000).unwrap();
    assert!(!is_mapped(a, 1));
    assert!(map_fixed(0x1000, 0x1000, libc::PROT_READ).is_err());
}
