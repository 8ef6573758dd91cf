//! Linking the emitted object with the runtime into one standalone PIE.
//!
//! The runtime static library (`librehost_runtime.a`) is built by the same
//! `cargo build --release` as `rehost` and found next to the `rehost`
//! executable (or at `$REHOST_RUNTIME_LIB`). Invariant: the output path is
//! either the complete executable or untouched: `cc` writes a temporary file
//! in the output's directory, renamed into place only on success.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Locate the runtime library.
pub fn runtime_lib() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("REHOST_RUNTIME_LIB") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate rehost itself: {e}"))?;
    let dir = exe.parent().ok_or("cannot locate rehost's directory")?;
    for cand in [
        dir.join("librehost_runtime.a"),
        dir.join("../librehost_runtime.a"),
    ] {
        if cand.is_file() {
            return Ok(cand);
        }
    }
    Err(format!("runtime library librehost_runtime.a not found next to {} (build with `cargo build --release`)", exe.display()))
}

/// An object defining `rehost_default_sysroot`, the NUL-terminated i386
/// root the runtime falls back to when neither `--sysroot` nor
/// `REHOST_SYSROOT` names one (see the runtime's `interp`).
fn sysroot_object(root: &Path) -> Vec<u8> {
    use object::write::{Object, Symbol, SymbolSection};
    use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};
    use std::os::unix::ffi::OsStrExt;
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let ro = obj.section_id(object::write::StandardSection::ReadOnlyData);
    let mut bytes = root.as_os_str().as_bytes().to_vec();
    bytes.push(0);
    let off = obj.append_section_data(ro, &bytes, 1);
    obj.add_symbol(Symbol {
        name: b"rehost_default_sysroot".to_vec(),
        value: off,
        size: bytes.len() as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(ro),
        flags: SymbolFlags::None,
    });
    obj.write().expect("in-memory object")
}

/// Link `obj` (object file bytes) into the executable `out`; with
/// `sysroot`, the output records it as its default i386 root.
pub fn link(obj: &[u8], out: &Path, sysroot: Option<&Path>) -> Result<(), String> {
    let lib = runtime_lib()?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = out
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let pid = std::process::id();
    let obj_path = std::env::temp_dir().join(format!("rehost-{pid}-{stem}.o"));
    let tmp_out = dir.join(format!(".{stem}.rehost-tmp-{pid}"));
    std::fs::write(&obj_path, obj)
        .map_err(|e| format!("cannot write {}: {e}", obj_path.display()))?;
    let root_obj = std::env::temp_dir().join(format!("rehost-{pid}-{stem}.sysroot.o"));
    if let Some(root) = sysroot {
        std::fs::write(&root_obj, sysroot_object(root))
            .map_err(|e| format!("cannot write {}: {e}", root_obj.display()))?;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let result = Command::new(&cc)
        .arg("-pie")
        .arg("-o")
        .arg(&tmp_out)
        .arg(&obj_path)
        .args(sysroot.map(|_| &root_obj))
        .arg(&lib)
        .args([
            "-Wl,--gc-sections",
            "-Wl,-z,noexecstack",
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ])
        .output();
    let _ = std::fs::remove_file(&obj_path);
    let _ = std::fs::remove_file(&root_obj);
    let output = result.map_err(|e| format!("cannot run the linker `{cc}`: {e}"))?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&tmp_out);
        let err = String::from_utf8_lossy(&output.stderr);
        let first = err
            .lines()
            .find(|l| l.contains("error"))
            .or(err.lines().next())
            .unwrap_or("")
            .trim();
        return Err(format!("linking failed: {first}"));
    }
    std::fs::rename(&tmp_out, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp_out);
        format!("cannot write {}: {e}", out.display())
    })
}
