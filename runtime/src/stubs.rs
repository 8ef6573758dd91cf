//! The hand-written code between translated guest code and the host: entering
//! the guest, and the two exits (runtime call, map miss) of abi.rs.
//!
//! Invariants kept here (DESIGN.md, "Entering host code from guest code"):
//! host code runs only on the host stack saved in `Context::host_rsp`
//! (16-byte aligned), with DF clear, default MXCSR and x87 control word, and
//! the guest x87/MMX/SSE/AVX state saved by `xsave64` (or `fxsave64` on a
//! CPU without XSAVE; host code clobbers xmm/ymm 0-15); everything is
//! restored before guest code resumes. Guest EFLAGS
//! are saved before any flag-changing instruction runs and restored last.

use crate::abi::*;
use std::arch::global_asm;

global_asm!(
    ".globl rehost_enter",
    ".type rehost_enter,@function",
    // rehost_enter(ctx: *mut Context /*rdi*/, host_code: u64 /*rsi*/) -> !
    "rehost_enter:",
    "and rsp, -16",
    "mov [rdi + {host_rsp}], rsp",
    "mov r15, rdi",
    "mov [r15 + {resume}], rsi",
    "jmp 2f",
    "",
    ".globl rehost_stub_miss",
    ".type rehost_stub_miss,@function",
    // r11d = guest target. No flag may change before pushfq below.
    "rehost_stub_miss:",
    "mov r9d, r11d",
    "mov r10d, 0",
    "",
    ".globl rehost_stub_call",
    ".type rehost_stub_call,@function",
    // r9d = guest eip, r10 = reason | arg << 8, r11 = resume address.
    "rehost_stub_call:",
    "mov [r15 + {gpr} + 0*8], rax",
    "mov [r15 + {gpr} + 1*8], rcx",
    "mov [r15 + {gpr} + 2*8], rdx",
    "mov [r15 + {gpr} + 3*8], rbx",
    "mov [r15 + {gpr} + 4*8], rsp",
    "mov [r15 + {gpr} + 5*8], rbp",
    "mov [r15 + {gpr} + 6*8], rsi",
    "mov [r15 + {gpr} + 7*8], rdi",
    "mov [r15 + {eip}], r9",
    "mov [r15 + {reason}], r10",
    "mov [r15 + {resume}], r11",
    "mov rsp, [r15 + {host_rsp}]",
    "pushfq",
    "pop qword ptr [r15 + {eflags}]",
    // Host code runs with DF and AC clear (a guest AC would make every
    // unaligned access of the runtime raise #AC).
    "pushfq",
    "and dword ptr [rsp], ~0x40000",
    "popfq",
    "cld",
    "cmp byte ptr [rip + {fpu_mode}], 0",
    "je 3f",
    "mov eax, -1",
    "mov edx, -1",
    "xsave64 [r15 + {fpu}]",
    "cmp byte ptr [rip + {fpu_mode}], 2",
    "jne 4f",
    "vzeroupper",
    "jmp 4f",
    "3:",
    "fxsave64 [r15 + {fpu}]",
    "4:",
    "fninit",
    "ldmxcsr [r15 + {host_mxcsr}]",
    "mov rdi, r15",
    "call {runtime_call}",
    "mov [r15 + {resume}], rax",
    // Restore the guest and jump to Context::resume.
    "2:",
    "cmp byte ptr [rip + {fpu_mode}], 0",
    "je 5f",
    "mov eax, -1",
    "mov edx, -1",
    "xrstor64 [r15 + {fpu}]",
    "jmp 6f",
    "5:",
    "fxrstor64 [r15 + {fpu}]",
    "6:",
    "push qword ptr [r15 + {eflags}]",
    "popfq",
    // From here to the jump into guest code a queued signal cannot be
    // noticed by the runtime any more: the host handlers single-step this
    // tail into translated code (`in_enter_tail`).
    ".globl rehost_enter_tail",
    "rehost_enter_tail:",
    "mov r12, [r15 + {gs_base}]",
    "mov r13, [r15 + {fs_base}]",
    "mov r14, [r15 + {map_l1}]",
    "mov rax, [r15 + {gpr} + 0*8]",
    "mov rcx, [r15 + {gpr} + 1*8]",
    "mov rdx, [r15 + {gpr} + 2*8]",
    "mov rbx, [r15 + {gpr} + 3*8]",
    "mov rsp, [r15 + {gpr} + 4*8]",
    "mov rbp, [r15 + {gpr} + 5*8]",
    "mov rsi, [r15 + {gpr} + 6*8]",
    "mov rdi, [r15 + {gpr} + 7*8]",
    "jmp qword ptr [r15 + {resume}]",
    ".globl rehost_enter_tail_end",
    "rehost_enter_tail_end:",
    gpr = const CTX_GPR,
    eflags = const CTX_EFLAGS,
    eip = const CTX_EIP,
    host_rsp = const CTX_HOST_RSP,
    resume = const CTX_RESUME,
    reason = const CTX_REASON,
    gs_base = const CTX_GS_BASE,
    fs_base = const CTX_FS_BASE,
    map_l1 = const CTX_MAP_L1,
    fpu = const CTX_FPU,
    fpu_mode = sym REHOST_FPU_MODE,
    host_mxcsr = const CTX_HOST_MXCSR,
    runtime_call = sym crate::dispatch::rehost_runtime_call,
);

