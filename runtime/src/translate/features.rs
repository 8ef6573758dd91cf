//! CPU features: which ones rehost translates, and where CPUID advertises
//! each. One table drives three things that must agree:
//!
//! - the lowering raises SIGILL at any instruction that needs a feature
//!   rehost does not translate (`code_translated`);
//! - the guest's CPUID is the host's answer with the bit of every such
//!   feature cleared (`guest_cpuid`), so a guest that asks never sees one;
//! - the fuzzer's coverage table calls exactly those codes `unsupported`,
//!   together with the few codes SIGILL'd by design (`sigill_by_design`).
//!
//! Invariant: a feature is `translated` only when every instruction that
//! needs it is lowered correctly (copied or rewritten) and the fuzzer
//! verifies it against the CPU.

use iced_x86::{Code, CpuidFeature};

/// A CPUID output register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    Eax = 0,
    Ebx = 1,
    Ecx = 2,
    Edx = 3,
}

/// Where CPUID advertises a feature: leaf, subleaf, register, bit.
#[derive(Clone, Copy, Debug)]
pub struct Bit {
    pub leaf: u32,
    pub sub: u32,
    pub reg: Reg,
    pub bit: u8,
}

const fn b(leaf: u32, sub: u32, reg: Reg, bit: u8) -> Bit {
    Bit {
        leaf,
        sub,
        reg,
        bit,
    }
}

use CpuidFeature as F;
use Reg::*;

