//! Dynamically linked guests: the program interpreter (PT_INTERP, e.g.
//! `/lib/ld-linux.so.2`) and the i386 sysroot it and the libraries it opens
//! are taken from.
//!
//! The interpreter is loaded as the kernel loads it for an ia32 task: an
//! ET_DYN object mapped whole at a free base (top-down, where guest mmaps
//! go), its entry point the first guest instruction, its base passed as
//! AT_BASE; it then maps the libraries itself through guest system calls,
//! and all of it runs through the run-time translator.
//!
//! The sysroot (`--sysroot DIR`, else `REHOST_SYSROOT`, else the default a
//! translated output recorded with `rehost translate --sysroot`) works like
//! qemu-user's `-L`: an absolute guest path that exists under the sysroot
//! is taken from there, anything else from the host.
//!
//! Invariant: the sysroot is fixed before the guest runs (set once, read
//! without locking afterwards).

use crate::elfload;
use crate::loader;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static SYSROOT: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Fix the sysroot: `explicit` (a command-line option) wins over
/// `REHOST_SYSROOT`, which wins over a translated output's recorded
/// default. Later calls change nothing.
pub fn set_sysroot(explicit: Option<PathBuf>) {
    SYSROOT.get_or_init(|| {
        explicit
            .or_else(|| std::env::var_os("REHOST_SYSROOT").map(PathBuf::from))
            .or_else(recorded_sysroot)
            .filter(|p| !p.as_os_str().is_empty())
    });
}

/// The sysroot in effect, if any.
pub fn sysroot() -> Option<&'static Path> {
    SYSROOT.get_or_init(|| None).as_deref()
}

// A translated output made with `--sysroot` defines this symbol (a
// NUL-terminated path); elsewhere the weak reference resolves to 0. The
// `.weak` directive sits in the same asm as the reference: in a separate
// `global_asm!` it can land in another codegen unit's object, leaving this
// one with a strong undefined reference that fails to link.
fn recorded_sysroot() -> Option<PathBuf> {
    let p: *const libc::c_char;
    // SAFETY: loads the address of a weak symbol from the GOT (0 when no
    // object defines it); no memory is touched.
    unsafe {
        std::arch::asm!(
            ".weak rehost_default_sysroot",
            "mov {}, qword ptr [rip + rehost_default_sysroot@GOTPCREL]",
            out(reg) p,
            options(nostack, pure, readonly)
        )
    };
    if p.is_null() {
        return None;
    }
    // SAFETY: the translator emits the symbol as a NUL-terminated string.
    let s = unsafe { std::ffi::CStr::from_ptr(p) };
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(s.to_bytes())))
}

/// `path` under the sysroot, if a sysroot is set, `path` is absolute and
/// the file exists there (symbolic links not followed at the last step).
pub fn in_sysroot(path: &[u8]) -> Option<Vec<u8>> {
    let root = sysroot()?;
    if path.first() != Some(&b'/') {
        return None;
    }
    let mut p = root.as_os_str().as_bytes().to_vec();
    p.extend_from_slice(path);
    std::fs::symlink_metadata(std::ffi::OsStr::from_bytes(&p))
        .is_ok()
        .then_some(p)
}

/// Where the host file for guest path `path` is (sysroot first).
pub fn host_path(path: &[u8]) -> PathBuf {
    let p = in_sysroot(path).unwrap_or_else(|| path.to_vec());
    PathBuf::from(std::ffi::OsStr::from_bytes(&p))
}

/// Read and validate interpreter `path` (as PT_INTERP names it). Errors
/// are (errno, message): ENOENT when missing, ELIBBAD when not a loadable
/// i386 object, as execve reports them.
pub fn read_interp(path: &[u8]) -> Result<Vec<u8>, (i32, String)> {
    let host = host_path(path);
    let shown = String::from_utf8_lossy(path);
    let bytes = std::fs::read(&host).map_err(|e| {
        let hint = if sysroot().is_some() {
            ""
        } else {
            " (install the i386 C library, e.g. libc6:i386, or give an i386 root with --sysroot DIR / REHOST_SYSROOT)"
        };
        let errno = e.raw_os_error().unwrap_or(libc::ENOENT);
        (
            errno,
            format!(
                "cannot read the program interpreter {shown} ({}): {e}{hint}",
                host.display()
            ),
        )
    })?;
    match elfload::parse(&bytes) {
        Ok(f) if f.is_dyn && f.interp.is_none() => Ok(bytes),
        Ok(_) => Err((
            libc::ELIBBAD,
            format!("program interpreter {shown} is not a position-independent shared object"),
        )),
        Err(e) => Err((libc::ELIBBAD, format!("program interpreter {shown}: {e}"))),
    }
}

/// A mapped program interpreter.
pub struct Interp {
    /// Load base (AT_BASE).
    pub base: u32,
    /// Biased entry point: where the guest starts.
    pub entry: u32,
}

/// If the main program `img` (already mapped) names a program
/// interpreter, load it at a free base. Guest space must be reserved.
pub fn load_for(img: &loader::GuestImage) -> Result<Option<Interp>, String> {
    let Some(path) = elfload::interp_of(img) else {
        return Ok(None);
    };
    let bytes = read_interp(&path).map_err(|(_, m)| m)?;
    let file = elfload::parse(&bytes)?;
    let shown = String::from_utf8_lossy(&path);
    let span = file
        .span()
        .ok_or_else(|| format!("program interpreter {shown}: segments wrap past 4 GiB"))?;
    let base = crate::memory::find_free(span).ok_or_else(|| {
        format!("no room in guest space for the program interpreter {shown} ({span:#x} bytes)")
    })?;
    let placed = file.image(base.wrapping_sub(file.min_page()))?;
    loader::map_segments(&placed.segments)
        .map_err(|e| format!("cannot map the program interpreter {shown}: {e}"))?;
    Ok(Some(Interp {
        base,
        entry: placed.entry,
    }))
}