/// How the stubs save the guest FPU state: 0 = FXSAVE64, 1 = XSAVE,
/// 2 = XSAVE then VZEROUPPER (AVX: host code then runs without dirty upper
/// halves). Written once by `init_fpu_mode` before any guest code runs.
#[no_mangle]
static mut REHOST_FPU_MODE: u8 = 0;

/// Choose the FPU save mode from CPUID (OSXSAVE, the XSAVE area size of
/// the enabled components, AVX).
pub fn init_fpu_mode() {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    let leaf1 = __cpuid(1);
    let osxsave = leaf1.ecx & (1 << 27) != 0;
    let avx = leaf1.ecx & (1 << 28) != 0;
    let mode = if osxsave && (__cpuid_count(0xd, 0).ebx as usize) <= FPU_AREA {
        if avx {
            2
        } else {
            1
        }
    } else {
        0
    };
    // SAFETY: written once at start-up, before any guest thread runs the
    // stubs that read it.
    unsafe { std::ptr::addr_of_mut!(REHOST_FPU_MODE).write(mode) };
    crate::signal::init_fpstate(mode != 0);
}

extern "C" {
    fn rehost_enter(ctx: *mut Context, host_code: u64) -> !;
    fn rehost_stub_miss();
    fn rehost_stub_call();
    fn rehost_enter_tail();
    fn rehost_enter_tail_end();
}

/// Address of the map-miss stub (the default entry of every map slot).
/// Is `rip` in the last instructions of the way into guest code (guest
/// registers being loaded, after the runtime's last look at its queue)?
pub fn in_enter_tail(rip: u64) -> bool {
    let start = rehost_enter_tail as *const () as u64;
    let end = rehost_enter_tail_end as *const () as u64;
    (start..end).contains(&rip)
}

pub fn stub_miss_addr() -> u64 {
    rehost_stub_miss as *const () as u64
}

/// Address of the runtime-call stub.
pub fn stub_call_addr() -> u64 {
    rehost_stub_call as *const () as u64
}

/// Start running guest code at `host_code` with the state in `ctx`.
///
/// # Safety
/// `ctx` must be a fully initialised context that lives for the rest of the
/// thread (it is never freed), with `map_l1`, `stub_call` and `stub_miss`
/// set; `host_code` must be translated code. Never returns: guest code ends
/// the process or thread through a system call.
pub unsafe fn enter(ctx: *mut Context, host_code: u64) -> ! {
    rehost_enter(ctx, host_code)
}
