/* jit: code generated at run time, and code changed after it has run.
 * Every step calls code at an address where different code ran before, so
 * a translation cache that is not invalidated gives the old results:
 *  1. an RWX page: `mov eax, imm32; ret`, then the immediate rewritten
 *     (once, then in a loop), then other functions of other lengths at the
 *     same address, then only a loop body (a block not at the entry);
 *  2. code that rewrites its own immediate (`inc dword [imm_addr]`);
 *  3. a caller and a callee on different pages, linked by `call rel32`;
 *     only the callee is rewritten (a chained exit must be unlinked), and an
 *     instruction that straddles the page boundary has its tail rewritten;
 *  4. W^X: map RW, write, mprotect RX, call; mprotect RW, rewrite, RX again;
 *  5. munmap + mmap MAP_FIXED at the same address, and MAP_FIXED over a
 *     live mapping, each with other code;
 *  6. code written by the kernel: read() from a pipe and from a file into
 *     the RWX page, over code that ran there before;
 *  7. two views of one file: written through a MAP_SHARED RW view, run
 *     through a MAP_SHARED RX view;
 *  8. GCC nested functions passed to qsort: trampolines written on the
 *     (executable: -z execstack) stack at run time, code and data sharing a
 *     page, the same stack slot holding different trampolines in turn. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*fn0)(void);
typedef int (*fn1)(int);
typedef int (*fn2)(int, int);

#define PAGE 4096
#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

static void die(const char *what)
{
    printf("FAILED: %s\n", what);
    exit(1);
}

static void sync_code(void *p, size_t n)
{
    __builtin___clear_cache((char *)p, (char *)p + n);
}

/* mov eax, imm32; ret */
static size_t put_ret_imm(unsigned char *p, uint32_t v)
{
    p[0] = 0xb8;
    memcpy(p + 1, &v, 4);
    p[5] = 0xc3;
    sync_code(p, 6);
    return 6;
}

/* mov eax, [esp+4]; add eax, [esp+8]; ret */
static const unsigned char code_add[] = { 0x8b, 0x44, 0x24, 0x04, 0x03, 0x44, 0x24, 0x08, 0xc3 };
/* mov eax, [esp+4]; imul eax, [esp+8]; ret */
static const unsigned char code_mul[] = { 0x8b, 0x44, 0x24, 0x04, 0x0f, 0xaf, 0x44, 0x24, 0x08, 0xc3 };
/* mov eax, [esp+4]; neg eax; ret */
static const unsigned char code_neg[] = { 0x8b, 0x44, 0x24, 0x04, 0xf7, 0xd8, 0xc3 };
/* mov ecx, [esp+4]; xor eax, eax; L: add eax, ecx; loop L; ret  (sum 1..n) */
static const unsigned char code_sum[] = { 0x8b, 0x4c, 0x24, 0x04, 0x31, 0xc0, 0x01, 0xc8, 0xe2, 0xfc, 0xc3 };
#define SUM_BODY 6 /* offset of `add eax, ecx` in code_sum */
/* mov eax, [esp+4]; shl eax, 3; sub eax, [esp+4]; ret  (7x) */
static const unsigned char code_times7[] = { 0x8b, 0x44, 0x24, 0x04, 0xc1, 0xe0, 0x03, 0x2b, 0x44, 0x24, 0x04, 0xc3 };

static size_t put(unsigned char *p, const unsigned char *code, size_t n)
{
    memcpy(p, code, n);
    sync_code(p, n);
    return n;
}

static int call0(void *p) { return ((fn0)p)(); }
static int call1(void *p, int a) { return ((fn1)p)(a); }
static int call2(void *p, int a, int b) { return ((fn2)p)(a, b); }

