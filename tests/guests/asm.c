/* asm: hand-written i386 instructions whose 64-bit meaning differs or which
 * must be rewritten: pushf/popf, cpuid, string ops with DF set and clear,
 * xchg/cmpxchg/xadd, setcc/cmovcc, bt/bts/btr/btc (incl. bit strings in
 * memory), enter/leave (nesting 0, 1, 2), pusha/popa, loop, bswap, and a raw
 * int $0x80 system call. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int enter0_test(int x);
int enter1_test(void);
int enter2_test(void);
void pusha_test(uint32_t out[15]);
uint32_t loop_test(uint32_t n);

__asm__(".text\n"
        ".globl enter0_test\n"
        "enter0_test:\n"
        "  enter $16, $0\n"
        "  movl 8(%ebp), %eax\n"
        "  movl %eax, -4(%ebp)\n"
        "  movl $7, -8(%ebp)\n"
        "  imull -8(%ebp), %eax\n"
        "  addl -4(%ebp), %eax\n"
        "  movl %esp, %ecx\n"
        "  subl %ebp, %ecx\n"
        "  addl %ecx, %eax\n" /* 8x - 16 */
        "  leave\n"
        "  ret\n"
        ".globl enter1_test\n"
        "enter1_test:\n"
        "  enter $8, $1\n"
        "  xorl %eax, %eax\n"
        "  cmpl %ebp, -4(%ebp)\n"
        "  sete %al\n"
        "  movl %esp, %ecx\n"
        "  subl %ebp, %ecx\n"
        "  cmpl $-12, %ecx\n"
        "  sete %cl\n"
        "  movzbl %cl, %ecx\n"
        "  leal (%eax,%ecx,2), %eax\n" /* 3 when right */
        "  leave\n"
        "  ret\n"
        ".globl enter2_test\n"
        "enter2_test:\n"
        "  pushl %ebp\n"
        "  movl %esp, %ebp\n"
        "  pushl $0x5eed1234\n" /* the caller frame's display slot at -4(%ebp) */
        "  enter $4, $2\n"
        "  xorl %eax, %eax\n"
        "  movl (%ebp), %edx\n" /* old ebp */
        "  movl -4(%edx), %ecx\n"
        "  cmpl %ecx, -4(%ebp)\n"
        "  sete %al\n"
        "  cmpl %ebp, -8(%ebp)\n"
        "  sete %cl\n"
        "  movzbl %cl, %ecx\n"
        "  leal (%eax,%ecx,2), %eax\n"
        "  movl %esp, %ecx\n"
        "  subl %ebp, %ecx\n"
        "  cmpl $-12, %ecx\n"
        "  sete %cl\n"
        "  movzbl %cl, %ecx\n"
        "  leal (%eax,%ecx,4), %eax\n" /* 7 when right */
        "  cmpl $0x5eed1234, -4(%ebp)\n"
        "  sete %cl\n"
        "  movzbl %cl, %ecx\n"
        "  leal (%eax,%ecx,8), %eax\n" /* 15 when right */
        "  leave\n"
        "  leave\n"
        "  ret\n"
        ".globl pusha_test\n"
        "pusha_test:\n"
        "  pushl %ebp\n"
        "  pushl %ebx\n"
        "  pushl %esi\n"
        "  pushl %edi\n"
        "  movl 20(%esp), %eax\n"
        "  pushl %eax\n"
        "  movl $0x11111111, %eax\n"
        "  movl $0x22222222, %ecx\n"
        "  movl $0x33333333, %edx\n"
        "  movl $0x44444444, %ebx\n"
        "  movl $0x66666666, %ebp\n"
        "  movl $0x77777777, %esi\n"
        "  movl $0x88888888, %edi\n"
        "  pusha\n"
        "  movl 32(%esp), %eax\n"
        "  movl 0(%esp), %ecx\n  movl %ecx, 0(%eax)\n"
        "  movl 4(%esp), %ecx\n  movl %ecx, 4(%eax)\n"
        "  movl 8(%esp), %ecx\n  movl %ecx, 8(%eax)\n"
        "  leal 32(%esp), %ecx\n  subl 12(%esp), %ecx\n  movl %ecx, 12(%eax)\n"
        "  movl 16(%esp), %ecx\n  movl %ecx, 16(%eax)\n"
        "  movl 20(%esp), %ecx\n  movl %ecx, 20(%eax)\n"
        "  movl 24(%esp), %ecx\n  movl %ecx, 24(%eax)\n"
        "  movl 28(%esp), %ecx\n  movl %ecx, 28(%eax)\n"
        "  movl $0x5a5a5a5a, 12(%esp)\n"
        "  xorl %eax, %eax\n  xorl %ecx, %ecx\n  xorl %edx, %edx\n  xorl %ebx, %ebx\n"
        "  xorl %ebp, %ebp\n  xorl %esi, %esi\n  xorl %edi, %edi\n"
        "  popa\n"
        "  pushl %eax\n"
        "  movl 4(%esp), %eax\n"
        "  movl %ecx, 36(%eax)\n"
        "  movl %edx, 40(%eax)\n"
        "  movl %ebx, 44(%eax)\n"
        "  movl %ebp, 48(%eax)\n"
        "  movl %esi, 52(%eax)\n"
        "  movl %edi, 56(%eax)\n"
        "  popl %ecx\n"
        "  movl %ecx, 32(%eax)\n"
        "  addl $4, %esp\n"
        "  popl %edi\n"
        "  popl %esi\n"
        "  popl %ebx\n"
        "  popl %ebp\n"
        "  ret\n"
        ".globl loop_test\n"
        "loop_test:\n"
        "  movl 4(%esp), %ecx\n"
        "  xorl %eax, %eax\n"
        "  jecxz 2f\n"
        "1:\n"
        "  addl %ecx, %eax\n"
        "  roll $3, %eax\n"
        "  loop 1b\n"
        "2:\n"
        "  ret\n");

