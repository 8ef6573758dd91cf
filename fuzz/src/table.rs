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

/// Whether the fuzzer generates a `Code`, and why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Generate,
    /// Generated only as the faulting last item of a case (`fault`).
    Fault,
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
    if oc.decoder_option() != 0 {
        return Class::NotFuzzed("decoded only with a non-default decoder option (other CPUs)");
    }
    match oc.encoding() {
        EncodingKind::EVEX => return Class::NotFuzzed("EVEX (AVX-512) not yet fuzzed"),
        EncodingKind::Legacy | EncodingKind::VEX => {}
        _ => {
            if !code.cpuid_features().iter().all(|&f| host_has(f)) {
                return Class::NotFuzzed("host CPU lacks the feature");
            }
            return Class::NotFuzzed("XOP/3DNow! not yet fuzzed");
        }
    }
    for &f in code.cpuid_features() {
        if !host_has(f) {
            return Class::NotFuzzed("host CPU lacks the feature");
        }
        if !known_feature(f) {
            return Class::NotFuzzed("CPUID feature not in the fuzzed set");
        }
    }
    if oc.fwait() {
        return Class::NotFuzzed(
            "fwait + the no-wait form: decoded as two instructions, both fuzzed",
        );
    }
    if crate::fault::is_fault_code(code) {
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
        M::Rdtsc | M::Rdtscp | M::Rdpmc | M::Rdrand | M::Rdseed | M::Rdpid | M::Rdpru => {
            "non-deterministic result"
        }
        M::Xgetbv | M::Rdpkru | M::Wrpkru => "reads host configuration",
        M::Sldt | M::Str | M::Smsw | M::Sgdt | M::Sidt | M::Lar | M::Lsl | M::Verr | M::Verw => {
            "descriptor-table query (answer differs by design)"
        }
        M::Lds | M::Les | M::Lfs | M::Lgs | M::Lss => "far pointer load (segment load)",
        M::Xsave | M::Xsave64 | M::Xsaveopt | M::Xsaveopt64 | M::Xsavec | M::Xsavec64 => {
            "XSAVE area (host format) not yet fuzzed"
        }
        M::Xsaves | M::Xsaves64 | M::Xrstor | M::Xrstor64 | M::Xrstors | M::Xrstors64 => {
            "XSAVE area (host format) not yet fuzzed"
        }
        M::Fxrstor | M::Fxrstor64 | M::Fxsave64 => {
            "loads or stores a whole fxsave area: not yet fuzzed"
        }
        M::Frstor | M::Fldenv => "loads an x87 environment: not yet fuzzed",
        M::Monitor | M::Mwait | M::Monitorx | M::Mwaitx | M::Clzero => {
            "address in eax or waits: not yet fuzzed"
        }
        M::Arpl => "SIGILL by design in rehost (arpl)",
        M::Enqcmd | M::Enqcmds | M::Movdir64b | M::Movdiri => "host CPU lacks the feature",
        M::Cmpxchg16b => "64-bit only",
        M::Reservednop if format!("{code:?}").ends_with("0F0D") => {
            "0F 0D is the PREFETCH group on AMD (#UD with registers)"
        }
        _ => return None,
    })
}

/// Features whose instructions the generator may produce.
fn known_feature(f: CpuidFeature) -> bool {
    use CpuidFeature as F;
    matches!(
        f,
        F::INTEL8086
            | F::INTEL186
            | F::INTEL286
            | F::INTEL386
            | F::INTEL486
            | F::FPU
            | F::FPU287
            | F::FPU387
            | F::CMOV
            | F::CX8
            | F::MMX
            | F::SSE
            | F::SSE2
            | F::SSE3
            | F::SSSE3
            | F::SSE4_1
            | F::SSE4_2
            | F::SSE4A
            | F::POPCNT
            | F::LZCNT
            | F::BMI1
            | F::BMI2
            | F::ADX
            | F::AES
            | F::PCLMULQDQ
            | F::AVX
            | F::AVX2
            | F::FMA
            | F::F16C
            | F::MOVBE
            | F::MULTIBYTENOP
            | F::PAUSE
            | F::CLFSH
            | F::CLFLUSHOPT
            | F::CLWB
            | F::PREFETCHW
            | F::SHA
            | F::GFNI
            | F::VAES
            | F::VPCLMULQDQ
            | F::AVX_VNNI
            | F::CPUID
            | F::FXSR
    )
}

