//! The contract between translated code and the runtime, in one place.
//!
//! Every translated block (ahead-of-time or run-time) and every hand-written
//! stub in `stubs` relies on exactly what this module states; change it here
//! and nowhere else.
//!
//! Register assignment while guest code runs:
//!
//! | host          | holds                                                     |
//! |---------------|-----------------------------------------------------------|
//! | eax..edi      | guest eax..edi (upper 32 bits zero)                       |
//! | rsp           | guest esp (upper 32 bits zero): the guest stack *is* rsp  |
//! | rflags        | guest EFLAGS                                              |
//! | x87/MMX/xmm0-7| guest FPU/MMX/SSE state                                   |
//! | r15           | `*mut Context` of the running guest thread (pinned)       |
//! | r14           | map table level-1 base (pinned, see `dispatch`)           |
//! | r13           | guest FS base (pinned, reloaded when it changes)          |
//! | r12           | guest GS base (pinned, reloaded when it changes)          |
//! | r8-r11        | scratch, dead at every guest instruction boundary         |
//!
//! Guest esp lives in rsp (DESIGN.md leaves this as a measured choice): every
//! `[esp+d]` operand is copied unchanged, and host code never runs on the
//! guest stack because every exit switches to the host stack in
//! `Context::host_rsp` first.
//!
//! Exits from translated code, all through `jmp` (translated code never `call`s):
//!
//! * **map lookup** (indirect jumps, returns, untranslated direct targets):
//!   `r11d` = guest target; the flagless lookup sequence of
//!   `translate::lower::emit_lookup` jumps to the host code, or to
//!   `rehost_stub_miss` which enters the emulation manager with r11d.
//! * **runtime call** (system calls, emulated instructions, segment loads):
//!   `r9d` = guest EIP of the instruction, `r10d` = [`Reason`] | (argument << 8),
//!   `r11` = host address to resume at; `jmp [r15 + CTX_STUB_CALL]`. The
//!   runtime may redirect by returning another host address.
//!
//! Both stubs save the whole guest state into the `Context` (so the runtime
//! reads and writes guest registers there), switch to the host stack, clear
//! DF, give host code default MXCSR/x87 control words, and restore it all on
//! the way back. The guest FPU state is saved with XSAVE (all enabled
//! components, so AVX upper halves survive host code) where the CPU has
//! it, FXSAVE64 otherwise.

/// Number of guest general registers.
pub const NREGS: usize = 8;

/// Guest register indices, in the i386 encoding order (also iced's order).
pub mod reg {
    pub const EAX: usize = 0;
    pub const ECX: usize = 1;
    pub const EDX: usize = 2;
    pub const EBX: usize = 3;
    pub const ESP: usize = 4;
    pub const EBP: usize = 5;
    pub const ESI: usize = 6;
    pub const EDI: usize = 7;
}

/// Why translated code called into the runtime (low byte of r10).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// `int 0x80`: the guest made a system call.
    Syscall = 1,
    /// An instruction the runtime emulates (argument: `emulate::Op`).
    Emulate = 2,
    /// `mov sreg, r/m` / `pop sreg`: argument = segment register index,
    /// the new selector is in `Context::scratch`.
    LoadSegment = 3,
    /// A block entered while `REHOST_LOG=blocks` is on (argument: 1 = static).
    TraceBlock = 4,
    /// Bytes that do not decode, or a privileged/unsupported instruction.
    IllegalInstruction = 5,
    /// An inline-cache site (`translate::ic`) missed while learning: the
    /// guest target is in `Context::eip` (as for a map miss), the site's
    /// `IcRecord` address in `Context::scratch`.
    IcMiss = 6,
}

impl Reason {
    pub fn from_u8(v: u8) -> Option<Reason> {
        Some(match v {
            1 => Reason::Syscall,
            2 => Reason::Emulate,
            3 => Reason::LoadSegment,
            4 => Reason::TraceBlock,
            5 => Reason::IllegalInstruction,
            6 => Reason::IcMiss,
            _ => return None,
        })
    }
}

/// One i386 TLS descriptor slot (GDT entries 12..14 on an x86-64 kernel).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TlsEntry {
    pub base: u32,
    pub limit: u32,
    pub flags: u32,
    pub used: u32,
}

/// First GDT entry usable for TLS, as an x86-64 kernel reports to ia32 tasks.
pub const GDT_ENTRY_TLS_MIN: u32 = 12;
pub const GDT_ENTRY_TLS_ENTRIES: usize = 3;

/// Segment register indices (iced / i386 order: es cs ss ds fs gs).
pub mod seg {
    pub const ES: usize = 0;
    pub const CS: usize = 1;
    pub const SS: usize = 2;
    pub const DS: usize = 3;
    pub const FS: usize = 4;
    pub const GS: usize = 5;
}

