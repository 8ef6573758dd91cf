/* asm_misc: i386 instructions that do not exist or mean something else in
 * 64-bit mode: BCD adjust (daa das aaa aas aam aad), salc, opcode 0x82, into,
 * bound, short inc/dec (0x40-0x4f), segment register reads, lahf/sahf, xlat,
 * cmpxchg8b, push esp / pop [esp+4] / push [esp] semantics, ret imm16,
 * 16-bit addressing (addr16 lea, jcxz), plus shld/shrd, bsf/bsr, adc/sbb,
 * widening mul/div and operand-size-prefixed arithmetic. */
#include <stdint.h>
#include <stdio.h>

int pushesp_test(void);
int popmem_test(void);
int pushmem_test(void);
int cmpxchg8b_test(uint64_t *mem, uint64_t expect, uint64_t newval);

__asm__(".text\n"
        ".globl pushesp_test\n"
        "pushesp_test:\n"
        "  movl %esp, %ecx\n"
        "  pushl %esp\n"
        "  popl %eax\n"
        "  subl %ecx, %eax\n" /* 0: push esp pushes the value before the push */
        "  ret\n"
        ".globl popmem_test\n"
        "popmem_test:\n"
        "  subl $12, %esp\n"
        "  movl $0, 0(%esp)\n"
        "  movl $0, 4(%esp)\n"
        "  movl $0, 8(%esp)\n"
        "  pushl $0x1234\n"
        "  popl 4(%esp)\n" /* address uses esp after the pop */
        "  xorl %eax, %eax\n"
        "  cmpl $0x1234, 4(%esp)\n"
        "  sete %al\n"
        "  cmpl $0, 0(%esp)\n"
        "  sete %cl\n"
        "  movzbl %cl, %ecx\n"
        "  leal (%eax,%ecx,2), %eax\n" /* 3 when right */
        "  addl $12, %esp\n"
        "  ret\n"
        ".globl pushmem_test\n"
        "pushmem_test:\n"
        "  pushl $5\n"
        "  pushl (%esp)\n" /* reads before esp moves */
        "  pushl 4(%esp)\n"
        "  popl %eax\n"
        "  popl %ecx\n"
        "  popl %edx\n"
        "  leal (%eax,%ecx,4), %eax\n"
        "  leal (%eax,%edx,8), %eax\n" /* 5 + 20 + 40 = 65 */
        "  ret\n"
        ".globl cmpxchg8b_test\n"
        "cmpxchg8b_test:\n"
        "  pushl %ebx\n"
        "  pushl %esi\n"
        "  movl 12(%esp), %esi\n"
        "  movl 16(%esp), %eax\n"
        "  movl 20(%esp), %edx\n"
        "  movl 24(%esp), %ebx\n"
        "  movl 28(%esp), %ecx\n"
        "  lock cmpxchg8b (%esi)\n"
        "  sete %cl\n"
        "  movzbl %cl, %eax\n"
        "  popl %esi\n"
        "  popl %ebx\n"
        "  ret\n");

static __attribute__((noinline, stdcall)) int std_call(int a, int b, int c) { return a * 100 + b * 10 + c; }
static __attribute__((noinline, fastcall)) int fast_call(int a, int b, int c) { return a - b - c; }
static __attribute__((noinline, regparm(3))) int reg_call(int a, int b, int c) { return a ^ b ^ c; }

static void bcd(void)
{
    uint32_t r;
    uint8_t cf;
    __asm__ volatile("movl $0x19, %%eax\n\taddb $0x28, %%al\n\tdaa\n\tsetc %1" : "=a"(r), "=q"(cf)::"cc");
    printf("daa 19+28 = %02x cf %u\n", r & 0xff, cf);
    __asm__ volatile("movl $0x99, %%eax\n\taddb $0x01, %%al\n\tdaa\n\tsetc %1" : "=a"(r), "=q"(cf)::"cc");
    printf("daa 99+01 = %02x cf %u\n", r & 0xff, cf);
    __asm__ volatile("movl $0x42, %%eax\n\tsubb $0x17, %%al\n\tdas\n\tsetc %1" : "=a"(r), "=q"(cf)::"cc");
    printf("das 42-17 = %02x cf %u\n", r & 0xff, cf);
    __asm__ volatile("movl $0x0008, %%eax\n\taddb $0x05, %%al\n\taaa\n\tsetc %1" : "=a"(r), "=q"(cf)::"cc");
    printf("aaa 8+5 = ax %04x cf %u\n", r & 0xffff, cf);
    __asm__ volatile("movl $0x0103, %%eax\n\tsubb $0x05, %%al\n\taas\n\tsetc %1" : "=a"(r), "=q"(cf)::"cc");
    printf("aas 13-5 = ax %04x cf %u\n", r & 0xffff, cf);
    __asm__ volatile("movl $73, %%eax\n\taam" : "=a"(r)::"cc");
    printf("aam 73 = ax %04x\n", r & 0xffff);
    __asm__ volatile("movl $0x0705, %%eax\n\taad" : "=a"(r)::"cc");
    printf("aad 0705 = ax %04x\n", r & 0xffff);
    __asm__ volatile("movl $0x0102, %%eax\n\t.byte 0xd5, 0x10" : "=a"(r)::"cc"); /* aad base 16 */
    printf("aad16 0102 = ax %04x\n", r & 0xffff);
}

