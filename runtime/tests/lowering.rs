//! Golden host code: for representative i386 instructions per family, the
//! emitted x86-64 is kept as text in `tests/golden/lowering.txt`, so a change
//! in code quality or meaning shows in review. Regenerate with
//! `REHOST_BLESS=1 cargo test -p rehost-runtime --test lowering`.

use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
use rehost_runtime::translate::{translate_block, CodeSource, Options};

struct Bytes(Vec<u8>, u32);

impl CodeSource for Bytes {
    fn read(&self, addr: u32, buf: &mut [u8]) -> usize {
        let Some(off) = addr.checked_sub(self.1) else {
            return 0;
        };
        let off = off as usize;
        if off >= self.0.len() {
            return 0;
        }
        let n = buf.len().min(self.0.len() - off);
        buf[..n].copy_from_slice(&self.0[off..off + n]);
        n
    }
}

/// (name, i386 bytes) — each a one-instruction block followed by `hlt`-free end.
const CASES: &[(&str, &[u8])] = &[
    ("mov eax,[esp+4]", &[0x8b, 0x44, 0x24, 0x04]),
    ("mov eax,[abs]", &[0xa1, 0x78, 0x56, 0x34, 0x12]),
    ("mov eax,gs:[0x14]", &[0x65, 0xa1, 0x14, 0, 0, 0]),
    ("mov eax,gs:[ecx*4+ebx-8]", &[0x65, 0x8b, 0x44, 0x8b, 0xf8]),
    ("push eax", &[0x50]),
    ("push esp", &[0x54]),
    ("push dword [esp+4]", &[0xff, 0x74, 0x24, 0x04]),
    ("push imm8", &[0x6a, 0xff]),
    ("pop ecx", &[0x59]),
    ("pop esp", &[0x5c]),
    ("pop dword [esp+4]", &[0x8f, 0x44, 0x24, 0x04]),
    ("pushfd", &[0x9c]),
    ("popfd", &[0x9d]),
    ("pushad", &[0x60]),
    ("popad", &[0x61]),
    ("leave", &[0xc9]),
    ("enter 16,0", &[0xc8, 0x10, 0x00, 0x00]),
    ("enter 8,2", &[0xc8, 0x08, 0x00, 0x02]),
    ("inc eax", &[0x40]),
    ("dec edi", &[0x4f]),
    ("int 0x80", &[0xcd, 0x80]),
    ("call rel32", &[0xe8, 0x10, 0x00, 0x00, 0x00]),
    ("call [gs:0x10]", &[0x65, 0xff, 0x15, 0x10, 0, 0, 0]),
    (
        "jmp [eax*4+table]",
        &[0xff, 0x24, 0x85, 0x00, 0x10, 0x00, 0x00],
    ),
    ("ret", &[0xc3]),
    ("ret 8", &[0xc2, 0x08, 0x00]),
    ("jne rel8", &[0x75, 0x10]),
    ("loop rel8", &[0xe2, 0xfe]),
    ("rep movsb", &[0xf3, 0xa4]),
    ("mov eax,gs", &[0x8c, 0xe8]),
    ("mov gs,ax", &[0x8e, 0xe8]),
    ("daa", &[0x27]),
    ("sysenter", &[0x0f, 0x34]),
    ("fnstenv [esp]", &[0xd9, 0x34, 0x24]),
    ("movdqu xmm0,[eax]", &[0xf3, 0x0f, 0x6f, 0x00]),
    ("addr16 lea eax,[bx+si]", &[0x67, 0x8d, 0x00]),
    ("add al,5 (0x82)", &[0x82, 0xc0, 0x05]),
    ("bound eax,[edi+8]", &[0x62, 0x47, 0x08]),
    ("jcxz rel8", &[0x67, 0xe3, 0x10]),
    ("pop ds", &[0x1f]),
    ("xlat gs:[ebx+al]", &[0x65, 0xd7]),
    ("rep movsd gs:[esi]", &[0xf3, 0x65, 0xa5]),
    ("lodsb fs:[esi]", &[0x64, 0xac]),
    ("addr16 lodsb", &[0x67, 0xac]),
    ("addr16 xlat [bx+al]", &[0x67, 0xd7]),
    ("lds eax,[ebx+4]", &[0xc5, 0x43, 0x04]),
    ("les ax,[bx+si]", &[0x66, 0x67, 0xc4, 0x00]),
    ("lfs esi,[esp+8]", &[0x0f, 0xb4, 0x74, 0x24, 0x08]),
    ("lgs edi,gs:[eax]", &[0x65, 0x0f, 0xb5, 0x38]),
    ("lss esp,[eax]", &[0x0f, 0xb2, 0x20]),
    ("lss sp,[eax+2]", &[0x66, 0x0f, 0xb2, 0x60, 0x02]),
];

fn render(name: &str, bytes: &[u8]) -> String {
    const BASE: u32 = 0x0804_9000;
    let src = Bytes(bytes.to_vec(), BASE);
    let b = translate_block(&src, BASE, &|_| false, Options::default());
    let mut out = format!("## {name}\n");
    let mut d = Decoder::with_ip(64, &b.code, 0, DecoderOptions::NONE);
    let mut f = IntelFormatter::new();
    let mut s = String::new();
    for i in &mut d {
        s.clear();
        f.format(&i, &mut s);
        out.push_str(&format!("  {:04x} {s}\n", i.ip()));
    }
    for e in &b.exits {
        out.push_str(&format!("  exit @{:#x} -> {:#x}\n", e.rel32_at, e.target));
    }
    out
}

#[test]
fn golden_lowering() {
    let text: String = CASES.iter().map(|(n, b)| render(n, b)).collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/lowering.txt");
    if std::env::var_os("REHOST_BLESS").is_some() {
        std::fs::write(path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(path).expect("golden file missing: run with REHOST_BLESS=1");
    if want != text {
        let first = want
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "lowering changed at line {}:\n want: {}\n got:  {}\n(re-bless with REHOST_BLESS=1 if intended)",
            first + 1,
            want.lines().nth(first).unwrap_or(""),
            text.lines().nth(first).unwrap_or("")
        );
    }
}
