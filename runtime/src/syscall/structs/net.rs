//! i386 socket structures (part of `structs`): `msghdr`, `mmsghdr`, and
//! control messages, converted as the compat kernel does
//! (`cmsghdr_from_user_compat_to_kern`, `put_cmsg_compat`,
//! `scm_detach_fds_compat`).
//!
//! Invariant: an i386 `cmsghdr` is {u32 len, i32 level, i32 type}, 12
//! bytes, with data and successors 4-aligned; the host's is {u64 len, i32
//! level, i32 type}, 16 bytes, 8-aligned. Payloads are the same bytes
//! except the old socket timestamps (timeval/timespec with 64-bit fields on
//! the host), which shrink on the way to the guest.

use super::Plain;
use std::mem::size_of;

/// i386 `struct msghdr` (compat_msghdr): 28 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Msghdr32 {
    pub name: u32,
    pub namelen: u32,
    pub iov: u32,
    pub iovlen: u32,
    pub control: u32,
    pub controllen: u32,
    pub flags: u32,
}

/// i386 `struct mmsghdr`: a msghdr and the byte count, 32 bytes.
pub const MMSGHDR32_SIZE: u32 = 32;
pub const CMSG32_HDR: usize = 12;
const CMSG_HDR: usize = 16;
const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;
const SO_TIMESTAMP_OLD: i32 = 29;
const SO_TIMESTAMPNS_OLD: i32 = 35;
const SO_TIMESTAMPING_OLD: i32 = 37;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

fn rd32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// Guest control messages to host ones. A header whose length is below 12
/// or runs past the buffer gives EINVAL, as the compat kernel.
pub fn cmsgs_to_host(g: &[u8]) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < g.len() {
        if g.len() - pos < CMSG32_HDR {
            return Err(libc::EINVAL);
        }
        let len = rd32(g, pos) as usize;
        if len < CMSG32_HDR || len > g.len() - pos {
            return Err(libc::EINVAL);
        }
        let data = &g[pos + CMSG32_HDR..pos + len];
        out.extend_from_slice(&((CMSG_HDR + data.len()) as u64).to_le_bytes());
        out.extend_from_slice(&g[pos + 4..pos + 12]);
        out.extend_from_slice(data);
        out.resize(align8(out.len()), 0);
        pos += align4(len);
    }
    Ok(out)
}

/// The result of converting host control messages for the guest.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CmsgOut {
    /// i386 control messages, at most the guest's capacity.
    pub bytes: Vec<u8>,
    /// MSG_CTRUNC: something did not fit.
    pub truncated: bool,
    /// Received descriptors that did not fit: the caller closes them.
    pub close: Vec<i32>,
}

/// Old socket timestamps: host {i64, i64} pairs -> i386 {i32, i32} pairs.
fn shrink_times(d: &[u8]) -> Vec<u8> {
    d.chunks_exact(8)
        .flat_map(|c| [c[0], c[1], c[2], c[3]])
        .collect()
}

/// Host control messages (`h`, as the kernel wrote them) to i386 ones in
/// at most `cap` bytes.
pub fn cmsgs_from_host(h: &[u8], cap: usize) -> CmsgOut {
    let mut out = CmsgOut::default();
    let mut pos = 0;
    while h.len() - pos >= CMSG_HDR {
        let len = u64::from_le_bytes(h[pos..pos + 8].try_into().unwrap_or([0; 8])) as usize;
        if len < CMSG_HDR || len > h.len() - pos {
            break;
        }
        let (level, typ) = (rd32(h, pos + 8) as i32, rd32(h, pos + 12) as i32);
        let raw = &h[pos + CMSG_HDR..pos + len];
        pos += align8(len).min(h.len() - pos);
        let timestamp = matches!(
            typ,
            SO_TIMESTAMP_OLD | SO_TIMESTAMPNS_OLD | SO_TIMESTAMPING_OLD
        );
        let mut data = if level == SOL_SOCKET && timestamp {
            shrink_times(raw)
        } else {
            raw.to_vec()
        };
        let room = cap - out.bytes.len();
        if level == SOL_SOCKET && typ == SCM_RIGHTS {
            let fds: Vec<i32> = data.chunks_exact(4).map(|c| rd32(c, 0) as i32).collect();
            let fit = room.saturating_sub(CMSG32_HDR) / 4;
            if fit < fds.len() {
                out.truncated = true;
                out.close.extend_from_slice(&fds[fit..]);
                data.truncate(fit * 4);
            }
            if fit == 0 {
                continue;
            }
        }
        if room < CMSG32_HDR {
            out.truncated = true;
            continue;
        }
        let glen = CMSG32_HDR + data.len();
        out.bytes.extend_from_slice(&(glen as u32).to_le_bytes());
        out.bytes.extend_from_slice(&level.to_le_bytes());
        out.bytes.extend_from_slice(&typ.to_le_bytes());
        if glen > room {
            out.truncated = true;
            out.bytes.extend_from_slice(&data[..room - CMSG32_HDR]);
        } else {
            out.bytes.extend_from_slice(&data);
            out.bytes
                .resize(out.bytes.len() + (align4(glen) - glen).min(room - glen), 0);
        }
    }
    out
}