static void step1_rwx(unsigned char *p)
{
    printf("== 1: RWX page\n");
    put_ret_imm(p, 1);
    int s = 0;
    for (int i = 0; i < 100; i++)
        s += call0(p);
    printf("ret 1, 100 calls: %d\n", s);
    put_ret_imm(p, 2);
    printf("ret 2: %d\n", call0(p));
    /* Only the immediate changes, every iteration. */
    for (int i = 0; i < 12; i++) {
        uint32_t v = (uint32_t)(i * i * 1000 + 7);
        memcpy(p + 1, &v, 4);
        sync_code(p, 6);
        printf("imm %2d: %d %d\n", i, call0(p), call0(p));
    }
    /* Only one byte of the immediate. */
    p[4] = 0x01;
    sync_code(p, 6);
    printf("high byte: %d\n", call0(p));

    put(p, code_add, sizeof code_add);
    printf("add: %d %d %d\n", call2(p, 3, 4), call2(p, 100, -1), call2(p, 0x7fff0000, 0xffff));
    put(p, code_mul, sizeof code_mul);
    printf("mul: %d %d %d\n", call2(p, 3, 4), call2(p, 100, -1), call2(p, 12345, 6789));
    put(p, code_neg, sizeof code_neg);
    printf("neg: %d %d\n", call1(p, 3), call1(p, -77));
    put(p, code_sum, sizeof code_sum);
    printf("sum: %d %d %d\n", call1(p, 10), call1(p, 100), call1(p, 1000));
    /* Change only the loop body (add -> sub): a block that does not start
     * at the function's entry. */
    p[SUM_BODY] = 0x29;
    sync_code(p, sizeof code_sum);
    printf("sub body: %d %d\n", call1(p, 10), call1(p, 100));
    p[SUM_BODY] = 0x01;
    sync_code(p, sizeof code_sum);
    printf("add body: %d\n", call1(p, 100));
    put(p, code_times7, sizeof code_times7);
    printf("times7: %d %d\n", call1(p, 6), call1(p, -11));
    /* Short code over the start of longer code: the tail stays behind. */
    put_ret_imm(p, 99);
    printf("ret 99 over times7: %d\n", call0(p));
}

static void step2_self_modifying(unsigned char *p)
{
    printf("== 2: code that rewrites its own immediate\n");
    /* P+0: mov eax, 10; inc dword [P+1]; ret */
    uint32_t imm_at = (uint32_t)(uintptr_t)(p + 1);
    unsigned char c[12] = { 0xb8, 10, 0, 0, 0, 0xff, 0x05 };
    memcpy(c + 7, &imm_at, 4);
    c[11] = 0xc3;
    put(p, c, sizeof c);
    for (int i = 0; i < 6; i++)
        printf("call %d: %d\n", i, call0(p));
    uint32_t now;
    memcpy(&now, p + 1, 4);
    printf("immediate now %u\n", now);
    /* The same, with the counter in a data word next to the code. */
    uint32_t data_at = (uint32_t)(uintptr_t)(p + 0x800);
    unsigned char d[13] = { 0xff, 0x05 };
    memcpy(d + 2, &data_at, 4); /* inc dword [P+0x800] */
    d[6] = 0xa1;
    memcpy(d + 7, &data_at, 4); /* mov eax, [P+0x800] */
    d[11] = 0xc3;
    put(p + 0x40, d, 12);
    memset(p + 0x800, 0, 4);
    int s = 0;
    for (int i = 0; i < 50; i++)
        s += call0(p + 0x40);
    printf("data next to code: %d (sum %d)\n", call0(p + 0x40), s);
}

static void step3_cross_page(unsigned char *p)
{
    printf("== 3: caller and callee on different pages\n");
    unsigned char *caller = p + 0x100, *callee = p + PAGE + 0x80;
    /* caller: call callee; add eax, 1; ret */
    unsigned char c[9] = { 0xe8 };
    int32_t rel = (int32_t)(callee - (caller + 5));
    memcpy(c + 1, &rel, 4);
    c[5] = 0x83;
    c[6] = 0xc0;
    c[7] = 0x01;
    c[8] = 0xc3;
    put(caller, c, sizeof c);
    put_ret_imm(callee, 5);
    int s = 0;
    for (int i = 0; i < 20; i++)
        s += call0(caller);
    printf("caller -> 5: %d (sum %d)\n", call0(caller), s);
    put_ret_imm(callee, 50);
    printf("caller -> 50: %d\n", call0(caller));
    put_ret_imm(callee, 500);
    printf("caller -> 500: %d\n", call0(caller));
    /* Rewrite the caller only: add eax, 1 -> add eax, 7. */
    caller[7] = 0x07;
    sync_code(caller, 9);
    printf("caller +7 -> 500: %d\n", call0(caller));

    /* mov eax, imm32 straddling the page boundary: opcode and one byte on
     * the first page, three bytes of the immediate on the second. */
    unsigned char *st = p + PAGE - 2;
    put_ret_imm(st, 0x11223344);
    printf("straddling: %08x\n", (unsigned)call0(st));
    st[3] = 0x55; /* on the second page */
    sync_code(st, 6);
    printf("tail rewritten: %08x\n", (unsigned)call0(st));
    st[1] = 0x66; /* on the first page */
    sync_code(st, 6);
    printf("head rewritten: %08x\n", (unsigned)call0(st));
}

