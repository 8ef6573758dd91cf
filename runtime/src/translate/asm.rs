//! The host-code buffer of one block: encodes x86-64 instructions with iced,
//! and the fixed sequences every block uses (exits, map lookup, runtime calls).
//!
//! Invariant: the code it produces is position-independent. Nothing in it
//! names an absolute host address: runtime stubs are reached through the
//! context (`[r15 + CTX_STUB_*]`), the map table through r14, and direct exits
//! are `rel32` fields that initially point at the exit's own trampoline, so a
//! block may be copied anywhere and patched (chained) later.

use crate::abi::{Reason, CTX_STUB_CALL};
use iced_x86::{Code, Encoder, Instruction, MemoryOperand, Register};

/// A direct exit: the `rel32` at `rel32_at` jumps to the guest `target`'s host
/// code once known; until then it points at a trampoline that looks it up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectExit {
    pub rel32_at: u32,
    pub target: u32,
}

/// Error while lowering: an instruction iced cannot encode in 64-bit mode.
#[derive(Debug)]
pub struct EncodeError(pub String);

pub struct Asm {
    pub code: Vec<u8>,
    pub exits: Vec<DirectExit>,
    /// Guest addresses of instructions lowered to SIGILL.
    pub illegal: Vec<u32>,
    /// Inline caches (`ic`, REHOST_IC): emit them at indirect jmp/call
    /// sites, and count hits per level (REHOST_STATS).
    pub ic: bool,
    pub ic_counting: bool,
    /// Guest address of each inline-cache site (record k = site k).
    pub ic_site_eips: Vec<u32>,
    /// References from the code to the sites' records.
    pub ic_refs: Vec<super::ic::IcRef>,
    /// Trampolines still to be written after the block body: (rel32 field
    /// offset, guest target).
    pending: Vec<(u32, u32)>,
    enc: Encoder,
}

impl Default for Asm {
    fn default() -> Self {
        Self::new()
    }
}

impl Asm {
    pub fn new() -> Asm {
        Asm {
            code: Vec::with_capacity(256),
            exits: Vec::new(),
            illegal: Vec::new(),
            ic: false,
            ic_counting: false,
            ic_site_eips: Vec::new(),
            ic_refs: Vec::new(),
            pending: Vec::new(),
            enc: Encoder::new(64),
        }
    }

    pub fn pos(&self) -> u32 {
        self.code.len() as u32
    }

    /// Encode one x86-64 instruction at the current position.
    pub fn ins(&mut self, i: &Instruction) -> Result<(), EncodeError> {
        let ip = self.code.len() as u64;
        match self.enc.encode(i, ip) {
            Ok(_) => {
                self.code.extend_from_slice(&self.enc.take_buffer());
                Ok(())
            }
            Err(e) => Err(EncodeError(format!("{e} ({:?})", i.code()))),
        }
    }

    /// Encode an instruction built by this module (never fails).
    fn must(&mut self, i: Instruction) {
        if let Err(e) = self.ins(&i) {
            panic!("rehost internal encoding error: {}", e.0);
        }
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        self.code.extend_from_slice(bytes);
    }

    // ---- small builders used by the rewrite rules -------------------------

    /// `mov r32, r32`
    pub fn mov_rr(&mut self, dst: Register, src: Register) {
        self.must(Instruction::with2(Code::Mov_r32_rm32, dst, src).unwrap());
    }

    /// `mov r64, r64`
    pub fn mov64(&mut self, dst: Register, src: Register) {
        self.must(Instruction::with2(Code::Mov_r64_rm64, dst, src).unwrap());
    }

    /// `mov r32, imm32`
    pub fn mov_ri(&mut self, dst: Register, imm: u32) {
        self.must(Instruction::with2(Code::Mov_r32_imm32, dst, imm).unwrap());
    }

    /// `mov r32, dword [base32 + disp]` (0x67 form).
    pub fn load32(&mut self, dst: Register, base: Register, disp: i32) {
        self.must(Instruction::with2(Code::Mov_r32_rm32, dst, m32(base, disp)).unwrap());
    }

    /// `mov dword [base32 + disp], r32` (0x67 form).
    pub fn store32(&mut self, base: Register, disp: i32, src: Register) {
        self.must(Instruction::with2(Code::Mov_rm32_r32, m32(base, disp), src).unwrap());
    }

    /// `mov dword [base32 + disp], imm32`.
    pub fn store32_imm(&mut self, base: Register, disp: i32, imm: u32) {
        self.must(Instruction::with2(Code::Mov_rm32_imm32, m32(base, disp), imm).unwrap());
    }

    /// `lea r32, [base32 + disp]`: flag-free 32-bit add (wraps at 4 GiB).
    pub fn lea32(&mut self, dst: Register, base: Register, disp: i32) {
        self.must(Instruction::with2(Code::Lea_r32_m, dst, m32(base, disp)).unwrap());
    }

