//! The per-process /proc files built from the guest's initial stack and
//! state, for `procfs`: `stat` (the host's line with the guest's memory
//! layout, signal dispositions and name), `cmdline` and `environ`.
//!
//! Invariant: every address shown is a guest address (below 4 GiB); fields
//! that describe the host runtime rather than the guest are replaced.

use super::guest_exe;
use super::procfs::loads;
use crate::guest_mem;
use crate::memory::{self, page_up};

/// (argv area, envp area) of the initial stack: [start, end) of the
/// strings, from the pointer arrays above the initial esp.
fn string_areas() -> [(u32, u32); 2] {
    let Some((esp, _)) = crate::loader::initial_stack() else {
        return [(0, 0); 2];
    };
    let mut res = [(0, 0); 2];
    let mut p = esp.wrapping_add(4);
    for r in &mut res {
        let mut ptrs = Vec::new();
        while let Ok(q) = guest_mem::read_u32(p) {
            p = p.wrapping_add(4);
            if q == 0 {
                break;
            }
            ptrs.push(q);
        }
        if let (Some(&a), Some(&b)) = (ptrs.first(), ptrs.last()) {
            let len = guest_mem::read_cstr(b).map_or(0, |s| s.len() as u32 + 1);
            *r = (a, b.wrapping_add(len));
        }
    }
    res
}

pub(super) fn strings(which: usize) -> Vec<u8> {
    let (a, b) = string_areas()[which];
    guest_mem::read_bytes(a, b.saturating_sub(a) as usize).unwrap_or_default()
}

/// The host's /proc/self/stat with the memory-layout fields the guest's.
pub(super) fn stat() -> Vec<u8> {
    let Ok(host) = std::fs::read("/proc/self/stat") else {
        return Vec::new();
    };
    let Some(paren) = host.iter().rposition(|&c| c == b')') else {
        return host;
    };
    let tail = String::from_utf8_lossy(&host[paren + 1..]).into_owned();
    let mut f: Vec<String> = tail.split_whitespace().map(str::to_owned).collect();
    let loads = loads();
    let code = || loads.iter().filter(|l| l.exec);
    let start_code = code().map(|l| l.vaddr).min().unwrap_or(0);
    let end_code = code().map(|l| l.vaddr + l.filesz).max().unwrap_or(0);
    let start_data = loads.iter().map(|l| l.vaddr).max().unwrap_or(0);
    let end_data = loads.iter().map(|l| l.vaddr + l.filesz).max().unwrap_or(0);
    let img_end = loads.iter().map(|l| l.vaddr as u64 + l.memsz as u64).max();
    let start_brk = img_end.map_or(0, page_up);
    let vsize: u64 = memory::regions().iter().map(|r| r.1 - r.0 as u64).sum();
    let esp = crate::loader::initial_stack().map_or(0, |s| s.0);
    let [(arg_s, arg_e), (env_s, env_e)] = string_areas();
    let (blocked, ignored, caught) = sig_fields();
    // Field numbers of proc(5), 1-based; `f` starts at field 3.
    let set: [(usize, u64); 16] = [
        (23, vsize),
        (26, start_code as u64),
        (27, end_code as u64),
        (28, esp as u64),
        (29, 0),
        (30, 0),
        (32, blocked),
        (33, ignored),
        (34, caught),
        (45, start_data as u64),
        (46, end_data as u64),
        (47, start_brk),
        (48, arg_s as u64),
        (49, arg_e as u64),
        (50, env_s as u64),
        (51, env_e as u64),
    ];
    for (n, v) in set {
        if let Some(x) = f.get_mut(n - 3) {
            *x = v.to_string();
        }
    }
    let mut out = comm(&host[..=paren]);
    out.push(b' ');
    out.extend_from_slice(f.join(" ").as_bytes());
    out.push(b'\n');
    out
}

/// The guest's signal dispositions as stat shows them (signals 1-31):
/// (blocked, ignored, caught).
fn sig_fields() -> (u64, u64, u64) {
    let blocked = super::guest_sigmask() & 0x7fff_ffff;
    let (mut ign, mut catch) = (0, 0);
    for sig in 1..32 {
        let Some(a) = super::guest_sigaction(sig) else {
            continue;
        };
        let h = a.handler;
        if h == 1 {
            ign |= 1 << (sig - 1);
        } else if h > 1 {
            catch |= 1 << (sig - 1);
        }
    }
    (blocked, ign, catch)
}

/// "pid (comm)": under `rehost run` the host's comm is the runtime's own
/// name; the guest's is its file name (15 bytes at most), unless the guest
/// renamed itself.
fn comm(head: &[u8]) -> Vec<u8> {
    let open = head.iter().position(|&c| c == b'(').unwrap_or(0);
    let cur = &head[(open + 1).min(head.len())..head.len().saturating_sub(1)];
    let base = |p: &[u8]| -> Vec<u8> {
        let b = p.rsplit(|&c| c == b'/').next().unwrap_or(p);
        b[..b.len().min(15)].to_vec()
    };
    let host_exe = std::fs::read_link("/proc/self/exe")
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_default();
    let guest = guest_exe();
    if guest.is_empty() || cur != base(&host_exe) {
        return head.to_vec();
    }
    let mut out = head[..=open].to_vec();
    out.extend(base(&guest));
    out.push(b')');
    out
}