static void step4_wx(void)
{
    printf("== 4: W^X with mprotect\n");
    unsigned char *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED)
        die("mmap RW");
    put(q, code_add, sizeof code_add);
    if (mprotect(q, PAGE, PROT_READ | PROT_EXEC))
        die("mprotect RX");
    printf("add: %d\n", call2(q, 40, 2));
    if (mprotect(q, PAGE, PROT_READ | PROT_WRITE))
        die("mprotect RW");
    put(q, code_mul, sizeof code_mul);
    if (mprotect(q, PAGE, PROT_READ | PROT_EXEC))
        die("mprotect RX 2");
    printf("mul: %d\n", call2(q, 40, 2));
    for (int i = 0; i < 5; i++) {
        if (mprotect(q, PAGE, PROT_READ | PROT_WRITE))
            die("mprotect RW loop");
        put_ret_imm(q, (uint32_t)(1000 + i));
        if (mprotect(q, PAGE, PROT_READ | PROT_EXEC))
            die("mprotect RX loop");
        printf("loop %d: %d\n", i, call0(q));
    }
    munmap(q, PAGE);
}

static void step5_remap(void)
{
    printf("== 5: munmap and mmap again at the same address\n");
    unsigned char *q = mmap(NULL, 2 * PAGE, RWX, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED)
        die("mmap");
    put_ret_imm(q, 111);
    put(q + PAGE, code_sum, sizeof code_sum);
    printf("before: %d %d\n", call0(q), call1(q + PAGE, 20));
    if (munmap(q, 2 * PAGE))
        die("munmap");
    unsigned char *r = mmap(q, 2 * PAGE, RWX, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (r == MAP_FAILED)
        die("mmap fixed");
    printf("same address: %s\n", r == q ? "yes" : "no");
    printf("fresh page is zero: %s\n", r[0] == 0 && r[PAGE] == 0 ? "yes" : "no");
    put_ret_imm(r, 222);
    put(r + PAGE, code_times7, sizeof code_times7);
    printf("after munmap+mmap: %d %d\n", call0(r), call1(r + PAGE, 20));
    /* MAP_FIXED over the live mapping, no munmap. */
    unsigned char *t = mmap(q, PAGE, RWX, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (t != q)
        die("mmap fixed over");
    put(t, code_neg, sizeof code_neg);
    printf("after MAP_FIXED over: %d %d\n", call1(t, 222), call1(t + PAGE, 3));
    munmap(q, 2 * PAGE);
}

static void step6_kernel_writes(unsigned char *p)
{
    printf("== 6: code written by read()\n");
    put_ret_imm(p, 7);
    printf("before pipe: %d\n", call0(p));
    int fds[2];
    if (pipe(fds))
        die("pipe");
    unsigned char c[6];
    put_ret_imm(c, 8);
    if (write(fds[1], c, 6) != 6)
        die("write pipe");
    if (read(fds[0], p, 6) != 6)
        die("read pipe");
    printf("after pipe: %d\n", call0(p));
    if (write(fds[1], code_mul, sizeof code_mul) != (ssize_t)sizeof code_mul)
        die("write pipe 2");
    if (read(fds[0], p, sizeof code_mul) != (ssize_t)sizeof code_mul)
        die("read pipe 2");
    printf("mul from pipe: %d\n", call2(p, 6, 7));
    close(fds[0]);
    close(fds[1]);

    put(p + 0x300, code_add, sizeof code_add);
    printf("before file: %d\n", call2(p + 0x300, 6, 7));
    int fd = open("jit-code.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die("open");
    if (write(fd, code_times7, sizeof code_times7) != (ssize_t)sizeof code_times7)
        die("write file");
    if (lseek(fd, 0, SEEK_SET) != 0)
        die("lseek");
    if (read(fd, p + 0x300, sizeof code_times7) != (ssize_t)sizeof code_times7)
        die("read file");
    printf("after file: %d\n", call1(p + 0x300, 6));
    /* pread just the immediate of a mov eax, imm32 over it */
    put_ret_imm(p + 0x300, 1);
    printf("before pread: %d\n", call0(p + 0x300));
    uint32_t v = 4242;
    if (pwrite(fd, &v, 4, 100) != 4)
        die("pwrite");
    if (pread(fd, p + 0x301, 4, 100) != 4)
        die("pread");
    printf("after pread: %d\n", call0(p + 0x300));
    close(fd);
    unlink("jit-code.bin");
}

static void step7_dual_mapping(void)
{
    printf("== 7: one file, an RW view and an RX view\n");
    int fd = open("jit-dual.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die("open dual");
    if (ftruncate(fd, PAGE))
        die("ftruncate");
    unsigned char *w = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *x = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (w == MAP_FAILED || x == MAP_FAILED)
        die("mmap dual");
    close(fd);
    unlink("jit-dual.bin");
    put_ret_imm(w, 31);
    printf("rx view: %d\n", call0(x));
    put_ret_imm(w, 32);
    printf("rx view after rw write: %d\n", call0(x));
    put(w + 0x10, code_sum, sizeof code_sum);
    printf("sum via rx view: %d\n", call1(x + 0x10, 30));
    w[0x10 + SUM_BODY] = 0x29;
    printf("sub via rx view: %d\n", call1(x + 0x10, 30));
    munmap(w, PAGE);
    munmap(x, PAGE);
}

/* Nested functions: taking their address builds a trampoline on the stack. */
static int cmp_calls;

static __attribute__((noinline)) void sort_by_mod(int *a, int n, int mod)
{
    int calls = 0;
    int cmp(const void *x, const void *y)
    {
        int u = *(const int *)x, v = *(const int *)y;
        calls++;
        if (u % mod != v % mod)
            return u % mod < v % mod ? -1 : 1;
        return (u > v) - (u < v);
    }
    qsort(a, n, sizeof *a, cmp);
    cmp_calls += calls;
}

static __attribute__((noinline)) void sort_by_digits(int *a, int n, int desc)
{
    int calls = 0;
    int cmp(const void *x, const void *y)
    {
        int u = *(const int *)x, v = *(const int *)y, su = 0, sv = 0;
        calls++;
        for (int t = u; t; t /= 10)
            su += t % 10;
        for (int t = v; t; t /= 10)
            sv += t % 10;
        if (su != sv)
            return (su < sv ? -1 : 1) * (desc ? -1 : 1);
        return (u > v) - (u < v);
    }
    qsort(a, n, sizeof *a, cmp);
    cmp_calls += calls;
}

static void show(const char *what, const int *a, int n)
{
    printf("%s:", what);
    for (int i = 0; i < n; i++)
        printf(" %d", a[i]);
    printf("\n");
}

static void step8_trampolines(void)
{
    printf("== 8: nested-function trampolines on the stack\n");
    int base[24];
    unsigned r = 12345;
    for (int i = 0; i < 24; i++) {
        r = r * 1103515245u + 12345u;
        base[i] = (int)((r >> 8) % 1000);
    }
    int a[24];
    for (int round = 0; round < 2; round++) {
        memcpy(a, base, sizeof a);
        sort_by_mod(a, 24, 7);
        show("mod 7", a, 24);
        memcpy(a, base, sizeof a);
        sort_by_digits(a, 24, 0);
        show("digits", a, 24);
        memcpy(a, base, sizeof a);
        sort_by_mod(a, 24, 10);
        show("mod 10", a, 24);
        memcpy(a, base, sizeof a);
        sort_by_digits(a, 24, 1);
        show("digits desc", a, 24);
    }
    printf("comparisons: %d\n", cmp_calls);
}

int main(void)
{
    unsigned char *p = mmap(NULL, 2 * PAGE, RWX, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap RWX");
    step1_rwx(p);
    step2_self_modifying(p);
    step3_cross_page(p);
    step4_wx();
    step5_remap();
    step6_kernel_writes(p);
    step7_dual_mapping();
    step8_trampolines();
    munmap(p, 2 * PAGE);
    printf("done\n");
    return 0;
}
