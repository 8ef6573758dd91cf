//! SysV IPC structures (part of `structs`): the i386 `ipc64_perm`,
//! `shmid64_ds`, `semid64_ds`, `msqid64_ds` (IPC_64), their pre-IPC_64
//! forms (16-bit ids), the x86-64 kernel's own versions, and the
//! conversions between them as the compat kernel's `copy_compat_*`.
//!
//! Invariant: every layout is pinned by size/offset asserts from the
//! kernel headers (asm-generic {ipc,shm,msg}buf.h, x86 sembuf.h and
//! compat.h); times split into low/high words on i386 (IPC_64) or are
//! truncated to 32 bits (old forms); ids shrink with `high2low`.

use super::Plain;
use std::mem::{offset_of, size_of};

/// x86-64 kernel `struct ipc64_perm` (mode is 32 bits): 48 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct HostIpcPerm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u16,
    pub pad2: u16,
    pub pad3: u32,
    pub unused: [u64; 2],
}

/// i386 `struct ipc64_perm` (mode is 16 bits): 36 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct IpcPerm64_32 {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u16,
    pub pad1: u16,
    pub seq: u16,
    pub pad2: u16,
    pub unused: [u32; 2],
}

/// i386 old `struct ipc_perm` (compat_ipc_perm): 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct IpcPermOld {
    pub key: i32,
    pub uid: u16,
    pub gid: u16,
    pub cuid: u16,
    pub cgid: u16,
    pub mode: u16,
    pub seq: u16,
}

/// x86-64 `struct shmid64_ds`: 112 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct HostShmid {
    pub perm: HostIpcPerm,
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u64,
    pub unused: [u64; 2],
}

/// i386 `struct shmid64_ds`: 84 bytes; times as (low, high) pairs.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Shmid64_32 {
    pub perm: IpcPerm64_32,
    pub segsz: u32,
    pub atime: [u32; 2],
    pub dtime: [u32; 2],
    pub ctime: [u32; 2],
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u32,
    pub unused: [u32; 2],
}

/// i386 old `struct shmid_ds`: 48 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct ShmidOld {
    pub perm: IpcPermOld,
    pub segsz: i32,
    pub atime: i32,
    pub dtime: i32,
    pub ctime: i32,
    pub cpid: u16,
    pub lpid: u16,
    pub nattch: u16,
    pub unused: u16,
    pub unused2: [u32; 2],
}

/// x86-64 `struct semid64_ds`: 104 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct HostSemid {
    pub perm: HostIpcPerm,
    pub otime: i64,
    pub unused1: u64,
    pub ctime: i64,
    pub unused2: u64,
    pub nsems: u64,
    pub unused: [u64; 2],
}

/// i386 `struct semid64_ds`: 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Semid64_32 {
    pub perm: IpcPerm64_32,
    pub otime: [u32; 2],
    pub ctime: [u32; 2],
    pub nsems: u32,
    pub unused: [u32; 2],
}

/// i386 old `struct semid_ds`: 44 bytes (kernel-internal pointers zero).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct SemidOld {
    pub perm: IpcPermOld,
    pub otime: i32,
    pub ctime: i32,
    pub ptrs: [u32; 4],
    pub nsems: u16,
    pub pad: u16,
}

/// x86-64 `struct msqid64_ds`: 120 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct HostMsqid {
    pub perm: HostIpcPerm,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub cbytes: u64,
    pub qnum: u64,
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
    pub unused: [u64; 2],
}

/// i386 `struct msqid64_ds`: 88 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Msqid64_32 {
    pub perm: IpcPerm64_32,
    pub stime: [u32; 2],
    pub rtime: [u32; 2],
    pub ctime: [u32; 2],
    pub cbytes: u32,
    pub qnum: u32,
    pub qbytes: u32,
    pub lspid: i32,
    pub lrpid: i32,
    pub unused: [u32; 2],
}

