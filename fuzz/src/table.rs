//! Which instruction `Code`s exist for i386 user code (the universe the
//! coverage table must account for), and which of them the generator
//! produces, with the reason for every one it does not.
//!
//! The universe is every iced `Code` that is an instruction, valid in 32-bit
//! mode and executable at CPL 3. A `Code` is generated when its CPUID
//! features are on this host, it does not transfer control, all its operand
//! kinds are ones `operands` knows, and it is not excluded below; the
//! exclusion list says why in words, because the coverage table prints it.

use iced_x86::{Code, CpuidFeature, EncodingKind, FlowControl, Mnemonic, OpCodeOperandKind as K};
pub use rehost_runtime::translate::features::host_has;
use rehost_runtime::translate::features::{
    code_translated, nop_space, sigill_by_design, translated,
};

/// Whether the fuzzer generates a `Code`, and why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Generate,
    /// Generated only as the faulting last item of a case (`fault`).
    Fault,
    /// rehost raises SIGILL on purpose, and CPUID does not advertise the
    /// feature (checked by `unsupported`); or another CPU's encoding.
    Unsupported(&'static str),
    NotFuzzed(&'static str),
}

/// Every 32-bit user-mode `Code`, in iced's order.
pub fn universe() -> Vec<Code> {
    Code::values()
        .filter(|&c| {
            let oc = c.op_code();
            oc.is_instruction() && oc.mode32() && oc.cpl3() && oc.encoding() != EncodingKind::MVEX
        })
        .collect()
}

/// The codes faulting cases end with: the fault codes, plus div, idiv,
/// aam and mov for the arithmetic and memory faults.
pub fn faulting() -> Vec<Code> {
    let mut v: Vec<Code> = universe()
        .into_iter()
        .filter(|&c| classify(c) == Class::Fault)
        .collect();
    v.extend_from_slice(crate::fault::ARITH_AND_MEMORY);
    v
}

/// The codes the generator draws from.
pub fn generated() -> Vec<Code> {
    universe()
        .into_iter()
        .filter(|&c| classify(c) == Class::Generate)
        .collect()
}

pub fn classify(code: Code) -> Class {
    let oc = code.op_code();
    if other_cpu(code) {
        return Class::Unsupported(
            "another CPU's encoding (iced decodes it only with a non-default option); rehost decodes these bytes as this CPU does",
        );
    }
    if let Some(why) = sigill_by_design(code) {
        return Class::Unsupported(why);
    }
    if !code_translated(code) {
        return Class::Unsupported(untranslated_reason(code));
    }
    for &f in code.cpuid_features() {
        if !host_has(f) && !nop_space(code) {
            return Class::NotFuzzed("host CPU lacks the feature");
        }
    }
    if oc.fwait() {
        return Class::NotFuzzed(
            "fwait + the no-wait form: decoded as two instructions, each fuzzed (see `coverage`)",
        );
    }
    if crate::fault::is_fault_code(code) {
        return Class::Fault;
    }
    if crate::fault::is_prefetch_group(code) && prefetch_group_faults() {
        return Class::Fault;
    }
    if let Some(why) = excluded(code) {
        return Class::NotFuzzed(why);
    }
    if code.flow_control() != FlowControl::Next && !crate::flow::is_branch(code) {
        let k = oc.op0_kind();
        if oc.operand_size() == 16 || matches!(k, K::br16_1 | K::br16_2) {
            return Class::NotFuzzed("16-bit operand size branch (truncates EIP to 16 bits)");
        }
        return Class::NotFuzzed("control transfer not yet fuzzed");
    }
    if oc.is_input_output() {
        return Class::NotFuzzed("port I/O (IOPL-privileged)");
    }
    for &k in oc.op_kinds() {
        if !crate::operands::supported_kind(k) && !crate::flow::is_branch(code) {
            return Class::NotFuzzed(unsupported_kind_reason(k));
        }
    }
    Class::Generate
}

fn unsupported_kind_reason(k: K) -> &'static str {
    match k {
        K::mem_vsib32x | K::mem_vsib32y | K::mem_vsib64x | K::mem_vsib64y => {
            "VSIB (gather) operands not yet fuzzed"
        }
        K::farbr2_2 | K::farbr4_2 => "far transfer",
        _ => "operand kind not generated yet",
    }
}

/// Codes left out on purpose, with the reason the coverage table shows.
fn excluded(code: Code) -> Option<&'static str> {
    use Mnemonic as M;
    Some(match code.mnemonic() {
        M::Cpuid => "CPUID is answered by rehost, not fuzzed",
        M::Cmpxchg16b => "64-bit only",
        _ => return None,
    })
}

/// The reason an untranslated code is unsupported: its first feature
/// rehost does not translate.
fn untranslated_reason(code: Code) -> &'static str {
    use CpuidFeature as F;
    let f = code
        .cpuid_features()
        .iter()
        .copied()
        .find(|&f| !translated(f))
        .unwrap_or(F::INTEL8086);
    let name = format!("{f:?}");
    if name.starts_with("AVX512") || code.op_code().encoding() == EncodingKind::EVEX {
        "AVX-512 (EVEX, opmask registers): SIGILL, CPUID hides it"
    } else if name.starts_with("AMX") {
        "AMX tiles: SIGILL, CPUID hides it"
    } else if matches!(f, F::D3NOW | F::D3NOWEXT | F::XOP | F::FMA4 | F::TBM) {
        "another vendor's extension (3DNow!, XOP, FMA4, TBM): SIGILL, CPUID hides it"
    } else if name.starts_with("PADLOCK")
        || name.starts_with("CYRIX")
        || name.starts_with("CENTAUR")
    {
        "VIA/Cyrix extension: SIGILL, CPUID hides it"
    } else if matches!(f, F::SYSCALL | F::SEP) {
        "syscall/sysenter (the i386 ABI is int 0x80): SIGILL, CPUID hides it"
    } else {
        "system or device feature rehost does not model (TSX, MPX, CET, PKU, MONITOR, ...): \
         SIGILL, CPUID hides it"
    }
}

/// An encoding only other CPUs have: decoded by iced only with a
/// non-default option, or 8086-only (`pop cs`).
/// Also AMD's `ud0` without a ModRM byte, which iced's default decoder
/// reads as the Intel form (every CPU faults on both anyway).
pub fn other_cpu(code: Code) -> bool {
    code.op_code().decoder_option() != 0
        || code
            .cpuid_features()
            .contains(&CpuidFeature::INTEL8086_ONLY)
        || code == Code::Ud0
}

/// On AMD CPUs 0F 0D with a register operand raises #UD (it is the
/// PREFETCH group there); on Intel CPUs it is a NOP.
pub fn prefetch_group_faults() -> bool {
    let r = std::arch::x86_64::__cpuid(0);
    (r.ebx, r.edx, r.ecx) == (0x6874_7541, 0x6974_6e65, 0x444d_4163) // "AuthenticAMD"
}