/// Per-guest-thread state. `#[repr(C)]`: offsets below are used by the
/// stubs and by generated code; `const` asserts pin them.
#[repr(C, align(64))]
pub struct Context {
    /// Guest eax..edi (esp included), zero-extended.
    pub gpr: [u64; NREGS], // 0x00
    /// Guest EFLAGS as saved by pushfq.
    pub eflags: u64, // 0x40
    /// Guest EIP of the instruction that exited (runtime call) or the guest
    /// target (map miss).
    pub eip: u64, // 0x48
    /// Host stack pointer the stubs switch to (16-byte aligned).
    pub host_rsp: u64, // 0x50
    /// Host address to resume at after a runtime call.
    pub resume: u64, // 0x58
    /// Reason | argument << 8 of the last runtime call.
    pub reason: u64, // 0x60
    /// Guest GS base (loaded into r12).
    pub gs_base: u64, // 0x68
    /// Guest FS base (loaded into r13).
    pub fs_base: u64, // 0x70
    /// Map table level-1 base (loaded into r14).
    pub map_l1: u64, // 0x78
    /// Address of `rehost_stub_call`.
    pub stub_call: u64, // 0x80
    /// Address of `rehost_stub_miss`.
    pub stub_miss: u64, // 0x88
    /// A value passed with a runtime call (segment selector, ...).
    pub scratch: u64, // 0x90
    /// Guest segment selectors (es cs ss ds fs gs), as the guest reads them.
    pub sel: [u16; 6], // 0x98
    pub _pad0: [u16; 2], // 0xa4
    /// i386 TLS descriptors set by `set_thread_area`.
    pub tls: [TlsEntry; GDT_ENTRY_TLS_ENTRIES], // 0xa8
    pub _pad1: [u8; 0x100 - 0xd8], // 0xd8
    /// XSAVE (or FXSAVE64 where the CPU has no XSAVE) image of the guest
    /// x87/MMX/SSE/AVX state while the runtime runs; its first 512 bytes
    /// are the FXSAVE layout either way.
    pub fpu: [u8; FPU_AREA], // 0x100
    /// Host MXCSR/x87 defaults loaded before running host code.
    pub host_mxcsr: u32, // 0x1100
    pub host_fcw: u16,   // 0x1104
    pub _pad2: u16,
}

pub const CTX_GPR: usize = 0x00;
pub const CTX_EFLAGS: usize = 0x40;
pub const CTX_EIP: usize = 0x48;
pub const CTX_HOST_RSP: usize = 0x50;
pub const CTX_RESUME: usize = 0x58;
pub const CTX_REASON: usize = 0x60;
pub const CTX_GS_BASE: usize = 0x68;
pub const CTX_FS_BASE: usize = 0x70;
pub const CTX_MAP_L1: usize = 0x78;
pub const CTX_STUB_CALL: usize = 0x80;
pub const CTX_STUB_MISS: usize = 0x88;
pub const CTX_SCRATCH: usize = 0x90;
pub const CTX_SEL: usize = 0x98;
pub const CTX_FPU: usize = 0x100;
/// Room for the XSAVE image (x87, SSE, AVX, AVX-512 need 2.7 KiB).
pub const FPU_AREA: usize = 4096;
pub const CTX_HOST_MXCSR: usize = 0x1100;
pub const CTX_HOST_FCW: usize = 0x1104;

const _: () = {
    assert!(std::mem::offset_of!(Context, gpr) == CTX_GPR);
    assert!(std::mem::offset_of!(Context, eflags) == CTX_EFLAGS);
    assert!(std::mem::offset_of!(Context, eip) == CTX_EIP);
    assert!(std::mem::offset_of!(Context, host_rsp) == CTX_HOST_RSP);
    assert!(std::mem::offset_of!(Context, resume) == CTX_RESUME);
    assert!(std::mem::offset_of!(Context, reason) == CTX_REASON);
    assert!(std::mem::offset_of!(Context, gs_base) == CTX_GS_BASE);
    assert!(std::mem::offset_of!(Context, fs_base) == CTX_FS_BASE);
    assert!(std::mem::offset_of!(Context, map_l1) == CTX_MAP_L1);
    assert!(std::mem::offset_of!(Context, stub_call) == CTX_STUB_CALL);
    assert!(std::mem::offset_of!(Context, stub_miss) == CTX_STUB_MISS);
    assert!(std::mem::offset_of!(Context, scratch) == CTX_SCRATCH);
    assert!(std::mem::offset_of!(Context, sel) == CTX_SEL);
    assert!(std::mem::offset_of!(Context, fpu) == CTX_FPU);
    assert!(std::mem::offset_of!(Context, host_mxcsr) == CTX_HOST_MXCSR);
    assert!(std::mem::offset_of!(Context, host_fcw) == CTX_HOST_FCW);
};

/// i386 selector values a guest reads from its segment registers
/// (Linux on an x86-64 kernel: __USER32_CS = 0x23, __USER32_DS = 0x2b).
pub const SEL_CS: u16 = 0x23;
pub const SEL_DS: u16 = 0x2b;

