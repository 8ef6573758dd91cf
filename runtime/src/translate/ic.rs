//! Inline caches at indirect `jmp r/m32` and `call r/m32` sites (opt-in:
//! `REHOST_IC=1`, run-time translations only; `Options::ic`).
//!
//! ```text
//!   mov r10d, ecx                ; ecx is the only register jecxz tests
//!   mov r9, [rip+rec.entry0]     ; one 8-byte load: (0 - guest, host index)
//!   lea ecx, [r9+r11] (32-bit)   ; zero iff the target is entry 0's
//!   jecxz hit0
//!   mov r9, [rip+rec.entry1] ; lea ecx, [r9+r11] ; jecxz hit1
//!   mov ecx, [rip+rec.budget] ; jecxz lookup        ; learning over?
//!   runtime call IcMiss (target in r9d, record in ctx.scratch)
//! lookup: mov ecx, r10d ; map-table lookup of r11d
//! hit:  rorx r9, r9, 32 ; mov r9d, r9d             ; host index
//!   mov rcx, [rip+rec.hosts] ; mov r9, [rcx+r9*8] ; mov ecx, r10d ; jmp r9
//! ```
//!
//! Invariants: nothing here changes guest EIP-visible state or EFLAGS
//! (compares are `lea` + `jecxz`, `rorx` is flag-free, ecx is restored on
//! every path), r11d still holds the target wherever the code leaves (the
//! map-miss stub expects it). The record (`abi::IcRecord`) lies right after
//! the block's code; the rip-relative references to it are fixed when the
//! block is finished (`finish_records`), so the block stays
//! position-independent as long as it is placed 64-aligned.

use super::asm::Asm;
use crate::abi::{
    Reason, CTX_SCRATCH, CTX_STUB_CALL, IC_BUDGET, IC_ENTRY, IC_HITS, IC_HOSTS, IC_LOOKUPS,
    IC_RECORD_SIZE,
};
use iced_x86::{Code, Instruction, MemoryOperand, Register};

/// A rip-relative reference from a block to one of its IC records: the
/// disp32 at `disp_at` must become `record + field - (disp_at + 4)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcRef {
    pub disp_at: u32,
    /// Index of the record among the block's sites.
    pub site: u32,
    pub field: u32,
}

impl Asm {
    fn emit(&mut self, i: Instruction) {
        self.ins(&i).expect("inline-cache instruction encodes");
    }

    /// Emit `bytes` followed by a rip-relative disp32 to `field` of `site`.
    fn rip_ref(&mut self, bytes: &[u8], site: u32, field: usize) {
        self.raw(bytes);
        self.raw(&[0, 0, 0, 0]);
        let disp_at = self.pos() - 4;
        self.ic_refs.push(IcRef {
            disp_at,
            site,
            field: field as u32,
        });
    }

    /// `inc qword [rip+field]` would change flags: load, lea +1, store
    /// (through rcx, free wherever this is used). Racy between threads:
    /// only the report reads it.
    fn ic_count(&mut self, site: u32, field: usize) {
        self.rip_ref(&[0x48, 0x8b, 0x0d], site, field); // mov rcx, [rip+d]
        self.raw(&[0x48, 0x8d, 0x49, 0x01]); // lea rcx, [rcx+1]
        self.rip_ref(&[0x48, 0x89, 0x0d], site, field); // mov [rip+d], rcx
    }

    /// Load entry `level` into r9 and test it; returns the jecxz rel8 offset.
    fn ic_compare(&mut self, site: u32, level: usize) -> u32 {
        self.rip_ref(&[0x4c, 0x8b, 0x0d], site, IC_ENTRY + 8 * level); // mov r9, [rip+d]
        let m =
            MemoryOperand::with_base_index_scale_displ_size(Register::R9, Register::R11, 1, 0, 0);
        self.emit(Instruction::with2(Code::Lea_r32_m, Register::ECX, m).unwrap());
        self.raw(&[0x67, 0xe3, 0]); // jecxz
        self.pos() - 1
    }

