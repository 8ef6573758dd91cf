//! Remaining process and system calls: the 16-bit-id credential calls
//! (setuid 23 .. chown 182), setgroups32, setfsuid32/setfsgid32,
//! capget/capset, ioprio, sched_{get,set}attr, nice, the old unames,
//! host/domain names, syslog, namespaces and pidfds, kcmp, membarrier,
//! process_vm_{read,write}v, futex_waitv, epoll_pwait2 and the old select.
//!
//! Invariant: 16-bit ids widen as the kernel's `low2highuid` ((u16)-1 is
//! -1) and shrink as `high2lowuid` (65534 when they do not fit); other
//! arguments are ints or structures identical on both (cap_user_header and
//! data, sched_attr, kcmp_epoll_slot, futex_waitv after checking that every
//! futex address is a guest one), passed as checked guest pointers.

use super::netmsg::out_buf;
use super::structs::ipc::high2low;
use super::{gbuf, host, structs, sx, written, Args, GuestPath, SysResult};
use crate::abi::Context;
use crate::guest_mem;

const AT_FDCWD: u64 = libc::AT_FDCWD as i64 as u64;

/// `low2highuid` of the low 16 bits of a register.
fn wide(v: u32) -> u64 {
    match v & 0xffff {
        0xffff => u32::MAX as u64,
        x => x as u64,
    }
}

pub fn setuid16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setuid, wide(a[0]))
}

pub fn setgid16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setgid, wide(a[0]))
}

pub fn setreuid16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setreuid, wide(a[0]), wide(a[1]))
}

pub fn setregid16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setregid, wide(a[0]), wide(a[1]))
}

pub fn setresuid16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setresuid, wide(a[0]), wide(a[1]), wide(a[2]))
}

pub fn setresgid16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setresgid, wide(a[0]), wide(a[1]), wide(a[2]))
}

pub fn setfsuid16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setfsuid, wide(a[0]))
}

pub fn setfsgid16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setfsgid, wide(a[0]))
}

pub fn setfsuid32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setfsuid, a[0])
}

pub fn setfsgid32(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setfsgid, a[0])
}

/// getresuid16/getresgid16: three old_uid_t pointers.
fn getres16(nr: libc::c_long, a: &Args) -> SysResult {
    let mut v = [0u32; 3];
    host!(
        nr,
        &mut v[0] as *mut u32,
        &mut v[1] as *mut u32,
        &mut v[2] as *mut u32
    )?;
    for (i, &id) in v.iter().enumerate() {
        guest_mem::write_bytes(a[i], &high2low(id).to_le_bytes())?;
    }
    Ok(0)
}

pub fn getresuid16(_: &mut Context, a: &Args) -> SysResult {
    getres16(libc::SYS_getresuid, a)
}

pub fn getresgid16(_: &mut Context, a: &Args) -> SysResult {
    getres16(libc::SYS_getresgid, a)
}

/// getgroups16(size, old_gid_t *list).
pub fn getgroups16(_: &mut Context, a: &Args) -> SysResult {
    let size = a[0] as i32;
    if size < 0 {
        return Err(libc::EINVAL);
    }
    let mut v = vec![0u32; size as usize];
    let n = host!(libc::SYS_getgroups, size, v.as_mut_ptr())?;
    if size > 0 {
        let b: Vec<u8> = v[..n as usize]
            .iter()
            .flat_map(|&g| high2low(g).to_le_bytes())
            .collect();
        guest_mem::write_bytes(a[1], &b)?;
    }
    Ok(n)
}

/// setgroups16(size, const old_gid_t *list).
pub fn setgroups16(_: &mut Context, a: &Args) -> SysResult {
    if a[0] > 65536 {
        return Err(libc::EINVAL);
    }
    let raw = guest_mem::read_bytes(a[1], a[0] as usize * 2)?;
    let v: Vec<u32> = raw
        .chunks_exact(2)
        .map(|c| wide(u16::from_le_bytes([c[0], c[1]]) as u32) as u32)
        .collect();
    host!(libc::SYS_setgroups, v.len(), v.as_ptr())
}

/// setgroups32(size, const gid_t *list): gid_t is 32 bits on both.
pub fn setgroups32(_: &mut Context, a: &Args) -> SysResult {
    if a[0] > 65536 {
        return Err(libc::EINVAL);
    }
    host!(libc::SYS_setgroups, a[0], gbuf(a[1], a[0] as usize * 4)?)
}

fn chown16(path: u32, uid: u32, gid: u32, flags: i32) -> SysResult {
    let p = GuestPath::read(path)?;
    host!(
        libc::SYS_fchownat,
        AT_FDCWD,
        p.ptr(),
        wide(uid),
        wide(gid),
        flags
    )
}

pub fn chown16_p(_: &mut Context, a: &Args) -> SysResult {
    chown16(a[0], a[1], a[2], 0)
}

