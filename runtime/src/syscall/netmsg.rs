//! sendmsg, recvmsg, sendmmsg, recvmmsg: i386 `msghdr`/`mmsghdr` (28/32
//! bytes, 32-bit pointers) rebuilt as host ones around the guest's own
//! name and data buffers, control messages converted both ways
//! (`structs::net`).
//!
//! Invariant: the host kernel only ever sees host-layout headers, iovecs
//! and control messages; it writes received names and data straight into
//! guest buffers (checked below 4 GiB and reported to the dispatcher), and
//! control data through a host buffer, so a descriptor that does not fit
//! the guest's buffer is closed instead of leaking.

use super::structs::net::{self as n, Msghdr32};
use super::{host, structs, written, SysResult};
use crate::guest_mem;
use crate::memory;

/// Set by i386 code that tries to pass compat flags itself: refused.
const MSG_CMSG_COMPAT: u32 = 0x8000_0000;
const MSG_CTRUNC: i32 = 8;

/// A guest message header rebuilt for the host.
struct Msg {
    hdr: libc::msghdr,
    iov: Vec<libc::iovec>,
    ctl: Vec<u8>,
    g: Msghdr32,
    addr: u32,
}

/// Check a guest output buffer and drop translations of code there.
pub(super) fn out_buf(addr: u32, len: usize) -> Result<u64, i32> {
    guest_mem::check_range(addr, len)?;
    if addr != 0 && len != 0 {
        memory::notify_change(addr, len.min(u32::MAX as usize) as u32);
    }
    Ok(addr as u64)
}

fn notify_iov(iov: &[libc::iovec], n: Option<i64>) {
    let mut left = n.unwrap_or(i64::MAX);
    for v in iov {
        if left <= 0 {
            break;
        }
        let k = (v.iov_len as i64).min(left);
        let _ = written(v.iov_base as usize as u32, k);
        left -= k;
    }
}

impl Msg {
    fn read(addr: u32, recv: bool) -> Result<Msg, i32> {
        let g: Msghdr32 = structs::read(addr)?;
        if g.iovlen > structs::IOV_MAX {
            return Err(libc::EMSGSIZE);
        }
        if g.controllen > i32::MAX as u32 {
            return Err(libc::ENOBUFS);
        }
        let mut iov = structs::read_iovecs(g.iov, g.iovlen)?;
        let mut ctl = if recv {
            vec![0u8; n::host_control_cap(g.controllen as usize)]
        } else if g.controllen == 0 {
            Vec::new()
        } else {
            n::cmsgs_to_host(&guest_mem::read_bytes(g.control, g.controllen as usize)?)?
        };
        let namelen = (g.namelen as i32).max(0) as usize;
        let name = if g.name == 0 {
            0
        } else if recv {
            out_buf(g.name, namelen.min(128))?
        } else {
            super::gbuf(g.name, namelen)?
        };
        if recv {
            notify_iov(&iov, None);
        }
        // SAFETY: plain C struct; all-zero is a valid empty header.
        let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
        hdr.msg_name = name as usize as *mut _;
        hdr.msg_namelen = g.namelen;
        hdr.msg_iov = iov.as_mut_ptr();
        hdr.msg_iovlen = iov.len();
        if !ctl.is_empty() {
            hdr.msg_control = ctl.as_mut_ptr().cast();
            hdr.msg_controllen = ctl.len();
        }
        hdr.msg_flags = g.flags as i32;
        Ok(Msg {
            hdr,
            iov,
            ctl,
            g,
            addr,
        })
    }

    /// After a receive of `len` bytes described by the host header `h`:
    /// control messages, name length, flags back to the guest.
    fn finish_recv(&self, len: i64, h: &libc::msghdr) -> Result<(), i32> {
        notify_iov(&self.iov, Some(len));
        let used = if h.msg_control.is_null() {
            0
        } else {
            h.msg_controllen.min(self.ctl.len())
        };
        let out = n::cmsgs_from_host(&self.ctl[..used], self.g.controllen as usize);
        for &fd in &out.close {
            let _ = host!(libc::SYS_close, fd);
        }
        if !out.bytes.is_empty() {
            guest_mem::write_bytes(self.g.control, &out.bytes)?;
        }
        let mut flags = h.msg_flags;
        if out.truncated {
            flags |= MSG_CTRUNC;
        }
        if self.g.name != 0 {
            guest_mem::write_u32(self.addr + 4, h.msg_namelen)?;
        }
        guest_mem::write_u32(self.addr + 20, out.bytes.len() as u32)?;
        guest_mem::write_u32(self.addr + 24, flags as u32)
    }
}

