//! The guest's process image: its segments mapped at their own addresses in
//! the reserved low 4 GiB, the program break, and the i386 initial stack
//! (argc, argv, envp, auxv) exactly as an x86-64 kernel builds it for an
//! ia32 task, minus AT_SYSINFO/AT_SYSINFO_EHDR so libc uses `int 0x80`.
//!
//! Invariant: nothing here maps host memory below 4 GiB; every guest mapping
//! goes through `memory`, which keeps the reservation whole.

use crate::memory;
use std::collections::BTreeMap;

/// One PT_LOAD segment of the guest (file bytes; the rest up to memsz is zero).
pub struct Segment<'a> {
    pub vaddr: u32,
    pub memsz: u32,
    pub flags: u32,
    pub data: &'a [u8],
}

/// What the loader needs to know about a guest program.
pub struct GuestImage<'a> {
    pub entry: u32,
    pub phdr: u32,
    pub phnum: u32,
    pub segments: Vec<Segment<'a>>,
    pub brk: u32,
}

const PAGE: u32 = 0x1000;

fn prot_of(flags: u32) -> i32 {
    let mut p = 0;
    if flags & 4 != 0 {
        p |= libc::PROT_READ;
    }
    if flags & 2 != 0 {
        p |= libc::PROT_WRITE;
    }
    if flags & 1 != 0 {
        p |= libc::PROT_EXEC | libc::PROT_READ;
    }
    p
}

/// Map the image's segments and set the initial program break.
pub fn map_image(img: &GuestImage) -> Result<(), String> {
    map_segments(&img.segments)?;
    memory::init_brk(img.brk);
    Ok(())
}

/// Map segments at their addresses (pages shared by two segments get the
/// union of their protections); the program break is left alone (the
/// program interpreter is mapped this way).
pub fn map_segments(segments: &[Segment]) -> Result<(), String> {
    let mut pages: BTreeMap<u32, i32> = BTreeMap::new();
    for s in segments {
        if s.memsz == 0 {
            continue;
        }
        let start = s.vaddr & !(PAGE - 1);
        let end = (s.vaddr as u64 + s.memsz as u64 + PAGE as u64 - 1) & !(PAGE as u64 - 1);
        let mut p = start as u64;
        while p < end {
            *pages.entry(p as u32).or_insert(0) |= prot_of(s.flags);
            p += PAGE as u64;
        }
    }
    for &p in pages.keys() {
        memory::map_fixed(p, PAGE, libc::PROT_READ | libc::PROT_WRITE)?;
    }
    for s in segments {
        let n = s.data.len().min(s.memsz as usize);
        // SAFETY: [vaddr, vaddr+n) was just mapped read-write above.
        unsafe { std::ptr::copy_nonoverlapping(s.data.as_ptr(), s.vaddr as usize as *mut u8, n) };
    }
    for (&p, &prot) in &pages {
        memory::protect(p, PAGE, prot)?;
    }
    Ok(())
}

/// i386 auxv keys.
mod at {
    pub const NULL: u32 = 0;
    pub const PHDR: u32 = 3;
    pub const PHENT: u32 = 4;
    pub const PHNUM: u32 = 5;
    pub const PAGESZ: u32 = 6;
    pub const BASE: u32 = 7;
    pub const FLAGS: u32 = 8;
    pub const ENTRY: u32 = 9;
    pub const UID: u32 = 11;
    pub const EUID: u32 = 12;
    pub const GID: u32 = 13;
    pub const EGID: u32 = 14;
    pub const PLATFORM: u32 = 15;
    pub const HWCAP: u32 = 16;
    pub const CLKTCK: u32 = 17;
    pub const SECURE: u32 = 23;
    pub const RANDOM: u32 = 25;
    pub const HWCAP2: u32 = 26;
    pub const EXECFN: u32 = 31;
    pub const MINSIGSTKSZ: u32 = 51;
}

/// Writes downwards from the top of the guest stack.
struct StackWriter {
    sp: u32,
}

impl StackWriter {
    fn push_bytes(&mut self, b: &[u8]) -> u32 {
        self.sp -= b.len() as u32;
        // SAFETY: the stack was mapped read-write by `build_stack`, and the
        // writer stays within it (arguments are bounded by ARG_MAX checks).
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), self.sp as usize as *mut u8, b.len()) };
        self.sp
    }
    fn push_str(&mut self, s: &[u8]) -> u32 {
        self.push_bytes(&[0]);
        self.push_bytes(s)
    }
}

