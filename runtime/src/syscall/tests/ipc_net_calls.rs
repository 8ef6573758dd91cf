//! SysV IPC and socket calls driven through `handle` with guest buffers:
//! the old (pre-IPC_64) and IPC_64 shmid_ds layouts, shmat/shmdt keeping
//! the region map and reservation whole, and socketcall's argument block.

use super::{call, scratch};
use crate::guest_mem as gm;
use crate::memory;

const IPC: u32 = 117;

#[test]
fn shm_layouts_and_attach() {
    let a = 0x5400_0000;
    let mut ctx = scratch(a, 0x1000);
    // ipc(SHMGET, IPC_PRIVATE, 5000, IPC_CREAT|0600).
    let id = call(&mut ctx, IPC, [23, 0, 5000, 0o1600, 0, 0]);
    assert!(id >= 0, "{id}");
    // ipc(SHMAT, id, 0, &raddr, NULL): the address is written to a+0x100.
    assert_eq!(call(&mut ctx, IPC, [21, id as u32, 0, a + 0x100, 0, 0]), 0);
    let at = gm::read_u32(a + 0x100).unwrap();
    assert!(at.is_multiple_of(4096) && at > 0x1000_0000);
    assert_eq!(
        memory::prot_at(at),
        Some(libc::PROT_READ | libc::PROT_WRITE)
    );
    assert!(memory::is_mapped(at, 8192));
    gm::write_u32(at + 4996, 7).unwrap();
    // Old shmid_ds (no IPC_64 bit): segsz at 16, nattch (u16) at 36.
    assert_eq!(call(&mut ctx, IPC, [24, id as u32, 2, 0, a + 0x200, 0]), 0);
    assert_eq!(gm::read_u32(a + 0x200 + 16), Ok(5000));
    let nattch = gm::read_bytes(a + 0x200 + 36, 2).unwrap();
    assert_eq!(nattch, [1, 0]);
    // IPC_64 shmid64_ds: segsz at 36, nattch (u32) at 72, mode at 20.
    assert_eq!(
        call(&mut ctx, IPC, [24, id as u32, 2 | 0x100, 0, a + 0x300, 0]),
        0
    );
    assert_eq!(gm::read_u32(a + 0x300 + 36), Ok(5000));
    assert_eq!(gm::read_u32(a + 0x300 + 72), Ok(1));
    assert_eq!(gm::read_bytes(a + 0x300 + 20, 2).unwrap(), [0x80, 0x01]);
    // The direct shmctl (396) uses the IPC_64 layout.
    assert_eq!(call(&mut ctx, 396, [id as u32, 2, a + 0x400, 0, 0, 0]), 0);
    assert_eq!(gm::read_u32(a + 0x400 + 72), Ok(1));
    // A second attachment at a fixed address, then detach both.
    let fixed = 0x5500_0000;
    assert_eq!(
        call(&mut ctx, 397, [id as u32, fixed, 0, 0, 0, 0]) as u32,
        fixed
    );
    assert_eq!(gm::read_u32(fixed + 4996), Ok(7));
    // Over an existing mapping without SHM_REMAP: EINVAL.
    assert_eq!(
        call(&mut ctx, 397, [id as u32, fixed, 0, 0, 0, 0]),
        -libc::EINVAL
    );
    assert_eq!(call(&mut ctx, IPC, [22, 0, 0, 0, fixed, 0]), 0);
    assert!(!memory::is_mapped(fixed, 4096));
    assert_eq!(gm::read_u32(fixed), Err(libc::EFAULT));
    assert_eq!(call(&mut ctx, 398, [at, 0, 0, 0, 0, 0]), 0);
    assert!(!memory::is_mapped(at, 4096));
    assert_eq!(call(&mut ctx, IPC, [24, id as u32, 0, 0, 0, 0]), 0);
}