/// Every CPUID bit rehost knows a feature by (features without one, such
/// as INTEL386, are always present).
pub const BITS: &[(CpuidFeature, Bit)] = &[
    (F::FPU, b(1, 0, Edx, 0)),
    (F::TSC, b(1, 0, Edx, 4)),
    (F::CX8, b(1, 0, Edx, 8)),
    (F::SEP, b(1, 0, Edx, 11)),
    (F::CMOV, b(1, 0, Edx, 15)),
    (F::CLFSH, b(1, 0, Edx, 19)),
    (F::MMX, b(1, 0, Edx, 23)),
    (F::FXSR, b(1, 0, Edx, 24)),
    (F::SSE, b(1, 0, Edx, 25)),
    (F::SSE2, b(1, 0, Edx, 26)),
    (F::SSE3, b(1, 0, Ecx, 0)),
    (F::PCLMULQDQ, b(1, 0, Ecx, 1)),
    (F::MONITOR, b(1, 0, Ecx, 3)),
    (F::SSSE3, b(1, 0, Ecx, 9)),
    (F::FMA, b(1, 0, Ecx, 12)),
    (F::CMPXCHG16B, b(1, 0, Ecx, 13)),
    (F::SSE4_1, b(1, 0, Ecx, 19)),
    (F::SSE4_2, b(1, 0, Ecx, 20)),
    (F::MOVBE, b(1, 0, Ecx, 22)),
    (F::POPCNT, b(1, 0, Ecx, 23)),
    (F::AES, b(1, 0, Ecx, 25)),
    (F::XSAVE, b(1, 0, Ecx, 26)),
    (F::AVX, b(1, 0, Ecx, 28)),
    (F::F16C, b(1, 0, Ecx, 29)),
    (F::RDRAND, b(1, 0, Ecx, 30)),
    (F::FSGSBASE, b(7, 0, Ebx, 0)),
    (F::SGX1, b(7, 0, Ebx, 2)),
    (F::BMI1, b(7, 0, Ebx, 3)),
    (F::HLE, b(7, 0, Ebx, 4)),
    (F::AVX2, b(7, 0, Ebx, 5)),
    (F::BMI2, b(7, 0, Ebx, 8)),
    (F::RTM, b(7, 0, Ebx, 11)),
    (F::MPX, b(7, 0, Ebx, 14)),
    (F::AVX512F, b(7, 0, Ebx, 16)),
    (F::AVX512DQ, b(7, 0, Ebx, 17)),
    (F::RDSEED, b(7, 0, Ebx, 18)),
    (F::ADX, b(7, 0, Ebx, 19)),
    (F::AVX512_IFMA, b(7, 0, Ebx, 21)),
    (F::CLFLUSHOPT, b(7, 0, Ebx, 23)),
    (F::CLWB, b(7, 0, Ebx, 24)),
    (F::AVX512PF, b(7, 0, Ebx, 26)),
    (F::AVX512ER, b(7, 0, Ebx, 27)),
    (F::AVX512CD, b(7, 0, Ebx, 28)),
    (F::SHA, b(7, 0, Ebx, 29)),
    (F::AVX512BW, b(7, 0, Ebx, 30)),
    (F::AVX512VL, b(7, 0, Ebx, 31)),
    (F::PREFETCHWT1, b(7, 0, Ecx, 0)),
    (F::AVX512_VBMI, b(7, 0, Ecx, 1)),
    (F::PKU, b(7, 0, Ecx, 3)),
    (F::WAITPKG, b(7, 0, Ecx, 5)),
    (F::AVX512_VBMI2, b(7, 0, Ecx, 6)),
    (F::CET_SS, b(7, 0, Ecx, 7)),
    (F::GFNI, b(7, 0, Ecx, 8)),
    (F::VAES, b(7, 0, Ecx, 9)),
    (F::VPCLMULQDQ, b(7, 0, Ecx, 10)),
    (F::AVX512_VNNI, b(7, 0, Ecx, 11)),
    (F::AVX512_BITALG, b(7, 0, Ecx, 12)),
    (F::AVX512_VPOPCNTDQ, b(7, 0, Ecx, 14)),
    (F::RDPID, b(7, 0, Ecx, 22)),
    (F::KL, b(7, 0, Ecx, 23)),
    (F::CLDEMOTE, b(7, 0, Ecx, 25)),
    (F::MOVDIRI, b(7, 0, Ecx, 27)),
    (F::MOVDIR64B, b(7, 0, Ecx, 28)),
    (F::ENQCMD, b(7, 0, Ecx, 29)),
    (F::AVX512_4VNNIW, b(7, 0, Edx, 2)),
    (F::AVX512_4FMAPS, b(7, 0, Edx, 3)),
    (F::UINTR, b(7, 0, Edx, 5)),
    (F::AVX512_VP2INTERSECT, b(7, 0, Edx, 8)),
    (F::SERIALIZE, b(7, 0, Edx, 14)),
    (F::TSXLDTRK, b(7, 0, Edx, 16)),
    (F::CET_IBT, b(7, 0, Edx, 20)),
    (F::AMX_BF16, b(7, 0, Edx, 22)),
    (F::AVX512_FP16, b(7, 0, Edx, 23)),
    (F::AMX_TILE, b(7, 0, Edx, 24)),
    (F::AMX_INT8, b(7, 0, Edx, 25)),
    (F::AVX_VNNI, b(7, 1, Eax, 4)),
    (F::AVX512_BF16, b(7, 1, Eax, 5)),
    (F::HRESET, b(7, 1, Eax, 22)),
    (F::AVX_IFMA, b(7, 1, Eax, 23)),
    (F::XSAVEOPT, b(0xd, 1, Eax, 0)),
    (F::XSAVEC, b(0xd, 1, Eax, 1)),
    (F::XSAVES, b(0xd, 1, Eax, 3)),
    (F::LZCNT, b(0x8000_0001, 0, Ecx, 5)),
    (F::SSE4A, b(0x8000_0001, 0, Ecx, 6)),
    (F::PREFETCHW, b(0x8000_0001, 0, Ecx, 8)),
    (F::XOP, b(0x8000_0001, 0, Ecx, 11)),
    (F::FMA4, b(0x8000_0001, 0, Ecx, 16)),
    (F::TBM, b(0x8000_0001, 0, Ecx, 21)),
    (F::MONITORX, b(0x8000_0001, 0, Ecx, 29)),
    (F::SYSCALL, b(0x8000_0001, 0, Edx, 11)),
    (F::RDTSCP, b(0x8000_0001, 0, Edx, 27)),
    (F::D3NOWEXT, b(0x8000_0001, 0, Edx, 30)),
    (F::D3NOW, b(0x8000_0001, 0, Edx, 31)),
    (F::CLZERO, b(0x8000_0008, 0, Ebx, 0)),
    (F::RDPRU, b(0x8000_0008, 0, Ebx, 4)),
    (F::MCOMMIT, b(0x8000_0008, 0, Ebx, 8)),
];