static void flags_tests(void)
{
    uint32_t f1, f2, f3, f4;
    __asm__ volatile("stc\n\tpushfl\n\tpopl %0" : "=r"(f1)::"cc");
    __asm__ volatile("clc\n\tpushfl\n\tpopl %0" : "=r"(f2)::"cc");
    __asm__ volatile("std\n\tpushfl\n\tpopl %0\n\tcld" : "=r"(f3)::"cc");
    /* popf sets CF ZF SF OF PF AF from memory; read them back with pushf */
    uint32_t in = 0x8d5 | 0x2; /* OF SF ZF AF PF CF + reserved bit 1 */
    __asm__ volatile("pushl %1\n\tpopfl\n\tpushfl\n\tpopl %0" : "=r"(f4) : "r"(in) : "cc");
    const uint32_t mask = 0x8d5 | 0x400 | 0x2;
    printf("pushf after stc %03x clc %03x std %03x popf/pushf %03x\n", f1 & 0x403, f2 & 0x403, f3 & 0x402, f4 & mask);
    /* the ID flag (bit 21) can be toggled on any CPU with cpuid */
    uint32_t a, b;
    __asm__ volatile("pushfl\n\tpopl %0\n\tmovl %0, %1\n\txorl $0x200000, %1\n\tpushl %1\n\tpopfl\n\t"
                     "pushfl\n\tpopl %1\n\tpushl %0\n\tpopfl"
                     : "=&r"(a), "=&r"(b)::"cc");
    printf("ID flag toggles %d\n", ((a ^ b) & 0x200000) != 0);
    uint8_t zf, cf;
    __asm__ volatile("movl $0xffffffff, %%eax\n\taddl $1, %%eax\n\tsetz %0\n\tsetc %1" : "=q"(zf), "=q"(cf)::"eax", "cc");
    printf("add wrap: ZF %d CF %d\n", zf, cf);
}

static void cpuid_test(void)
{
    uint32_t max, b, c, d;
    __asm__ volatile("cpuid" : "=a"(max), "=b"(b), "=c"(c), "=d"(d) : "a"(0));
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    printf("cpuid leaf 0: vendor non-empty %d, max leaf >= 1 %d\n", strlen(vendor) > 0, max >= 1);
    uint32_t a1, b1, c1, d1;
    __asm__ volatile("cpuid" : "=a"(a1), "=b"(b1), "=c"(c1), "=d"(d1) : "a"(1), "c"(0));
    printf("cpuid leaf 1: has TSC %d, has SSE2 %d\n", (d1 >> 4) & 1, (d1 >> 26) & 1);
}

