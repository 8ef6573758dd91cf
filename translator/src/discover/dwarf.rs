//! Bounds-checked reading of the DWARF exception-handling encodings (LEB128,
//! `DW_EH_PE_*` pointers) over guest bytes, for `eh_frame` and `lsda`.
//!
//! Invariant: speculative and total. Every read returns `None` instead of
//! panicking on truncated or corrupt bytes, and address arithmetic wraps;
//! a wrong value only costs the static pass a useless seed.

use crate::elf::GuestElf;

/// `DW_EH_PE_omit`: no value present.
pub const OMIT: u8 = 0xff;

/// A read position in guest bytes whose first byte lives at guest address `base`.
#[derive(Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u32,
}

impl<'a> Cursor<'a> {
    /// Read `data` (at guest address `base`) from offset `pos`.
    pub fn new(data: &'a [u8], base: u32, pos: usize) -> Self {
        Cursor { data, pos, base }
    }

    /// From guest address `addr` to the end of its segment's file data.
    pub fn at(elf: &'a GuestElf, addr: u32) -> Option<Self> {
        let s = elf.segment_of(addr)?;
        let off = (addr - s.vaddr) as usize;
        (off < s.data.len()).then(|| Cursor::new(&s.data[off..], addr, 0))
    }

    /// Guest address of the next byte.
    pub fn addr(&self) -> u32 {
        self.base.wrapping_add(self.pos as u32)
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }

    /// The next `n` bytes as their own cursor (same addresses); skips them here.
    pub fn sub(&mut self, n: usize) -> Option<Cursor<'a>> {
        let end = self.pos.checked_add(n)?;
        let c = Cursor::new(self.data.get(..end)?, self.base, self.pos);
        self.pos = end;
        Some(c)
    }

    pub fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(2)?.try_into().ok()?))
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    pub fn uleb(&mut self) -> Option<u64> {
        let (mut v, mut shift) = (0u64, 0u32);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            shift = shift.saturating_add(7);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
    }

    pub fn sleb(&mut self) -> Option<i64> {
        let (mut v, mut shift) = (0i64, 0u32);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= i64::from(b & 0x7f) << shift;
            }
            shift = shift.saturating_add(7);
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
        }
    }

    /// A NUL-terminated string (without the NUL).
    pub fn cstr(&mut self) -> Option<&'a [u8]> {
        let rest = self.data.get(self.pos..)?;
        let n = rest.iter().position(|&c| c == 0)?;
        self.pos += n + 1;
        Some(&rest[..n])
    }
}

/// The value part (low nibble) of encoding `enc`, raw: no base applied.
pub fn value(c: &mut Cursor, enc: u8) -> Option<u32> {
    Some(match enc & 0x0f {
        0x00 | 0x03 | 0x0b => c.u32()?,
        0x01 => c.uleb()? as u32,
        0x02 => u32::from(c.u16()?),
        0x04 | 0x0c => c.u64()? as u32,
        0x09 => c.sleb()? as u32,
        0x0a => c.u16()? as i16 as u32,
        _ => return None,
    })
}

/// What relative encodings are relative to.
#[derive(Clone, Copy, Default)]
pub struct Bases {
    /// `DW_EH_PE_datarel` base (the `.eh_frame_hdr` start there; unknown elsewhere).
    pub data: Option<u32>,
}

/// A guest address encoded with `enc` (biased): `absptr` values get the load
/// bias, `pcrel` is relative to the field, `indirect` reads the pointer slot.
/// A raw 0 stays 0 (libgcc's rule: a null pointer is not relocated).
pub fn pointer(c: &mut Cursor, enc: u8, elf: &GuestElf, bases: Bases) -> Option<u32> {
    if enc == OMIT {
        return None;
    }
    let field = c.addr();
    let raw = value(c, enc)?;
    if raw == 0 {
        return Some(0);
    }
    let v = match enc & 0x70 {
        0x00 => raw.wrapping_add(elf.load_bias),
        0x10 => raw.wrapping_add(field),
        0x30 => raw.wrapping_add(bases.data?),
        _ => return None,
    };
    if enc & 0x80 == 0 {
        return Some(v);
    }
    let slot = elf.read(v, 4)?;
    Some(u32::from_le_bytes(slot.try_into().ok()?).wrapping_add(elf.load_bias))
}