static void oddities(void)
{
    uint32_t r;
    __asm__ volatile("movl $0x12345600, %%eax\n\tstc\n\t.byte 0xd6" : "=a"(r)::"cc"); /* salc */
    printf("salc with CF=1: %08x\n", r);
    __asm__ volatile("movl $0x12345600, %%eax\n\tclc\n\t.byte 0xd6" : "=a"(r)::"cc");
    printf("salc with CF=0: %08x\n", r);
    __asm__ volatile("movl $0x100000fe, %%eax\n\t.byte 0x82, 0xc0, 0x05" : "=a"(r)::"cc"); /* add al, 5 */
    printf("opcode 82 add al,5: %08x\n", r);
    __asm__ volatile("movl $1, %%eax\n\taddl $1, %%eax\n\t.byte 0xce" : "=a"(r)::"cc"); /* into, OF=0 */
    printf("into without overflow: %u\n", r);
    static const int32_t range[2] = {-10, 10};
    r = 3;
    __asm__ volatile("boundl %0, %1" : : "r"(r), "m"(range));
    printf("bound in range passed\n");
    uint32_t a = 10, b = 0;
    __asm__ volatile(".byte 0x40\n\t.byte 0x40\n\t.byte 0x48\n\t.byte 0x4b\n\t.byte 0x43\n\t.byte 0x43"
                     : "+a"(a), "+b"(b)::"cc"); /* inc eax x2, dec eax, dec ebx, inc ebx x2 */
    printf("short inc/dec: eax %u ebx %u\n", a, b);
    uint8_t zf;
    a = 1;
    __asm__ volatile(".byte 0x48\n\tsetz %1" : "+a"(a), "=q"(zf)::"cc"); /* dec eax -> 0, ZF */
    printf("dec to zero ZF %u\n", zf);
    uint32_t carry_kept;
    __asm__ volatile("stc\n\tmovl $5, %%eax\n\t.byte 0x40\n\tsetc %%al\n\tmovzbl %%al, %%eax" : "=a"(carry_kept)::"cc");
    printf("inc keeps CF %u\n", carry_kept);
}

static void segments(void)
{
    uint16_t cs, ds, es, ss, fs, gs;
    __asm__ volatile("movw %%cs, %0\n\tmovw %%ds, %1\n\tmovw %%es, %2\n\tmovw %%ss, %3\n\tmovw %%fs, %4\n\tmovw %%gs, %5"
                     : "=r"(cs), "=r"(ds), "=r"(es), "=r"(ss), "=r"(fs), "=r"(gs));
    printf("segments cs %04x ds %04x es %04x ss %04x fs %04x gs %04x\n", cs, ds, es, ss, fs, gs);
    uint32_t g;
    __asm__ volatile("movl %%gs, %0" : "=r"(g));
    printf("movl gs zero-extends: %08x\n", g);
}

static void flags_misc(void)
{
    uint32_t r;
    __asm__ volatile("movl $0xd500, %%eax\n\tsahf\n\tmovl $0, %%eax\n\tlahf" : "=a"(r)::"cc");
    printf("sahf/lahf ah %02x\n", (r >> 8) & 0xd5);
    __asm__ volatile("movl $0x0100, %%eax\n\tsahf\n\tmovl $0, %%eax\n\tadcl $0, %%eax" : "=a"(r)::"cc");
    printf("sahf CF -> adc %u\n", r);
    static const uint8_t table[16] = "0123456789ABCDEF";
    uint32_t out = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t v = 0x12345600u | (uint32_t)((i * 5 + 3) & 15);
        __asm__ volatile("xlat" : "+a"(v) : "b"(table) : "memory");
        out = out << 8 | (v & 0xff);
    }
    printf("xlat %08x\n", out);
    int32_t e;
    __asm__ volatile("movl $0x1234ff80, %%eax\n\tcbw\n\tcwde" : "=a"(e));
    printf("cbw/cwde %d\n", e);
    int32_t lo, hi;
    __asm__ volatile("movl $-5, %%eax\n\tcltd" : "=a"(lo), "=d"(hi));
    printf("cdq %d %d\n", lo, hi);
    uint16_t w;
    __asm__ volatile("movw $0x8000, %%ax\n\tcwtd\n\tmovw %%dx, %%ax" : "=a"(w)::"edx");
    printf("cwd dx %04x\n", w);
}

