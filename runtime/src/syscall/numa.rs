//! NUMA memory policy: set_mempolicy, get_mempolicy, mbind, migrate_pages,
//! move_pages, set_mempolicy_home_node.
//!
//! The node masks are arrays of `unsigned long`: 32-bit words on i386,
//! 64-bit on the host. Little-endian makes the bits line up; only the
//! length differs (the host reads whole 64-bit words), so a mask is copied
//! into a host buffer rounded up to 64 bits and written back with the
//! guest's length. move_pages' page list is an array of 32-bit pointers.
//!
//! Invariant: address ranges are guest mappings (EFAULT otherwise, as for
//! unmapped memory on i386: the reservation is not guest memory).

use super::{gbuf, host, sx, Args, SysResult};
use crate::abi::Context;
use crate::guest_mem;
use crate::memory::{self, page_up, GUEST_END, PAGE};

/// Largest maxnode the kernel accepts (PAGE_SIZE * BITS_PER_BYTE).
const MAX_NODE: u32 = 4096 * 8;

/// Bytes of a guest node mask with `maxnode` (the kernel uses maxnode - 1
/// bits), and of the host one.
fn mask_sizes(maxnode: u32) -> (usize, usize) {
    let bits = maxnode.saturating_sub(1) as usize;
    (bits.div_ceil(32) * 4, bits.div_ceil(64) * 8)
}

/// A guest node mask in a host buffer (None for NULL or no bits).
fn read_mask(addr: u32, maxnode: u32) -> Result<Option<Vec<u8>>, i32> {
    if maxnode > MAX_NODE {
        return Err(libc::EINVAL);
    }
    let (g, h) = mask_sizes(maxnode);
    if addr == 0 || g == 0 {
        return Ok(None);
    }
    let mut buf = vec![0u8; h];
    guest_mem::read_into(addr, &mut buf[..g])?;
    Ok(Some(buf))
}

fn mask_ptr(m: &Option<Vec<u8>>) -> u64 {
    m.as_ref().map_or(0, |b| b.as_ptr() as u64)
}

/// A guest range that must be mapped (page-aligned start, as the kernel
/// wants; EINVAL otherwise).
fn guest_range(start: u32, len: u32) -> Result<u64, i32> {
    if !start.is_multiple_of(PAGE) {
        return Err(libc::EINVAL);
    }
    let end = page_up(start as u64 + len as u64);
    if end > GUEST_END {
        return Err(libc::EFAULT);
    }
    if end > start as u64 && !memory::is_mapped(start, (end - start as u64) as u32) {
        return Err(libc::EFAULT);
    }
    Ok(start as u64)
}

/// set_mempolicy(mode, const unsigned long *nmask, maxnode).
pub fn set_mempolicy(_: &mut Context, a: &Args) -> SysResult {
    let m = read_mask(a[1], a[2])?;
    host!(libc::SYS_set_mempolicy, sx(a[0]), mask_ptr(&m), a[2])
}

/// get_mempolicy(int *mode, unsigned long *nmask, maxnode, addr, flags).
pub fn get_mempolicy(_: &mut Context, a: &Args) -> SysResult {
    if a[2] > MAX_NODE {
        return Err(libc::EINVAL);
    }
    let mode = if a[0] == 0 { 0 } else { gbuf(a[0], 4)? };
    let (g, h) = mask_sizes(a[2]);
    let mut buf = vec![0u8; h.max(8)];
    let nm = if a[1] == 0 {
        0
    } else {
        buf.as_mut_ptr() as u64
    };
    let r = host!(libc::SYS_get_mempolicy, mode, nm, a[2], a[3], a[4])?;
    if a[1] != 0 && g != 0 {
        guest_mem::write_bytes(a[1], &buf[..g])?;
    }
    Ok(r)
}

/// mbind(start, len, mode, const unsigned long *nmask, maxnode, flags).
pub fn mbind(_: &mut Context, a: &Args) -> SysResult {
    let start = guest_range(a[0], a[1])?;
    let m = read_mask(a[3], a[4])?;
    host!(
        libc::SYS_mbind,
        start,
        a[1],
        sx(a[2]),
        mask_ptr(&m),
        a[4],
        a[5]
    )
}

/// migrate_pages(pid, maxnode, const unsigned long *old, *new).
pub fn migrate_pages(_: &mut Context, a: &Args) -> SysResult {
    let old = read_mask(a[2], a[1])?;
    let new = read_mask(a[3], a[1])?;
    host!(
        libc::SYS_migrate_pages,
        sx(a[0]),
        a[1],
        mask_ptr(&old),
        mask_ptr(&new)
    )
}

/// move_pages(pid, count, void **pages, const int *nodes, int *status,
/// flags): the page list is widened; nodes and status are int arrays on
/// both.
pub fn move_pages(_: &mut Context, a: &Args) -> SysResult {
    let n = a[1] as usize;
    if n > 1 << 24 {
        return Err(libc::E2BIG);
    }
    let raw = guest_mem::read_bytes(a[2], n * 4)?;
    let pages: Vec<u64> = raw
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as u64)
        .collect();
    let nodes = if a[3] == 0 { 0 } else { gbuf(a[3], n * 4)? };
    let status = gbuf(a[4], n * 4)?;
    host!(
        libc::SYS_move_pages,
        sx(a[0]),
        n,
        pages.as_ptr(),
        nodes,
        status,
        a[5]
    )
}

/// set_mempolicy_home_node(start, len, home_node, flags).
pub fn set_mempolicy_home_node(_: &mut Context, a: &Args) -> SysResult {
    let start = guest_range(a[0], a[1])?;
    host!(libc::SYS_set_mempolicy_home_node, start, a[1], a[2], a[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_lengths() {
        assert_eq!(mask_sizes(0), (0, 0));
        assert_eq!(mask_sizes(1), (0, 0));
        assert_eq!(mask_sizes(2), (4, 8));
        assert_eq!(mask_sizes(33), (4, 8));
        assert_eq!(mask_sizes(34), (8, 8));
        assert_eq!(mask_sizes(66), (12, 16));
    }
}
