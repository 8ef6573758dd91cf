//! /proc files an i386 process reads about itself, answered as the kernel
//! would answer an ia32 task: `maps` (the guest's mappings only, 8-digit
//! addresses, the image, heap and stack named), `auxv` (the i386 vector the
//! loader built), and through `procstat` `stat` (code, data, stack and
//! argument addresses of the guest), `cmdline` and `environ` (the guest's
//! argument strings).
//! `/proc/cpuinfo` is global and passes through as is.
//!
//! Invariant: an emulated file is a sealed memfd holding a snapshot taken at
//! open time (read/lseek/fstat/close work, writes fail with EPERM where
//! the kernel says EINVAL); nothing of the
//! host above 4 GiB is ever described.

use super::{guest_exe, host, procstat, GuestPath, SysResult};
use crate::guest_mem;
use crate::memory::{self, page_up, PAGE, STACK_SIZE, STACK_TOP};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum File {
    Maps,
    Auxv,
    Stat,
    Cmdline,
    Environ,
}

/// Which emulated file `path` names, if any.
fn which(path: &[u8]) -> Option<File> {
    let rest = path.strip_prefix(b"/proc/")?;
    let slash = rest.iter().position(|&c| c == b'/')?;
    let (who, file) = (&rest[..slash], &rest[slash + 1..]);
    let pid = std::process::id().to_string();
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() }.to_string();
    // /proc/<tid> of a thread other than the main one is its task.
    let thread = who == b"thread-self" || (who == tid.as_bytes() && tid != pid);
    if !(thread || who == b"self" || who == pid.as_bytes()) {
        return None;
    }
    let (file, per_task) = match file.strip_prefix(b"task/") {
        Some(t) => (&t[t.iter().position(|&c| c == b'/')? + 1..], true),
        None => (file, thread),
    };
    match file {
        b"maps" => Some(File::Maps),
        b"auxv" => Some(File::Auxv),
        b"stat" if !per_task => Some(File::Stat),
        b"cmdline" => Some(File::Cmdline),
        b"environ" => Some(File::Environ),
        _ => None,
    }
}

/// If `p` names an emulated file, open it (`flags` are the guest's).
pub(super) fn open(p: &GuestPath, flags: u32) -> Option<SysResult> {
    let path = p.0.strip_suffix(&[0]).unwrap_or(&p.0);
    let f = which(path)?;
    let flags = flags as i32;
    // Mode 0444: only a privileged process may open it for writing (its
    // writes then fail).
    // SAFETY: geteuid has no preconditions.
    if flags & libc::O_ACCMODE != libc::O_RDONLY && unsafe { libc::geteuid() } != 0 {
        return Some(Err(libc::EACCES));
    }
    if flags & libc::O_DIRECTORY != 0 {
        return Some(Err(libc::ENOTDIR));
    }
    let body = match f {
        File::Maps => maps(),
        File::Auxv => auxv(),
        File::Stat => procstat::stat(),
        File::Cmdline => procstat::strings(0),
        File::Environ => procstat::strings(1),
    };
    Some(memfd(&body, flags & libc::O_CLOEXEC != 0))
}

fn memfd(body: &[u8], cloexec: bool) -> SysResult {
    let mut mfl = libc::MFD_ALLOW_SEALING;
    if cloexec {
        mfl |= libc::MFD_CLOEXEC;
    }
    let fd = host!(libc::SYS_memfd_create, c"rehost-proc".as_ptr(), mfl)?;
    let mut done = 0;
    while done < body.len() {
        let rest = &body[done..];
        match host!(libc::SYS_write, fd, rest.as_ptr(), rest.len()) {
            Ok(n) if n > 0 => done += n as usize,
            Ok(_) => break,
            Err(e) => {
                let _ = host!(libc::SYS_close, fd);
                return Err(e);
            }
        }
    }
    host!(libc::SYS_lseek, fd, 0, libc::SEEK_SET)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    let _ = host!(libc::SYS_fcntl, fd, libc::F_ADD_SEALS, seals);
    Ok(fd)
}

/// One PT_LOAD of the guest executable, load bias applied.
pub(super) struct Load {
    pub vaddr: u32,
    pub filesz: u32,
    pub memsz: u32,
    pub offset: u32,
    pub exec: bool,
}

fn aux(key: u32) -> Option<u32> {
    let (_, v) = crate::loader::initial_stack()?;
    v.iter().find(|e| e.0 == key).map(|e| e.1)
}

/// The executable's PT_LOADs, from the program headers AT_PHDR points to.
pub(super) fn loads() -> Vec<Load> {
    let (Some(phdr), Some(phnum)) = (aux(3), aux(5)) else {
        return Vec::new();
    };
    let Ok(raw) = guest_mem::read_bytes(phdr, phnum.min(64) as usize * 32) else {
        return Vec::new();
    };
    let w = |c: &[u8], i: usize| {
        u32::from_le_bytes([c[4 * i], c[4 * i + 1], c[4 * i + 2], c[4 * i + 3]])
    };
    let ph: Vec<&[u8]> = raw.chunks_exact(32).collect();
    // Bias: from PT_PHDR, else assume the headers follow a 52-byte ELF header
    // at the start of the segment with file offset 0.
    let bias = ph
        .iter()
        .find(|c| w(c, 0) == 6)
        .map(|c| phdr.wrapping_sub(w(c, 2)))
        .or_else(|| {
            let c = ph.iter().find(|c| w(c, 0) == 1 && w(c, 1) == 0)?;
            Some(phdr.wrapping_sub(52).wrapping_sub(w(c, 2)))
        })
        .unwrap_or(0);
    ph.iter()
        .filter(|c| w(c, 0) == 1)
        .map(|c| Load {
            vaddr: w(c, 2).wrapping_add(bias),
            offset: w(c, 1),
            filesz: w(c, 4),
            memsz: w(c, 5),
            exec: w(c, 6) & 1 != 0,
        })
        .collect()
}

