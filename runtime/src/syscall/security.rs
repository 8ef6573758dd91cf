//! Self-restriction and secret memory: landlock_create_ruleset,
//! landlock_add_rule, landlock_restrict_self, memfd_secret.
//!
//! The Landlock structures have the same layout on both (u64 fields; the
//! path-beneath rule is packed to 12 bytes on every architecture), so they
//! pass as checked guest pointers.
//!
//! Invariant: a Landlock domain restricts the whole host process, runtime
//! included. The runtime opens nothing on its own behalf after start-up
//! except for a guest's execve of an i386 program, which re-executes
//! /proc/self/exe: under a domain that does not allow executing the host
//! executable, that exec fails (EACCES) where the native one might not.

use super::{gbuf, host, sx, Args, SysResult};
use crate::abi::Context;

/// landlock_create_ruleset(attr, size, flags): attr may be NULL with size 0
/// (LANDLOCK_CREATE_RULESET_VERSION).
pub fn landlock_create_ruleset(_: &mut Context, a: &Args) -> SysResult {
    let attr = if a[0] == 0 {
        0
    } else {
        gbuf(a[0], a[1] as usize)?
    };
    host!(libc::SYS_landlock_create_ruleset, attr, a[1], a[2])
}

/// landlock_add_rule(ruleset_fd, rule_type, rule_attr, flags): the
/// attributes are 12 (path beneath) or 16 (network port) bytes.
pub fn landlock_add_rule(_: &mut Context, a: &Args) -> SysResult {
    let attr = if a[2] == 0 { 0 } else { gbuf(a[2], 16)? };
    host!(libc::SYS_landlock_add_rule, sx(a[0]), a[1], attr, a[3])
}

/// landlock_restrict_self(ruleset_fd, flags).
pub fn landlock_restrict_self(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_landlock_restrict_self, sx(a[0]), a[1])
}

/// memfd_secret(flags): the descriptor is mapped into guest space like any
/// other file by mmap2.
pub fn memfd_secret(_: &mut Context, a: &Args) -> SysResult {
    host!(libc::SYS_memfd_secret, a[0])
}
