//! `rehost`: translate i386 Linux programs into native x86-64 executables.
//!
//! Pipeline (one module per stage): `elf` (read and validate the guest) ->
//! `discover` (speculative CFG) -> translation (the runtime's shared lowering,
//! in parallel with rayon) -> `emit` (relocatable object) -> `link` (cc, with
//! the runtime library). `rehost run` skips the static pass entirely and lets
//! the runtime translate every block when first reached.

mod discover;
mod dot;
mod elf;
mod emit;
mod layout;
mod link;

use rayon::prelude::*;
use rehost_runtime::translate::{translate_block, HostBlock, Options};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str =
    "usage: rehost translate GUEST -o OUT [--profile FILE] [--stats] [--inline-caches] [--sysroot DIR]
       rehost run [--sysroot DIR] GUEST [ARGS...]
       rehost cfg GUEST [--profile FILE] [--from ADDR|SYMBOL [--depth N]] -o CFG.dot";

fn main() -> ExitCode {
    if std::env::var_os(rehost_runtime::syscall::EXEC_REQUEST).is_some() {
        // A guest's execve of an i386 program re-executed us to run it.
        rehost_runtime::start::run_exec_request_from_env();
    }
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("translate") => cmd_translate(&args[2..]),
        Some("run") => cmd_run(&args[2..]),
        Some("cfg") => cmd_cfg(&args[2..]),
        Some("-h") | Some("--help") | Some("help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(format!("expected a subcommand\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rehost: {e}");
            ExitCode::from(1)
        }
    }
}

/// Arguments shared by `translate` and `cfg`: GUEST -o OUT [--profile FILE].
struct StaticArgs {
    guest: PathBuf,
    out: PathBuf,
    profile: Vec<u32>,
    /// Instrument static blocks so REHOST_STATS can count the executed ones.
    stats: bool,
    /// Inline caches at the static blocks' indirect jmp/call sites.
    ic: bool,
    /// i386 root to take a dynamic guest's interpreter and libraries from
    /// (recorded in the output as its default).
    sysroot: Option<PathBuf>,
}

fn parse_static_args(args: &[String]) -> Result<StaticArgs, String> {
    let mut guest = None;
    let mut out = None;
    let mut profile = Vec::new();
    let mut stats = false;
    let mut ic = false;
    let mut sysroot = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" => out = Some(PathBuf::from(it.next().ok_or("-o needs a file name")?)),
            "--sysroot" => sysroot = Some(sysroot_arg(it.next())?),
            "--stats" => stats = true,
            "--inline-caches" => ic = true,
            "--profile" => {
                profile = read_profile(Path::new(it.next().ok_or("--profile needs a file name")?))?
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if guest.is_none() => guest = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    let guest = guest.ok_or(format!("no guest program given\n{USAGE}"))?;
    let out = out.ok_or("no output given (-o OUT)")?;
    Ok(StaticArgs {
        guest,
        out,
        profile,
        stats,
        ic,
        sysroot,
    })
}

/// The DIR of `--sysroot DIR`: an existing directory.
fn sysroot_arg(dir: Option<&String>) -> Result<PathBuf, String> {
    let dir = PathBuf::from(dir.ok_or("--sysroot needs a directory")?);
    if !dir.is_dir() {
        return Err(format!("--sysroot {}: not a directory", dir.display()));
    }
    std::fs::canonicalize(&dir).map_err(|e| format!("--sysroot {}: {e}", dir.display()))
}

/// With `--sysroot DIR`, a dynamic guest's interpreter must be found there.
fn check_interp(elf: &elf::GuestElf, sysroot: Option<&Path>) -> Result<(), String> {
    let (Some(interp), Some(root)) = (&elf.interp, sysroot) else {
        return Ok(());
    };
    let host = root.join(interp.trim_start_matches('/'));
    if host.is_file() {
        Ok(())
    } else {
        Err(format!(
            "{}: the program interpreter {interp} is not in --sysroot {}",
            elf.path.display(),
            root.display()
        ))
    }
}

/// A REHOST_PROFILE file: one guest address in hex a line.
fn read_profile(path: &Path) -> Result<Vec<u32>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read profile {}: {e}", path.display()))?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(k, l)| {
            u32::from_str_radix(l.trim_start_matches("0x"), 16)
                .map_err(|_| format!("{}:{}: not a hex guest address: {l}", path.display(), k + 1))
        })
        .collect()
}

/// The guest program, static or dynamic: the static pass translates the
/// main program's own code; a dynamic guest's interpreter and libraries
/// are loaded and translated at run time.
fn load_static_guest(guest: &Path) -> Result<elf::GuestElf, String> {
    elf::load(guest).map_err(|e| e.to_string())
}

fn cmd_translate(args: &[String]) -> Result<(), String> {
    let a = parse_static_args(args)?;
    translate(&a, a.sysroot.as_deref())
}

