//! rehost-fuzz: differential conformance fuzzing of rehost against the CPU.
//!
//! ```text
//! table     which iced Codes exist for i386 user code; which are generated, why not
//! gen       random cases: initial state + items (set-up + one subject instruction)
//!   operands  generic operands from iced's operand kinds (memory always in the window)
//!   memop     memory operands: an address in the window, a random form reaching it
//!   special   instructions that need operand values (div, enter, popf, strings, ...)
//!   flow      branches to the next instruction, indirect jmp/call, ret; sreg loads
//!   fault     the faulting last item of 1 case in 64 (same signal expected)
//!   sim       validity: addresses, esp, undefined flags (also masks the compare)
//! program   an i386 ELF running many cases, one output record per case
//! exec      native / `rehost translate` / `rehost run` (under no-ia32)
//! batch     per-case outcomes, crash isolation
//! compare   native vs translated state, undefined flags and FPU IP/DP masked
//! shrink    minimal failing sequence + listing
//! driver    the loop; regress: regression files, known failures; coverage: the table
//! ```
//!
//! The CPU is the oracle: the host runs i386 code natively, so the native
//! run of a case is its expected result.

pub mod batch;
pub mod compare;
pub mod coverage;
pub mod driver;
pub mod exec;
pub mod fault;
pub mod flow;
pub mod gather;
pub mod gen;
pub mod layout;
pub mod memop;
pub mod operands;
pub mod probe;
pub mod program;
pub mod regress;
pub mod rng;
pub mod shrink;
pub mod sim;
pub mod special;
pub mod state;
pub mod table;
pub mod unsupported;

use std::path::PathBuf;

/// The `fuzz/` directory (regressions, known failures, coverage table).
pub fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