pub fn lchown16(_: &mut Context, a: &Args) -> SysResult {
    chown16(a[0], a[1], a[2], libc::AT_SYMLINK_NOFOLLOW)
}

pub fn fchown16(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fchown, a[0], wide(a[1]), wide(a[2]))
}

/// capget/capset(cap_user_header *, cap_user_data *): {u32 version, i32
/// pid} and up to two {u32 effective, permitted, inheritable}.
pub fn capget(_: &mut Context, a: &Args) -> SysResult {
    let d = if a[1] == 0 { 0 } else { out_buf(a[1], 24)? };
    host!(libc::SYS_capget, out_buf(a[0], 8)?, d)
}

pub fn capset(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_capset, out_buf(a[0], 8)?, gbuf(a[1], 24)?)
}

pub fn ioprio_set(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_ioprio_set, sx(a[0]), sx(a[1]), sx(a[2]))
}

pub fn ioprio_get(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_ioprio_get, sx(a[0]), sx(a[1]))
}

/// sched_setattr(pid, struct sched_attr *, flags): u32/u64 fields, the
/// same on both; its size is its first word (0 = the 48-byte version 0).
pub fn sched_setattr(_: &mut Context, a: &Args) -> SysResult {
    let size = (guest_mem::read_u32(a[1])? as usize).clamp(48, 4096);
    host!(libc::SYS_sched_setattr, sx(a[0]), gbuf(a[1], size)?, a[2])
}

pub fn sched_getattr(_: &mut Context, a: &Args) -> SysResult {
    let p = out_buf(a[1], a[2] as usize)?;
    host!(libc::SYS_sched_getattr, sx(a[0]), p, a[2], a[3])
}

/// nice(inc): as the kernel's sys_nice, on the calling thread.
pub fn nice(_: &mut Context, a: &Args) -> SysResult {
    let inc = (a[0] as i32).clamp(-40, 40);
    // The raw getpriority answers 20 - nice.
    let cur = 20 - host!(libc::SYS_getpriority, libc::PRIO_PROCESS, 0)? as i32;
    let new = (cur + inc).clamp(-20, 19);
    host!(libc::SYS_setpriority, libc::PRIO_PROCESS, 0, sx(new as u32))?;
    Ok(0)
}

fn host_uname() -> Result<[u8; 390], i32> {
    let mut u = [0u8; 390];
    host!(libc::SYS_uname, u.as_mut_ptr())?;
    Ok(u)
}

/// olduname (109): struct old_utsname, the first five 65-byte fields.
pub fn olduname(_: &mut Context, a: &Args) -> SysResult {
    let u = host_uname()?;
    guest_mem::write_bytes(a[0], &u[..5 * 65])?;
    Ok(0)
}

/// oldolduname (59): five 9-byte fields, 8 characters and a NUL each.
pub fn oldolduname(_: &mut Context, a: &Args) -> SysResult {
    let u = host_uname()?;
    let mut out = Vec::with_capacity(45);
    for f in u.chunks_exact(65).take(5) {
        out.extend_from_slice(&f[..8]);
        out.push(0);
    }
    guest_mem::write_bytes(a[0], &out)?;
    Ok(0)
}

pub fn sethostname(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_sethostname, gbuf(a[0], a[1] as usize)?, a[1])
}

pub fn setdomainname(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setdomainname, gbuf(a[0], a[1] as usize)?, a[1])
}

/// syslog(type, buf, len): the reading types fill buf.
pub fn syslog(_: &mut Context, a: &Args) -> SysResult {
    let len = (a[2] as i32).max(0) as usize;
    let r = host!(libc::SYS_syslog, sx(a[0]), out_buf(a[1], len)?, sx(a[2]))?;
    if matches!(a[0], 2..=4) {
        written(a[1], r)?;
    }
    Ok(r)
}

pub fn vhangup(_: &mut Context, _: &Args) -> SysResult {
    host!(libc::SYS_vhangup)
}

pub fn unshare(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_unshare, a[0])
}

pub fn setns(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_setns, sx(a[0]), sx(a[1]))
}

/// kcmp(pid1, pid2, type, idx1, idx2): KCMP_EPOLL_TFD (7) passes a
/// pointer to {u32 efd, tfd, toff} as idx2.
pub fn kcmp(_: &mut Context, a: &Args) -> SysResult {
    let idx2 = if a[2] == 7 {
        gbuf(a[4], 12)?
    } else {
        a[4] as u64
    };
    host!(libc::SYS_kcmp, sx(a[0]), sx(a[1]), sx(a[2]), a[3], idx2)
}

pub fn membarrier(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_membarrier, sx(a[0]), a[1], sx(a[2]))
}

pub fn pidfd_open(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_pidfd_open, sx(a[0]), a[1])
}

pub fn pidfd_getfd(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_pidfd_getfd, sx(a[0]), sx(a[1]), a[2])
}

pub fn process_mrelease(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_process_mrelease, sx(a[0]), a[1])
}

