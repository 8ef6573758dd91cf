//! Kernel key retention: add_key, request_key, keyctl.
//!
//! Their arguments are strings, (buffer, length) pairs and ints, the same
//! on i386 and x86-64, except KEYCTL_INSTANTIATE_IOV (an iovec array,
//! converted) and the Diffie-Hellman and public-key operations (structures
//! holding pointers or sizes of further buffers: not converted, they
//! answer EOPNOTSUPP, as a kernel without them would).
//!
//! Invariant: every string is copied, every buffer is a checked guest
//! range; buffers the kernel fills are reported as written (they may hold
//! translated code).

use super::netmsg::out_buf;
use super::{gbuf, host, structs, sx, Args, SysResult};
use crate::abi::Context;

/// A NUL-terminated copy of a guest string (None for NULL).
fn opt_str(addr: u32) -> Result<Option<Vec<u8>>, i32> {
    if addr == 0 {
        return Ok(None);
    }
    let mut s = crate::guest_mem::read_cstr(addr)?;
    s.push(0);
    Ok(Some(s))
}

fn sptr(s: &Option<Vec<u8>>) -> u64 {
    s.as_ref().map_or(0, |s| s.as_ptr() as u64)
}

/// add_key(type, description, payload, plen, keyring).
pub fn add_key(_: &mut Context, a: &Args) -> SysResult {
    let (ty, desc) = (opt_str(a[0])?, opt_str(a[1])?);
    let payload = if a[2] == 0 {
        0
    } else {
        gbuf(a[2], a[3] as usize)?
    };
    host!(
        libc::SYS_add_key,
        sptr(&ty),
        sptr(&desc),
        payload,
        a[3],
        sx(a[4])
    )
}

/// request_key(type, description, callout_info, dest_keyring).
pub fn request_key(_: &mut Context, a: &Args) -> SysResult {
    let (ty, desc, info) = (opt_str(a[0])?, opt_str(a[1])?, opt_str(a[2])?);
    host!(
        libc::SYS_request_key,
        sptr(&ty),
        sptr(&desc),
        sptr(&info),
        sx(a[3])
    )
}

/// keyctl(cmd, arg2, arg3, arg4, arg5).
pub fn keyctl(_: &mut Context, a: &Args) -> SysResult {
    let (cmd, b, c, d, e) = (a[0], a[1], a[2], a[3], a[4]);
    let k = |n: libc::c_long, args: &[u64]| {
        let mut v = vec![cmd as u64];
        v.extend_from_slice(args);
        super::host_call(n, &v)
    };
    const N: libc::c_long = libc::SYS_keyctl;
    match cmd {
        // Ints only: GET_KEYRING_ID, REVOKE, CHOWN, SETPERM, CLEAR, LINK,
        // UNLINK, NEGATE, SET_REQKEY_KEYRING, SET_TIMEOUT,
        // ASSUME_AUTHORITY, SESSION_TO_PARENT, REJECT, INVALIDATE,
        // GET_PERSISTENT, MOVE, WATCH_KEY.
        0 | 3 | 4 | 5 | 7 | 8 | 9 | 13 | 14 | 15 | 16 | 18 | 19 | 21 | 22 | 30 | 32 => {
            k(N, &[sx(b), sx(c), sx(d), sx(e)])
        }
        // JOIN_SESSION_KEYRING(name or NULL).
        1 => {
            let name = opt_str(b)?;
            k(N, &[sptr(&name)])
        }
        // UPDATE(id, payload, plen), INSTANTIATE(id, payload, plen, ring).
        2 | 12 => {
            let p = if c == 0 { 0 } else { gbuf(c, d as usize)? };
            k(N, &[sx(b), p, d as u64, sx(e)])
        }
        // DESCRIBE, READ, GET_SECURITY(id, buffer, buflen).
        6 | 11 | 17 => {
            let buf = if c == 0 { 0 } else { out_buf(c, d as usize)? };
            k(N, &[sx(b), buf, d as u64])
        }
        // SEARCH(ring, type, description, dest), RESTRICT_KEYRING(ring,
        // type, restriction).
        10 | 29 => {
            let (t, s) = (opt_str(c)?, opt_str(d)?);
            k(N, &[sx(b), sptr(&t), sptr(&s), sx(e)])
        }
        // INSTANTIATE_IOV(id, iov, ioc, ring).
        20 => {
            let iov = structs::read_iovecs(c, d)?;
            let p = if c == 0 { 0 } else { iov.as_ptr() as u64 };
            k(N, &[sx(b), p, d as u64, sx(e)])
        }
        // CAPABILITIES(buffer, buflen).
        31 => {
            let buf = if b == 0 { 0 } else { out_buf(b, c as usize)? };
            k(N, &[buf, c as u64])
        }
        // DH_COMPUTE and the PKEY_* operations.
        23..=28 => Err(libc::EOPNOTSUPP),
        _ => Err(libc::EOPNOTSUPP),
    }
}