/// Map the guest stack and build the i386 initial stack; returns esp.
/// `interp_base` is where the program interpreter was mapped (AT_BASE; 0
/// for a static program).
pub fn build_stack(
    img: &GuestImage,
    interp_base: u32,
    exe_path: &str,
    args: &[Vec<u8>],
    envs: &[Vec<u8>],
) -> Result<u32, String> {
    let bottom = memory::STACK_TOP - memory::STACK_SIZE;
    memory::map_fixed(
        bottom,
        memory::STACK_SIZE,
        libc::PROT_READ | libc::PROT_WRITE,
    )?;
    let total: usize = args
        .iter()
        .chain(envs)
        .map(|a| a.len() + 1 + 4)
        .sum::<usize>()
        + exe_path.len();
    if total > (memory::STACK_SIZE as usize) / 4 {
        return Err("argument list too long".into());
    }
    let mut w = StackWriter {
        sp: memory::STACK_TOP - 16,
    };
    let execfn = w.push_str(exe_path.as_bytes());
    let envp: Vec<u32> = envs
        .iter()
        .rev()
        .map(|e| w.push_str(e))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let argv: Vec<u32> = args
        .iter()
        .rev()
        .map(|a| w.push_str(a))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let platform = w.push_str(b"i686");
    let mut rnd = [0u8; 16];
    // SAFETY: getrandom writes at most 16 bytes into rnd.
    unsafe { libc::getrandom(rnd.as_mut_ptr().cast(), 16, 0) };
    w.sp &= !15;
    let random = w.push_bytes(&rnd);
    // SAFETY: plain id queries.
    let (uid, euid, gid, egid) = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    // The signal frame size an x86-64 kernel reports to i386 tasks is its
    // own (get_sigframe_size); rehost's frames, with the XSAVE image, fit.
    // SAFETY: getauxval only reads the host's auxiliary vector.
    let minsig = unsafe { libc::getauxval(at::MINSIGSTKSZ as libc::c_ulong) } as u32;
    let auxv = [
        (at::MINSIGSTKSZ, minsig),
        (at::PHDR, img.phdr),
        (at::PHENT, 32),
        (at::PHNUM, img.phnum),
        (at::PAGESZ, PAGE),
        (at::BASE, interp_base),
        (at::FLAGS, 0),
        (at::ENTRY, img.entry),
        (at::UID, uid),
        (at::EUID, euid),
        (at::GID, gid),
        (at::EGID, egid),
        (at::SECURE, 0),
        (at::RANDOM, random),
        (at::HWCAP, hwcap()),
        (at::HWCAP2, 0),
        (at::CLKTCK, 100),
        (at::PLATFORM, platform),
        (at::EXECFN, execfn),
    ]
    .into_iter()
    .filter(|&(k, v)| k != at::MINSIGSTKSZ || v != 0)
    .collect::<Vec<_>>();
    let mut words: Vec<u32> = Vec::new();
    words.push(args.len() as u32);
    words.extend(&argv);
    words.push(0);
    words.extend(&envp);
    words.push(0);
    for &(k, v) in &auxv {
        words.push(k);
        words.push(v);
    }
    words.push(at::NULL);
    words.push(0);
    // esp must be 16-byte aligned at the entry point (argc at esp).
    w.sp = (w.sp - 4 * words.len() as u32) & !15;
    let esp = w.sp;
    let bytes: Vec<u8> = words.iter().flat_map(|v| v.to_le_bytes()).collect();
    // SAFETY: [esp, esp+bytes.len()) lies in the mapped stack below the strings.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), esp as usize as *mut u8, bytes.len()) };
    *INITIAL_STACK.lock().unwrap_or_else(|e| e.into_inner()) = Some((esp, auxv));
    Ok(esp)
}

/// AT_HWCAP of an i386 task: CPUID leaf 1 EDX.
fn hwcap() -> u32 {
    // cpuid is available on every x86-64 CPU.
    std::arch::x86_64::__cpuid(1).edx
}

/// The initial stack as built: (esp, auxv pairs), for the /proc/self/auxv
/// and /proc/self/stat emulation (`syscall::procfs`).
static INITIAL_STACK: std::sync::Mutex<Option<InitialStack>> = std::sync::Mutex::new(None);

/// (initial esp, auxv (key, value) pairs).
pub type InitialStack = (u32, Vec<(u32, u32)>);

/// The guest's initial esp (where argc lies) and its auxv, once built.
pub fn initial_stack() -> Option<InitialStack> {
    INITIAL_STACK
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}