/// process_vm_readv/writev(pid, local iov, n, remote iov, n, flags): both
/// vectors converted; what is read lands in guest buffers.
fn process_vm(nr: libc::c_long, a: &Args, reads: bool) -> SysResult {
    let local = structs::read_iovecs(a[1], a[2])?;
    let remote = structs::read_iovecs(a[3], a[4])?;
    if reads {
        for v in &local {
            out_buf(v.iov_base as usize as u32, v.iov_len)?;
        }
    }
    let (l, r) = (local.as_ptr(), remote.as_ptr());
    host!(nr, sx(a[0]), l, local.len(), r, remote.len(), a[5])
}

pub fn process_vm_readv(_: &mut Context, a: &Args) -> SysResult {
    process_vm(libc::SYS_process_vm_readv, a, true)
}

pub fn process_vm_writev(_: &mut Context, a: &Args) -> SysResult {
    process_vm(libc::SYS_process_vm_writev, a, false)
}

/// futex_waitv(struct futex_waitv *, nr, flags, __kernel_timespec *,
/// clockid): 24-byte entries {u64 val, u64 uaddr, u32 flags, u32 rsvd};
/// each uaddr must lie in guest space.
pub fn futex_waitv(_: &mut Context, a: &Args) -> SysResult {
    if a[1] == 0 || a[1] > 128 {
        return Err(libc::EINVAL);
    }
    let v = guest_mem::read_bytes(a[0], a[1] as usize * 24)?;
    for e in v.chunks_exact(24) {
        let uaddr = u64::from_le_bytes(e[8..16].try_into().unwrap_or_default());
        if uaddr + 4 > crate::memory::GUEST_END {
            return Err(libc::EFAULT);
        }
    }
    let ts = if a[3] == 0 { 0 } else { gbuf(a[3], 16)? };
    host!(libc::SYS_futex_waitv, v.as_ptr(), a[1], a[2], ts, sx(a[4]))
}

/// epoll_pwait2(epfd, events, maxevents, __kernel_timespec *, sigset *,
/// sigsetsize): epoll_event is 12 bytes on both.
pub fn epoll_pwait2(_: &mut Context, a: &Args) -> SysResult {
    let ev = out_buf(a[1], (a[2] as usize).saturating_mul(12))?;
    let ts = if a[3] == 0 { 0 } else { gbuf(a[3], 16)? };
    let set = if a[4] == 0 { 0 } else { gbuf(a[4], 8)? };
    host!(
        libc::SYS_epoll_pwait2,
        sx(a[0]),
        ev,
        sx(a[2]),
        ts,
        set,
        a[5]
    )
}

/// select (82): one pointer to {n, inp, outp, exp, tvp}, then _newselect.
pub fn old_select(ctx: &mut Context, a: &Args) -> SysResult {
    let [n, i, o, e, t] = guest_mem::read_u32s::<5>(a[0])?;
    super::fdctl::newselect(ctx, &[n, i, o, e, t, 0])
}

/// restart_syscall (0): nothing of the guest is ever left to restart by
/// the kernel (rehost restarts interrupted calls itself), so this is the
/// kernel's answer without a restart block.
pub fn restart_syscall(_: &mut Context, _: &Args) -> SysResult {
    Err(libc::EINTR)
}

/// process_madvise(pidfd, iovec *, vlen, advice, flags): the vector is
/// converted.
pub fn process_madvise(_: &mut Context, a: &Args) -> SysResult {
    let iov = structs::read_iovecs(a[1], a[2])?;
    host!(
        libc::SYS_process_madvise,
        sx(a[0]),
        iov.as_ptr(),
        iov.len(),
        sx(a[3]),
        a[4]
    )
}

/// arch_prctl(option, arg2) of an i386 task: CPUID faulting and the XSAVE
/// feature queries. A request for more XSAVE state (AMX) is refused: the
/// runtime's per-thread FPU area has no room for it.
pub fn arch_prctl(_: &mut Context, a: &Args) -> SysResult {
    const GET_CPUID: u32 = 0x1011;
    const SET_CPUID: u32 = 0x1012;
    const GET_XCOMP_SUPP: u32 = 0x1021;
    const GET_XCOMP_PERM: u32 = 0x1022;
    const REQ_XCOMP_PERM: u32 = 0x1023;
    const GET_XCOMP_GUEST_PERM: u32 = 0x1024;
    const REQ_XCOMP_GUEST_PERM: u32 = 0x1025;
    match a[0] {
        GET_CPUID | SET_CPUID => host!(libc::SYS_arch_prctl, a[0], a[1]),
        GET_XCOMP_SUPP | GET_XCOMP_PERM | GET_XCOMP_GUEST_PERM => {
            host!(libc::SYS_arch_prctl, a[0], out_buf(a[1], 8)?)
        }
        REQ_XCOMP_PERM | REQ_XCOMP_GUEST_PERM => Err(libc::EPERM),
        _ => Err(libc::EINVAL),
    }
}