/// Does rehost translate the instructions of `f`?
///
/// Not translated, with the reason: AVX-512 and its mask registers, AMX,
/// Key Locker (state the guest's 32-bit view cannot express in
/// rehost's lowering, and no i386 distribution builds for them); TSX,
/// MPX, CET, SGX, PKU (transactions, bound and shadow-stack registers,
/// enclaves, protection keys: machine state rehost does not model);
/// SYSCALL/SYSENTER (the i386 Linux ABI is int 0x80 and the vDSO);
/// XSAVEOPT/XSAVEC (what they write depends on the CPU's tracking of
/// modified and in-use state, which differs between the guest's 32-bit
/// view and the host's 64-bit one; guests fall back to plain XSAVE);
/// MONITOR/MWAIT/UMWAIT, CLZERO, RDPRU, MOVDIR*, ENQCMD, SERIALIZE,
/// HRESET, UINTR and other system or device features; XOP, FMA4, TBM,
/// 3DNow!, VIA PadLock and Cyrix (other vendors' CPUs).
pub fn translated(f: CpuidFeature) -> bool {
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
            | F::TSC
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
            | F::XSAVE
            | F::RDRAND
            | F::RDSEED
            | F::RDTSCP
            | F::RDPID
    )
}

/// Does rehost translate `code`? Yes when it translates every feature the
/// code needs, and always for the hint-NOP space (0F 18..0F 1F: cldemote,
/// endbr32, rdsspd, ...): CPUs without the feature execute those as NOPs,
/// and so does the host, because rehost never enables CET or the like.
pub fn code_translated(code: Code) -> bool {
    nop_space(code) || code.cpuid_features().iter().all(|&f| translated(f))
}

/// Is `code` in the hint-NOP space (0F 18..0F 1F)?
pub fn nop_space(code: Code) -> bool {
    let oc = code.op_code();
    // Codes with a fixed ModRM byte (endbr32 is F3 0F 1E FB) carry it in
    // the low byte of a 2-byte op_code.
    let op = if oc.op_code_len() == 2 {
        oc.op_code() >> 8
    } else {
        oc.op_code()
    };
    oc.table() == iced_x86::OpCodeTableKind::T0F
        && oc.encoding() == iced_x86::EncodingKind::Legacy
        && (0x18..=0x1f).contains(&op)
}

/// Codes rehost answers with SIGILL although their CPUID features are
/// translated: control transfers a flat 32-bit Linux program never makes.
pub fn sigill_by_design(code: Code) -> Option<&'static str> {
    use iced_x86::{FlowControl, Mnemonic as M, OpCodeOperandKind as K};
    let oc = code.op_code();
    if code.flow_control() != FlowControl::Next {
        let k = oc.op0_kind();
        if oc.operand_size() == 16 || matches!(k, K::br16_1 | K::br16_2) {
            return Some(
                "16-bit operand-size control transfer (EIP truncated below 64 KiB, \
                 which Linux never maps): SIGILL by design",
            );
        }
        if matches!(k, K::farbr2_2 | K::farbr4_2)
            || matches!(code.mnemonic(), M::Retf | M::Iret | M::Iretd)
            || matches!(code, Code::Call_m1632 | Code::Jmp_m1632)
        {
            return Some("far control transfer (flat code never changes CS): SIGILL by design");
        }
    }
    Some(match code.mnemonic() {
        M::Arpl => "arpl (adjusts a selector's privilege level): SIGILL by design",
        M::Sldt | M::Str | M::Smsw | M::Sgdt | M::Sidt | M::Lar | M::Lsl | M::Verr | M::Verw => {
            "descriptor-table query (kernel state; UMIP-protected): SIGILL by design"
        }
        _ => return None,
    })
}