fn cmd_cfg(args: &[String]) -> Result<(), String> {
    // --from/--depth select the part of the graph to draw (a whole static
    // glibc program has tens of thousands of blocks, too many for graphviz).
    let mut rest = Vec::new();
    let mut from = None;
    let mut depth = 40usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--from" => {
                from = Some(
                    it.next()
                        .ok_or("--from needs an address or a symbol")?
                        .clone(),
                )
            }
            "--depth" => {
                let v = it.next().ok_or("--depth needs a number")?;
                depth = v
                    .parse()
                    .map_err(|_| format!("--depth: not a number: {v}"))?;
            }
            _ => rest.push(a.clone()),
        }
    }
    let a = parse_static_args(&rest)?;
    let elf = load_static_guest(&a.guest)?;
    let found_statically = discover::discover(&elf, &[]);
    let with_profile = discover::discover(&elf, &a.profile);
    let root = match from {
        None => None,
        Some(f) => Some(match u32::from_str_radix(f.trim_start_matches("0x"), 16) {
            Ok(v) if f.starts_with("0x") => v,
            _ => elf
                .functions
                .iter()
                .find(|s| s.name == f)
                .map(|s| s.addr)
                .ok_or(format!("--from: no symbol {f} in {}", a.guest.display()))?,
        }),
    };
    let text = dot::render(
        &elf,
        &with_profile,
        &found_statically.starts,
        root.map(|r| (r, depth)),
    );
    std::fs::write(&a.out, text).map_err(|e| format!("cannot write {}: {e}", a.out.display()))
}

/// The static pass, end to end.
fn translate(a: &StaticArgs, sysroot: Option<&Path>) -> Result<(), String> {
    let (guest, out, profile, stats, ic) = (&a.guest, &a.out, &a.profile, a.stats, a.ic);
    let t0 = Instant::now();
    let elf = load_static_guest(guest)?;
    check_interp(&elf, sysroot)?;
    let cfg = discover::discover(&elf, profile);
    let src = discover::ElfCode(&elf);
    let starts: Vec<u32> = cfg.starts.iter().copied().collect();
    let is_start = |a: u32| cfg.starts.contains(&a);
    let blocks: Vec<HostBlock> = starts
        .par_iter()
        .map(|&s| {
            translate_block(
                &src,
                s,
                &is_start,
                Options {
                    exec_flag: stats,
                    ic,
                    ic_counting: ic && stats,
                    ..Options::default()
                },
            )
        })
        .collect();
    if verbose() {
        let c = &cfg.counts;
        eprintln!(
            "rehost: discovery: {} FDE seeds, {} landing pads, {} jump tables ({} targets), {} code pointers in data",
            c.fde_seeds, c.landing_pads, c.jump_tables, c.jump_table_targets, c.data_pointers
        );
        report_illegal(&src, &blocks);
    }
    let guest_bytes: u64 = blocks.iter().map(|b| b.guest_len as u64).sum();
    let emitted = emit::emit(&elf, &blocks, stats);
    link::link(&emitted.bytes, out, sysroot)?;
    if verbose() {
        eprintln!(
            "rehost: layout: {} bytes of block bodies, {} of exit trampolines, {} fall-through jumps elided ({} left a one-byte nop body)",
            emitted.hot_bytes,
            emitted.host_bytes - emitted.hot_bytes,
            emitted.elided,
            emitted.nops
        );
    }
    eprintln!(
        "rehost: {}: {} blocks, {} guest bytes found statically, {} host bytes emitted, {:.2}s",
        guest.display(),
        blocks.len(),
        guest_bytes,
        emitted.host_bytes,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn cmd_run(mut args: &[String]) -> Result<(), String> {
    let mut sysroot = None;
    if args.first().is_some_and(|a| a == "--sysroot") {
        sysroot = Some(sysroot_arg(args.get(1))?);
        args = &args[2..];
    }
    let guest = PathBuf::from(
        args.first()
            .ok_or(format!("no guest program given\n{USAGE}"))?,
    );
    let elf = load_static_guest(&guest)?;
    check_interp(&elf, sysroot.as_deref())?;
    rehost_runtime::interp::set_sysroot(sysroot);
    let segments = elf
        .segments
        .iter()
        .map(|s| rehost_runtime::loader::Segment {
            vaddr: s.vaddr,
            memsz: s.memsz,
            flags: s.flags,
            data: &s.data,
        })
        .collect();
    let img = rehost_runtime::loader::GuestImage {
        entry: elf.entry,
        phdr: elf.phdr_addr,
        phnum: elf.phnum,
        segments,
        brk: elf.brk,
    };
    let exe = std::fs::canonicalize(&guest).unwrap_or(guest.clone());
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.clone().into_bytes()).collect();
    use std::os::unix::ffi::OsStrExt;
    let envs: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect();
    rehost_runtime::start::undo_rust_sigpipe();
    rehost_runtime::start::run(&img, &exe.to_string_lossy(), &argv, &envs, &[])
}

/// With REHOST_LOG=jit: list the guest instructions the static pass lowered
/// to SIGILL (reached only if the guest really executes them).
fn report_illegal(src: &discover::ElfCode, blocks: &[HostBlock]) {
    use rehost_runtime::translate::CodeSource;
    let mut seen = std::collections::BTreeSet::new();
    for b in blocks {
        seen.extend(b.illegal.iter().copied());
    }
    for a in seen {
        let mut buf = [0u8; 15];
        let n = src.read(a, &mut buf);
        let mut d =
            iced_x86::Decoder::with_ip(32, &buf[..n], a as u64, iced_x86::DecoderOptions::NONE);
        let i = d.decode();
        eprintln!("rehost: not translated: {a:#010x} {i} ({:?})", i.code());
    }
}

/// REHOST_LOG=jit (or all): details of the static pass on stderr.
fn verbose() -> bool {
    std::env::var("REHOST_LOG").is_ok_and(|v| v.split(',').any(|w| w == "jit" || w == "all"))
}
