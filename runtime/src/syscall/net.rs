//! Sockets: the socketcall(2) multiplexer (102, as `compat_sys_socketcall`)
//! and the direct i386 calls (socket 359 .. shutdown 373, recvmmsg 337/417,
//! sendmmsg 345); message calls live in `netmsg`.
//!
//! Invariants:
//! - Socket addresses, `int`s, `struct linger`, `struct ucred` and the
//!   time64 socket timeouts are the same on i386 and x86-64 and pass
//!   through as checked guest pointers; everything that differs is
//!   converted here: SO_RCVTIMEO/SO_SNDTIMEO (old timeval, 8 vs 16 bytes),
//!   SO_ATTACH_FILTER (sock_fprog, 8 vs 16) and the MCAST_* group requests
//!   (4-byte vs 8-byte aligned sockaddr_storage).
//! - Buffers the kernel writes into are reported to the dispatcher.

use super::fs::clamp;
use super::netmsg::{self, out_buf};
use super::{gbuf, host, structs, sx, written, Args, SysResult};
use crate::abi::Context;
use crate::guest_mem;

const SOL_SOCKET: u32 = 1;
const SOL_IP: u32 = 0;
const SOL_IPV6: u32 = 41;
const SO_RCVTIMEO_OLD: u32 = 20;
const SO_SNDTIMEO_OLD: u32 = 21;
const SO_ATTACH_FILTER: u32 = 26;
const SO_ATTACH_REUSEPORT_CBPF: u32 = 51;
/// MCAST_JOIN_GROUP .. MCAST_MSFILTER.
const MCAST_FIRST: u32 = 42;
const MCAST_MSFILTER: u32 = 48;

/// Guest (addr, *addrlen) output pair: both checked, the address buffer
/// for as many bytes as *addrlen says.
fn addr_out(addr: u32, lenp: u32) -> Result<(u64, u64), i32> {
    if addr == 0 {
        return Ok((0, gbuf(lenp, 4)?));
    }
    let len = guest_mem::read_u32(lenp)? as i32;
    if len < 0 {
        return Err(libc::EINVAL);
    }
    Ok((out_buf(addr, len as usize)?, out_buf(lenp, 4)?))
}

fn socket(a: &[u32]) -> SysResult {
    host!(libc::SYS_socket, sx(a[0]), sx(a[1]), sx(a[2]))
}

fn socketpair(a: &[u32]) -> SysResult {
    host!(
        libc::SYS_socketpair,
        sx(a[0]),
        sx(a[1]),
        sx(a[2]),
        out_buf(a[3], 8)?
    )
}

fn bind_like(nr: libc::c_long, a: &[u32]) -> SysResult {
    host!(nr, a[0], gbuf(a[1], a[2] as usize)?, a[2])
}

fn accept4(fd: u32, addr: u32, lenp: u32, flags: u32) -> SysResult {
    let (p, l) = addr_out(addr, lenp)?;
    host!(libc::SYS_accept4, fd, p, l, sx(flags))
}

fn name_like(nr: libc::c_long, a: &[u32]) -> SysResult {
    let (p, l) = addr_out(a[1], a[2])?;
    host!(nr, a[0], p, l)
}

fn sendto(fd: u32, buf: u32, len: u32, flags: u32, addr: u32, alen: u32) -> SysResult {
    let to = if addr == 0 {
        0
    } else {
        gbuf(addr, alen as usize)?
    };
    host!(libc::SYS_sendto, fd, buf, clamp(buf, len), flags, to, alen)
}

fn recvfrom(fd: u32, buf: u32, len: u32, flags: u32, addr: u32, lenp: u32) -> SysResult {
    let (p, l) = if lenp == 0 {
        (gbuf(addr, 0)?, 0)
    } else {
        addr_out(addr, lenp)?
    };
    let n = clamp(buf, len);
    out_buf(buf, n as usize)?;
    let r = host!(libc::SYS_recvfrom, fd, buf, n, flags, p, l)?;
    written(buf, r)
}

/// i386 `struct sock_fprog` {u16 len; u32 filter} -> host {u16; u64}.
fn fprog(optval: u32, optlen: u32) -> Result<[u64; 2], i32> {
    if optlen != 8 {
        return Err(libc::EINVAL);
    }
    let [len, filter] = guest_mem::read_u32s::<2>(optval)?;
    let len = len & 0xffff;
    Ok([len as u64, gbuf(filter, len as usize * 8)?])
}

