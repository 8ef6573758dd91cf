//! The check behind the `unsupported` state of the coverage table: every
//! code rehost deliberately does not translate (a CPU feature outside
//! `rehost_runtime::translate::features::translated`) must raise SIGILL at
//! its own guest EIP, and the guest's CPUID must not advertise its feature.
//!
//! One i386 program holds one instance of every such code. It first writes
//! the CPUID leaves `LEAVES` as the guest sees them, then runs the
//! instances one after the other; a SIGILL handler (SA_SIGINFO) logs the
//! EIP from the ucontext and resumes at the next instance. The program is
//! only run translated: natively most of these instructions execute. Its
//! image is `program::image`'s, with this layout in the data segment.
//!
//! ```text
//! entry:   rt_sigaction(SIGILL, {handler, SA_SIGINFO|SA_RESTORER, restorer})
//!          cpuid for each of LEAVES -> LOG (4 dwords each)
//!          per instance: mov [RESUME], next; <instance>
//!          write(1, LOG, [COUNT]*4 + cpuid part); exit_group(0)
//! handler: LOG[COUNT++] = uc->eip; uc->eip = [RESUME]; ret
//! ```

use crate::exec::{Mode, Runner};
use crate::layout::{CODE_BASE, DATA_BASE};
use crate::operands::{immediate, register};
use crate::program::{put32, CODE_OFF};
use crate::rng::Rng;
use iced_x86::{
    Code, Encoder, Instruction, MemoryOperand, OpCodeOperandKind as K, OpKind, Register,
};
use rehost_runtime::translate::features::{self, BITS};
use std::collections::{BTreeMap, BTreeSet};

/// CPUID leaves (leaf, subleaf) the program records.
pub const LEAVES: [(u32, u32); 7] = [
    (1, 0),
    (7, 0),
    (7, 1),
    (0xd, 1),
    (0x8000_0001, 0),
    (0x8000_0007, 0),
    (0x8000_0008, 0),
];

const ACT: u32 = DATA_BASE; // struct sigaction (i386, kernel layout)
const RESUME: u32 = DATA_BASE + 0x20;
const COUNT: u32 = DATA_BASE + 0x24;
const SCRATCH: u32 = DATA_BASE + 0x100; // memory operands point here
const LOG: u32 = DATA_BASE + 0x1000;
const CPUID_BYTES: u32 = 16 * LEAVES.len() as u32;

fn abs(a: u32) -> MemoryOperand {
    MemoryOperand::with_displ(a as u64, 4)
}

/// The register a canonical instance uses for operand kind `k`.
fn canonical_register(k: K) -> Option<Register> {
    let name = format!("{k:?}");
    let r = if name.starts_with("r8_") {
        Register::BL
    } else if name.starts_with("r16_") {
        Register::BX
    } else if name.starts_with("r32_") {
        Register::EBX
    } else if name.starts_with("mm_") {
        Register::MM1
    } else if name.starts_with("xmmp3") {
        Register::XMM4
    } else if name.starts_with("zmmp3") {
        Register::ZMM4
    } else if name.starts_with("xmm") {
        Register::XMM1
    } else if name.starts_with("ymm") {
        Register::YMM1
    } else if name.starts_with("zmm") {
        Register::ZMM1
    } else if name.starts_with("kp1") {
        Register::K2
    } else if name.starts_with("k_") {
        Register::K1
    } else if name.starts_with("tmm") {
        Register::TMM1
    } else if name.starts_with("bnd") {
        Register::BND1
    } else if name.starts_with("sti") {
        Register::ST1
    } else {
        return register(&mut Rng::new(1), k);
    };
    Some(r)
}

/// The VSIB index register for a `mem_vsib*` kind.
fn vsib_index(k: K) -> Option<Register> {
    Some(match k {
        K::mem_vsib32x | K::mem_vsib64x => Register::XMM2,
        K::mem_vsib32y | K::mem_vsib64y => Register::YMM2,
        K::mem_vsib32z | K::mem_vsib64z => Register::ZMM2,
        _ => return None,
    })
}