static void string_tests(void)
{
    char src[17] = "0123456789abcdef";
    char dst[17];
    memset(dst, '.', 16);
    dst[16] = 0;
    const char *s = src + 15;
    char *d = dst + 15;
    uint32_t n = 16;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+S"(s), "+D"(d), "+c"(n)::"memory", "cc");
    printf("rep movsb backward: [%s] esi-src %d edi-dst %d ecx %u\n", dst, (int)(s - src), (int)(d - dst), n);
    memset(dst, '.', 16);
    s = src;
    d = dst;
    n = 10;
    __asm__ volatile("cld\n\trep movsb" : "+S"(s), "+D"(d), "+c"(n)::"memory");
    printf("rep movsb forward: [%s] esi-src %d edi-dst %d\n", dst, (int)(s - src), (int)(d - dst));
    /* overlapping backward copy: shift right by 3 like memmove */
    char buf[32] = "ABCDEFGHIJKLMNOP";
    s = buf + 12;
    d = buf + 15;
    n = 13;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+S"(s), "+D"(d), "+c"(n)::"memory", "cc");
    printf("overlap backward: [%s]\n", buf);
    memset(dst, '.', 16);
    d = dst + 11;
    n = 6;
    __asm__ volatile("std\n\trep stosb\n\tcld" : "+D"(d), "+c"(n) : "a"('x') : "memory", "cc");
    printf("rep stosb backward: [%s] edi-dst %d\n", dst, (int)(d - dst));
    d = dst;
    n = 4;
    __asm__ volatile("cld\n\trep stosb" : "+D"(d), "+c"(n) : "a"('y') : "memory");
    printf("rep stosb forward: [%s] edi-dst %d\n", dst, (int)(d - dst));
    uint32_t words[8] = {0};
    uint32_t *wd = words + 2;
    n = 4;
    __asm__ volatile("cld\n\trep stosl" : "+D"(wd), "+c"(n) : "a"(0xcafef00d) : "memory");
    printf("rep stosl: %08x %08x %08x %08x\n", words[1], words[2], words[5], words[6]);
    const char *str = "find the length";
    const char *p = str;
    n = 0xffffffff;
    __asm__ volatile("cld\n\trepne scasb" : "+D"(p), "+c"(n) : "a"(0) : "memory", "cc");
    printf("repne scasb length %u\n", ~n - 1);
    static const char cmp1[] = "same prefix-A", cmp2[] = "same prefix-B";
    const char *x1 = cmp1, *x2 = cmp2;
    uint8_t eq;
    n = 13;
    __asm__ volatile("cld\n\trepe cmpsb\n\tsete %3" : "+S"(x1), "+D"(x2), "+c"(n), "=q"(eq)::"memory", "cc");
    printf("repe cmpsb consumed %d bytes, ecx %u, ZF %u\n", (int)(x1 - cmp1), n, eq);
    x1 = cmp1;
    x2 = cmp2;
    n = 5;
    __asm__ volatile("cld\n\trepe cmpsb\n\tsete %3" : "+S"(x1), "+D"(x2), "+c"(n), "=q"(eq)::"memory", "cc");
    printf("repe cmpsb (5) consumed %d bytes, ecx %u, ZF %u\n", (int)(x1 - cmp1), n, eq);
    uint8_t lodsum = 0;
    const char *l = "\x01\x02\x03\x04\x05";
    for (int i = 0; i < 5; i++) {
        uint8_t v;
        __asm__ volatile("cld\n\tlodsb" : "=a"(v), "+S"(l)::"memory");
        lodsum += v;
    }
    printf("lodsb sum %u\n", lodsum);
}

static void atomic_tests(void)
{
    uint32_t a = 5, m = 9;
    __asm__ volatile("xchgl %0, %1" : "+r"(a), "+m"(m));
    printf("xchg: a %u m %u\n", a, m);
    uint32_t r1 = 3, r2 = 4;
    __asm__ volatile("xchgl %0, %1" : "+r"(r1), "+r"(r2));
    printf("xchg regs: %u %u\n", r1, r2);
    uint32_t mem = 100, expect = 100;
    uint8_t ok;
    __asm__ volatile("lock cmpxchgl %3, %1\n\tsete %2" : "+a"(expect), "+m"(mem), "=q"(ok) : "r"(200u) : "cc");
    printf("cmpxchg success %u mem %u eax %u\n", ok, mem, expect);
    expect = 5;
    __asm__ volatile("lock cmpxchgl %3, %1\n\tsete %2" : "+a"(expect), "+m"(mem), "=q"(ok) : "r"(300u) : "cc");
    printf("cmpxchg failure %u mem %u eax %u\n", ok, mem, expect);
    uint32_t add = 7;
    __asm__ volatile("lock xaddl %0, %1" : "+r"(add), "+m"(mem)::"cc");
    printf("xadd old %u new %u\n", add, mem);
    uint8_t b8 = 250, a8 = 10;
    __asm__ volatile("xaddb %0, %1" : "+q"(a8), "+m"(b8)::"cc");
    printf("xaddb old %u new %u\n", a8, b8);
    uint16_t w16 = 0x1234, e16 = 0x1234;
    __asm__ volatile("lock cmpxchgw %2, %1" : "+a"(e16), "+m"(w16) : "r"((uint16_t)0xabcd) : "cc");
    printf("cmpxchgw mem %04x\n", w16);
    uint32_t cnt = 0;
    for (int i = 0; i < 1000; i++) __asm__ volatile("lock incl %0" : "+m"(cnt)::"cc");
    __asm__ volatile("lock addl $5, %0\n\tlock subl $2, %0\n\tlock orl $0x10000, %0\n\tlock andl $0x1ffff, %0\n\tlock xorl $1, %0"
                     : "+m"(cnt)::"cc");
    printf("lock arithmetic %u\n", cnt);
}

