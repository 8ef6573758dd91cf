//! Writes the i386 ELF that runs many cases: a static ET_EXEC with a code
//! segment (headers + harness + case bytes) and a data segment (window,
//! output record, inputs, fxsave images, pool), no libc, exit_group at the
//! end. Each case loads its state, runs its bytes, dumps its state into the
//! record and writes it to stdout (layout and record format in `layout`).
//!
//! The harness uses only plain instructions (`mov`, `rep movsd`, `popad`,
//! `popfd`, `pushfd`, `pushad`, `fxrstor`, `fxsave`, `int 0x80`, and
//! `vinsertf128`/`vextractf128` for the upper ymm halves when the host has
//! AVX), so a translation bug in the harness shows in every case at once.

use crate::layout::*;
use crate::state::Init;
use iced_x86::{Code, Encoder, Instruction, MemoryOperand, Register};

/// One case as the program sees it.
#[derive(Clone, Debug)]
pub struct Spec {
    pub init: Init,
    pub code: Vec<u8>,
}

/// Everything one program holds.
pub struct Program<'a> {
    pub cases: &'a [Spec],
    pub fx: &'a [[u8; 512]],
    pub pool: &'a [u8],
    pub avx: bool,
}

/// Code starts this far into the code segment, after the ELF headers.
pub const CODE_OFF: u32 = 0x100;

fn abs(a: u32) -> MemoryOperand {
    MemoryOperand::new(
        Register::None,
        Register::None,
        1,
        a as i64,
        4,
        false,
        Register::None,
    )
}

struct Asm {
    enc: Encoder,
}

impl Asm {
    fn i(&mut self, ins: Result<Instruction, iced_x86::IcedError>) {
        self.enc.encode(&ins.unwrap(), 0).unwrap();
    }
    fn mov(&mut self, r: Register, v: u32) {
        self.i(Instruction::with2(Code::Mov_r32_imm32, r, v));
    }
    fn op(&mut self, c: Code) {
        self.i(Ok(Instruction::with(c)));
    }
    fn raw(&mut self, b: &[u8]) {
        // Raw bytes go through the encoder's buffer to keep order.
        let mut d = iced_x86::Decoder::new(32, b, 0);
        while d.can_decode() {
            let ins = d.decode();
            self.enc.encode(&ins, 0).unwrap();
        }
    }
    /// esi -> edi, `WIN_SIZE` bytes, forwards.
    fn copy_window(&mut self, from: u32, to: u32) {
        self.op(Code::Cld);
        self.mov(Register::ESI, from);
        self.mov(Register::EDI, to);
        self.mov(Register::ECX, WIN_SIZE / 4);
        self.i(Instruction::with_rep_movsd(32));
    }
}

/// Appends the code of case `k` of `p` to `bytes`.
fn case_code(a: &mut Asm, p: &Program, t: &Tables, k: usize, bytes: &mut Vec<u8>) {
    let s = &p.cases[k];
    a.copy_window(t.pool + s.init.pool_off, WIN);
    a.i(Instruction::with1(
        Code::Fxrstor_m512byte,
        abs(t.fx + s.init.fx * 512),
    ));
    if p.avx {
        for n in 0..8 {
            let y = Register::try_from(Register::YMM0 as usize + n).unwrap();
            let m = abs(WIN + 16 * n as u32);
            a.i(Instruction::with4(
                Code::VEX_Vinsertf128_ymm_ymm_xmmm128_imm8,
                y,
                y,
                m,
                1,
            ));
        }
    }
    a.mov(Register::ESP, IN + k as u32 * IN_SLOT);
    a.op(Code::Popad);
    a.op(Code::Popfd);
    a.mov(Register::ESP, s.init.gprs[4]);
    bytes.extend(a.enc.take_buffer());
    bytes.extend(&s.code);
    a.i(Instruction::with2(
        Code::Mov_rm32_r32,
        abs(OUT + REC_ESP as u32),
        Register::ESP,
    ));
    a.mov(Register::ESP, OUT + REC_ESP as u32);
    a.op(Code::Pushfd);
    a.op(Code::Pushad);
    a.i(Instruction::with1(
        Code::Fxsave_m512byte,
        abs(OUT + REC_FX as u32),
    ));
    if p.avx {
        for n in 0..8 {
            let y = Register::try_from(Register::YMM0 as usize + n).unwrap();
            let m = abs(OUT + REC_YMMH as u32 + 16 * n as u32);
            a.i(Instruction::with3(
                Code::VEX_Vextractf128_xmmm128_ymm_imm8,
                m,
                y,
                1,
            ));
        }
    }
    a.copy_window(WIN, OUT + REC_WIN as u32);
    a.i(Instruction::with2(
        Code::Mov_rm32_imm32,
        abs(OUT + REC_CASE as u32),
        k as u32,
    ));
    a.i(Instruction::with2(
        Code::Mov_rm32_imm32,
        abs(OUT + REC_MAGIC as u32),
        MAGIC,
    ));
    a.mov(Register::EAX, 4); // write
    a.mov(Register::EBX, 1);
    a.mov(Register::ECX, OUT);
    a.mov(Register::EDX, REC_LEN as u32);
    a.raw(&[0xcd, 0x80]);
    bytes.extend(a.enc.take_buffer());
}