/// One instance of `code` with fixed operands (registers 1, memory at
/// `[ebx]`, immediates 1), encodable in 32-bit mode, or None.
pub fn instance(code: Code) -> Option<Instruction> {
    let oc = code.op_code();
    if matches!(code, Code::Xbegin_rel16 | Code::Xbegin_rel32) {
        // iced builds xbegin only through its constructor.
        let bits = if code == Code::Xbegin_rel16 { 16 } else { 32 };
        let mut i = Instruction::with_xbegin(bits, 0x100).ok()?;
        i.set_code(code);
        return Some(i);
    }
    let mut ins = Instruction::default();
    ins.set_code(code);
    let mut rng = Rng::new(code as u64);
    let mut imm_seen = false;
    for (i, &k) in oc
        .op_kinds()
        .iter()
        .enumerate()
        .take(oc.op_count() as usize)
    {
        let i = i as u32;
        let name = format!("{k:?}");
        if let Some(index) = vsib_index(k) {
            ins.set_op_kind(i, OpKind::Memory);
            ins.set_memory_base(Register::EBX);
            ins.set_memory_index(index);
            ins.set_memory_index_scale(1);
        } else if k == K::mem_offs {
            ins.set_op_kind(i, OpKind::Memory);
            ins.set_memory_displ_size(4);
            ins.set_memory_displacement32(SCRATCH);
        } else if name.starts_with("mem") || name.starts_with("sibmem") {
            ins.set_op_kind(i, OpKind::Memory);
            ins.set_memory_base(Register::EBX);
        } else if matches!(k, K::br16_1 | K::br16_2) {
            ins.set_op_kind(i, OpKind::NearBranch16);
        } else if matches!(k, K::br32_1 | K::br32_4 | K::brdisp_2 | K::brdisp_4) {
            ins.set_op_kind(i, OpKind::NearBranch32);
        } else if matches!(k, K::farbr2_2 | K::farbr4_2) {
            let kind = if k == K::farbr2_2 {
                OpKind::FarBranch16
            } else {
                OpKind::FarBranch32
            };
            ins.set_op_kind(i, kind);
            ins.set_far_branch_selector(0x23);
            ins.set_far_branch32(0x0804_8000);
        } else if k == K::imm4_m2z {
            ins.set_op_kind(i, OpKind::Immediate8);
            ins.set_immediate8(1);
        } else if let Some(r) = canonical_register(k) {
            ins.set_op_kind(i, OpKind::Register);
            ins.set_op_register(i, r);
        } else if immediate(&mut rng, &mut ins, i, k, imm_seen) {
            imm_seen = true;
        } else {
            return None;
        }
    }
    let mut enc = Encoder::new(32);
    if enc.encode(&with_target(ins, 0x100), 0x100).is_ok() {
        return Some(ins);
    }
    // Gathers, scatters and a few others require an opmask.
    // 16-bit address-size forms (movdir64b r16, m512) take [bx].
    if ins.memory_base() == Register::EBX {
        let mut i16 = ins;
        i16.set_memory_base(Register::BX);
        if enc.encode(&i16, 0x100).is_ok() {
            return Some(i16);
        }
    }
    // xbegin's displacement is a near branch of either size.
    for kind in [OpKind::NearBranch16, OpKind::NearBranch32] {
        if ins.op_count() == 1
            && matches!(ins.op0_kind(), OpKind::NearBranch16 | OpKind::NearBranch32)
        {
            let mut b = ins;
            b.set_op0_kind(kind);
            if enc.encode(&with_target(b, 0x100), 0x100).is_ok() {
                return Some(b);
            }
        }
    }
    ins.set_op_mask(Register::K1);
    enc.encode(&with_target(ins, 0x100), 0x100)
        .ok()
        .map(|_| ins)
}

/// `ins` placed at `ip`: a near branch targets itself (in reach of every
/// displacement size; rehost stops it with SIGILL before it jumps).
fn with_target(mut ins: Instruction, ip: u32) -> Instruction {
    match ins.op0_kind() {
        OpKind::NearBranch16 => ins.set_near_branch16(ip as u16),
        OpKind::NearBranch32 => ins.set_near_branch32(ip),
        _ => {}
    }
    ins
}

