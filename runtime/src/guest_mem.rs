//! Fault-tolerant access to guest memory for the system-call layer.
//!
//! Invariant (DESIGN.md invariant 5): a bad guest pointer gives `Err(EFAULT)`,
//! never a runtime crash, and no access reaches past 4 GiB.
//!
//! How: copies go through `process_vm_readv`/`process_vm_writev` on our own
//! pid. The kernel walks the page tables for us and answers EFAULT (or a
//! short count, which we treat as EFAULT) for unmapped, PROT_NONE or, when
//! writing, read-only pages, exactly as `copy_to_user` would on i386; there
//! is no window in which another thread's munmap could make us fault. If
//! those calls are refused (ENOSYS/EPERM under a strict seccomp policy), we
//! fall back to checking the range against `memory`'s region map, holding
//! its lock during a plain copy so no munmap can run concurrently.
//!
//! Pointers handed straight to a host system call need no copy (the kernel
//! returns EFAULT itself); [`check_range`] only rejects ranges that wrap or
//! end past 4 GiB, where host memory may lie.

use crate::memory;
use std::sync::atomic::{AtomicBool, Ordering};

const EFAULT: i32 = libc::EFAULT;
/// Longest C string read from the guest (PATH_MAX, NUL included).
pub const CSTR_MAX: usize = 4096;

/// Set once process_vm_* turn out to be unavailable.
static NO_VM_RW: AtomicBool = AtomicBool::new(false);

/// Accept [addr, addr+len) only if it lies entirely below 4 GiB.
pub fn check_range(addr: u32, len: usize) -> Result<(), i32> {
    if addr as u64 + len as u64 > memory::GUEST_END {
        Err(EFAULT)
    } else {
        Ok(())
    }
}

/// One process_vm_{read,write}v of `len` bytes; None if the call is refused
/// by policy (use the fallback), Some(Ok) when every byte was copied.
fn vm_copy(local: *mut u8, remote: u32, len: usize, write: bool) -> Option<Result<(), i32>> {
    if NO_VM_RW.load(Ordering::Relaxed) {
        return None;
    }
    let l = libc::iovec {
        iov_base: local.cast(),
        iov_len: len,
    };
    let r = libc::iovec {
        iov_base: remote as usize as *mut _,
        iov_len: len,
    };
    // SAFETY: `local` is a live buffer of `len` bytes owned by the caller;
    // the remote side is checked by the kernel (EFAULT, never a fault).
    let n = unsafe {
        let pid = libc::getpid();
        if write {
            libc::process_vm_writev(pid, &l, 1, &r, 1, 0)
        } else {
            libc::process_vm_readv(pid, &l, 1, &r, 1, 0)
        }
    };
    if n == len as isize {
        return Some(Ok(()));
    }
    if n >= 0 {
        return Some(Err(EFAULT));
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::ENOSYS) | Some(libc::EPERM) => {
            NO_VM_RW.store(true, Ordering::Relaxed);
            None
        }
        _ => Some(Err(EFAULT)),
    }
}