/// Host buffer size for receiving what fits in `cap` guest bytes: every
/// i386 message grows by at most 2x (header 12 -> 16, 8-alignment,
/// timestamps); whatever then does not fit the guest is cut.
pub fn host_control_cap(cap: usize) -> usize {
    if cap == 0 {
        0
    } else {
        (cap * 2 + CMSG_HDR).min(1 << 20)
    }
}

// SAFETY: repr(C) integer-only struct without implicit padding.
unsafe impl Plain for Msghdr32 {}

const _: () = assert!(size_of::<Msghdr32>() == 28);

#[cfg(test)]
mod tests {
    use super::*;

    fn g_cmsg(level: i32, typ: i32, data: &[u8]) -> Vec<u8> {
        let mut v = ((12 + data.len()) as u32).to_le_bytes().to_vec();
        v.extend_from_slice(&level.to_le_bytes());
        v.extend_from_slice(&typ.to_le_bytes());
        v.extend_from_slice(data);
        v.resize(align4(v.len()), 0);
        v
    }

    #[test]
    fn rights_and_creds_roundtrip() {
        let mut g = g_cmsg(1, 1, &[3, 0, 0, 0, 4, 0, 0, 0]);
        g.extend(g_cmsg(1, 2, &[1; 12]));
        let h = cmsgs_to_host(&g).unwrap();
        assert_eq!(h.len(), 24 + 32);
        assert_eq!(u64::from_le_bytes(h[0..8].try_into().unwrap()), 24);
        assert_eq!(u64::from_le_bytes(h[24..32].try_into().unwrap()), 28);
        let back = cmsgs_from_host(&h, 100);
        assert_eq!(back.bytes, g);
        assert!(!back.truncated && back.close.is_empty());
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(cmsgs_to_host(&[8, 0, 0, 0]), Err(libc::EINVAL));
        let mut g = g_cmsg(1, 1, &[0; 4]);
        g[0] = 40;
        assert_eq!(cmsgs_to_host(&g), Err(libc::EINVAL));
        assert_eq!(cmsgs_to_host(&[]), Ok(vec![]));
    }

    #[test]
    fn rights_cut_to_fit() {
        let g = g_cmsg(1, 1, &[5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0]);
        let h = cmsgs_to_host(&g).unwrap();
        let out = cmsgs_from_host(&h, 20);
        assert!(out.truncated);
        assert_eq!(out.close, vec![7]);
        assert_eq!(out.bytes, g_cmsg(1, 1, &[5, 0, 0, 0, 6, 0, 0, 0]));
    }

    #[test]
    fn timestamp_shrinks() {
        let mut h = 32u64.to_le_bytes().to_vec();
        h.extend_from_slice(&1i32.to_le_bytes());
        h.extend_from_slice(&29i32.to_le_bytes());
        h.extend_from_slice(&7i64.to_le_bytes());
        h.extend_from_slice(&9i64.to_le_bytes());
        let out = cmsgs_from_host(&h, 64);
        assert_eq!(out.bytes, g_cmsg(1, 29, &[7, 0, 0, 0, 9, 0, 0, 0]));
    }
}
