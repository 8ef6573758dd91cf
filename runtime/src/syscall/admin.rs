//! System-administration calls whose arguments are paths, strings and
//! ints: mount, umount, umount2, pivot_root, acct, swapon, swapoff,
//! fanotify_init/fanotify_mark, mlock2, sysfs, ustat, reboot, the module
//! calls, ioperm/iopl, and the new mount API (open_tree, move_mount, fsopen, fsconfig,
//! fsmount, fspick, mount_setattr).
//!
//! Invariant: nothing is converted but `struct ustat`; paths go through
//! `GuestPath` (as every path does), other pointers are checked guest
//! pointers, and the i386 64-bit mask of fanotify_mark arrives as a
//! register pair. mlock2 only locks ranges the guest has mapped (ENOMEM
//! otherwise, as the reservation is not guest memory).

use super::fs::off64;
use super::netmsg::out_buf;
use super::path::{opt_path, ptr};
use super::{gbuf, host, sx, Args, GuestPath, SysResult};
use crate::abi::Context;
use crate::memory::{self, page_up, GUEST_END, PAGE};

/// An optional string argument that is not a path (a file-system type).
fn opt_str(addr: u32) -> Result<Option<Vec<u8>>, i32> {
    if addr == 0 {
        return Ok(None);
    }
    let mut s = crate::guest_mem::read_cstr(addr)?;
    s.push(0);
    Ok(Some(s))
}

/// mount(source, target, fstype, flags, data): the kernel copies at most a
/// page of `data` (a string for most file systems).
pub fn mount(_: &mut Context, a: &Args) -> SysResult {
    let (src, dst) = (opt_path(a[0])?, GuestPath::read(a[1])?);
    let fstype = opt_str(a[2])?;
    let fp = fstype.as_ref().map_or(0, |s| s.as_ptr() as u64);
    let data = if a[4] == 0 {
        0
    } else {
        let n = (PAGE - a[4] % PAGE) as usize;
        gbuf(a[4], n)?
    };
    host!(libc::SYS_mount, ptr(&src), dst.ptr(), fp, a[3], data)
}

/// umount (22, oldumount): umount2 without flags.
pub fn umount(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_umount2, p.ptr(), 0)
}

pub fn umount2(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_umount2, p.ptr(), a[1])
}

pub fn pivot_root(_: &mut Context, a: &Args) -> SysResult {
    let (n, o) = (GuestPath::read(a[0])?, GuestPath::read(a[1])?);
    host!(libc::SYS_pivot_root, n.ptr(), o.ptr())
}

/// acct(path): NULL turns accounting off.
pub fn acct(_: &mut Context, a: &Args) -> SysResult {
    let p = opt_path(a[0])?;
    host!(libc::SYS_acct, ptr(&p))
}

pub fn swapon(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_swapon, p.ptr(), a[1])
}

pub fn swapoff(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[0])?;
    host!(libc::SYS_swapoff, p.ptr())
}

/// fanotify_init(flags, event_f_flags): the event records read from it
/// (fanotify_event_metadata) have the same layout on both.
pub fn fanotify_init(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fanotify_init, a[0], a[1])
}

/// fanotify_mark(fd, flags, mask lo, mask hi, dirfd, path).
pub fn fanotify_mark(_: &mut Context, a: &Args) -> SysResult {
    let p = opt_path(a[5])?;
    let mask = off64(a[2], a[3]);
    host!(
        libc::SYS_fanotify_mark,
        sx(a[0]),
        a[1],
        mask,
        sx(a[4]),
        ptr(&p)
    )
}

/// mlock2(addr, len, flags) over guest mappings only.
pub fn mlock2(_: &mut Context, a: &Args) -> SysResult {
    let start = a[0] & !(PAGE - 1);
    let end = page_up(a[0] as u64 + a[1] as u64);
    if end > GUEST_END {
        return Err(libc::ENOMEM);
    }
    if end > start as u64 && !memory::is_mapped(start, (end - start as u64) as u32) {
        return Err(libc::ENOMEM);
    }
    host!(libc::SYS_mlock2, start, end - start as u64, a[2])
}

/// sysfs(option, arg1, arg2): 1 = index of a file-system type name,
/// 2 = name of index arg1 into buffer arg2, 3 = number of types.
pub fn sysfs(_: &mut Context, a: &Args) -> SysResult {
    match a[0] {
        1 => {
            let name = opt_str(a[1])?.ok_or(libc::EFAULT)?;
            host!(libc::SYS_sysfs, 1, name.as_ptr())
        }
        // File-system type names are short; the kernel writes the name
        // and its NUL.
        2 => host!(libc::SYS_sysfs, 2, a[1], out_buf(a[2], 64)?),
        _ => host!(libc::SYS_sysfs, a[0], a[1], a[2]),
    }
}