/// Fallback copy: check the region map (host-readable/writable pages only)
/// and copy with the memory lock held.
fn checked_copy(local: *mut u8, remote: u32, len: usize, write: bool) -> Result<(), i32> {
    let s = memory::lock();
    let end = remote as u64 + len as u64;
    let mut pos = remote as u64;
    while pos < end {
        let Some((_, r)) = s.region_at(pos as u32) else {
            return Err(EFAULT);
        };
        let hp = memory::host_prot(r.prot);
        let need = if write {
            libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        if hp & need == 0 {
            return Err(EFAULT);
        }
        pos = r.end;
    }
    let g = remote as usize as *mut u8;
    // SAFETY: every page of the guest range is mapped with the needed host
    // protection, and the lock keeps it so for the duration of the copy.
    unsafe {
        if write {
            std::ptr::copy_nonoverlapping(local as *const u8, g, len);
        } else {
            std::ptr::copy_nonoverlapping(g as *const u8, local, len);
        }
    }
    Ok(())
}

fn copy(local: *mut u8, remote: u32, len: usize, write: bool) -> Result<(), i32> {
    check_range(remote, len)?;
    if len == 0 {
        return Ok(());
    }
    match vm_copy(local, remote, len, write) {
        Some(r) => r,
        None => checked_copy(local, remote, len, write),
    }
}

/// Fill `buf` from guest memory at `addr`.
pub fn read_into(addr: u32, buf: &mut [u8]) -> Result<(), i32> {
    copy(buf.as_mut_ptr(), addr, buf.len(), false)
}

pub fn read_bytes(addr: u32, len: usize) -> Result<Vec<u8>, i32> {
    check_range(addr, len)?;
    let mut v = vec![0u8; len];
    read_into(addr, &mut v)?;
    Ok(v)
}

/// Write `data` to guest memory at `addr` (the dispatcher is told, in case
/// the bytes overwrite translated code).
pub fn write_bytes(addr: u32, data: &[u8]) -> Result<(), i32> {
    // Drop translations of code there first (and their write protection).
    memory::notify_change(addr, data.len() as u32);
    copy(data.as_ptr() as *mut u8, addr, data.len(), true)?;
    memory::notify_change(addr, data.len() as u32);
    Ok(())
}

pub fn read_u32(addr: u32) -> Result<u32, i32> {
    let mut b = [0u8; 4];
    read_into(addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

pub fn write_u32(addr: u32, v: u32) -> Result<(), i32> {
    write_bytes(addr, &v.to_le_bytes())
}

pub fn read_u64(addr: u32) -> Result<u64, i32> {
    let mut b = [0u8; 8];
    read_into(addr, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

pub fn write_u64(addr: u32, v: u64) -> Result<(), i32> {
    write_bytes(addr, &v.to_le_bytes())
}

/// Read `N` little-endian u32 words (i386 argument blocks).
pub fn read_u32s<const N: usize>(addr: u32) -> Result<[u32; N], i32> {
    let mut out = [0u32; N];
    let b = read_bytes(addr, N * 4)?;
    for (o, c) in out.iter_mut().zip(b.chunks_exact(4)) {
        *o = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    Ok(out)
}

/// Read a NUL-terminated string (NUL not included). A string with no NUL
/// in its first [`CSTR_MAX`] bytes gives ENAMETOOLONG, as the kernel's
/// path lookup does. Reads page by page, so a string ending just before an
/// unmapped page is fine.
pub fn read_cstr(addr: u32) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    let mut pos = addr;
    while out.len() < CSTR_MAX {
        let to_page_end = (memory::PAGE - pos % memory::PAGE) as usize;
        let n = to_page_end.min(CSTR_MAX - out.len());
        let chunk = read_bytes(pos, n)?;
        if let Some(z) = chunk.iter().position(|&c| c == 0) {
            out.extend_from_slice(&chunk[..z]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
        pos = pos.checked_add(n as u32).ok_or(EFAULT)?;
    }
    Err(libc::ENAMETOOLONG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efault_on_unmapped_and_wrap() {
        memory::reserve_guest_space().unwrap();
        // Inside the reservation but not mapped by the guest.
        assert_eq!(read_bytes(0x5000_0000, 4), Err(EFAULT));
        assert_eq!(write_u32(0x5000_0000, 1), Err(EFAULT));
        assert_eq!(read_u32(0), Err(EFAULT));
        assert_eq!(read_bytes(0xffff_fffe, 4), Err(EFAULT));
        assert_eq!(check_range(0xffff_f000, 0x1001), Err(EFAULT));
        assert_eq!(check_range(0xffff_f000, 0x1000), Ok(()));
        assert_eq!(read_cstr(0x5000_0000), Err(EFAULT));
    }

    #[test]
    fn roundtrip_and_cstr_at_page_end() {
        let a = 0x5100_0000;
        memory::map_fixed(a, 0x1000, libc::PROT_READ | libc::PROT_WRITE).unwrap();
        write_u64(a, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(read_u32(a + 4), Ok(0x1122_3344));
        assert_eq!(read_u32s::<2>(a), Ok([0x5566_7788, 0x1122_3344]));
        write_bytes(a + 0xffc, b"abc\0").unwrap();
        assert_eq!(read_cstr(a + 0xffc), Ok(b"abc".to_vec()));
        write_bytes(a + 0xffc, b"abcd").unwrap();
        assert_eq!(read_cstr(a + 0xffc), Err(EFAULT));
        // Partially mapped range.
        assert_eq!(read_bytes(a + 0xff0, 0x20), Err(EFAULT));
        memory::protect(a, 0x1000, libc::PROT_READ).unwrap();
        assert_eq!(write_u32(a, 1), Err(EFAULT));
        assert_eq!(read_u32(a), Ok(0x5566_7788));
        // The fallback path agrees.
        let mut b = [0u8; 4];
        assert_eq!(checked_copy(b.as_mut_ptr(), a, 4, false), Ok(()));
        assert_eq!(checked_copy(b.as_mut_ptr(), a, 4, true), Err(EFAULT));
        assert_eq!(
            checked_copy(b.as_mut_ptr(), a + 0xffe, 4, false),
            Err(EFAULT)
        );
    }
}