/// MCAST_* group requests: the i386 structures are the host's without
/// the 4 bytes of padding after the leading interface index.
fn is_mcast(level: u32, name: u32) -> bool {
    (level == SOL_IP || level == SOL_IPV6) && (MCAST_FIRST..=MCAST_MSFILTER).contains(&name)
}

fn widen_group(g: &[u8]) -> Result<Vec<u8>, i32> {
    if g.len() < 4 {
        return Err(libc::EINVAL);
    }
    let mut h = g[..4].to_vec();
    h.extend_from_slice(&[0; 4]);
    h.extend_from_slice(&g[4..]);
    Ok(h)
}

fn setsockopt(fd: u32, level: u32, name: u32, optval: u32, optlen: u32) -> SysResult {
    let set = |p: u64, l: usize| host!(libc::SYS_setsockopt, fd, level, name, p, l);
    if (optlen as i32) < 0 {
        return Err(libc::EINVAL);
    }
    match (level, name) {
        (SOL_SOCKET, SO_RCVTIMEO_OLD | SO_SNDTIMEO_OLD) => {
            if optlen < 8 {
                return Err(libc::EINVAL);
            }
            let t: structs::Timeval32 = structs::read(optval)?;
            let h = t.to_host();
            set(&h as *const libc::timeval as u64, 16)
        }
        (SOL_SOCKET, SO_ATTACH_FILTER | SO_ATTACH_REUSEPORT_CBPF) => {
            let h = fprog(optval, optlen)?;
            set(h.as_ptr() as u64, 16)
        }
        _ if is_mcast(level, name) => {
            let h = widen_group(&guest_mem::read_bytes(optval, optlen as usize)?)?;
            set(h.as_ptr() as u64, h.len())
        }
        _ => set(gbuf(optval, optlen as usize)?, optlen as usize),
    }
}

fn getsockopt(fd: u32, level: u32, name: u32, optval: u32, lenp: u32) -> SysResult {
    let len = guest_mem::read_u32(lenp)? as i32;
    if len < 0 {
        return Err(libc::EINVAL);
    }
    let len = len as usize;
    let timeo = level == SOL_SOCKET && matches!(name, SO_RCVTIMEO_OLD | SO_SNDTIMEO_OLD);
    if timeo {
        let mut h = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        let mut hl: u32 = 16;
        host!(
            libc::SYS_getsockopt,
            fd,
            level,
            name,
            &mut h as *mut libc::timeval,
            &mut hl as *mut u32
        )?;
        if len < 8 {
            return Err(libc::EINVAL);
        }
        structs::write(optval, &structs::Timeval32::from_host(&h))?;
        guest_mem::write_u32(lenp, 8)?;
        return Ok(0);
    }
    if is_mcast(level, name) && name == MCAST_MSFILTER {
        let mut h = widen_group(&guest_mem::read_bytes(optval, len)?)?;
        let mut hl = h.len() as u32;
        host!(
            libc::SYS_getsockopt,
            fd,
            level,
            name,
            h.as_mut_ptr(),
            &mut hl as *mut u32
        )?;
        let hl = (hl as usize).min(h.len());
        let mut g = h[..4.min(hl)].to_vec();
        g.extend_from_slice(&h[8.min(hl)..hl]);
        guest_mem::write_bytes(optval, &g)?;
        guest_mem::write_u32(lenp, g.len() as u32)?;
        return Ok(0);
    }
    host!(
        libc::SYS_getsockopt,
        fd,
        level,
        name,
        out_buf(optval, len)?,
        out_buf(lenp, 4)?
    )
}

