//! execve (11) and execveat (358), and the start-up half of the re-exec
//! protocol they rely on.
//!
//! An i386 program cannot be handed to the host kernel (no ia32 support is
//! assumed), so a guest exec of one re-executes the current host executable
//! (`/proc/self/exe`: a translated output or the `rehost` command, both of
//! which carry the runtime) with [`ENV_EXEC`] naming the file; the new
//! process's start-up ([`take_request`], called by `start`) removes the
//! variable again and runs that file with run-time translation. A `#!`
//! script whose interpreter is an i386 program goes the same way with the
//! kernel's argument rewriting; anything else (x86-64 programs, scripts for
//! host interpreters) is exec'd natively with the guest's argv and envp.
//!
//! Invariant: every check that can fail (path lookup, permission, a
//! malformed i386 file, a missing program interpreter) runs before the
//! process image is replaced, so a failing exec returns -errno to the guest
//! and leaves it undisturbed, as on i386.

use super::{Args, GuestPath, SysResult};
use crate::abi::Context;
use crate::{elfload, guest_mem, interp};
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;

/// The i386 file a re-executed runtime must run (absolute host path).
pub const ENV_EXEC: &str = "REHOST_EXEC";
/// The sysroot in effect in the process that exec'd (absent if none).
pub const ENV_EXEC_SYSROOT: &str = "REHOST_EXEC_SYSROOT";
/// The guest's ignored signals and blocked mask at the exec, as
/// `IGN:MASK` in hex (execve keeps both; the host kernel cannot carry the
/// guest's view of the signals the runtime handles itself).
pub const ENV_EXEC_SIGNALS: &str = "REHOST_EXEC_SIGNALS";

/// Longest single argument or environment string (MAX_ARG_STRLEN).
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Cap on the total size of argv + envp read from the guest.
const MAX_ARGS_TOTAL: usize = 64 << 20;
/// How much of a file decides what it is (BINPRM_BUF_SIZE).
const HEAD: usize = 256;

/// A guest exec to carry out in the new process.
pub struct Request {
    /// Host path of the i386 program.
    pub path: Vec<u8>,
    pub sysroot: Option<Vec<u8>>,
    /// Ignored signals and mask of the guest that exec'd.
    pub signals: Option<(u64, u64)>,
}

/// Take a pending exec request out of `envs` (a process started by a
/// guest's execve); None for an ordinary start.
pub fn take_request(envs: &mut Vec<Vec<u8>>) -> Option<Request> {
    let path = take(envs, ENV_EXEC)?;
    let sysroot = take(envs, ENV_EXEC_SYSROOT);
    let signals = take_signals(envs);
    Some(Request {
        path,
        sysroot,
        signals,
    })
}

fn take(envs: &mut Vec<Vec<u8>>, name: &str) -> Option<Vec<u8>> {
    let key = format!("{name}=");
    let i = envs.iter().position(|e| e.starts_with(key.as_bytes()))?;
    Some(envs.remove(i)[key.len()..].to_vec())
}

/// Take the signal state a guest's execve passed (`ENV_EXEC_SIGNALS`) out
/// of `envs`: (ignored, mask).
pub fn take_signals(envs: &mut Vec<Vec<u8>>) -> Option<(u64, u64)> {
    let v = take(envs, ENV_EXEC_SIGNALS)?;
    let v = std::str::from_utf8(&v).ok()?;
    let (ign, mask) = v.split_once(':')?;
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    Some((hex(ign)?, hex(mask)?))
}

/// The environment variable carrying the guest's signal state.
fn signals_var() -> Vec<u8> {
    let (ign, mask) = super::signal::exec_state();
    format!("{ENV_EXEC_SIGNALS}={ign:x}:{mask:x}").into_bytes()
}

pub fn execve(_: &mut Context, a: &Args) -> SysResult {
    exec(libc::AT_FDCWD, a[0], a[1], a[2], 0)
}