static void setcc_tests(void)
{
    static const int32_t vals[] = {0, 1, -1, 0x7fffffff, (int32_t)0x80000000, 42};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j += 2) {
            uint8_t o[16];
            __asm__ volatile("cmpl %1, %0\n\t"
                             "seto 0(%2)\n\tsetno 1(%2)\n\tsetb 2(%2)\n\tsetae 3(%2)\n\t"
                             "sete 4(%2)\n\tsetne 5(%2)\n\tsetbe 6(%2)\n\tseta 7(%2)\n\t"
                             "sets 8(%2)\n\tsetns 9(%2)\n\tsetp 10(%2)\n\tsetnp 11(%2)\n\t"
                             "setl 12(%2)\n\tsetge 13(%2)\n\tsetle 14(%2)\n\tsetg 15(%2)"
                             :
                             : "r"(vals[i]), "r"(vals[j]), "r"(o)
                             : "memory", "cc");
            printf("cmp %11d,%11d: ", vals[i], vals[j]);
            for (int k = 0; k < 16; k++) putchar('0' + o[k]);
            int32_t lt, ge;
            __asm__("movl $100, %0\n\tmovl $200, %1\n\tcmpl %3, %2\n\tcmovll %4, %0\n\tcmovgel %4, %1"
                    : "=&r"(lt), "=&r"(ge)
                    : "r"(vals[i]), "r"(vals[j]), "r"(-7)
                    : "cc");
            printf(" cmov %d %d\n", lt, ge);
        }
}

static void bit_tests(void)
{
    uint32_t bits[8] = {0x1, 0x80000000, 0, 0x10, 0, 0, 0, 0xffffffff};
    int idx[] = {0, 1, 63, 100, 101, 224, 255, 31};
    for (int i = 0; i < 8; i++) {
        uint8_t c;
        __asm__ volatile("btl %2, %1\n\tsetc %0" : "=q"(c) : "m"(*(const uint32_t(*)[8])bits), "r"(idx[i]) : "cc");
        printf("bt bit %3d = %u\n", idx[i], c);
    }
    uint8_t c1, c2, c3;
    int pos = 70;
    __asm__ volatile("btsl %3, %0\n\tsetc %1\n\tbtrl %3, %0\n\tsetc %2" : "+m"(*(uint32_t(*)[8])bits), "=q"(c1), "=q"(c2) : "r"(pos) : "cc");
    pos = 96;
    __asm__ volatile("btcl %2, %0\n\tsetc %1" : "+m"(*(uint32_t(*)[8])bits), "=q"(c3) : "r"(pos) : "cc");
    printf("bts old %u btr old %u btc old %u words %08x %08x\n", c1, c2, c3, bits[2], bits[3]);
    uint32_t r = 0x00ff00ff;
    uint8_t rc;
    __asm__ volatile("btsl $8, %0\n\tbtrl $0, %0\n\tbtcl $31, %0\n\tbtl $16, %0\n\tsetc %1" : "+r"(r), "=q"(rc)::"cc");
    printf("bt reg %08x cf %u\n", r, rc);
    uint32_t v = 0x12345678;
    __asm__("bswap %0" : "+r"(v));
    printf("bswap %08x\n", v);
}

int main(void)
{
    flags_tests();
    cpuid_test();
    string_tests();
    atomic_tests();
    setcc_tests();
    bit_tests();
    printf("enter0(5) = %d\n", enter0_test(5));
    printf("enter1 checks = %d\n", enter1_test());
    printf("enter2 checks = %d\n", enter2_test());
    uint32_t out[15];
    memset(out, 0, sizeof out);
    pusha_test(out);
    printf("pusha slots:");
    for (int i = 0; i < 8; i++) printf(" %08x", out[i]); /* slot 3: pushed esp - real esp */
    printf("\npopa regs:");
    for (int i = 8; i < 15; i++) printf(" %08x", out[i]);
    printf("\n");
    printf("loop_test(10) = %08x loop_test(0) = %u\n", loop_test(10), loop_test(0));
    fflush(stdout);
    static const char msg[] = "raw int 0x80 write\n";
    int ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(4), "b"(1), "c"(msg), "d"(sizeof msg - 1) : "memory");
    int pid;
    __asm__ volatile("int $0x80" : "=a"(pid) : "a"(20) : "memory");
    printf("int 0x80 write returned %d, getpid matches %d\n", ret, pid == getpid());
    return 0;
}
