//! Process start-up: from a translated executable's `main` (ahead-of-time
//! path) or from `rehost run` (run-time only), to the first guest block.
//!
//! Order matters: the guest reservation comes first, before anything else of
//! the runtime could allocate memory the kernel might place below 4 GiB.

use crate::abi::{AotDescriptor, Context, RawSegment, AOT_MAGIC, AOT_VERSION};
use crate::loader::{self, GuestImage, Segment};
use crate::{dispatch, elfload, interp, jit, log, memory, stubs, syscall};
use std::ffi::CStr;

/// Run a guest program: `static_blocks` are the static pass's blocks
/// (empty for `rehost run`).
pub fn run(
    img: &GuestImage,
    exe_path: &str,
    args: &[Vec<u8>],
    envs: &[Vec<u8>],
    static_blocks: &[jit::StaticBlock],
) -> ! {
    log::init_from_env();
    if let Err(e) = memory::reserve_guest_space() {
        crate::fatal(&e);
    }
    crate::thread::own_process();
    // Before the runtime installs its own handlers: what the guest
    // inherits (SIG_IGN dispositions, the mask across a guest execve).
    syscall::signal::inherit_dispositions();
    if let Err(e) = loader::map_image(img) {
        crate::fatal(&format!("cannot map the guest image: {e}"));
    }
    interp::set_sysroot(None);
    let (entry, base) = match interp::load_for(img) {
        Ok(Some(i)) => (i.entry, i.base),
        Ok(None) => (img.entry, 0),
        Err(e) => crate::fatal(&e),
    };
    let esp = match loader::build_stack(img, base, exe_path, args, envs) {
        Ok(esp) => esp,
        Err(e) => crate::fatal(&format!("cannot build the guest stack: {e}")),
    };
    syscall::set_guest_exe(exe_path);
    let l1 = dispatch::init_map();
    jit::init(static_blocks);
    stubs::init_fpu_mode();
    let ctx = Box::leak(Context::new());
    crate::signal::set_context(ctx);
    // Read the initial guest mask now: read later, inside a host handler,
    // it would include the signal being handled.
    let _ = crate::syscall::signal::guest_sigmask();
    ctx.map_l1 = l1;
    ctx.stub_call = stubs::stub_call_addr();
    ctx.stub_miss = stubs::stub_miss_addr();
    ctx.set_reg(crate::abi::reg::ESP, esp);
    let host = jit::host_code_for(entry);
    // SAFETY: ctx is leaked (lives forever) and fully set up; `host` is
    // translated code for the guest entry point (the program interpreter's
    // for a dynamically linked guest).
    unsafe { stubs::enter(ctx, host) }
}

