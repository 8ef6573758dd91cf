//! Placing the static blocks in `.text`: bodies back to back in guest
//! address order (the hot part), every exit trampoline after all of them
//! (the cold part), direct exits between static blocks bound to their
//! targets, and a block's final `jmp` elided when its target is the body
//! placed right after it (the fall-through of a jcc or a split block).
//!
//! Invariant: every exit of every block lands either on a static block's
//! first byte or on that exit's own trampoline; trampolines and bodies are
//! position-independent apart from the exits rewritten here (translate::asm).

use rehost_runtime::translate::HostBlock;
use std::collections::HashMap;

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
    for (k, b) in blocks.iter().enumerate() {
        let e = falls_into(b, blocks.get(k + 1).map(|n| n.guest_start));
        let len = b.body_len as usize - if e.is_some() { 5 } else { 0 };
        offsets.insert(b.guest_start, text.len() as u32);
        sizes.insert(b.guest_start, len as u32);
        text.extend_from_slice(&b.code[..len]);
        elide.push(e);
    }
    let hot_len = text.len();
    let mut cold = Vec::with_capacity(blocks.len());
    for b in blocks {
        cold.push(text.len() as u32);
        text.extend_from_slice(&b.code[b.body_len as usize..]);
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
    }
}