#[test]
fn msg_and_sem_multiplexed() {
    let a = 0x5600_0000;
    let mut ctx = scratch(a, 0x1000);
    let q = call(&mut ctx, IPC, [13, 0, 0o1600, 0, 0, 0]);
    assert!(q >= 0);
    // msgsnd(q, {mtype 3, "abc"}, 3, 0): the i386 mtype is 4 bytes.
    gm::write_bytes(a, &[3, 0, 0, 0, b'a', b'b', b'c']).unwrap();
    assert_eq!(call(&mut ctx, IPC, [11, q as u32, 3, 0, a, 0]), 0);
    // msgrcv version 0: ptr -> {msgp, msgtyp}.
    gm::write_bytes(a + 0x40, &[0x80, 0, 0, 0x56, 0, 0, 0, 0]).unwrap();
    gm::write_u32(a + 0x40, a + 0x80).unwrap();
    assert_eq!(call(&mut ctx, IPC, [12, q as u32, 16, 0, a + 0x40, 0]), 3);
    assert_eq!(
        gm::read_bytes(a + 0x80, 7).unwrap(),
        [3, 0, 0, 0, b'a', b'b', b'c']
    );
    assert_eq!(call(&mut ctx, IPC, [14, q as u32, 0, 0, 0, 0]), 0);
    // Semaphores: SEMCTL takes a pointer to the union value.
    let s = call(&mut ctx, IPC, [2, 0, 2, 0o1600, 0, 0]);
    assert!(s >= 0);
    gm::write_u32(a + 0x100, 9).unwrap();
    assert_eq!(call(&mut ctx, IPC, [3, s as u32, 1, 16, a + 0x100, 0]), 0);
    assert_eq!(call(&mut ctx, IPC, [3, s as u32, 1, 12, a + 0x100, 0]), 9);
    assert_eq!(
        call(&mut ctx, IPC, [3, s as u32, 0, 12, 0, 0]),
        -libc::EINVAL
    );
    assert_eq!(call(&mut ctx, IPC, [3, s as u32, 0, 0, a + 0x100, 0]), 0);
    assert_eq!(call(&mut ctx, IPC, [99, 0, 0, 0, 0, 0]), -libc::ENOSYS);
}

#[test]
fn socketcall_block() {
    let a = 0x5700_0000;
    let mut ctx = scratch(a, 0x1000);
    // socketpair(AF_UNIX, SOCK_STREAM, 0, a+0x100) through socketcall(8).
    for (i, v) in [1u32, 1, 0, a + 0x100].iter().enumerate() {
        gm::write_u32(a + 4 * i as u32, *v).unwrap();
    }
    assert_eq!(call(&mut ctx, 102, [8, a, 0, 0, 0, 0]), 0);
    let [s0, s1] = gm::read_u32s::<2>(a + 0x100).unwrap();
    gm::write_bytes(a + 0x200, b"ping").unwrap();
    assert_eq!(call(&mut ctx, 369, [s0, a + 0x200, 4, 0, 0, 0]), 4);
    assert_eq!(call(&mut ctx, 371, [s1, a + 0x300, 16, 0, 0, 0]), 4);
    assert_eq!(gm::read_bytes(a + 0x300, 4).unwrap(), b"ping");
    assert_eq!(call(&mut ctx, 102, [0, a, 0, 0, 0, 0]), -libc::EINVAL);
    assert_eq!(call(&mut ctx, 102, [21, a, 0, 0, 0, 0]), -libc::EINVAL);
    assert_eq!(
        call(&mut ctx, 102, [1, 0x5800_0000, 0, 0, 0, 0]),
        -libc::EFAULT
    );
    // getsockopt(SO_RCVTIMEO) answers the 8-byte i386 timeval.
    gm::write_bytes(a + 0x400, &[5, 0, 0, 0, 0x20, 0xa1, 7, 0]).unwrap();
    assert_eq!(call(&mut ctx, 366, [s0, 1, 20, a + 0x400, 8, 0]), 0);
    gm::write_u32(a + 0x410, 16).unwrap();
    assert_eq!(call(&mut ctx, 365, [s0, 1, 20, a + 0x420, a + 0x410, 0]), 0);
    assert_eq!(gm::read_u32(a + 0x410), Ok(8));
    assert_eq!(gm::read_u32s::<2>(a + 0x420), Ok([5, 500_000]));
    call(&mut ctx, 6, [s0, 0, 0, 0, 0, 0]);
    call(&mut ctx, 6, [s1, 0, 0, 0, 0, 0]);
}