/// i386 old `struct msqid_ds`: 56 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct MsqidOld {
    pub perm: IpcPermOld,
    pub first_last: [u32; 2],
    pub stime: i32,
    pub rtime: i32,
    pub ctime: i32,
    pub lcbytes: u32,
    pub lqbytes: u32,
    pub cbytes: u16,
    pub qnum: u16,
    pub qbytes: u16,
    pub lspid: u16,
    pub lrpid: u16,
    pub pad: u16,
}

/// x86-64 `struct shminfo64` (IPC_INFO on shm): 9 longs.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct HostShminfo {
    pub v: [u64; 9],
}

/// i386 `struct shminfo64`: 9 u32, 36 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Shminfo32 {
    pub v: [u32; 9],
}

/// x86-64 `struct shm_info` (SHM_INFO): int then 5 longs, 48 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct HostShmInfo {
    pub used_ids: i32,
    pub pad: u32,
    pub v: [u64; 5],
}

/// i386 `struct shm_info`: 24 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct ShmInfo32 {
    pub used_ids: i32,
    pub v: [u32; 5],
}

/// Kernel `high2lowuid`: ids that do not fit 16 bits become 65534.
pub fn high2low(id: u32) -> u16 {
    if id > 0xffff {
        65534
    } else {
        id as u16
    }
}

fn split(t: i64) -> [u32; 2] {
    [t as u32, (t as u64 >> 32) as u32]
}

impl HostIpcPerm {
    fn to64(self) -> IpcPerm64_32 {
        IpcPerm64_32 {
            key: self.key,
            uid: self.uid,
            gid: self.gid,
            cuid: self.cuid,
            cgid: self.cgid,
            mode: self.mode as u16,
            seq: self.seq,
            ..Default::default()
        }
    }
    fn to_old(self) -> IpcPermOld {
        IpcPermOld {
            key: self.key,
            uid: high2low(self.uid),
            gid: high2low(self.gid),
            cuid: high2low(self.cuid),
            cgid: high2low(self.cgid),
            mode: self.mode as u16,
            seq: self.seq,
        }
    }
}

/// IPC_SET reads only uid, gid and mode of the permission block.
fn set_perm(uid: u32, gid: u32, mode: u16) -> HostIpcPerm {
    HostIpcPerm {
        uid,
        gid,
        mode: mode as u32,
        ..Default::default()
    }
}

pub fn shmid64_from(h: &HostShmid) -> Shmid64_32 {
    Shmid64_32 {
        perm: h.perm.to64(),
        segsz: h.segsz as u32,
        atime: split(h.atime),
        dtime: split(h.dtime),
        ctime: split(h.ctime),
        cpid: h.cpid,
        lpid: h.lpid,
        nattch: h.nattch as u32,
        unused: [0; 2],
    }
}

pub fn shmid_old_from(h: &HostShmid) -> ShmidOld {
    ShmidOld {
        perm: h.perm.to_old(),
        segsz: h.segsz as i32,
        atime: h.atime as i32,
        dtime: h.dtime as i32,
        ctime: h.ctime as i32,
        cpid: h.cpid as u16,
        lpid: h.lpid as u16,
        nattch: h.nattch as u16,
        ..Default::default()
    }
}

pub fn semid64_from(h: &HostSemid) -> Semid64_32 {
    Semid64_32 {
        perm: h.perm.to64(),
        otime: split(h.otime),
        ctime: split(h.ctime),
        nsems: h.nsems as u32,
        unused: [0; 2],
    }
}

pub fn semid_old_from(h: &HostSemid) -> SemidOld {
    SemidOld {
        perm: h.perm.to_old(),
        otime: h.otime as i32,
        ctime: h.ctime as i32,
        nsems: h.nsems as u16,
        ..Default::default()
    }
}

pub fn msqid64_from(h: &HostMsqid) -> Msqid64_32 {
    Msqid64_32 {
        perm: h.perm.to64(),
        stime: split(h.stime),
        rtime: split(h.rtime),
        ctime: split(h.ctime),
        cbytes: h.cbytes as u32,
        qnum: h.qnum as u32,
        qbytes: h.qbytes as u32,
        lspid: h.lspid,
        lrpid: h.lrpid,
        unused: [0; 2],
    }
}