static void arith(void)
{
    uint32_t lo = 0x89abcdef, hi = 0x01234567;
    uint32_t l = lo, h = hi;
    __asm__ volatile("shldl $8, %1, %0" : "+r"(h) : "r"(l) : "cc");
    printf("shld 8: %08x\n", h);
    uint8_t c = 12;
    l = lo;
    __asm__ volatile("shrdl %%cl, %1, %0" : "+r"(l) : "r"(hi), "c"(c) : "cc");
    printf("shrd cl=12: %08x\n", l);
    uint16_t s16 = 0x1234, t16 = 0xabcd;
    __asm__ volatile("shldw $4, %1, %0" : "+r"(s16) : "r"(t16) : "cc");
    printf("shldw 4: %04x\n", s16);
    uint32_t f, r;
    uint8_t zf;
    __asm__ volatile("bsfl %2, %0\n\tbsrl %2, %1" : "=&r"(f), "=&r"(r) : "r"(0x00f00100u) : "cc");
    printf("bsf %u bsr %u\n", f, r);
    r = 77;
    __asm__ volatile("bsfl %2, %0\n\tsetz %1" : "+r"(r), "=q"(zf) : "r"(0u) : "cc");
    printf("bsf of zero ZF %u\n", zf);
    uint32_t a0 = 0xffffffff, a1 = 0x7fffffff, b0 = 1, b1 = 0;
    __asm__ volatile("addl %2, %0\n\tadcl %3, %1" : "+r"(a0), "+r"(a1) : "r"(b0), "r"(b1) : "cc");
    printf("adc chain %08x %08x\n", a1, a0);
    __asm__ volatile("subl %2, %0\n\tsbbl %3, %1" : "+r"(a0), "+r"(a1) : "r"(2u), "r"(0u) : "cc");
    printf("sbb chain %08x %08x\n", a1, a0);
    uint32_t mlo, mhi;
    __asm__ volatile("mull %3" : "=a"(mlo), "=&d"(mhi) : "a"(0xfedcba98u), "r"(0x76543210u) : "cc");
    printf("mul %08x:%08x\n", mhi, mlo);
    __asm__ volatile("imull %3" : "=a"(mlo), "=&d"(mhi) : "a"(0xfedcba98u), "r"(0x76543210u) : "cc");
    printf("imul %08x:%08x\n", mhi, mlo);
    uint32_t q, rem;
    __asm__ volatile("divl %4" : "=a"(q), "=d"(rem) : "a"(0x12345678u), "d"(0x9u), "r"(0x87654321u) : "cc");
    printf("div q %08x r %08x\n", q, rem);
    int32_t sq, sr;
    __asm__ volatile("cltd\n\tidivl %3" : "=a"(sq), "=&d"(sr) : "a"(-1000007), "r"(37) : "cc");
    printf("idiv q %d r %d\n", sq, sr);
    int32_t i3;
    __asm__ volatile("imull $-12345, %1, %0" : "=r"(i3) : "r"(6789) : "cc");
    printf("imul3 %d\n", i3);
    uint16_t x16 = 0xfff0;
    __asm__ volatile("addw $0x20, %0" : "+r"(x16)::"cc");
    uint8_t x8 = 0xf0;
    __asm__ volatile("addb $0x20, %0" : "+q"(x8)::"cc");
    uint32_t merge = 0x11223344;
    __asm__ volatile("movb $0x99, %%ah" : "+a"(merge));
    printf("16-bit add %04x 8-bit add %02x ah merge %08x\n", x16, x8, merge);
    uint32_t n32 = 5;
    __asm__ volatile("negl %0\n\tnotl %0" : "+r"(n32)::"cc");
    printf("neg/not %u\n", n32);
}

static void addr16(void)
{
    uint32_t r;
    __asm__ volatile("movl $0x1234fff0, %%ebx\n\tmovl $0x20, %%esi\n\taddr16 leal (%%bx,%%si), %%eax"
                     : "=a"(r)::"ebx", "esi");
    printf("addr16 lea wraps: %08x\n", r);
    __asm__ volatile("movl $0xffff0000, %%ecx\n\tmovl $1, %%eax\n\taddr16 jecxz 1f\n\tmovl $2, %%eax\n1:"
                     : "=a"(r)::"ecx", "cc");
    printf("jcxz with cx=0 taken: %u\n", r == 1);
}

int main(void)
{
    bcd();
    oddities();
    segments();
    flags_misc();
    arith();
    addr16();
    printf("push esp delta %d\n", pushesp_test());
    printf("pop [esp+4] checks %d\n", popmem_test());
    printf("push [esp] result %d\n", pushmem_test());
    uint64_t m = 0x1122334455667788ULL;
    int ok = cmpxchg8b_test(&m, 0x1122334455667788ULL, 0xaabbccddeeff0011ULL);
    printf("cmpxchg8b success %d mem %016llx\n", ok, (unsigned long long)m);
    ok = cmpxchg8b_test(&m, 0x1ULL, 0x2ULL);
    printf("cmpxchg8b failure %d mem %016llx\n", !ok, (unsigned long long)m);
    printf("stdcall %d fastcall %d regparm %d\n", std_call(1, 2, 3), fast_call(100, 20, 3), reg_call(0xf0, 0x0f, 0x3c));
    return 0;
}