/// ustat(dev, struct ustat *): {int f_tfree; ino_t f_tinode; char
/// f_fname[6], f_fpack[6]} is 20 bytes on i386, 32 on x86-64.
pub fn ustat(_: &mut Context, a: &Args) -> SysResult {
    let mut h = [0u8; 32];
    let r = host!(libc::SYS_ustat, a[0], h.as_mut_ptr())?;
    let mut g = [0u8; 20];
    g[0..4].copy_from_slice(&h[0..4]);
    g[4..8].copy_from_slice(&h[8..12]);
    g[8..20].copy_from_slice(&h[16..28]);
    crate::guest_mem::write_bytes(a[1], &g)?;
    Ok(r)
}

/// reboot(magic1, magic2, cmd, arg): arg is a string for
/// LINUX_REBOOT_CMD_RESTART2 only.
pub fn reboot(_: &mut Context, a: &Args) -> SysResult {
    const RESTART2: u32 = 0xa1b2_c3d4;
    let arg = if a[2] == RESTART2 {
        opt_str(a[3])?
    } else {
        None
    };
    let p = arg.as_ref().map_or(0, |s| s.as_ptr() as u64);
    host!(libc::SYS_reboot, sx(a[0]), sx(a[1]), a[2], p)
}

/// init_module(image, len, params).
pub fn init_module(_: &mut Context, a: &Args) -> SysResult {
    let params = opt_str(a[2])?.ok_or(libc::EFAULT)?;
    host!(
        libc::SYS_init_module,
        gbuf(a[0], a[1] as usize)?,
        a[1],
        params.as_ptr()
    )
}

/// finit_module(fd, params, flags).
pub fn finit_module(_: &mut Context, a: &Args) -> SysResult {
    let params = opt_str(a[1])?.ok_or(libc::EFAULT)?;
    host!(libc::SYS_finit_module, sx(a[0]), params.as_ptr(), a[2])
}

/// delete_module(name, flags).
pub fn delete_module(_: &mut Context, a: &Args) -> SysResult {
    let name = opt_str(a[0])?.ok_or(libc::EFAULT)?;
    host!(libc::SYS_delete_module, name.as_ptr(), a[1])
}

/// ioperm(from, num, turn_on): the host thread is the guest thread, and
/// translated code runs in/out as they are, so the host's I/O bitmap is
/// the guest's.
pub fn ioperm(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_ioperm, a[0], a[1], sx(a[2]))
}

/// iopl(level): on x86-64 kernels level 3 is emulated as access to every
/// port (as for i386 tasks on them).
pub fn iopl(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_iopl, a[0])
}

/// The new mount API: open_tree(dfd, path, flags).
pub fn open_tree(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_open_tree, sx(a[0]), p.ptr(), a[2])
}

/// move_mount(from_dfd, from_path, to_dfd, to_path, flags).
pub fn move_mount(_: &mut Context, a: &Args) -> SysResult {
    let (from, to) = (GuestPath::read(a[1])?, GuestPath::read(a[3])?);
    host!(
        libc::SYS_move_mount,
        sx(a[0]),
        from.ptr(),
        sx(a[2]),
        to.ptr(),
        a[4]
    )
}

/// fsopen(fs_name, flags).
pub fn fsopen(_: &mut Context, a: &Args) -> SysResult {
    let name = opt_str(a[0])?.ok_or(libc::EFAULT)?;
    host!(libc::SYS_fsopen, name.as_ptr(), a[1])
}

/// fsconfig(fd, cmd, key, value, aux): value is a string
/// (FSCONFIG_SET_STRING), a buffer of aux bytes (SET_BINARY), a path
/// (SET_PATH, SET_PATH_EMPTY) or unused.
pub fn fsconfig(_: &mut Context, a: &Args) -> SysResult {
    let key = opt_str(a[2])?;
    let kp = key.as_ref().map_or(0, |s| s.as_ptr() as u64);
    let (s, p);
    let value = match a[1] {
        1 => {
            s = opt_str(a[3])?;
            s.as_ref().map_or(0, |s| s.as_ptr() as u64)
        }
        2 => gbuf(a[3], a[4] as usize)?,
        3 | 4 => {
            p = opt_path(a[3])?;
            ptr(&p)
        }
        _ => a[3] as u64,
    };
    host!(libc::SYS_fsconfig, sx(a[0]), a[1], kp, value, sx(a[4]))
}

/// fsmount(fs_fd, flags, attr_flags).
pub fn fsmount(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_fsmount, sx(a[0]), a[1], a[2])
}

/// fspick(dfd, path, flags).
pub fn fspick(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(libc::SYS_fspick, sx(a[0]), p.ptr(), a[2])
}

/// mount_setattr(dfd, path, flags, struct mount_attr *, size): the
/// structure is four u64s on both.
pub fn mount_setattr(_: &mut Context, a: &Args) -> SysResult {
    let p = GuestPath::read(a[1])?;
    host!(
        libc::SYS_mount_setattr,
        sx(a[0]),
        p.ptr(),
        a[2],
        gbuf(a[3], a[4] as usize)?,
        a[4]
    )
}