/// The program: its ELF image and the guest EIP of every instance, in order.
pub fn program(instances: &[Instruction]) -> (Vec<u8>, Vec<u32>) {
    let mut enc = Encoder::new(32);
    let mut code: Vec<u8> = Vec::new();
    let base = CODE_BASE + CODE_OFF;
    let put = |code: &mut Vec<u8>, enc: &mut Encoder, ins: Instruction| {
        let ip = base + code.len() as u32;
        enc.encode(&ins, ip as u64).expect("harness instruction");
        code.extend(enc.take_buffer());
    };
    let mov = |r: Register, v: u32| Instruction::with2(Code::Mov_r32_imm32, r, v).unwrap();
    let int80 = Instruction::with1(Code::Int_imm8, 0x80u32).unwrap();
    // rt_sigaction(SIGILL, ACT, 0, 8)
    put(&mut code, &mut enc, mov(Register::EAX, 174));
    put(&mut code, &mut enc, mov(Register::EBX, 4));
    put(&mut code, &mut enc, mov(Register::ECX, ACT));
    put(&mut code, &mut enc, mov(Register::EDX, 0));
    put(&mut code, &mut enc, mov(Register::ESI, 8));
    put(&mut code, &mut enc, int80);
    // CPUID as the guest sees it.
    for (n, &(leaf, sub)) in LEAVES.iter().enumerate() {
        put(&mut code, &mut enc, mov(Register::EAX, leaf));
        put(&mut code, &mut enc, mov(Register::ECX, sub));
        put(&mut code, &mut enc, Instruction::with(Code::Cpuid));
        let at = LOG + 16 * n as u32;
        for (k, r) in [Register::EAX, Register::EBX, Register::ECX, Register::EDX]
            .into_iter()
            .enumerate()
        {
            let st = Instruction::with2(Code::Mov_rm32_r32, abs(at + 4 * k as u32), r).unwrap();
            put(&mut code, &mut enc, st);
        }
    }
    put(&mut code, &mut enc, mov(Register::EBX, SCRATCH));
    let mut eips = Vec::new();
    for ins in instances {
        // mov dword [RESUME], imm32 is 10 bytes; the instance follows it.
        let at = base + code.len() as u32 + 10;
        enc.encode(&with_target(*ins, at), at as u64)
            .expect("instance encodes");
        let bytes = enc.take_buffer();
        let next = at + bytes.len() as u32;
        put(
            &mut code,
            &mut enc,
            Instruction::with2(Code::Mov_rm32_imm32, abs(RESUME), next).unwrap(),
        );
        assert_eq!(base + code.len() as u32, at);
        code.extend(bytes);
        eips.push(at);
    }
    // write(1, LOG, CPUID_BYTES + 4 * [COUNT]); exit_group(0)
    put(
        &mut code,
        &mut enc,
        Instruction::with2(Code::Mov_r32_rm32, Register::EDX, abs(COUNT)).unwrap(),
    );
    let lea = MemoryOperand::new(
        Register::None,
        Register::EDX,
        4,
        CPUID_BYTES as i64,
        4,
        false,
        Register::None,
    );
    put(
        &mut code,
        &mut enc,
        Instruction::with2(Code::Lea_r32_m, Register::EDX, lea).unwrap(),
    );
    put(&mut code, &mut enc, mov(Register::EAX, 4));
    put(&mut code, &mut enc, mov(Register::EBX, 1));
    put(&mut code, &mut enc, mov(Register::ECX, LOG));
    put(&mut code, &mut enc, int80);
    put(&mut code, &mut enc, mov(Register::EAX, 252));
    put(&mut code, &mut enc, mov(Register::EBX, 0));
    put(&mut code, &mut enc, int80);
    // The handler: LOG[CPUID part + COUNT++] = uc->eip; uc->eip = [RESUME].
    let handler = base + code.len() as u32;
    let eip_slot = |r: Register| MemoryOperand::with_base_displ(r, 76); // uc_mcontext.eip
    let h = [
        Instruction::with2(
            Code::Mov_r32_rm32,
            Register::EAX,
            MemoryOperand::with_base_displ(Register::ESP, 12),
        ),
        Instruction::with2(Code::Mov_r32_rm32, Register::ECX, eip_slot(Register::EAX)),
        Instruction::with2(Code::Mov_r32_rm32, Register::EDX, abs(COUNT)),
        Instruction::with2(
            Code::Mov_rm32_r32,
            MemoryOperand::new(
                Register::None,
                Register::EDX,
                4,
                (LOG + CPUID_BYTES) as i64,
                4,
                false,
                Register::None,
            ),
            Register::ECX,
        ),
        Instruction::with2(Code::Add_rm32_imm8, abs(COUNT), 1u32),
        Instruction::with2(Code::Mov_r32_rm32, Register::ECX, abs(RESUME)),
        Instruction::with2(Code::Mov_rm32_r32, eip_slot(Register::EAX), Register::ECX),
    ];
    for ins in h {
        put(&mut code, &mut enc, ins.unwrap());
    }
    put(&mut code, &mut enc, Instruction::with(Code::Retnd));
    let restorer = base + code.len() as u32;
    put(&mut code, &mut enc, mov(Register::EAX, 173)); // rt_sigreturn
    put(&mut code, &mut enc, int80);

    let data_len = (LOG + CPUID_BYTES + 4 * instances.len() as u32 + 16 - DATA_BASE) as usize;
    let (mut f, data_off) = crate::program::image(&code, data_len);
    let d = data_off;
    put32(&mut f, d, handler);
    put32(&mut f, d + 4, 4 | 0x0400_0000); // SA_SIGINFO | SA_RESTORER
    put32(&mut f, d + 8, restorer);
    (f, eips)
}

