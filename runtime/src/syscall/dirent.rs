//! Directory reading: getdents64, getdents, and the directory-offset
//! cookies.
//!
//! ext4 (and others) hand out 64-bit hash positions as `d_off` to 64-bit
//! callers, and only 32-bit-safe ones to compat (i386) callers; i386 glibc's
//! non-LFS `readdir` fails with EOVERFLOW on a `d_off` that does not fit 31
//! bits. So every `d_off` above `i32::MAX` reaches the guest as a small
//! cookie, and `lseek`/`_llseek` on a directory translate cookies back.
//!
//! Invariant: cookies are per directory (device, inode), never reused, and
//! lie in [`COOKIE_BASE`, `COOKIE_BASE` + n); a position the guest got from
//! us always seeks back to the same real position.

use super::{fs::clamp, host, written, Args, SysResult};
use crate::abi::Context;
use crate::guest_mem;
use std::collections::HashMap;
use std::sync::Mutex;

const COOKIE_BASE: i64 = 0x4000_0000;

#[derive(Default)]
struct Cookies {
    of_real: HashMap<i64, i64>,
    real: Vec<i64>,
}

static DIRS: Mutex<Option<HashMap<(u64, u64), Cookies>>> = Mutex::new(None);

fn dir_id(fd: i32) -> Option<(u64, u64)> {
    // SAFETY: st is a host buffer; fstat only writes it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    host!(libc::SYS_fstat, fd as i64, &mut st as *mut libc::stat).ok()?;
    (st.st_mode & libc::S_IFMT == libc::S_IFDIR).then_some((st.st_dev, st.st_ino))
}

fn cookie_in(dirs: &mut HashMap<(u64, u64), Cookies>, id: (u64, u64), real: i64) -> i64 {
    let c = dirs.entry(id).or_default();
    if let Some(&k) = c.of_real.get(&real) {
        return k;
    }
    let k = COOKIE_BASE + c.real.len() as i64;
    c.real.push(real);
    c.of_real.insert(real, k);
    k
}

/// The cookie standing for real position `real` of directory `fd`, or None
/// if `fd` is not a directory (or we are out of cookies).
pub fn cookie_of(fd: i32, real: i64) -> Option<i64> {
    let id = dir_id(fd)?;
    let mut g = DIRS.lock().unwrap_or_else(|e| e.into_inner());
    let k = cookie_in(g.get_or_insert_with(HashMap::new), id, real);
    (k <= i32::MAX as i64).then_some(k)
}

/// The host offset for a guest `lseek` argument: a cookie with SEEK_SET on
/// a directory becomes its real position.
pub fn seek_arg(fd: i32, off: i64, whence: i32) -> i64 {
    if whence != libc::SEEK_SET || !(COOKIE_BASE..=i32::MAX as i64).contains(&off) {
        return off;
    }
    let Some(id) = dir_id(fd) else { return off };
    let g = DIRS.lock().unwrap_or_else(|e| e.into_inner());
    let real = g
        .as_ref()
        .and_then(|m| m.get(&id))
        .and_then(|c| c.real.get((off - COOKIE_BASE) as usize));
    real.copied().unwrap_or(off)
}

/// Read host dirent64 records for `fd` into a host buffer of (at most)
/// `count` bytes.
fn host_getdents(fd: u32, count: u32) -> Result<Vec<u8>, i32> {
    let n = (count as usize).min(1 << 20);
    let mut buf = vec![0u8; n];
    let r = host!(libc::SYS_getdents64, fd, buf.as_mut_ptr(), n)?;
    buf.truncate(r as usize);
    Ok(buf)
}

/// Walk dirent64 records: (offset of the record, d_ino, d_off, reclen, d_type, name).
fn records(buf: &[u8]) -> impl Iterator<Item = (usize, u64, i64, usize, u8, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos + 19 > buf.len() {
            return None;
        }
        let ino = u64::from_le_bytes(buf[pos..pos + 8].try_into().ok()?);
        let off = i64::from_le_bytes(buf[pos + 8..pos + 16].try_into().ok()?);
        let reclen = u16::from_le_bytes([buf[pos + 16], buf[pos + 17]]) as usize;
        if reclen < 20 || pos + reclen > buf.len() {
            return None;
        }
        let typ = buf[pos + 18];
        let name = &buf[pos + 19..pos + reclen];
        let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
        let at = pos;
        pos += reclen;
        Some((at, ino, off, reclen, typ, name))
    })
}