/// execveat(dirfd, path, argv, envp, flags).
pub fn execveat(_: &mut Context, a: &Args) -> SysResult {
    exec(a[0] as i32, a[1], a[2], a[3], a[4] as i32)
}

/// What a file to exec turned out to be.
enum Target {
    /// An i386 program, by absolute host path.
    I386(Vec<u8>),
    /// A `#!` script whose interpreter (absolute host path) is i386; the
    /// new argv replaces argv[0] with these words and the script path.
    Script(Vec<u8>, Vec<Vec<u8>>),
    /// Leave it to the host kernel.
    Native,
}

fn exec(dirfd: i32, path: u32, argv: u32, envp: u32, flags: i32) -> SysResult {
    if flags & !(libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(libc::EINVAL);
    }
    let p = GuestPath::read(path)?;
    let name = &p.0[..p.0.len() - 1];
    let mut total = 0;
    let argv = read_strv(argv, &mut total)?;
    let envp = read_strv(envp, &mut total)?;
    match classify(dirfd, name, flags, true)? {
        Target::I386(file) => reexec(&file, &argv, &envp),
        Target::Script(interp, words) => {
            let mut v = words;
            v.push(script_path(dirfd, name));
            v.extend(argv.iter().skip(1).cloned());
            reexec(&interp, &v, &envp)
        }
        Target::Native => {
            let mut envp = envp;
            if is_own_executable(dirfd, name, flags) {
                // A translated output (ours) runs its guest afresh: it
                // takes the signal state out of its environment again.
                envp.retain(|e| !e.starts_with(format!("{ENV_EXEC_SIGNALS}=").as_bytes()));
                envp.push(signals_var());
            }
            let (av, ev) = (CStrs::new(&argv)?, CStrs::new(&envp)?);
            // The new image inherits the guest's ignored signals and mask,
            // also for the signals the runtime keeps for itself.
            let saved = super::signal::native_exec_begin();
            let r = super::host!(
                libc::SYS_execveat,
                super::sx(dirfd as u32),
                p.ptr(),
                av.ptr(),
                ev.ptr(),
                flags
            );
            super::signal::native_exec_failed(saved);
            r
        }
    }
}

/// How the script is named in the interpreter's argv (as the kernel does:
/// the path given, or /dev/fd/N[/path] for execveat on a directory fd).
fn script_path(dirfd: i32, name: &[u8]) -> Vec<u8> {
    if name.first() == Some(&b'/') || dirfd == libc::AT_FDCWD {
        name.to_vec()
    } else if name.is_empty() {
        format!("/dev/fd/{dirfd}").into_bytes()
    } else {
        let mut v = format!("/dev/fd/{dirfd}/").into_bytes();
        v.extend_from_slice(name);
        v
    }
}

/// A NULL-terminated guest array of strings (NULL array = empty).
fn read_strv(addr: u32, total: &mut usize) -> Result<Vec<Vec<u8>>, i32> {
    let mut v = Vec::new();
    if addr == 0 {
        return Ok(v);
    }
    for k in 0u32.. {
        let at = addr.checked_add(k.checked_mul(4).ok_or(libc::E2BIG)?);
        let s = guest_mem::read_u32(at.ok_or(libc::EFAULT)?)?;
        if s == 0 {
            break;
        }
        let b = read_arg(s)?;
        *total += b.len() + 1 + 4;
        if *total > MAX_ARGS_TOTAL {
            return Err(libc::E2BIG);
        }
        v.push(b);
    }
    Ok(v)
}

