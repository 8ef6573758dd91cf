//! POSIX message queues: mq_open, mq_unlink, mq_timedsend,
//! mq_timedreceive (32-bit and time64 timeouts), mq_notify, mq_getsetattr.
//!
//! Invariant: `struct mq_attr` (four longs and four reserved: 32 bytes on
//! i386, 64 on the host) and `struct sigevent` are converted through host
//! copies, timeouts as in `time`; message buffers pass as checked guest
//! pointers, received ones reported to the dispatcher.

use super::netmsg::out_buf;
use super::structs::{self, Timespec32};
use super::{gbuf, host, sx, written, Args, SysResult};
use crate::abi::Context;
use crate::guest_mem;

fn attr_in(addr: u32) -> Result<[i64; 8], i32> {
    let g = guest_mem::read_u32s::<8>(addr)?;
    Ok(g.map(|v| v as i32 as i64))
}

fn attr_out(addr: u32, h: &[i64; 8]) -> Result<(), i32> {
    let b: Vec<u8> = h[..4]
        .iter()
        .flat_map(|&v| (v as i32).to_le_bytes())
        .chain([0u8; 16])
        .collect();
    guest_mem::write_bytes(addr, &b)
}

/// mq_open(name, oflag, mode, struct mq_attr *): the attributes are read
/// only with O_CREAT.
pub fn mq_open(_: &mut Context, a: &Args) -> SysResult {
    let mut name = guest_mem::read_cstr(a[0])?;
    name.push(0);
    let attr = if a[1] as i32 & libc::O_CREAT != 0 && a[3] != 0 {
        Some(attr_in(a[3])?)
    } else {
        None
    };
    let ap = attr.as_ref().map_or(0, |v| v.as_ptr() as u64);
    host!(libc::SYS_mq_open, name.as_ptr(), a[1], a[2], ap)
}

pub fn mq_unlink(_: &mut Context, a: &Args) -> SysResult {
    let mut name = guest_mem::read_cstr(a[0])?;
    name.push(0);
    host!(libc::SYS_mq_unlink, name.as_ptr())
}

/// An old_timespec32 timeout as a host pointer (kept alive in `slot`).
fn timeout32(addr: u32, slot: &mut libc::timespec) -> Result<u64, i32> {
    if addr == 0 {
        return Ok(0);
    }
    *slot = structs::read::<Timespec32>(addr)?.to_host();
    Ok(slot as *mut libc::timespec as u64)
}

fn send(a: &Args, ts: u64) -> SysResult {
    let msg = gbuf(a[1], a[2] as usize)?;
    host!(libc::SYS_mq_timedsend, sx(a[0]), msg, a[2], a[3], ts)
}

fn receive(a: &Args, ts: u64) -> SysResult {
    let msg = out_buf(a[1], a[2] as usize)?;
    let prio = if a[3] == 0 { 0 } else { out_buf(a[3], 4)? };
    let r = host!(libc::SYS_mq_timedreceive, sx(a[0]), msg, a[2], prio, ts)?;
    written(a[1], r)
}

pub fn mq_timedsend(_: &mut Context, a: &Args) -> SysResult {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let ts = timeout32(a[4], &mut t)?;
    send(a, ts)
}

pub fn mq_timedreceive(_: &mut Context, a: &Args) -> SysResult {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let ts = timeout32(a[4], &mut t)?;
    receive(a, ts)
}

pub fn mq_timedsend_time64(_: &mut Context, a: &Args) -> SysResult {
    let ts = if a[4] == 0 { 0 } else { gbuf(a[4], 16)? };
    send(a, ts)
}

pub fn mq_timedreceive_time64(_: &mut Context, a: &Args) -> SysResult {
    let ts = if a[4] == 0 { 0 } else { gbuf(a[4], 16)? };
    receive(a, ts)
}

/// mq_notify(mqd, const struct sigevent *).
pub fn mq_notify(_: &mut Context, a: &Args) -> SysResult {
    if a[1] == 0 {
        return host!(libc::SYS_mq_notify, sx(a[0]), 0);
    }
    let g: structs::Sigevent32 = structs::read(a[1])?;
    let h = structs::sigevent_to_host(&g);
    host!(
        libc::SYS_mq_notify,
        sx(a[0]),
        &h as *const structs::HostSigevent
    )
}

/// mq_getsetattr(mqd, const struct mq_attr *new, struct mq_attr *old).
pub fn mq_getsetattr(_: &mut Context, a: &Args) -> SysResult {
    let new = if a[1] == 0 {
        None
    } else {
        Some(attr_in(a[1])?)
    };
    let np = new.as_ref().map_or(0, |v| v.as_ptr() as u64);
    let mut old = [0i64; 8];
    host!(libc::SYS_mq_getsetattr, sx(a[0]), np, old.as_mut_ptr())?;
    if a[2] != 0 {
        attr_out(a[2], &old)?;
    }
    Ok(0)
}