    /// An inline-cached jump to the guest address in r11d; `eip` is the
    /// site's guest address, `counting` keeps per-level counts.
    pub fn ic_jump(&mut self, eip: u32, counting: bool) {
        use Register::*;
        let site = self.ic_site_eips.len() as u32;
        self.ic_site_eips.push(eip);
        self.mov_rr(R10D, ECX);
        let j0 = self.ic_compare(site, 0);
        let j1 = self.ic_compare(site, 1);
        self.rip_ref(&[0x8b, 0x0d], site, IC_BUDGET); // mov ecx, [rip+budget]
        self.raw(&[0x67, 0xe3, 0]); // jecxz lookup
        let jl = self.pos() - 1;
        // Learning: the runtime counts the target, translates it and
        // continues there (as a map miss would).
        self.rip_ref(&[0x48, 0x8d, 0x0d], site, 0); // lea rcx, [rip+record]
        let scratch = MemoryOperand::with_base_displ(R15, CTX_SCRATCH as i64);
        self.emit(Instruction::with2(Code::Mov_rm64_r64, scratch, RCX).unwrap());
        self.mov_rr(ECX, R10D);
        self.mov_rr(R9D, R11D);
        self.mov_ri(R10D, Reason::IcMiss as u32);
        // r11 = resume address: never used (the runtime answers with the
        // target's host code), set to this call for a defined value.
        self.raw(&[0x4c, 0x8d, 0x1d, 0xf9, 0xff, 0xff, 0xff]); // lea r11, [rip-7]
        let stub = MemoryOperand::with_base_displ(R15, CTX_STUB_CALL as i64);
        self.emit(Instruction::with1(Code::Jmp_rm64, stub).unwrap());
        let lookup = self.pos();
        self.patch8(jl, lookup);
        if counting {
            self.ic_count(site, IC_LOOKUPS);
        }
        self.mov_rr(ECX, R10D);
        self.lookup_r11();
        let mut jumps = Vec::new();
        for (level, j) in [j0, j1].into_iter().enumerate() {
            if counting {
                let here = self.pos();
                self.patch8(j, here);
                self.ic_count(site, IC_HITS + 8 * level);
                if level == 0 {
                    self.raw(&[0xeb, 0]); // jmp short hit
                    jumps.push(self.pos() - 1);
                }
            } else {
                jumps.push(j);
            }
        }
        let hit = self.pos();
        for j in jumps {
            self.patch8(j, hit);
        }
        self.emit(Instruction::with3(Code::VEX_Rorx_r64_rm64_imm8, R9, R9, 32u32).unwrap());
        self.mov_rr(R9D, R9D);
        self.rip_ref(&[0x48, 0x8b, 0x0d], site, IC_HOSTS); // mov rcx, [rip+hosts]
        let slot = MemoryOperand::with_base_index_scale_displ_size(RCX, R9, 8, 0, 0);
        self.emit(Instruction::with2(Code::Mov_r64_rm64, R9, slot).unwrap());
        self.mov_rr(ECX, R10D);
        self.emit(Instruction::with1(Code::Jmp_rm64, R9).unwrap());
    }

    /// Point the rel8 at `at` to `to`.
    fn patch8(&mut self, at: u32, to: u32) {
        let rel = to as i64 - (at as i64 + 1);
        self.code[at as usize] = i8::try_from(rel).expect("inline-cache branch within rel8") as u8;
    }
}

/// Append the records of `nsites` sites to the finished `code` (64-aligned
/// after it, zeroed) and resolve the references to them. Returns the
/// records' offset.
pub fn finish_records(code: &mut Vec<u8>, refs: &[IcRef], nsites: usize) -> u32 {
    let base = (code.len() + IC_RECORD_SIZE - 1) & !(IC_RECORD_SIZE - 1);
    code.resize(base + nsites * IC_RECORD_SIZE, 0);
    for r in refs {
        let to = (base + r.site as usize * IC_RECORD_SIZE + r.field as usize) as i64;
        let rel = (to - (r.disp_at as i64 + 4)) as i32;
        let at = r.disp_at as usize;
        code[at..at + 4].copy_from_slice(&rel.to_le_bytes());
    }
    base as u32
}

#[cfg(test)]
mod tests {
    use super::super::{translate_block, CodeSource, Options};
    use crate::abi::{IC_ENTRY, IC_RECORD_SIZE};
    use iced_x86::{Decoder, DecoderOptions, Mnemonic, Register};

    struct Bytes(&'static [u8]);

    impl CodeSource for Bytes {
        fn read(&self, addr: u32, buf: &mut [u8]) -> usize {
            let off = addr.wrapping_sub(0x1000) as usize;
            if off >= self.0.len() {
                return 0;
            }
            let n = buf.len().min(self.0.len() - off);
            buf[..n].copy_from_slice(&self.0[off..off + n]);
            n
        }
    }

    /// `jmp [eax*4+0x1000]` and `call eax`, with and without counting: one
    /// site each, its record 64-aligned after the code, no instruction of
    /// the block changing flags, every rip-relative operand in the record.
    #[test]
    fn sites_are_flag_free_and_reference_their_record() {
        let cases: [&'static [u8]; 2] =
            [&[0xff, 0x24, 0x85, 0x00, 0x10, 0x00, 0x00], &[0xff, 0xd0]];
        for bytes in cases {
            for counting in [false, true] {
                let opts = Options {
                    ic: true,
                    ic_counting: counting,
                    ..Options::default()
                };
                let b = translate_block(&Bytes(bytes), 0x1000, &|_| false, opts);
                assert_eq!(b.ic_sites, vec![0x1000]);
                let rec = b.ic_records_at as usize;
                assert_eq!(rec % IC_RECORD_SIZE, 0);
                assert_eq!(b.code.len(), rec + IC_RECORD_SIZE);
                let body = &b.code[..b.body_len as usize];
                let mut d = Decoder::with_ip(64, body, 0, DecoderOptions::NONE);
                let mut entries = 0;
                for i in &mut d {
                    assert!(!i.is_invalid());
                    assert_eq!(i.rflags_modified(), 0, "{:?} changes flags", i.mnemonic());
                    // (`lea r11, [rip-7]` is the unused resume address.)
                    if i.is_ip_rel_memory_operand() && i.op0_register() != Register::R11 {
                        let at = i.ip_rel_memory_address() as usize;
                        assert!((rec..rec + IC_RECORD_SIZE).contains(&at));
                        if at < rec + IC_ENTRY + 16 && i.mnemonic() == Mnemonic::Mov {
                            entries += 1;
                        }
                    }
                }
                assert_eq!(entries, 2, "both entries are compared");
                let plain = translate_block(&Bytes(bytes), 0x1000, &|_| false, Options::default());
                assert!(plain.ic_sites.is_empty());
                assert_eq!(plain.ic_records_at as usize, plain.code.len());
            }
        }
    }
}