/// The codes rehost does not translate on purpose, with an instance each
/// (codes iced cannot encode in 32-bit mode have none and are skipped).
pub fn codes() -> Vec<(Code, Instruction)> {
    crate::table::universe()
        .into_iter()
        .filter(|&c| {
            matches!(
                crate::table::classify(c),
                crate::table::Class::Unsupported(_)
            )
        })
        .filter(|&c| !crate::table::other_cpu(c))
        .filter_map(|c| instance(c).map(|i| (c, i)))
        .collect()
}

/// The result of the check over every unsupported code.
#[derive(Default)]
pub struct Outcome {
    /// Codes that raised SIGILL at their EIP in every mode (or, for other
    /// CPUs' encodings, that this CPU's decoder reads as something else).
    pub verified: BTreeSet<Code>,
    /// Codes that did not, with the first problem seen.
    pub failing: BTreeMap<Code, String>,
    /// Problems not tied to one code (CPUID, a program that did not run).
    pub problems: Vec<String>,
    /// The guest's CPUID agreed with the host's minus the untranslated
    /// features, in every mode.
    pub cpuid_ok: bool,
}

/// Checks every unsupported code in each of `modes`.
pub fn run(r: &mut Runner, modes: &[Mode]) -> Outcome {
    let mut o = Outcome::default();
    let mut items = Vec::new();
    for c in crate::table::universe() {
        if !matches!(
            crate::table::classify(c),
            crate::table::Class::Unsupported(_)
        ) {
            continue;
        }
        if crate::table::other_cpu(c) {
            match other_cpu_decodes_differently(c) {
                Ok(()) => o.verified.insert(c),
                Err(e) => o.failing.insert(c, e).is_none(),
            };
            continue;
        }
        match instance(c) {
            Some(i) => items.push((c, i)),
            None => {
                o.failing
                    .insert(c, "no encodable instance to check".to_string());
            }
        }
    }
    // A program stops checking at the first code that does not SIGILL;
    // rerun the rest until every code was seen.
    for &mode in modes {
        let mut rest: &[(Code, Instruction)] = &items;
        while !rest.is_empty() {
            let (done, problems) = check(r, mode, rest);
            let mut blamed = false;
            for (c, p) in problems {
                match c {
                    Some(c) => {
                        blamed = true;
                        o.failing.entry(c).or_insert(p);
                    }
                    None => o.problems.push(p),
                }
            }
            if done < rest.len() && !blamed {
                let p = format!("{}: the program stopped before it", mode.name());
                o.failing.entry(rest[done].0).or_insert(p);
            }
            rest = &rest[(done + 1).min(rest.len())..];
        }
    }
    for (c, _) in &items {
        if !o.failing.contains_key(c) {
            o.verified.insert(*c);
        }
    }
    o.cpuid_ok = !modes.is_empty() && o.problems.is_empty();
    o
}