/// A named range of guest space: (start, end, file offset or None, name).
type Label = (u64, u64, Option<u64>, Vec<u8>);

fn labels(loads: &[Load]) -> Vec<Label> {
    let exe = guest_exe();
    let mut v: Vec<Label> = Vec::new();
    let mut img_end = 0;
    for l in loads {
        let start = (l.vaddr & !(PAGE - 1)) as u64;
        let end = page_up(l.vaddr as u64 + l.filesz as u64);
        if end > start && !exe.is_empty() {
            let off = (l.offset & !(PAGE - 1)) as u64;
            v.push((start, end, Some(off), exe.clone()));
        }
        img_end = img_end.max(page_up(l.vaddr as u64 + l.memsz as u64));
    }
    let brk = page_up(memory::brk(0) as u64);
    if img_end != 0 && brk > img_end {
        v.push((img_end, brk, None, b"[heap]".to_vec()));
    }
    let stack = (STACK_TOP - STACK_SIZE) as u64;
    v.push((stack, STACK_TOP as u64, None, b"[stack]".to_vec()));
    v
}

/// /proc/self/maps of the guest.
fn maps() -> Vec<u8> {
    let labels = labels(&loads());
    let (dev, ino) = exe_id();
    let mut out = Vec::new();
    for (start, end, prot) in memory::regions() {
        // Cut the region at every label edge inside it.
        let mut cuts: Vec<u64> = vec![start as u64, end];
        for l in &labels {
            for e in [l.0, l.1] {
                if e > start as u64 && e < end {
                    cuts.push(e);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (s, e) = (w[0], w[1]);
            let l = labels.iter().find(|l| l.0 <= s && e <= l.1);
            let (off, d, i, name) = match l {
                Some((ls, _, Some(o), n)) => (o + (s - ls), dev, ino, &n[..]),
                Some((_, _, None, n)) => (0, (0, 0), 0, &n[..]),
                None => (0, (0, 0), 0, &b""[..]),
            };
            line(&mut out, s, e, prot, off, d, i, name);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn line(
    out: &mut Vec<u8>,
    s: u64,
    e: u64,
    prot: i32,
    off: u64,
    dev: (u32, u32),
    ino: u64,
    name: &[u8],
) {
    let f = |b: i32, c: char| if prot & b != 0 { c } else { '-' };
    let head = format!(
        "{s:08x}-{e:08x} {}{}{}p {off:08x} {:02x}:{:02x} {ino} ",
        f(libc::PROT_READ, 'r'),
        f(libc::PROT_WRITE, 'w'),
        f(libc::PROT_EXEC, 'x'),
        dev.0,
        dev.1
    );
    let start = out.len();
    out.extend_from_slice(head.as_bytes());
    if !name.is_empty() {
        // The kernel pads to column 72 (64-bit kernels), then one space.
        out.resize(start + head.len().max(72), b' ');
        out.push(b' ');
        out.extend_from_slice(name);
    }
    out.push(b'\n');
}

fn exe_id() -> ((u32, u32), u64) {
    let mut p = guest_exe();
    p.push(0);
    // SAFETY: st is a host buffer the kernel fills; p is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if host!(libc::SYS_stat, p.as_ptr(), &mut st as *mut libc::stat).is_err() {
        return ((0, 0), 0);
    }
    ((libc::major(st.st_dev), libc::minor(st.st_dev)), st.st_ino)
}

/// The i386 auxv as (u32 key, u32 value) pairs, AT_NULL included.
fn auxv() -> Vec<u8> {
    let v = crate::loader::initial_stack()
        .map(|s| s.1)
        .unwrap_or_default();
    let mut out = Vec::new();
    for (k, x) in v.iter().chain(&[(0, 0)]) {
        out.extend_from_slice(&k.to_le_bytes());
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let pid = std::process::id();
        assert_eq!(which(b"/proc/self/maps"), Some(File::Maps));
        assert_eq!(
            which(format!("/proc/{pid}/auxv").as_bytes()),
            Some(File::Auxv)
        );
        assert_eq!(which(b"/proc/thread-self/maps"), Some(File::Maps));
        assert_eq!(which(b"/proc/self/task/12/maps"), Some(File::Maps));
        assert_eq!(which(b"/proc/self/stat"), Some(File::Stat));
        assert_eq!(which(b"/proc/thread-self/stat"), None);
        assert_eq!(which(b"/proc/1/maps"), None);
        assert_eq!(which(b"/proc/cpuinfo"), None);
        assert_eq!(which(b"/proc/self/status"), None);
    }

    #[test]
    fn line_format() {
        let mut v = Vec::new();
        line(
            &mut v,
            0x8048000,
            0x8049000,
            5,
            0x1000,
            (254, 0),
            42,
            b"/bin/x",
        );
        let s = String::from_utf8(v).unwrap();
        let head = "08048000-08049000 r-xp 00001000 fe:00 42 ";
        assert_eq!(s, format!("{head}{:32}/bin/x\n", ""));
        assert_eq!(s.len(), 73 + 6 + 1);
        let mut v = Vec::new();
        line(&mut v, 0x1000, 0x2000, 3, 0, (0, 0), 0, b"");
        assert_eq!(v, b"00001000-00002000 rw-p 00000000 00:00 0 \n");
    }
}