/// For `rehost run`: Rust's runtime set SIGPIPE to SIG_IGN before `main`,
/// which the guest would inherit as its own; it gets the default, as a
/// program started by a shell does. (What the parent had is lost; a guest
/// execve carries its own state over, `exec::ENV_EXEC_SIGNALS`.)
pub fn undo_rust_sigpipe() {
    // SAFETY: restores the default action of a signal the runtime does
    // not use.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// Entry from a translated executable's `main` (emitted by the translator).
///
/// # Safety
/// `argv`/`envp` are the C runtime's; `desc` points to the descriptor the
/// translator emitted, whose pointers are valid for the process lifetime.
#[no_mangle]
pub unsafe extern "C" fn rehost_aot_main(
    argc: i32,
    argv: *const *const i8,
    envp: *const *const i8,
    desc: *const AotDescriptor,
) -> i32 {
    run_exec_request(argc, argv, envp);
    let d = &*desc;
    if d.magic != AOT_MAGIC || d.version != AOT_VERSION {
        crate::fatal("translated executable and runtime disagree on the descriptor format");
    }
    let raw: &[RawSegment] = std::slice::from_raw_parts(d.segments, d.nseg as usize);
    let image = std::slice::from_raw_parts(d.image, d.image_len as usize);
    let segments = raw
        .iter()
        .map(|s| Segment {
            vaddr: s.vaddr,
            memsz: s.memsz,
            flags: s.flags,
            data: &image[s.offset as usize..s.offset as usize + s.filesz as usize],
        })
        .collect();
    let img = GuestImage {
        entry: d.entry,
        phdr: d.phdr,
        phnum: d.phnum,
        segments,
        brk: d.brk,
    };
    let blocks: Vec<jit::StaticBlock> = std::slice::from_raw_parts(d.blocks, d.nblocks as usize)
        .iter()
        .map(|&[guest, off, guest_len]| jit::StaticBlock {
            guest,
            host: d.text as u64 + off as u64,
            guest_len,
        })
        .collect();
    crate::stats::set_static_flags(d.executed, d.nblocks as usize);
    jit::set_static_code(d.text as u64, d.text_len, !d.executed.is_null(), &blocks);
    jit::set_static_ic(d.ic_records as usize, d.nic as usize);
    let mut args = Vec::with_capacity(argc as usize);
    for k in 0..argc as usize {
        args.push(CStr::from_ptr(*argv.add(k)).to_bytes().to_vec());
    }
    let mut envs = Vec::new();
    let mut e = envp;
    while !(*e).is_null() {
        envs.push(CStr::from_ptr(*e).to_bytes().to_vec());
        e = e.add(1);
    }
    // A guest's execve of this very executable runs it afresh, with the
    // guest's signal state to carry over.
    if let Some((ign, mask)) = syscall::exec::take_signals(&mut envs) {
        syscall::signal::set_exec_state(ign, mask);
    }
    let exe = std::fs::read_link("/proc/self/exe")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    run(&img, &exe, &args, &envs, &blocks)
}

/// If a guest's execve started this process to run an i386 program
/// (`syscall::exec`'s request in the environment), run it with run-time
/// translation only, instead of anything the executable embeds; return
/// otherwise.
///
/// # Safety
/// `argv` holds `argc` C strings and `envp` is a NULL-terminated array of
/// C strings (the C runtime's).
pub unsafe fn run_exec_request(
    argc: i32,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) {
    let mut envs = Vec::new();
    let mut e = envp;
    while !e.is_null() && !(*e).is_null() {
        envs.push(CStr::from_ptr(*e).to_bytes().to_vec());
        e = e.add(1);
    }
    let Some(req) = syscall::exec::take_request(&mut envs) else {
        return;
    };
    let args: Vec<Vec<u8>> = (0..argc.max(0) as usize)
        .map(|k| CStr::from_ptr(*argv.add(k)).to_bytes().to_vec())
        .collect();
    log::init_from_env();
    if let Err(e) = memory::reserve_guest_space() {
        crate::fatal(&e);
    }
    if let Some((ign, mask)) = req.signals {
        syscall::signal::set_exec_state(ign, mask);
    }
    if let Some(root) = req.sysroot {
        use std::os::unix::ffi::OsStringExt;
        interp::set_sysroot(Some(std::ffi::OsString::from_vec(root).into()));
    }
    let path = String::from_utf8_lossy(&req.path).into_owned();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| crate::fatal(&format!("{path}: {e}")));
    let file = elfload::parse(&bytes).unwrap_or_else(|e| crate::fatal(&format!("{path}: {e}")));
    let img = file
        .image(file.main_bias())
        .unwrap_or_else(|e| crate::fatal(&format!("{path}: {e}")));
    run(&img, &path, &args, &envs, &[])
}

/// [`run_exec_request`] with this process's own arguments and environment
/// (for the `rehost` command, whose `main` is Rust's).
pub fn run_exec_request_from_env() {
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    use std::os::unix::ffi::OsStrExt;
    let args: Vec<std::ffi::CString> = std::env::args_os()
        .filter_map(|a| std::ffi::CString::new(a.as_bytes()).ok())
        .collect();
    let ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    // SAFETY: `ptrs` holds args.len() live C strings; `environ` is the C
    // runtime's NULL-terminated environment.
    unsafe { run_exec_request(ptrs.len() as i32, ptrs.as_ptr(), environ) }
}
