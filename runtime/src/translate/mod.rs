//! The one lowering of i386 blocks to x86-64, used by both the static pass
//! (translator crate, ahead of time) and the run-time JIT (`crate::jit`), so
//! the two can never drift apart.
//!
//! A block starts at a guest address and runs to the first control transfer,
//! to the first address in `stop_at` (the static pass splits blocks at known
//! block starts), or to `MAX_INSNS`. Invariant: the produced code is
//! position-independent (see `asm`), and a block is a function of its guest
//! bytes only (plus the options), never of run-time state.

pub mod asm;
pub mod features;
pub mod ic;
pub mod legacy;
pub mod lower;
pub mod segment;
pub mod stack;

use asm::{Asm, DirectExit};
use iced_x86::{Decoder, DecoderOptions, Instruction};
use lower::Flow;

/// Longest block, in guest instructions.
pub const MAX_INSNS: usize = 200;

/// Where the lowering reads guest bytes from.
pub trait CodeSource {
    /// Copy up to `buf.len()` guest bytes at `addr` into `buf`; returns how
    /// many were readable (0 if `addr` is not in executable memory).
    fn read(&self, addr: u32, buf: &mut [u8]) -> usize;
}

/// Translation options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Emit a `TraceBlock` runtime call at the block's start (REHOST_LOG=blocks).
    pub trace: bool,
    /// Start the block with `mov byte [rip+rel32], 1` marking it executed
    /// (static blocks; the emitter relocates the rel32 at `EXEC_FLAG_REL32_AT`
    /// to the block's byte in the executed-flags array, for REHOST_STATS).
    pub exec_flag: bool,
    /// Inline caches at indirect jmp/call sites (`ic`; run-time blocks
    /// only, placed 64-aligned).
    pub ic: bool,
    /// Count inline-cache hits per level (REHOST_STATS).
    pub ic_counting: bool,
}

/// Offset of the rel32 of the executed-flag store in a block's code.
pub const EXEC_FLAG_REL32_AT: u32 = 2;

/// One translated block.
#[derive(Clone, Debug)]
pub struct HostBlock {
    pub guest_start: u32,
    /// Guest bytes covered (from `guest_start`).
    pub guest_len: u32,
    pub ninsns: u32,
    pub code: Vec<u8>,
    /// `code[..body_len]` is the block; the rest are exit trampolines, each
    /// position-independent and reached only through its exit's rel32.
    pub body_len: u32,
    pub exits: Vec<DirectExit>,
    /// Did the block end at bytes that do not decode?
    pub invalid: bool,
    /// Guest instructions lowered to SIGILL (undecodable or unsupported).
    pub illegal: Vec<u32>,
    /// (host offset, guest EIP) at the start of each guest instruction's
    /// host code: a fault maps back to its guest instruction through it.
    pub pc_map: Vec<(u32, u32)>,
    /// Guest addresses of the block's inline-cache sites: one
    /// `abi::IcRecord` each, zeroed in `code` from `ic_records_at`.
    pub ic_sites: Vec<u32>,
    pub ic_records_at: u32,
    /// The code's rip-relative references to the records (already resolved
    /// for records placed right after the code; the static pass relocates
    /// them to its own section instead).
    pub ic_refs: Vec<ic::IcRef>,
}

/// Decode the guest instructions of the block at `start`.
/// Returns the instructions and whether decoding stopped on invalid bytes.
pub fn decode_block(
    src: &dyn CodeSource,
    start: u32,
    stop_at: &dyn Fn(u32) -> bool,
) -> (Vec<Instruction>, bool) {
    let mut out = Vec::new();
    let mut pc = start;
    let mut buf = [0u8; 15];
    loop {
        if out.len() >= MAX_INSNS || (pc != start && stop_at(pc)) {
            return (out, false);
        }
        let n = src.read(pc, &mut buf);
        if n == 0 {
            let empty = out.is_empty();
            return (out, empty);
        }
        let mut d = Decoder::with_ip(32, &buf[..n], pc as u64, DecoderOptions::NONE);
        let i = d.decode();
        if i.is_invalid() {
            // Too few readable bytes is "unknown", not "invalid": let the
            // runtime look again (it faults there as the CPU would).
            let truncated = d.last_error() == iced_x86::DecoderError::NoMoreBytes;
            if !truncated {
                out.push(i);
            }
            return (out, !truncated);
        }
        pc = i.next_ip32();
        let ends = i.flow_control() != iced_x86::FlowControl::Next
            && !(i.code() == iced_x86::Code::Int_imm8 && i.immediate8() == 0x80);
        out.push(i);
        if ends {
            return (out, false);
        }
    }
}

/// Translate the block at `start`.
pub fn translate_block(
    src: &dyn CodeSource,
    start: u32,
    stop_at: &dyn Fn(u32) -> bool,
    opts: Options,
) -> HostBlock {
    let (insns, invalid) = decode_block(src, start, stop_at);
    let mut asm = Asm::new();
    asm.ic = opts.ic;
    asm.ic_counting = opts.ic_counting;
    if opts.exec_flag {
        asm.raw(&[0xc6, 0x05, 0, 0, 0, 0, 1]);
    }
    if opts.trace {
        asm.runtime_call(crate::abi::Reason::TraceBlock, 0, start);
    }
    let mut end = start;
    let mut ended = false;
    let mut pc_map = Vec::with_capacity(insns.len());
    for i in &insns {
        let mark = asm.pos();
        pc_map.push((mark, i.ip32()));
        let flow = if i.is_invalid() {
            lower::illegal(&mut asm, i.ip32());
            Ok(Flow::End)
        } else {
            lower::lower(&mut asm, i)
        };
        let flow = flow.unwrap_or_else(|_| {
            asm.code.truncate(mark as usize);
            lower::illegal(&mut asm, i.ip32());
            Flow::End
        });
        end = i.next_ip32();
        if flow == Flow::End {
            ended = true;
            break;
        }
    }
    if !ended {
        // Fell off the end (block split, size limit, unreadable bytes).
        asm.jmp_exit(end);
    }
    let ic_sites = std::mem::take(&mut asm.ic_site_eips);
    let ic_refs = std::mem::take(&mut asm.ic_refs);
    let (mut code, exits, illegal, body_len) = asm.finish();
    let ic_records_at = if ic_sites.is_empty() {
        code.len() as u32
    } else {
        ic::finish_records(&mut code, &ic_refs, ic_sites.len())
    };
    HostBlock {
        guest_start: start,
        guest_len: end.wrapping_sub(start),
        ninsns: insns.len() as u32,
        code,
        body_len,
        exits,
        invalid,
        illegal,
        pc_map,
        ic_sites,
        ic_records_at,
        ic_refs,
    }
}