    /// `lea r32, [base32 + index32*scale + disp]`.
    pub fn lea32_bi(
        &mut self,
        dst: Register,
        base: Register,
        index: Register,
        scale: u32,
        disp: i32,
    ) {
        let m = MemoryOperand::with_base_index_scale_displ_size(base, index, scale, disp as i64, 1);
        self.must(Instruction::with2(Code::Lea_r32_m, dst, m).unwrap());
    }

    /// `lea esp, [esp + d]`: move the guest stack pointer without touching flags.
    pub fn adjust_esp(&mut self, d: i32) {
        if d != 0 {
            self.lea32(Register::ESP, Register::ESP, d);
        }
    }

    // ---- exits -------------------------------------------------------------

    /// `jmp rel32` to guest `target`, patchable; the trampoline goes after
    /// the block body (see `finish`).
    pub fn jmp_exit(&mut self, target: u32) {
        self.raw(&[0xe9, 0, 0, 0, 0]);
        self.pending.push((self.pos() - 4, target));
    }

    /// `jcc rel32` to guest `target` (cc = low nibble of the 0F 8x opcode).
    pub fn jcc_exit(&mut self, cc: u8, target: u32) {
        self.raw(&[0x0f, 0x80 | (cc & 0xf), 0, 0, 0, 0]);
        self.pending.push((self.pos() - 4, target));
    }

    /// The flag-free map lookup of r11d (see `dispatch` for the table shape):
    /// level-1 index = low 16 bits of bswap(target), level-2 index = low 16.
    pub fn lookup_r11(&mut self) {
        use Register::*;
        self.must(Instruction::with2(Code::Mov_r32_rm32, R10D, R11D).unwrap());
        self.must(Instruction::with1(Code::Bswap_r32, R10D).unwrap());
        self.must(Instruction::with2(Code::Movzx_r32_rm16, R10D, R10W).unwrap());
        let l1 = MemoryOperand::with_base_index_scale_displ_size(R14, R10, 8, 0, 0);
        self.must(Instruction::with2(Code::Mov_r64_rm64, R10, l1).unwrap());
        self.must(Instruction::with2(Code::Movzx_r32_rm16, R9D, R11W).unwrap());
        let l2 = MemoryOperand::with_base_index_scale_displ_size(R10, R9, 8, 0, 0);
        self.must(Instruction::with1(Code::Jmp_rm64, l2).unwrap());
    }

    /// Jump to the guest address in r11d through the map table.
    pub fn indirect_exit(&mut self) {
        self.lookup_r11();
    }

    /// Call into the runtime and resume right after (unless it redirects).
    pub fn runtime_call(&mut self, reason: Reason, arg: u32, guest_eip: u32) {
        use Register::*;
        self.mov_ri(R9D, guest_eip);
        self.mov_ri(R10D, reason as u32 | (arg << 8));
        // lea r11, [rip + len(jmp)]: 7-byte lea, then the 7-byte jmp [r15+disp32]
        let after = self.pos() as u64 + 7 + 7;
        let lea = Instruction::with2(
            Code::Lea_r64_m,
            R11,
            MemoryOperand::with_base_displ(RIP, after as i64),
        )
        .unwrap();
        let start = self.pos();
        self.must(lea);
        debug_assert_eq!(self.pos() - start, 7);
        let jmp = Instruction::with1(
            Code::Jmp_rm64,
            MemoryOperand::with_base_displ(R15, CTX_STUB_CALL as i64),
        )
        .unwrap();
        let start = self.pos();
        self.must(jmp);
        debug_assert_eq!(self.pos() - start, 7);
    }

    /// Write the trampolines of all direct exits; returns the finished code,
    /// the exits and the instructions lowered to SIGILL.
    /// Also returns the body length: the trampolines follow the body, and
    /// each exit's rel32 initially points at its own trampoline.
    pub fn finish(mut self) -> (Vec<u8>, Vec<DirectExit>, Vec<u32>, u32) {
        let body_len = self.pos();
        let pending = std::mem::take(&mut self.pending);
        for (at, target) in pending {
            let tramp = self.pos();
            let rel = tramp as i32 - (at as i32 + 4);
            self.code[at as usize..at as usize + 4].copy_from_slice(&rel.to_le_bytes());
            self.mov_ri(Register::R11D, target);
            self.lookup_r11();
            self.exits.push(DirectExit {
                rel32_at: at,
                target,
            });
        }
        (self.code, self.exits, self.illegal, body_len)
    }
}

/// A 32-bit memory operand `[base32 + disp]`.
pub fn m32(base: Register, disp: i32) -> MemoryOperand {
    MemoryOperand::with_base_displ(base, disp as i64)
}
