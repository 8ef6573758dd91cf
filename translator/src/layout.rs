//! Placing the static blocks in `.text`: bodies back to back in guest
//! address order (the hot part), every exit trampoline after all of them
//! (the cold part), direct exits between static blocks bound to their
//! targets, and a block's final `jmp` elided when its target is the body
//! placed right after it (the fall-through of a jcc or a split block).
//!
//! Invariant: every exit of every block lands either on a static block's
//! first byte or on that exit's own trampoline; trampolines and bodies are
//! position-independent apart from the exits rewritten here (translate::asm).
//!
//! Invariant: every block keeps a body of at least one byte, so no two
//! blocks share a host entry. A block that was only a jump to the next body
//! (a guest `jmp` over padding, say) would otherwise vanish and share its
//! entry with the next block; the runtime diverts an invalidated static
//! block by writing `int3` at its entry (runtime `textpatch`), which must
//! name one guest block. Such a block keeps a one-byte `nop` instead: cheaper
//! on the fall-through path than keeping its `jmp`, and it needs no
//! relocation or metadata (the runtime maps the nop back to the guest `jmp`
//! like any first byte of a block).

use rehost_runtime::translate::HostBlock;
use std::collections::HashMap;

/// The body of a block whose only instruction was an elided jump.
const NOP: u8 = 0x90;

pub struct Layout {
    pub text: Vec<u8>,
    /// Guest block start -> offset of its body in `text`.
    pub offsets: HashMap<u32, u32>,
    /// Guest block start -> length of its body as placed.
    pub sizes: HashMap<u32, u32>,
    /// Bytes of block bodies (the hot part).
    pub hot_len: usize,
    /// Final jumps elided.
    pub elided: usize,
    /// Blocks whose body is only the placeholder `nop`.
    pub nops: usize,
}

/// Does block `b` end with a `jmp rel32` exit to `next`? (Its index in exits.)
fn falls_into(b: &HostBlock, next: Option<u32>) -> Option<usize> {
    let next = next?;
    let end = b.body_len as usize;
    if end < 5 || b.code[end - 5] != 0xe9 {
        return None;
    }
    b.exits
        .iter()
        .position(|e| e.rel32_at as usize == end - 4 && e.target == next)
}

/// Lay out `blocks` (sorted by guest address).
pub fn layout(blocks: &[HostBlock]) -> Layout {
    let mut text = Vec::new();
    let mut offsets = HashMap::with_capacity(blocks.len());
    let mut sizes = HashMap::with_capacity(blocks.len());
    let mut elide: Vec<Option<usize>> = Vec::with_capacity(blocks.len());
    let mut nops = 0;
    for (k, b) in blocks.iter().enumerate() {
        let e = falls_into(b, blocks.get(k + 1).map(|n| n.guest_start));
        let len = b.body_len as usize - if e.is_some() { 5 } else { 0 };
        offsets.insert(b.guest_start, text.len() as u32);
        text.extend_from_slice(&b.code[..len]);
        if len == 0 {
            text.push(NOP);
            nops += 1;
        }
        sizes.insert(b.guest_start, len.max(1) as u32);
        elide.push(e);
    }
    let hot_len = text.len();
    let mut cold = Vec::with_capacity(blocks.len());
    for b in blocks {
        cold.push(text.len() as u32);
        // (Inline-cache records, after the trampolines, go to a writable
        // section: `emit`.)
        text.extend_from_slice(&b.code[b.body_len as usize..b.ic_records_at as usize]);
    }
    for (k, b) in blocks.iter().enumerate() {
        let base = offsets[&b.guest_start];
        for (x, e) in b.exits.iter().enumerate() {
            if elide[k] == Some(x) {
                continue;
            }
            let old = e.rel32_at as usize;
            let old_rel = i32::from_le_bytes(b.code[old..old + 4].try_into().expect("rel32"));
            let tramp = (old as i64 + 4 + old_rel as i64) as u32 - b.body_len + cold[k];
            let to = offsets.get(&e.target).copied().unwrap_or(tramp);
            let field = (base + e.rel32_at) as usize;
            let rel = to as i64 - (field as i64 + 4);
            text[field..field + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
    }
    let elided = elide.iter().filter(|e| e.is_some()).count();
    Layout {
        text,
        offsets,
        sizes,
        hot_len,
        elided,
        nops,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rehost_runtime::translate::{translate_block, CodeSource, Options};

    /// Guest code at 0x1000.
    struct Bytes(&'static [u8]);

    impl CodeSource for Bytes {
        fn read(&self, addr: u32, buf: &mut [u8]) -> usize {
            let off = addr.wrapping_sub(0x1000) as usize;
            let src = self.0.get(off..).unwrap_or(&[]);
            let n = src.len().min(buf.len());
            buf[..n].copy_from_slice(&src[..n]);
            n
        }
    }

    fn blocks(code: &'static [u8], starts: &[u32]) -> Vec<HostBlock> {
        let stop = |a: u32| starts.contains(&a);
        starts
            .iter()
            .map(|&s| translate_block(&Bytes(code), s, &stop, Options::default()))
            .collect()
    }

    #[test]
    fn a_jump_to_the_next_body_keeps_a_distinct_entry() {
        // 0x1000: jmp 0x1004 (over two padding bytes); 0x1004: inc eax; ret
        let code: &[u8] = &[0xeb, 0x02, 0xcc, 0xcc, 0x40, 0xc3];
        let l = layout(&blocks(code, &[0x1000, 0x1004]));
        assert_eq!(l.elided, 1);
        assert_eq!(l.nops, 1);
        assert_eq!(l.offsets[&0x1000], 0);
        assert_eq!(l.sizes[&0x1000], 1);
        assert_eq!(l.text[0], NOP);
        assert_eq!(l.offsets[&0x1004], 1);
    }

    #[test]
    fn a_fall_through_into_the_next_block_is_elided() {
        // 0x1000: inc eax (split: 0x1001 is a block start); 0x1001: ret
        let code: &[u8] = &[0x40, 0xc3];
        let b = blocks(code, &[0x1000, 0x1001]);
        let l = layout(&b);
        assert_eq!(l.elided, 1);
        assert_eq!(l.sizes[&0x1000], b[0].body_len - 5);
        assert_eq!(l.offsets[&0x1001], b[0].body_len - 5);
    }
}