pub(crate) fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

/// A static ET_EXEC i386 image: `code` at `CODE_BASE + CODE_OFF` (the
/// entry point), a zeroed rw- data segment of `data_len` bytes at
/// `DATA_BASE`, a non-executable stack. Returns the image and the file
/// offset of the data segment.
pub fn image(code: &[u8], data_len: usize) -> (Vec<u8>, usize) {
    let code_end = CODE_OFF as usize + code.len();
    let data_off = (code_end + 0xfff) & !0xfff;
    let mut f = vec![0u8; data_off + data_len];
    f[..16].copy_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    put16(&mut f, 16, 2); // ET_EXEC
    put16(&mut f, 18, 3); // EM_386
    put32(&mut f, 20, 1);
    put32(&mut f, 24, CODE_BASE + CODE_OFF);
    put32(&mut f, 28, 52); // phoff
    put16(&mut f, 40, 52); // ehsize
    put16(&mut f, 42, 32); // phentsize
    put16(&mut f, 44, 3); // phnum
    let ph = |f: &mut Vec<u8>, n: usize, ty: u32, off: u32, va: u32, sz: u32, flags: u32| {
        let at = 52 + 32 * n;
        for (k, v) in [ty, off, va, va, sz, sz, flags, 0x1000].iter().enumerate() {
            put32(f, at + 4 * k, *v);
        }
    };
    ph(&mut f, 0, 1, 0, CODE_BASE, code_end as u32, 5);
    ph(&mut f, 1, 1, data_off as u32, DATA_BASE, data_len as u32, 6);
    ph(&mut f, 2, 0x6474_e551, 0, 0, 0, 6); // PT_GNU_STACK rw-
    f[CODE_OFF as usize..code_end].copy_from_slice(code);
    (f, data_off)
}

/// The ELF image of `p`.
pub fn elf(p: &Program) -> Vec<u8> {
    assert_eq!(p.fx.len(), FX_COUNT as usize);
    assert_eq!(p.pool.len(), POOL_SIZE as usize);
    let t = Tables::new(p.cases.len());
    let mut a = Asm {
        enc: Encoder::new(32),
    };
    // Entry: sigaltstack, a handler for each fault signal, then
    // read(0, START, 4); case START, directly for case 0 (so the static
    // pass sees every case), else through the jump table.
    a.mov(Register::EAX, 186); // sigaltstack(SIGALT, 0)
    a.mov(Register::EBX, SIGALT);
    a.mov(Register::ECX, 0);
    a.raw(&[0xcd, 0x80]);
    for sig in FAULT_SIGNALS {
        a.mov(Register::EAX, 174); // rt_sigaction(sig, SIGACT, 0, 8)
        a.mov(Register::EBX, sig);
        a.mov(Register::ECX, SIGACT);
        a.mov(Register::EDX, 0);
        a.mov(Register::ESI, 8);
        a.raw(&[0xcd, 0x80]);
    }
    a.mov(Register::EAX, 3);
    a.mov(Register::EBX, 0);
    a.mov(Register::ECX, START);
    a.mov(Register::EDX, 4);
    a.i(Instruction::with1(Code::Int_imm8, 0x80u32));
    a.i(Instruction::with2(
        Code::Mov_r32_rm32,
        Register::EAX,
        abs(START),
    ));
    a.i(Instruction::with2(
        Code::Test_rm32_r32,
        Register::EAX,
        Register::EAX,
    ));
    let mut code = a.enc.take_buffer();
    let stub_len = code.len() as u32 + 2 + 7;
    a.i(Instruction::with_branch(
        Code::Je_rel8_32,
        stub_len as u64 - code.len() as u64,
    ));
    let jt = MemoryOperand::new(
        Register::None,
        Register::EAX,
        4,
        t.jt as i64,
        4,
        false,
        Register::None,
    );
    a.i(Instruction::with1(Code::Jmp_rm32, jt));
    code.extend(a.enc.take_buffer());
    assert_eq!(code.len() as u32, stub_len);
    let mut starts = Vec::new();
    for k in 0..p.cases.len() {
        starts.push(CODE_BASE + CODE_OFF + code.len() as u32);
        case_code(&mut a, p, &t, k, &mut code);
    }
    starts.push(CODE_BASE + CODE_OFF + code.len() as u32);
    a.mov(Register::EAX, 252); // exit_group(0)
    a.mov(Register::EBX, 0);
    a.raw(&[0xcd, 0x80]);
    code.extend(a.enc.take_buffer());
    let handler = CODE_BASE + CODE_OFF + code.len() as u32;
    fault_handler(&mut a);
    code.extend(a.enc.take_buffer());

    let (mut f, data_off) = image(&code, (t.end - DATA_BASE) as usize);
    // Data: inputs, fx images, pool.
    let d = |va: u32| data_off + (va - DATA_BASE) as usize;
    for (k, s) in p.cases.iter().enumerate() {
        let at = d(IN + k as u32 * IN_SLOT);
        for (r, v) in s.init.gprs.iter().enumerate() {
            put32(&mut f, at + 4 * PUSHAD_SLOT[r], *v);
        }
        put32(&mut f, at + 32, s.init.eflags);
    }
    for (k, a) in starts.iter().enumerate() {
        put32(&mut f, d(t.jt) + 4 * k, *a);
    }
    for (n, img) in p.fx.iter().enumerate() {
        let at = d(t.fx) + 512 * n;
        f[at..at + 512].copy_from_slice(img);
    }
    let at = d(t.pool);
    f[at..at + POOL_SIZE as usize].copy_from_slice(p.pool);
    // SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESETHAND: the handler
    // runs on the alternate stack with the default action back in place,
    // so its kill() ends the program with the same signal.
    put32(&mut f, d(SIGACT), handler);
    put32(
        &mut f,
        d(SIGACT) + 4,
        4 | 0x0800_0000 | 0x4000_0000 | 0x8000_0000,
    );
    put32(&mut f, d(SIGALT), t.alt);
    put32(&mut f, d(SIGALT) + 8, ALT_SIZE);
    f
}

