//! Inline caches at indirect jump and call sites.
//!
//! ```text
//!   mov r10d, ecx                 ; ecx is the only register jecxz tests
//!   mov ecx, [rip+rec.neg_guest0] ; lea ecx,[ecx+r11d]; jecxz hit0
//!   mov ecx, [rip+rec.neg_guest1] ; lea ecx,[ecx+r11d]; jecxz hit1
//!   mov ecx, [rip+rec.budget]     ; jecxz lookup        ; learning over?
//!   mov ecx, r10d ; runtime call IcMiss (target, record)  ; learn, continue
//! lookup: mov ecx, r10d ; map-table lookup of r11d
//! hit0: mov ecx, r10d ; jmp [rip+rec.host0]   (hit1 alike)
//! ```
//!
//! Invariant: nothing here changes guest EFLAGS (compares are `lea` +
//! `jecxz`, ecx is restored on every path), so no flag liveness is needed at
//! any site. The record (`abi::IcRecord`) is data: in the output's `.data`
//! for static blocks, next to the block in the code cache for run-time ones;
//! its entries are written once, when learning ends, most frequent target
//! first, and cleared if their target's translation is dropped.

use super::asm::Asm;
use crate::abi::{
    Reason, CTX_SCRATCH, CTX_SCRATCH2, IC_BUDGET, IC_HITS, IC_HOST, IC_LOOKUPS, IC_NEG_GUEST,
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
    /// Emit `bytes` ending in a rip-relative disp32 to `field` of site `site`.
    fn rip_ref(&mut self, bytes: &[u8], site: u32, field: usize) {
        self.raw(bytes);
        self.raw(&[0, 0, 0, 0]);
        self.ic_refs.push(IcRef {
            disp_at: self.pos() - 4,
            site,
            field: field as u32,
        });
    }

    /// `inc qword [rip+field]` would change flags: load, lea +1, store.
    fn count(&mut self, site: u32, field: usize) {
        self.rip_ref(&[0x4c, 0x8b, 0x0d], site, field); // mov r9, [rip+d]
        self.raw(&[0x4d, 0x8d, 0x49, 0x01]); // lea r9, [r9+1]
        self.rip_ref(&[0x4c, 0x89, 0x0d], site, field); // mov [rip+d], r9
    }

    fn cmp_level(&mut self, site: u32, level: usize) -> u32 {
        self.rip_ref(&[0x8b, 0x0d], site, IC_NEG_GUEST + 4 * level); // mov ecx, [rip+d]
        let lea = Instruction::with2(
            Code::Lea_r32_m,
            Register::ECX,
            MemoryOperand::with_base_index_scale_displ_size(Register::ECX, Register::R11D, 1, 0, 0),
        )
        .expect("lea");
        self.ins(&lea).expect("lea encodes");
        self.raw(&[0x67, 0xe3, 0]); // jecxz hitN
        self.pos() - 1
    }

    /// An inline-cached jump to the guest address in r11d (`counting`: keep
    /// per-level hit counts for REHOST_STATS). `eip` is the site's address.
    pub fn ic_jump(&mut self, eip: u32, counting: bool) {
        let site = self.ic_sites;
        self.ic_sites += 1;
        self.ic_site_eips.push(eip);
        self.mov_rr(Register::R10D, Register::ECX);
        let j0 = self.cmp_level(site, 0);
        let j1 = self.cmp_level(site, 1);
        self.raw(&[0xeb, 0]); // jmp short miss
        let jm = self.pos() - 1;
        for (level, j) in [j0, j1].into_iter().enumerate() {
            let hit = self.pos();
            self.patch8(j, hit);
            self.mov_rr(Register::ECX, Register::R10D);
            if counting {
                self.count(site, IC_HITS + 8 * level);
            }
            self.rip_ref(&[0xff, 0x25], site, IC_HOST + 8 * level); // jmp [rip+host]
        }
        let miss = self.pos();
        self.patch8(jm, miss);
        self.rip_ref(&[0x8b, 0x0d], site, IC_BUDGET); // mov ecx, [rip+budget]
        self.raw(&[0x67, 0xe3, 0]); // jecxz lookup
        let jl = self.pos() - 1;
        // Learning: hand target and record to the runtime.
        self.mov_rr(Register::ECX, Register::R10D);
        let scratch = MemoryOperand::with_base_displ(Register::R15, CTX_SCRATCH as i64);
        self.ins(&Instruction::with2(Code::Mov_rm64_r64, scratch, Register::R11).unwrap())
            .expect("mov");
        self.rip_ref(&[0x4c, 0x8d, 0x15], site, 0); // lea r10, [rip+record]
        let scratch2 = MemoryOperand::with_base_displ(Register::R15, CTX_SCRATCH2 as i64);
        self.ins(&Instruction::with2(Code::Mov_rm64_r64, scratch2, Register::R10).unwrap())
            .expect("mov");
        self.runtime_call(Reason::IcMiss, 0, eip);
        let lookup = self.pos();
        self.patch8(jl, lookup);
        self.mov_rr(Register::ECX, Register::R10D);
        if counting {
            self.count(site, IC_LOOKUPS);
        }
        self.lookup_r11();
    }

    /// Point the rel8 at `at` to `to`.
    fn patch8(&mut self, at: u32, to: u32) {
        let rel = to as i64 - (at as i64 + 1);
        self.code[at as usize] = i8::try_from(rel).expect("inline-cache branch within rel8") as u8;
    }
}