/// socketcall(call, u32 args[]): argument counts as the kernel's `nas`.
pub fn socketcall(_: &mut Context, a: &Args) -> SysResult {
    const NARGS: [usize; 21] = [
        0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4,
    ];
    let call = a[0] as usize;
    if !(1..NARGS.len()).contains(&call) {
        return Err(libc::EINVAL);
    }
    let raw = guest_mem::read_bytes(a[1], NARGS[call] * 4)?;
    let mut v = [0u32; 6];
    for (o, c) in v.iter_mut().zip(raw.chunks_exact(4)) {
        *o = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    match call {
        1 => socket(&v),
        2 => bind_like(libc::SYS_bind, &v),
        3 => bind_like(libc::SYS_connect, &v),
        4 => host!(libc::SYS_listen, v[0], sx(v[1])),
        5 => accept4(v[0], v[1], v[2], 0),
        6 => name_like(libc::SYS_getsockname, &v),
        7 => name_like(libc::SYS_getpeername, &v),
        8 => socketpair(&v),
        9 => sendto(v[0], v[1], v[2], v[3], 0, 0),
        10 => recvfrom(v[0], v[1], v[2], v[3], 0, 0),
        11 => sendto(v[0], v[1], v[2], v[3], v[4], v[5]),
        12 => recvfrom(v[0], v[1], v[2], v[3], v[4], v[5]),
        13 => host!(libc::SYS_shutdown, v[0], sx(v[1])),
        14 => setsockopt(v[0], v[1], v[2], v[3], v[4]),
        15 => getsockopt(v[0], v[1], v[2], v[3], v[4]),
        16 => netmsg::sendmsg(v[0], v[1], v[2]),
        17 => netmsg::recvmsg(v[0], v[1], v[2]),
        18 => accept4(v[0], v[1], v[2], v[3]),
        19 => netmsg::recvmmsg32(v[0], v[1], v[2], v[3], v[4]),
        _ => netmsg::sendmmsg(v[0], v[1], v[2], v[3]),
    }
}

pub fn sys_socket(_: &mut Context, a: &Args) -> SysResult {
    socket(a)
}

pub fn sys_socketpair(_: &mut Context, a: &Args) -> SysResult {
    socketpair(a)
}

pub fn sys_bind(_: &mut Context, a: &Args) -> SysResult {
    bind_like(libc::SYS_bind, a)
}

pub fn sys_connect(_: &mut Context, a: &Args) -> SysResult {
    bind_like(libc::SYS_connect, a)
}

pub fn sys_listen(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_listen, a[0], sx(a[1]))
}

pub fn sys_accept4(_: &mut Context, a: &Args) -> SysResult {
    accept4(a[0], a[1], a[2], a[3])
}

pub fn sys_getsockopt(_: &mut Context, a: &Args) -> SysResult {
    getsockopt(a[0], a[1], a[2], a[3], a[4])
}

pub fn sys_setsockopt(_: &mut Context, a: &Args) -> SysResult {
    setsockopt(a[0], a[1], a[2], a[3], a[4])
}

pub fn sys_getsockname(_: &mut Context, a: &Args) -> SysResult {
    name_like(libc::SYS_getsockname, a)
}

pub fn sys_getpeername(_: &mut Context, a: &Args) -> SysResult {
    name_like(libc::SYS_getpeername, a)
}

pub fn sys_sendto(_: &mut Context, a: &Args) -> SysResult {
    sendto(a[0], a[1], a[2], a[3], a[4], a[5])
}

pub fn sys_recvfrom(_: &mut Context, a: &Args) -> SysResult {
    recvfrom(a[0], a[1], a[2], a[3], a[4], a[5])
}

pub fn sys_sendmsg(_: &mut Context, a: &Args) -> SysResult {
    netmsg::sendmsg(a[0], a[1], a[2])
}

pub fn sys_recvmsg(_: &mut Context, a: &Args) -> SysResult {
    netmsg::recvmsg(a[0], a[1], a[2])
}

pub fn sys_shutdown(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_shutdown, a[0], sx(a[1]))
}

pub fn sys_sendmmsg(_: &mut Context, a: &Args) -> SysResult {
    netmsg::sendmmsg(a[0], a[1], a[2], a[3])
}

/// recvmmsg (337): old_timespec32 timeout.
pub fn sys_recvmmsg(_: &mut Context, a: &Args) -> SysResult {
    netmsg::recvmmsg32(a[0], a[1], a[2], a[3], a[4])
}

/// recvmmsg_time64 (417): __kernel_timespec is the host's.
pub fn sys_recvmmsg_time64(_: &mut Context, a: &Args) -> SysResult {
    let ts = if a[4] == 0 { 0 } else { gbuf(a[4], 16)? };
    netmsg::recvmmsg(a[0], a[1], a[2], a[3], ts)
}