/// For a code with a built-in fwait (`fstcw` = `fwait; fnstcw`): the code
/// of its no-wait half, which is what the decoder (and the CPU) sees after
/// the `wait`.
pub fn no_wait_half(code: Code) -> Option<Code> {
    let ins = instance(code)?;
    let mut enc = Encoder::new(32);
    enc.encode(&ins, 0).ok()?;
    let bytes = enc.take_buffer();
    let mut d = iced_x86::Decoder::new(32, &bytes, iced_x86::DecoderOptions::NONE);
    let first = d.decode();
    let second = d.decode();
    (first.code() == Code::Wait && d.position() == bytes.len()).then_some(second.code())
}

/// An encoding of another CPU: the default decoder must not read it as `c`.
fn other_cpu_decodes_differently(c: Code) -> Result<(), String> {
    let ins = instance(c).ok_or("no encodable instance")?;
    let mut enc = Encoder::new(32);
    enc.encode(&ins, 0).map_err(|e| e.to_string())?;
    let bytes = enc.take_buffer();
    let got = iced_x86::Decoder::new(32, &bytes, iced_x86::DecoderOptions::NONE).decode();
    if got.code() == c {
        Err(format!("decoded as {c:?} by the default decoder"))
    } else {
        Ok(())
    }
}

/// Runs the check of `items` in `mode`: returns how many leading items
/// raised SIGILL at their EIP, and the problems (with the code concerned).
pub fn check(
    r: &mut Runner,
    mode: Mode,
    items: &[(Code, Instruction)],
) -> (usize, Vec<(Option<Code>, String)>) {
    let instances: Vec<Instruction> = items.iter().map(|(_, i)| *i).collect();
    let (image, eips) = program(&instances);
    let out = match r.run(mode, &image, 0) {
        Ok(o) => o,
        Err(e) => return (0, vec![(None, format!("{}: {e}", mode.name()))]),
    };
    let mut problems = Vec::new();
    let words: Vec<u32> = out
        .stdout
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    if words.len() < 4 * LEAVES.len() {
        let why = format!(
            "{}: no CPUID record ({}; stderr: {})",
            mode.name(),
            out.failure.unwrap_or_default(),
            out.stderr.trim()
        );
        return (0, vec![(None, why)]);
    }
    for (n, &(leaf, sub)) in LEAVES.iter().enumerate() {
        let mut got: [u32; 4] = words[4 * n..4 * n + 4].try_into().unwrap();
        let mut want = features::guest_cpuid(leaf, sub, features::host_cpuid(leaf, sub));
        if leaf == 1 {
            // The initial APIC id names the CPU the process ran on.
            got[1] &= 0x00ff_ffff;
            want[1] &= 0x00ff_ffff;
        }
        if got != want {
            problems.push((
                None,
                format!(
                    "{}: CPUID {leaf:#x}/{sub}: guest sees {got:08x?}, expected {want:08x?}",
                    mode.name()
                ),
            ));
        }
        for (f, bit) in BITS {
            let here = bit.leaf == leaf && bit.sub == sub;
            if here && !features::translated(*f) && got[bit.reg as usize] >> bit.bit & 1 != 0 {
                problems.push((None, format!("{}: CPUID advertises {f:?}", mode.name())));
            }
        }
    }
    let logged = &words[4 * LEAVES.len()..];
    let mut done = 0;
    for (k, (code, _)) in items.iter().enumerate() {
        match logged.get(k) {
            Some(&eip) if eip == eips[k] => done += 1,
            Some(&eip) => {
                let p = format!(
                    "{}: {code:?} at {:#x}: SIGILL reported at {eip:#x}",
                    mode.name(),
                    eips[k]
                );
                problems.push((Some(*code), p));
                break;
            }
            None => {
                let p = format!(
                    "{}: {code:?} at {:#x}: no SIGILL ({})",
                    mode.name(),
                    eips[k],
                    out.failure.clone().unwrap_or("ran on".into())
                );
                problems.push((Some(*code), p));
                break;
            }
        }
    }
    (done, problems)
}