/// sendmsg(fd, struct msghdr *, flags).
pub fn sendmsg(fd: u32, msg: u32, flags: u32) -> SysResult {
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(libc::EINVAL);
    }
    let m = Msg::read(msg, false)?;
    host!(libc::SYS_sendmsg, fd, &m.hdr as *const libc::msghdr, flags)
}

/// recvmsg(fd, struct msghdr *, flags).
pub fn recvmsg(fd: u32, msg: u32, flags: u32) -> SysResult {
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(libc::EINVAL);
    }
    let mut m = Msg::read(msg, true)?;
    let r = host!(
        libc::SYS_recvmsg,
        fd,
        &mut m.hdr as *mut libc::msghdr,
        flags
    )?;
    m.finish_recv(r, &m.hdr)?;
    Ok(r)
}

/// The messages of a sendmmsg/recvmmsg vector (at most UIO_MAXIOV, as the
/// kernel): converted up to the first bad one, which fails the call only
/// if it is the first.
fn read_vec(vec: u32, vlen: u32, recv: bool) -> Result<Vec<Msg>, i32> {
    let mut v = Vec::new();
    for i in 0..vlen.min(structs::IOV_MAX) {
        let addr = vec.checked_add(i * n::MMSGHDR32_SIZE).ok_or(libc::EFAULT)?;
        match Msg::read(addr, recv) {
            Ok(m) => v.push(m),
            Err(e) if v.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    Ok(v)
}

fn host_vec(msgs: &[Msg]) -> Vec<libc::mmsghdr> {
    msgs.iter()
        .map(|m| libc::mmsghdr {
            msg_hdr: m.hdr,
            msg_len: 0,
        })
        .collect()
}

/// sendmmsg(fd, struct mmsghdr *, vlen, flags).
pub fn sendmmsg(fd: u32, vec: u32, vlen: u32, flags: u32) -> SysResult {
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(libc::EINVAL);
    }
    if vlen == 0 {
        return Ok(0);
    }
    let msgs = read_vec(vec, vlen, false)?;
    let mut h = host_vec(&msgs);
    let r = host!(libc::SYS_sendmmsg, fd, h.as_mut_ptr(), h.len(), flags)?;
    for (m, hm) in msgs.iter().zip(&h).take(r as usize) {
        guest_mem::write_u32(m.addr + 28, hm.msg_len)?;
    }
    Ok(r)
}

/// recvmmsg(fd, struct mmsghdr *, vlen, flags, timeout): `ts` is a host
/// timespec pointer (or 0), already converted by the caller.
pub fn recvmmsg(fd: u32, vec: u32, vlen: u32, flags: u32, ts: u64) -> SysResult {
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(libc::EINVAL);
    }
    if vlen == 0 {
        return Ok(0);
    }
    let msgs = read_vec(vec, vlen, true)?;
    let mut h = host_vec(&msgs);
    let r = host!(libc::SYS_recvmmsg, fd, h.as_mut_ptr(), h.len(), flags, ts)?;
    for (m, hm) in msgs.iter().zip(&h).take(r as usize) {
        m.finish_recv(hm.msg_len as i64, &hm.msg_hdr)?;
        guest_mem::write_u32(m.addr + 28, hm.msg_len)?;
    }
    Ok(r)
}

/// recvmmsg (337): old_timespec32 timeout, written back when messages
/// arrived.
pub fn recvmmsg32(fd: u32, vec: u32, vlen: u32, flags: u32, tsp: u32) -> SysResult {
    if tsp == 0 {
        return recvmmsg(fd, vec, vlen, flags, 0);
    }
    let t: structs::Timespec32 = structs::read(tsp)?;
    let mut ts = t.to_host();
    let r = recvmmsg(fd, vec, vlen, flags, &mut ts as *mut libc::timespec as u64)?;
    if r > 0 {
        structs::write(tsp, &structs::Timespec32::from_host(&ts))?;
    }
    Ok(r)
}