/// The fault handler: writes the fault record (signal, EIP from the
/// ucontext, si_code, si_addr), then kill(getpid(), signal).
fn fault_handler(a: &mut Asm) {
    let at = |r: Register, d: i64| MemoryOperand::with_base_displ(r, d);
    let st = |a: &mut Asm, off: u32, r: Register| {
        a.i(Instruction::with2(
            Code::Mov_rm32_r32,
            abs(FAULT_REC + off),
            r,
        ));
    };
    let ld = |a: &mut Asm, r: Register, m: MemoryOperand| {
        a.i(Instruction::with2(Code::Mov_r32_rm32, r, m));
    };
    ld(a, Register::EBX, at(Register::ESP, 4)); // signal, kept for kill
    st(a, 4, Register::EBX);
    ld(a, Register::EAX, at(Register::ESP, 12)); // ucontext
    ld(a, Register::ECX, at(Register::EAX, 76)); // uc_mcontext.eip
    st(a, 8, Register::ECX);
    ld(a, Register::EAX, at(Register::ESP, 8)); // siginfo
    ld(a, Register::ECX, at(Register::EAX, 8)); // si_code
    st(a, 12, Register::ECX);
    ld(a, Register::ECX, at(Register::EAX, 12)); // si_addr
    st(a, 16, Register::ECX);
    a.i(Instruction::with2(
        Code::Mov_rm32_imm32,
        abs(FAULT_REC),
        FAULT_MAGIC,
    ));
    a.mov(Register::EAX, 4); // write(1, FAULT_REC, FAULT_LEN)
    a.mov(Register::ECX, FAULT_REC);
    a.mov(Register::EDX, FAULT_LEN as u32);
    a.i(Instruction::with2(
        Code::Mov_r32_rm32,
        Register::ESI,
        Register::EBX,
    )); // keep sig
    a.mov(Register::EBX, 1);
    a.raw(&[0xcd, 0x80]);
    a.mov(Register::EAX, 20); // getpid
    a.raw(&[0xcd, 0x80]);
    a.i(Instruction::with2(
        Code::Mov_r32_rm32,
        Register::EBX,
        Register::EAX,
    ));
    a.i(Instruction::with2(
        Code::Mov_r32_rm32,
        Register::ECX,
        Register::ESI,
    ));
    a.mov(Register::EAX, 37); // kill(pid, sig)
    a.raw(&[0xcd, 0x80]);
    a.mov(Register::EAX, 252); // exit_group(99): kill did not end it
    a.mov(Register::EBX, 99);
    a.raw(&[0xcd, 0x80]);
}