/// One argument string (up to MAX_ARG_STRLEN, else E2BIG).
fn read_arg(addr: u32) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    let mut pos = addr;
    while out.len() < MAX_ARG_STRLEN {
        let n = (crate::memory::PAGE - pos % crate::memory::PAGE) as usize;
        let chunk = guest_mem::read_bytes(pos, n)?;
        if let Some(z) = chunk.iter().position(|&c| c == 0) {
            out.extend_from_slice(&chunk[..z]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
        pos = pos.checked_add(n as u32).ok_or(libc::EFAULT)?;
    }
    Err(libc::E2BIG)
}

/// A host `char *[]` built from byte strings (interior NULs end a string,
/// as they would in guest memory).
struct CStrs {
    _owned: Vec<CString>,
    ptrs: Vec<*const libc::c_char>,
}

impl CStrs {
    fn new(v: &[Vec<u8>]) -> Result<CStrs, i32> {
        let owned: Vec<CString> = v
            .iter()
            .map(|s| {
                let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
                CString::new(&s[..end]).map_err(|_| libc::EINVAL)
            })
            .collect::<Result<_, _>>()?;
        let mut ptrs: Vec<_> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        Ok(CStrs {
            _owned: owned,
            ptrs,
        })
    }

    fn ptr(&self) -> u64 {
        self.ptrs.as_ptr() as u64
    }
}

/// An open file descriptor, closed on drop.
struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: closing a descriptor this module opened.
        unsafe { libc::close(self.0) };
    }
}

fn errno() -> i32 {
    super::errno()
}

/// Open what an exec of (dirfd, name, flags) would run, for reading.
fn open_target(dirfd: i32, name: &[u8], flags: i32) -> Result<Fd, i32> {
    let mut c = name.to_vec();
    let mut oflags = libc::O_RDONLY | libc::O_CLOEXEC;
    if name.is_empty() {
        if flags & libc::AT_EMPTY_PATH == 0 {
            return Err(libc::ENOENT);
        }
        // The descriptor itself (possibly O_PATH): reopen it for reading.
        c = format!("/proc/self/fd/{dirfd}").into_bytes();
    } else if flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
        oflags |= libc::O_NOFOLLOW;
    }
    c.push(0);
    let at = if name.is_empty() {
        libc::AT_FDCWD
    } else {
        dirfd
    };
    // SAFETY: `c` is NUL-terminated.
    let fd = unsafe { libc::openat(at, c.as_ptr().cast(), oflags) };
    if fd < 0 {
        Err(errno())
    } else {
        Ok(Fd(fd))
    }
}

/// Is (dirfd, name) this process's own executable (a translated output
/// exec'ing itself through /proc/self/exe or its path)?
fn is_own_executable(dirfd: i32, name: &[u8], flags: i32) -> bool {
    let Ok(fd) = open_target(dirfd, name, flags) else {
        return false;
    };
    // SAFETY: fstat/stat fill host buffers; the path is NUL-terminated.
    unsafe {
        let (mut a, mut b): (libc::stat, libc::stat) = (std::mem::zeroed(), std::mem::zeroed());
        libc::fstat(fd.0, &mut a) == 0
            && libc::stat(c"/proc/self/exe".as_ptr(), &mut b) == 0
            && (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    }
}

/// Decide how to exec (dirfd, name). Errors are those execve would give
/// for an i386 file; any file rehost does not run itself is `Native`, so
/// the host kernel gives its own answer. `script_ok`: a `#!` line may name
/// an i386 interpreter (one level, like binfmt_script into binfmt_elf).
fn classify(dirfd: i32, name: &[u8], flags: i32, script_ok: bool) -> Result<Target, i32> {
    let Ok(fd) = open_target(dirfd, name, flags) else {
        return Ok(Target::Native);
    };
    // SAFETY: fstat fills a host buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.0, &mut st) } != 0 || st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Ok(Target::Native);
    }
    let mut head = [0u8; HEAD];
    // SAFETY: reads at most HEAD bytes into `head`.
    let n = unsafe { libc::pread(fd.0, head.as_mut_ptr().cast(), HEAD, 0) };
    let head = &head[..n.max(0) as usize];
    let is_elf = elfload::is_i386_elf(head);
    let shebang = script_ok && head.starts_with(b"#!");
    if !is_elf && !shebang {
        return Ok(Target::Native);
    }
    // Execute permission, as the kernel checks it (noexec mounts included).
    let proc_path = CString::new(format!("/proc/self/fd/{}", fd.0)).map_err(|_| libc::EINVAL)?;
    // SAFETY: NUL-terminated path.
    if unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            proc_path.as_ptr(),
            libc::X_OK,
            libc::AT_EACCESS,
        )
    } != 0
    {
        return Err(errno());
    }
    if shebang {
        return classify_script(head);
    }
    let bytes = read_all(&fd)?;
    let file = elfload::parse(&bytes).map_err(|_| libc::ENOEXEC)?;
    file.image(file.main_bias()).map_err(|_| libc::ENOEXEC)?;
    if let Some(path) = &file.interp {
        interp::read_interp(path).map_err(|(e, _)| e)?;
    }
    Ok(Target::I386(real_path(&fd)?))
}

