//! The hand-written code between translated guest code and the host: entering
//! the guest, and the two exits (runtime call, map miss) of abi.rs.
//!
//! Invariants kept here (DESIGN.md, "Entering host code from guest code"):
//! host code runs only on the host stack saved in `Context::host_rsp`
//! (16-byte aligned), with DF clear, default MXCSR and x87 control word, and
//! the guest x87/MMX/SSE state saved by `fxsave64` (host code clobbers
//! xmm0-15); everything is restored before guest code resumes. Guest EFLAGS
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
    "cld",
    "fxsave64 [r15 + {fxsave}]",
    "fninit",
    "ldmxcsr [r15 + {host_mxcsr}]",
    "mov rdi, r15",
    "call {runtime_call}",
    "mov [r15 + {resume}], rax",
    // Restore the guest and jump to Context::resume.
    "2:",
    "fxrstor64 [r15 + {fxsave}]",
    "push qword ptr [r15 + {eflags}]",
    "popfq",
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
    gpr = const CTX_GPR,
    eflags = const CTX_EFLAGS,
    eip = const CTX_EIP,
    host_rsp = const CTX_HOST_RSP,
    resume = const CTX_RESUME,
    reason = const CTX_REASON,
    gs_base = const CTX_GS_BASE,
    fs_base = const CTX_FS_BASE,
    map_l1 = const CTX_MAP_L1,
    fxsave = const CTX_FXSAVE,
    host_mxcsr = const CTX_HOST_MXCSR,
    runtime_call = sym crate::dispatch::rehost_runtime_call,
);

extern "C" {
    fn rehost_enter(ctx: *mut Context, host_code: u64) -> !;
    fn rehost_stub_miss();
    fn rehost_stub_call();
}

/// Address of the map-miss stub (the default entry of every map slot).
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