fn cpuid(leaf: u32, sub: u32) -> [u32; 4] {
    let r = std::arch::x86_64::__cpuid_count(leaf, sub);
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// Does this host CPU have `f`? Unknown features answer false.
pub fn host_has(f: CpuidFeature) -> bool {
    use CpuidFeature as F;
    macro_rules! det {
        ($t:tt) => {
            std::arch::is_x86_feature_detected!($t)
        };
    }
    match f {
        F::INTEL8086 | F::INTEL186 | F::INTEL286 | F::INTEL386 | F::INTEL486 => true,
        F::FPU | F::FPU287 | F::FPU387 | F::CMOV | F::CX8 | F::MULTIBYTENOP | F::PAUSE => true,
        F::CLFSH | F::CPUID => true,
        F::FXSR => det!("fxsr"),
        F::MMX => det!("mmx"),
        F::SSE => det!("sse"),
        F::SSE2 => det!("sse2"),
        F::SSE3 => det!("sse3"),
        F::SSSE3 => det!("ssse3"),
        F::SSE4_1 => det!("sse4.1"),
        F::SSE4_2 => det!("sse4.2"),
        F::SSE4A => det!("sse4a"),
        F::POPCNT => det!("popcnt"),
        F::LZCNT => det!("lzcnt"),
        F::BMI1 => det!("bmi1"),
        F::BMI2 => det!("bmi2"),
        F::ADX => det!("adx"),
        F::AES => det!("aes"),
        F::PCLMULQDQ => det!("pclmulqdq"),
        F::AVX => det!("avx"),
        F::AVX2 => det!("avx2"),
        F::FMA => det!("fma"),
        F::F16C => det!("f16c"),
        F::MOVBE => det!("movbe"),
        F::SHA => det!("sha"),
        F::GFNI => det!("gfni"),
        F::VAES => det!("vaes"),
        F::VPCLMULQDQ => det!("vpclmulqdq"),
        F::AVX_VNNI => det!("avxvnni"),
        F::AVX512F => det!("avx512f"),
        F::AVX512BW => det!("avx512bw"),
        F::AVX512DQ => det!("avx512dq"),
        F::AVX512VL => det!("avx512vl"),
        F::AVX512CD => det!("avx512cd"),
        F::AVX512_IFMA => det!("avx512ifma"),
        F::AVX512_VBMI => det!("avx512vbmi"),
        F::AVX512_VBMI2 => det!("avx512vbmi2"),
        F::AVX512_VNNI => det!("avx512vnni"),
        F::AVX512_BITALG => det!("avx512bitalg"),
        F::AVX512_VPOPCNTDQ => det!("avx512vpopcntdq"),
        F::AVX512_BF16 => det!("avx512bf16"),
        F::AVX512_VP2INTERSECT => det!("avx512vp2intersect"),
        F::AVX512_FP16 => det!("avx512fp16"),
        F::RDRAND => det!("rdrand"),
        F::RDSEED => det!("rdseed"),
        F::XSAVE => det!("xsave"),
        F::XSAVEOPT => det!("xsaveopt"),
        F::XSAVEC => det!("xsavec"),
        F::XSAVES => det!("xsaves"),
        F::RTM => det!("rtm"),
        F::MONITOR => cpuid(1, 0)[2] & (1 << 3) != 0,
        F::MONITORX => cpuid(0x8000_0001, 0)[2] & (1 << 29) != 0,
        F::CLZERO => cpuid(0x8000_0008, 0)[1] & 1 != 0,
        F::RDPID => cpuid(7, 0)[2] & (1 << 22) != 0,
        F::PKU => cpuid(7, 0)[2] & (1 << 3) != 0,
        F::RDTSCP => cpuid(0x8000_0001, 0)[3] & (1 << 27) != 0,
        F::TSC | F::SEP | F::SYSCALL => true,
        F::CLFLUSHOPT => cpuid(7, 0)[1] & (1 << 23) != 0,
        F::CLWB => cpuid(7, 0)[1] & (1 << 24) != 0,
        F::PREFETCHW => cpuid(0x8000_0001, 0)[2] & (1 << 8) != 0,
        F::D3NOW => cpuid(0x8000_0001, 0)[3] & (1 << 31) != 0,
        F::D3NOWEXT => cpuid(0x8000_0001, 0)[3] & (1 << 30) != 0,
        F::XOP => cpuid(0x8000_0001, 0)[2] & (1 << 11) != 0,
        F::TBM => cpuid(0x8000_0001, 0)[2] & (1 << 21) != 0,
        F::FMA4 => cpuid(0x8000_0001, 0)[2] & (1 << 16) != 0,
        _ => false,
    }
}