/// A `#!` line (kernel rules: interpreter up to the first blank, the rest
/// trimmed as one optional argument) whose interpreter is an i386 program.
fn classify_script(head: &[u8]) -> Result<Target, i32> {
    let line = &head[2..];
    let Some(end) = line.iter().position(|&c| c == b'\n') else {
        return Ok(Target::Native);
    };
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let line = &line[..end];
    let start = line.iter().position(|c| !blank(c)).unwrap_or(line.len());
    let line = &line[start..];
    let split = line.iter().position(blank).unwrap_or(line.len());
    let (interp, rest) = line.split_at(split);
    if interp.is_empty() {
        return Err(libc::ENOEXEC);
    }
    let rest = rest.trim_ascii();
    match classify(libc::AT_FDCWD, interp, 0, false)? {
        Target::I386(host) => {
            let mut words = vec![interp.to_vec()];
            if !rest.is_empty() {
                words.push(rest.to_vec());
            }
            Ok(Target::Script(host, words))
        }
        _ => Ok(Target::Native),
    }
}

fn read_all(fd: &Fd) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: reads into a host buffer of buf.len() bytes.
        let n = unsafe { libc::pread(fd.0, buf.as_mut_ptr().cast(), buf.len(), out.len() as i64) };
        match n {
            0 => return Ok(out),
            n if n > 0 => out.extend_from_slice(&buf[..n as usize]),
            _ if errno() == libc::EINTR => {}
            _ => return Err(errno()),
        }
    }
}

/// The absolute path of an open file (what /proc/self/exe will name).
fn real_path(fd: &Fd) -> Result<Vec<u8>, i32> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.0))
        .map(|p| p.as_os_str().as_bytes().to_vec())
        .map_err(|e| e.raw_os_error().unwrap_or(libc::ENOENT))
}

/// Replace this process with the host executable running `file`; returns
/// only on failure.
fn reexec(file: &[u8], argv: &[Vec<u8>], envp: &[Vec<u8>]) -> SysResult {
    let ours = [ENV_EXEC, ENV_EXEC_SYSROOT, ENV_EXEC_SIGNALS].map(|n| format!("{n}="));
    let mut env: Vec<Vec<u8>> = envp
        .iter()
        .filter(|e| !ours.iter().any(|o| e.starts_with(o.as_bytes())))
        .cloned()
        .collect();
    let mut var = ours[0].as_bytes().to_vec();
    var.extend_from_slice(file);
    env.push(var);
    if let Some(root) = interp::sysroot() {
        let mut var = ours[1].as_bytes().to_vec();
        var.extend_from_slice(root.as_os_str().as_bytes());
        env.push(var);
    }
    env.push(signals_var());
    let (av, ev) = (CStrs::new(argv)?, CStrs::new(&env)?);
    let exe: &CStr = c"/proc/self/exe";
    if crate::log::enabled(crate::log::SYSCALLS) {
        let f = String::from_utf8_lossy(file);
        crate::log::line(&format!("exec: {f} runs translated by /proc/self/exe"));
    }
    super::host!(libc::SYS_execve, exe.as_ptr(), av.ptr(), ev.ptr())
}