/// The CPUID answer the guest sees for `leaf`/`sub`, given the host's
/// answer `host` (eax, ebx, ecx, edx): every bit of a feature rehost does
/// not translate is cleared.
///
/// Leaf 0xd keeps the host's XSAVE sizes and components: the host's XCR0
/// still enables the AVX-512 state, and the guest's `xsave` (copied) saves
/// it, so the sizes must stay the ones the CPU writes.
pub fn guest_cpuid(leaf: u32, sub: u32, host: [u32; 4]) -> [u32; 4] {
    let mut r = host;
    for (f, bit) in BITS {
        // Leaves 7 and 0xd are indexed by subleaf; the others ignore it.
        let sub_matters = matches!(bit.leaf, 7 | 0xd);
        if bit.leaf == leaf && (!sub_matters || bit.sub == sub) && !translated(*f) {
            r[bit.reg as usize] &= !(1u32 << bit.bit);
        }
    }
    if leaf == 7 && sub == 0 && !translated(F::PKU) {
        r[Ecx as usize] &= !(1 << 4); // OSPKE: rdpkru/wrpkru enabled
    }
    r
}

/// The host's CPUID.
pub fn host_cpuid(leaf: u32, sub: u32) -> [u32; 4] {
    // cpuid is available on every x86-64 CPU.
    let r = std::arch::x86_64::__cpuid_count(leaf, sub);
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// Is `f` advertised by this host's CPUID? Features without a bit in
/// `BITS` answer true when they are baseline (8086..486, FPU) and false
/// otherwise.
pub fn host_has(f: CpuidFeature) -> bool {
    match BITS.iter().find(|(g, _)| *g == f) {
        Some((_, bit)) => {
            let max = host_cpuid(bit.leaf & 0x8000_0000, 0)[0];
            bit.leaf <= max && host_cpuid(bit.leaf, bit.sub)[bit.reg as usize] >> bit.bit & 1 != 0
        }
        None => matches!(
            f,
            F::INTEL8086
                | F::INTEL186
                | F::INTEL286
                | F::INTEL386
                | F::INTEL486
                | F::FPU287
                | F::FPU387
                | F::MULTIBYTENOP
                | F::PAUSE
                | F::CPUID
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avx512_is_hidden_and_sse2_is_kept() {
        let host = [!0u32; 4];
        let l7 = guest_cpuid(7, 0, host);
        assert_eq!(l7[1] >> 16 & 1, 0, "AVX512F advertised");
        assert_eq!(l7[1] >> 5 & 1, 1, "AVX2 hidden");
        let l1 = guest_cpuid(1, 0, host);
        assert_eq!(l1[3] >> 26 & 1, 1, "SSE2 hidden");
        assert_eq!(l1[3] >> 11 & 1, 0, "SYSENTER advertised");
        let e1 = guest_cpuid(0x8000_0001, 0, host);
        assert_eq!(e1[3] >> 11 & 1, 0, "SYSCALL advertised");
        assert_eq!(e1[2] >> 11 & 1, 0, "XOP advertised");
    }

    #[test]
    fn every_untranslated_feature_with_a_bit_is_cleared() {
        for (f, bit) in BITS {
            let r = guest_cpuid(bit.leaf, bit.sub, [!0u32; 4]);
            let on = r[bit.reg as usize] >> bit.bit & 1 != 0;
            assert_eq!(on, translated(*f), "{f:?}");
        }
    }

    #[test]
    fn evex_codes_are_not_translated() {
        assert!(!code_translated(
            Code::EVEX_Vaddps_zmm_k1z_zmm_zmmm512b32_er
        ));
        assert!(!code_translated(Code::VEX_Kandw_kr_kr_kr));
        assert!(code_translated(Code::VEX_Vaddps_ymm_ymm_ymmm256));
        assert!(code_translated(Code::Add_rm32_r32));
        // Hint NOPs that CET-enabled distributions put everywhere.
        assert!(code_translated(Code::Endbr32));
        assert!(code_translated(Code::Rdsspd_r32));
    }
}
