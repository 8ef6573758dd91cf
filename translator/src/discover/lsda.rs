//! C++ landing pads from a function's LSDA (`.gcc_except_table`): code that
//! only the unwinder reaches, so no direct jump or call ever leads there.
//!
//! LSDA layout (gcc's): lpstart encoding [+ lpstart], ttype encoding
//! [+ ttype offset], call-site encoding, call-site table length, then
//! entries (start, length, landing pad, action); a landing pad is
//! lpstart + pad offset for every non-zero pad offset.
//!
//! Invariant: speculative. Truncated or corrupt tables end the walk early,
//! never panic; the caller keeps only pads inside some FDE's range.

use super::dwarf::{pointer, value, Bases, Cursor, OMIT};
use crate::elf::GuestElf;

/// Append the landing pads of the LSDA at `lsda` for the function at `func`.
pub fn landing_pads(elf: &GuestElf, func: u32, lsda: u32, out: &mut Vec<u32>) {
    let _ = walk(elf, func, lsda, out);
}

fn walk(elf: &GuestElf, func: u32, lsda: u32, out: &mut Vec<u32>) -> Option<()> {
    let mut c = Cursor::at(elf, lsda)?;
    let lp_enc = c.u8()?;
    let lpstart = match lp_enc {
        OMIT => func,
        enc => pointer(&mut c, enc, elf, Bases::default())?,
    };
    if c.u8()? != OMIT {
        c.uleb()?; // offset of the type table: not needed
    }
    let cs_enc = c.u8()?;
    let cs_len = usize::try_from(c.uleb()?).ok()?;
    let mut cs = c.sub(cs_len)?;
    while cs.remaining() > 0 {
        value(&mut cs, cs_enc)?; // region start
        value(&mut cs, cs_enc)?; // region length
        let pad = value(&mut cs, cs_enc)?;
        cs.uleb()?; // action
        if pad != 0 {
            out.push(lpstart.wrapping_add(pad));
        }
    }
    Some(())
}