/// Map every large `d_off` to a cookie (fstat only if one is seen).
fn guest_off(fd: u32, off: i64, id: &mut Option<Option<(u64, u64)>>) -> i64 {
    if off <= i32::MAX as i64 && off >= 0 {
        return off;
    }
    let id = *id.get_or_insert_with(|| dir_id(fd as i32));
    let Some(id) = id else { return off };
    let mut g = DIRS.lock().unwrap_or_else(|e| e.into_inner());
    cookie_in(g.get_or_insert_with(HashMap::new), id, off)
}

/// getdents64(fd, dirp, count): same record layout; d_off made 32-bit safe.
pub fn getdents64(_: &mut Context, a: &Args) -> SysResult {
    let mut buf = host_getdents(a[0], clamp(a[1], a[2]) as u32)?;
    let mut id = None;
    let recs: Vec<(usize, i64)> = records(&buf).map(|r| (r.0, r.2)).collect();
    for (at, off) in recs {
        let g = guest_off(a[0], off, &mut id);
        buf[at + 8..at + 16].copy_from_slice(&g.to_le_bytes());
    }
    guest_mem::write_bytes(a[1], &buf)?;
    written(a[1], buf.len() as i64)
}

/// getdents(fd, dirp, count): i386 `struct linux_dirent` {u32 d_ino,
/// u32 d_off, u16 d_reclen, name, NUL, pad, u8 d_type at reclen-1},
/// records 4-aligned. Each is smaller than its dirent64, so a host read of
/// `count` bytes always fits. An inode that does not fit 32 bits stops the
/// read with EOVERFLOW (as the compat kernel), the position rewound to it.
pub fn getdents(_: &mut Context, a: &Args) -> SysResult {
    let buf = host_getdents(a[0], clamp(a[1], a[2]) as u32)?;
    let mut out = Vec::with_capacity(buf.len());
    let mut id = None;
    let mut last_off = None;
    for (_, ino, off, _, typ, name) in records(&buf) {
        let Ok(ino32) = u32::try_from(ino) else {
            if out.is_empty() {
                return Err(libc::EOVERFLOW);
            }
            if let Some(o) = last_off {
                let _ = host!(libc::SYS_lseek, a[0], o, libc::SEEK_SET);
            }
            break;
        };
        let reclen = (10 + name.len() + 2).next_multiple_of(4);
        let start = out.len();
        out.extend_from_slice(&ino32.to_le_bytes());
        out.extend_from_slice(&(guest_off(a[0], off, &mut id) as u32).to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        out.extend_from_slice(name);
        out.resize(start + reclen, 0);
        out[start + reclen - 1] = typ;
        last_off = Some(off);
    }
    guest_mem::write_bytes(a[1], &out)?;
    written(a[1], out.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_roundtrip() {
        let mut m = HashMap::new();
        let id = (1, 2);
        let a = cookie_in(&mut m, id, 0x7fff_ffff_ffff_ff00);
        let b = cookie_in(&mut m, id, 0x1234_5678_9abc);
        assert_eq!(a, COOKIE_BASE);
        assert_eq!(b, COOKIE_BASE + 1);
        assert_eq!(cookie_in(&mut m, id, 0x7fff_ffff_ffff_ff00), a);
        assert_eq!(m[&id].real[(b - COOKIE_BASE) as usize], 0x1234_5678_9abc);
    }

    #[test]
    fn records_parse() {
        let mut buf = vec![0u8; 24];
        buf[0..8].copy_from_slice(&5u64.to_le_bytes());
        buf[8..16].copy_from_slice(&7i64.to_le_bytes());
        buf[16..18].copy_from_slice(&24u16.to_le_bytes());
        buf[18] = 4;
        buf[19..21].copy_from_slice(b"ab");
        let r: Vec<_> = records(&buf).collect();
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].1, r[0].2, r[0].3, r[0].4, r[0].5),
            (5, 7, 24, 4, &b"ab"[..])
        );
    }
}
