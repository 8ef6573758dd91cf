//! i386 TLS descriptors: set_thread_area/get_thread_area on the GDT slots
//! 12..14 an x86-64 kernel gives ia32 tasks, and the selector -> base
//! lookup the segment-load path needs.
//!
//! Invariant: the slots live in the guest `Context` (`tls`), never in the
//! host kernel; a slot's base reaches `Context::fs_base`/`gs_base` at once
//! when a loaded selector names it, as the x86-64 kernel reloads it.

use super::{structs, Args, SysResult};
use crate::abi::{
    seg, Context, TlsEntry, GDT_ENTRY_TLS_ENTRIES, GDT_ENTRY_TLS_MIN, SEL_CS, SEL_DS,
};

const FLAGS_EMPTY: u32 = 0x28; // read_exec_only | seg_not_present

/// The i386 kernel's `tls_desc_okay`: empty or zero descriptors clear the
/// slot; otherwise only present 32-bit data segments.
fn desc_ok(d: &structs::UserDesc) -> bool {
    let f = d.flags & 0xff;
    if is_clear(d) {
        return true;
    }
    f & 1 != 0 && (f >> 1) & 3 <= 1 && f & 0x20 == 0
}

fn is_clear(d: &structs::UserDesc) -> bool {
    let f = d.flags & 0xff;
    d.base_addr == 0 && d.limit == 0 && (f == 0 || f == FLAGS_EMPTY)
}

/// set_thread_area(struct user_desc *): entry -1 picks the first free slot
/// of 12..14 and writes it back; a loaded selector for the slot sees the
/// new base at once (as the x86-64 kernel forces a reload).
pub fn set_thread_area(ctx: &mut Context, a: &Args) -> SysResult {
    let mut d: structs::UserDesc = structs::read(a[0])?;
    if !desc_ok(&d) {
        return Err(libc::EINVAL);
    }
    if d.entry_number == u32::MAX {
        let free = ctx
            .tls
            .iter()
            .position(|t| t.used == 0)
            .ok_or(libc::ESRCH)?;
        d.entry_number = GDT_ENTRY_TLS_MIN + free as u32;
        crate::guest_mem::write_u32(a[0], d.entry_number)?;
    }
    let idx = d.entry_number.wrapping_sub(GDT_ENTRY_TLS_MIN) as usize;
    if idx >= GDT_ENTRY_TLS_ENTRIES {
        return Err(libc::EINVAL);
    }
    ctx.tls[idx] = if is_clear(&d) {
        TlsEntry::default()
    } else {
        TlsEntry {
            base: d.base_addr,
            limit: d.limit & 0xfffff,
            flags: d.flags & 0xff,
            used: 1,
        }
    };
    let sel = ((d.entry_number << 3) | 3) as u16;
    for s in [seg::FS, seg::GS] {
        if ctx.sel[s] == sel {
            let base = ctx.tls[idx].base as u64;
            if s == seg::FS {
                ctx.fs_base = base;
            } else {
                ctx.gs_base = base;
            }
        }
    }
    Ok(0)
}

/// get_thread_area(struct user_desc *): entry_number selects 12..14.
pub fn get_thread_area(ctx: &mut Context, a: &Args) -> SysResult {
    let entry = crate::guest_mem::read_u32(a[0])?;
    let idx = entry.wrapping_sub(GDT_ENTRY_TLS_MIN) as usize;
    if idx >= GDT_ENTRY_TLS_ENTRIES {
        return Err(libc::EINVAL);
    }
    let t = ctx.tls[idx];
    let d = if t.used != 0 {
        structs::UserDesc {
            entry_number: entry,
            base_addr: t.base,
            limit: t.limit,
            flags: t.flags,
        }
    } else {
        structs::UserDesc {
            entry_number: entry,
            base_addr: 0,
            limit: 0,
            flags: FLAGS_EMPTY,
        }
    };
    structs::write(a[0], &d)?;
    Ok(0)
}

/// The base a guest segment selector stands for, as the i386 kernel set
/// it up: flat user selectors give 0, TLS selectors (GDT 12..14, RPL 3)
/// their `set_thread_area` base; None for anything else (null, LDT,
/// unused slot), which faults on i386.
pub fn segment_base(ctx: &Context, sel: u16) -> Option<u32> {
    if sel == SEL_CS || sel == SEL_DS {
        return Some(0);
    }
    if sel & 7 != 3 {
        return None;
    }
    let idx = ((sel >> 3) as u32).wrapping_sub(GDT_ENTRY_TLS_MIN) as usize;
    let t = ctx.tls.get(idx)?;
    (t.used != 0).then_some(t.base)
}