impl Context {
    /// A fresh context with i386 selectors and empty TLS.
    pub fn new() -> Box<Context> {
        // SAFETY: Context is plain old data; all-zero is a valid value.
        let mut c: Box<Context> = unsafe { Box::new(std::mem::zeroed()) };
        c.sel = [SEL_DS, SEL_CS, SEL_DS, SEL_DS, 0, 0];
        c.eflags = 0x202;
        c.host_mxcsr = 0x1f80;
        c.host_fcw = 0x37f;
        // A default FXSAVE image: FCW 0x37f, MXCSR 0x1f80, empty x87 stack.
        c.fpu[0..2].copy_from_slice(&0x37fu16.to_le_bytes());
        c.fpu[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        c.fpu[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
        // XSAVE header (bytes 512..576) all zero: every component in its
        // initial state, except MXCSR, which XRSTOR takes from above.
        c
    }

    pub fn reg(&self, r: usize) -> u32 {
        self.gpr[r] as u32
    }

    pub fn set_reg(&mut self, r: usize, v: u32) {
        self.gpr[r] = v as u64;
    }
}

/// Segment descriptor of the guest image handed to the runtime by a
/// translated executable (`emit` writes it, `loader` reads it).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RawSegment {
    pub vaddr: u32,
    pub memsz: u32,
    pub filesz: u32,
    /// PF_R=4 | PF_W=2 | PF_X=1
    pub flags: u32,
    /// Offset of the segment's bytes inside the image blob.
    pub offset: u64,
}

/// Everything a translated executable tells its runtime. `emit` writes it
/// as data in the output object; `main` passes its address to
/// `rehost_aot_main`.
#[repr(C)]
pub struct AotDescriptor {
    pub magic: u64,
    pub version: u64,
    pub entry: u32,
    pub phdr: u32,
    pub phnum: u32,
    pub nseg: u32,
    pub segments: *const RawSegment,
    pub image: *const u8,
    pub image_len: u64,
    /// `nblocks` triples (guest address, offset of host code from `text`,
    /// guest bytes covered).
    pub blocks: *const [u32; 3],
    pub nblocks: u64,
    pub text: *const u8,
    pub text_len: u64,
    /// Guest program path recorded at translation time (NUL-terminated).
    pub guest_name: *const u8,
    /// End of the highest segment (initial program break).
    pub brk: u32,
    pub _pad: u32,
    /// `nblocks` bytes, one per block of `blocks`: set to 1 by the block's
    /// first instruction when it runs (REHOST_STATS).
    pub executed: *const u8,
    /// The static blocks' inline-cache records (`rehost translate
    /// --inline-caches`), `nic` of them, in a writable section; null and 0
    /// otherwise.
    pub ic_records: *mut IcRecord,
    pub nic: u64,
}

pub const AOT_MAGIC: u64 = 0x5453_4f48_4552_0001; // "\x01\0REHOST" little-endian-ish
pub const AOT_VERSION: u64 = 4;
pub const AOT_DESCRIPTOR_SIZE: usize = std::mem::size_of::<AotDescriptor>();

/// One indirect-jump site's inline cache (`translate::ic`, REHOST_IC=1),
/// 64 bytes, 64-aligned (one cache line), right after its block's code in
/// the code cache. Translated code reads it; only the runtime writes it,
/// under the JIT lock.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug)]
pub struct IcRecord {
    /// The cached targets, most frequent first: low half `0 - guest`, high
    /// half an index into the host-address table (`IcRecord::hosts`).
    /// Each entry is one aligned 8-byte word, replaced by one store, so a
    /// thread running the site sees the old or the new pair, never a mix.
    /// Empty = 0: matches only guest address 0, whose host entry (index 0)
    /// is the map-miss stub.
    pub entry: [u64; 2], // 0
    /// Misses still sent to the runtime to learn the site's targets.
    pub budget: u32, // 16
    /// Guest address of the indirect jump or call.
    pub site: u32, // 20
    /// Hits per level (counted only by code translated under REHOST_STATS).
    pub hits: [u64; 2], // 24
    /// Map-table lookups after both levels missed (same condition).
    pub lookups: u64, // 40
    /// Times the site's cache was filled.
    pub fills: u64, // 48
    /// The host-address table (append-only, never moves).
    pub hosts: u64, // 56
}

pub const IC_ENTRY: usize = 0;
pub const IC_BUDGET: usize = 16;
pub const IC_HITS: usize = 24;
pub const IC_LOOKUPS: usize = 40;
pub const IC_HOSTS: usize = 56;
pub const IC_RECORD_SIZE: usize = 64;
/// Misses a site sends to the runtime before its cache is filled.
pub const IC_LEARN: u32 = 32;

const _: () = {
    assert!(std::mem::size_of::<IcRecord>() == IC_RECORD_SIZE);
    assert!(std::mem::offset_of!(IcRecord, entry) == IC_ENTRY);
    assert!(std::mem::offset_of!(IcRecord, budget) == IC_BUDGET);
    assert!(std::mem::offset_of!(IcRecord, hits) == IC_HITS);
    assert!(std::mem::offset_of!(IcRecord, lookups) == IC_LOOKUPS);
    assert!(std::mem::offset_of!(IcRecord, hosts) == IC_HOSTS);
};