/// As the compat kernel: the 16-bit counts are truncated and the
/// `msg_lcbytes`/`msg_lqbytes` words left zero.
pub fn msqid_old_from(h: &HostMsqid) -> MsqidOld {
    MsqidOld {
        perm: h.perm.to_old(),
        stime: h.stime as i32,
        rtime: h.rtime as i32,
        ctime: h.ctime as i32,
        cbytes: h.cbytes as u16,
        qnum: h.qnum as u16,
        qbytes: h.qbytes as u16,
        lspid: h.lspid as u16,
        lrpid: h.lrpid as u16,
        ..Default::default()
    }
}

/// The permission block of an IPC_SET buffer, (IPC_64 or old form).
pub fn perm_set_64(p: &IpcPerm64_32) -> HostIpcPerm {
    set_perm(p.uid, p.gid, p.mode)
}

/// As `get_compat_ipc_perm`: the 16-bit ids are widened as they are.
pub fn perm_set_old(p: &IpcPermOld) -> HostIpcPerm {
    set_perm(p.uid as u32, p.gid as u32, p.mode)
}

// SAFETY (all): repr(C) integer-only structs without implicit padding, as
// the size asserts below check.
unsafe impl Plain for IpcPerm64_32 {}
unsafe impl Plain for IpcPermOld {}
unsafe impl Plain for Shmid64_32 {}
unsafe impl Plain for ShmidOld {}
unsafe impl Plain for Semid64_32 {}
unsafe impl Plain for SemidOld {}
unsafe impl Plain for Msqid64_32 {}
unsafe impl Plain for MsqidOld {}
unsafe impl Plain for Shminfo32 {}
unsafe impl Plain for ShmInfo32 {}

const _: () = {
    assert!(size_of::<HostIpcPerm>() == 48);
    assert!(offset_of!(HostIpcPerm, seq) == 24);
    assert!(offset_of!(HostIpcPerm, unused) == 32);
    assert!(size_of::<IpcPerm64_32>() == 36);
    assert!(offset_of!(IpcPerm64_32, seq) == 24);
    assert!(size_of::<IpcPermOld>() == 16);
    assert!(size_of::<HostShmid>() == 112);
    assert!(offset_of!(HostShmid, cpid) == 80);
    assert!(offset_of!(HostShmid, nattch) == 88);
    assert!(size_of::<Shmid64_32>() == 84);
    assert!(offset_of!(Shmid64_32, cpid) == 64);
    assert!(offset_of!(Shmid64_32, nattch) == 72);
    assert!(size_of::<ShmidOld>() == 48);
    assert!(offset_of!(ShmidOld, cpid) == 32);
    assert!(size_of::<HostSemid>() == 104);
    assert!(offset_of!(HostSemid, nsems) == 80);
    assert!(size_of::<Semid64_32>() == 64);
    assert!(offset_of!(Semid64_32, nsems) == 52);
    assert!(size_of::<SemidOld>() == 44);
    assert!(offset_of!(SemidOld, nsems) == 40);
    assert!(size_of::<HostMsqid>() == 120);
    assert!(offset_of!(HostMsqid, lspid) == 96);
    assert!(size_of::<Msqid64_32>() == 88);
    assert!(offset_of!(Msqid64_32, cbytes) == 60);
    assert!(offset_of!(Msqid64_32, lspid) == 72);
    assert!(size_of::<MsqidOld>() == 56);
    assert!(offset_of!(MsqidOld, cbytes) == 44);
    assert!(offset_of!(MsqidOld, lrpid) == 52);
    assert!(size_of::<HostShminfo>() == 72);
    assert!(size_of::<Shminfo32>() == 36);
    assert!(size_of::<HostShmInfo>() == 48);
    assert!(size_of::<ShmInfo32>() == 24);
};
