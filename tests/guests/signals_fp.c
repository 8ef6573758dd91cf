/* signals_fp: the FPU/SSE state in signal frames.
 *
 * - SIGALRM (setitimer) interrupts x87 and SSE (and AVX, where the CPU has
 *   it) loops that keep their accumulators in registers, with a non-default
 *   rounding mode; the handlers fill the whole x87 stack, clobber every
 *   xmm/ymm register and change both rounding modes. Every chunk of the loops
 *   must still give the result it gives without signals: the kernel saves
 *   the FPU state in the frame, starts the handler with the initial state
 *   and restores the interrupted one on sigreturn. A legacy (sa_handler)
 *   handler first, then an SA_SIGINFO one.
 * - A signal raised by `int $0x80` in the middle of x87/SSE code: the
 *   SA_SIGINFO handler reads the interrupted state through
 *   uc_mcontext.fpregs (struct _fpstate_32: fnsave header, FXSR image,
 *   XSAVE magic) and modifies st(0), xmm1, the x87 control word and MXCSR;
 *   the interrupted code sees the modified values.
 * Deterministic output only. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#define CHUNK 200000

/* The i386 kernel's struct _fpstate_32 (uapi asm/sigcontext.h). */
struct fpreg32 {
    uint16_t significand[4];
    uint16_t exponent;
};
struct fpstate32 {
    uint32_t cw, sw, tag, ipoff, cssel, dataoff, datasel;
    struct fpreg32 st[8];
    uint16_t status, magic;
    uint32_t fxsr_env[6];
    uint32_t mxcsr, reserved;
    struct {
        uint16_t significand[4], exponent, padding[3];
    } fxsr_st[8];
    struct {
        uint32_t element[4];
    } xmm[8];
    uint32_t padding1[44];
    uint32_t sw_reserved[12];
};

static volatile int ticks;
static volatile int entry_bad; /* handler entered with a non-initial FPU state */
static volatile int legacy_fpstate_ok = -1;
static int have_avx;

static unsigned short get_cw(void)
{
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

static unsigned get_mxcsr(void)
{
    unsigned m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
}

static void set_modes(unsigned short cw, unsigned mxcsr)
{
    __asm__ volatile("fldcw %0" ::"m"(cw));
    __asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
}

static unsigned short get_tag(void)
{
    uint32_t env[7];
    __asm__ volatile("fnstenv %0\n\tfldenv %0" : "+m"(env));
    return env[2] & 0xffff;
}

/* acc += 0.1, CHUNK times, on the x87 stack: depends on the rounding mode. */
static long double x87_chunk(void)
{
    long double r;
    static const double tenth = 0.1;
    int n = CHUNK;
    __asm__ volatile("fldl %2\n\t"
                     "fldz\n"
                     "1:\n\t"
                     "fadd %%st(1), %%st\n\t"
                     "dec %1\n\t"
                     "jnz 1b\n\t"
                     "fstp %%st(1)"
                     : "=t"(r), "+r"(n)
                     : "m"(tenth)
                     : "cc");
    return r;
}

/* {acc0, acc1} += {0.1, 0.3}, CHUNK times, in xmm0/xmm1. */
static void sse_chunk(double out[2])
{
    static const double step[2] __attribute__((aligned(16))) = {0.1, 0.3};
    int n = CHUNK;
    __asm__ volatile("xorpd %%xmm0, %%xmm0\n\t"
                     "movupd %2, %%xmm1\n"
                     "1:\n\t"
                     "addpd %%xmm1, %%xmm0\n\t"
                     "dec %1\n\t"
                     "jnz 1b\n\t"
                     "movupd %%xmm0, %0"
                     : "=m"(*(double(*)[2])out), "+r"(n)
                     : "m"(step)
                     : "xmm0", "xmm1", "cc");
}

/* The same with four lanes in ymm0/ymm1 (AVX). */
static void avx_chunk(double out[4])
{
    static const double step[4] = {0.1, 0.3, 0.7, 1.1};
    int n = CHUNK;
    __asm__ volatile("vxorpd %%ymm0, %%ymm0, %%ymm0\n\t"
                     "vmovupd %2, %%ymm1\n"
                     "1:\n\t"
                     "vaddpd %%ymm1, %%ymm0, %%ymm0\n\t"
                     "dec %1\n\t"
                     "jnz 1b\n\t"
                     "vmovupd %%ymm0, %0\n\t"
                     "vzeroupper"
                     : "=m"(*(double(*)[4])out), "+r"(n)
                     : "m"(step)
                     : "xmm0", "xmm1", "cc");
}

/* What every handler does: check it starts with the initial FPU state,
 * then use all of it and leave it changed. */
static void handler_fp_work(void)
{
    if (get_cw() != 0x37f || (get_mxcsr() & 0xffbf) != 0x1f80 || get_tag() != 0xffff)
        entry_bad++;
    /* Eight x87 registers, some math, all popped again. */
    volatile double sink;
    double v = 1.0 + ticks;
    __asm__ volatile("fldl %1\n\t"
                     "fld1\n\t"
                     "fldpi\n\t"
                     "fldl2e\n\t"
                     "fldl2t\n\t"
                     "fldlg2\n\t"
                     "fldln2\n\t"
                     "fldz\n\t"
                     "faddp\n\t"
                     "fmulp\n\t"
                     "faddp\n\t"
                     "fsqrt\n\t"
                     "fmulp\n\t"
                     "faddp\n\t"
                     "fdivp\n\t"
                     "faddp\n\t"
                     "fsin\n\t"
                     "fstpl %0"
                     : "=m"(sink)
                     : "m"(v));
    /* Every xmm register, and a different rounding mode for both units. */
    static const double k[2] = {3.5, -1.25};
    __asm__ volatile("movupd %0, %%xmm0\n\t"
                     "movapd %%xmm0, %%xmm1\n\t"
                     "mulpd %%xmm0, %%xmm1\n\t"
                     "sqrtpd %%xmm1, %%xmm2\n\t"
                     "movapd %%xmm2, %%xmm3\n\t"
                     "addpd %%xmm0, %%xmm3\n\t"
                     "movapd %%xmm3, %%xmm4\n\t"
                     "movapd %%xmm3, %%xmm5\n\t"
                     "movapd %%xmm3, %%xmm6\n\t"
                     "movapd %%xmm3, %%xmm7" ::"m"(k)
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
    if (have_avx)
        __asm__ volatile("vbroadcastsd %0, %%ymm0\n\t"
                         "vaddpd %%ymm0, %%ymm0, %%ymm1\n\t"
                         "vaddpd %%ymm1, %%ymm0, %%ymm2\n\t"
                         "vmovapd %%ymm2, %%ymm3\n\t"
                         "vmovapd %%ymm2, %%ymm4\n\t"
                         "vmovapd %%ymm2, %%ymm5\n\t"
                         "vmovapd %%ymm2, %%ymm6\n\t"
                         "vmovapd %%ymm2, %%ymm7" ::"m"(k[0])
                         : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
    sink = sink * 2.0;
    set_modes(0xb7f, 0x5f80); /* round up / toward zero: left for sigreturn to undo */
}

__attribute__((optimize("no-omit-frame-pointer"))) static void on_alarm_legacy(int sig)
{
    /* The legacy frame: struct sigcontext follows the signal number, which
     * follows the return address (ebp + 4). */
    (void)sig;
    struct sigcontext *sc = (struct sigcontext *)((char *)__builtin_frame_address(0) + 12);
    struct fpstate32 *fp = (struct fpstate32 *)sc->fpstate;
    if (legacy_fpstate_ok < 0)
        legacy_fpstate_ok = fp != NULL && fp->magic == 0 && (fp->cw & 0xffff) == 0x77f;
    handler_fp_work();
    ticks++;
}

static void on_alarm_info(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    (void)ctx;
    handler_fp_work();
    ticks++;
}

static int same_ld(long double a, long double b) { return memcmp(&a, &b, 10) == 0; }

/* Run chunks until enough timer signals arrived; count chunks whose result
 * differs from the reference. */
static int run_chunks(const char *what)
{
    long double ref_x87 = x87_chunk();
    double ref_sse[2], ref_avx[4];
    sse_chunk(ref_sse);
    if (have_avx)
        avx_chunk(ref_avx);
    struct itimerval it = {{0, 500}, {0, 500}};
    ticks = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    int bad = 0, chunks = 0;
    while (ticks < 40 || chunks < 20) {
        long double x = x87_chunk();
        double s[2], a[4];
        sse_chunk(s);
        bad += !same_ld(x, ref_x87) || memcmp(s, ref_sse, sizeof s) != 0;
        if (have_avx) {
            avx_chunk(a);
            bad += memcmp(a, ref_avx, sizeof a) != 0;
        }
        chunks++;
        if (get_cw() != 0x77f || (get_mxcsr() & ~0x3fu) != 0x3f80)
            bad++;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("%s: bad chunks %d, handler entries with a non-initial FPU %d\n", what, bad, entry_bad);
    return bad;
}

/* SIGUSR2 while st(0) = in0 and xmm1 = in1 are live; returns them after. */
static void raise_in_fp(double in0, double in1, double *out0, double *out1)
{
    int eax = SYS_kill;
    __asm__ volatile("fldl %[a]\n\t"
                     "movsd %[b], %%xmm1\n\t"
                     "int $0x80\n\t"
                     "fstpl %[o0]\n\t"
                     "movsd %%xmm1, %[o1]"
                     : [o0] "=m"(*out0), [o1] "=m"(*out1), "+a"(eax)
                     : [a] "m"(in0), [b] "m"(in1), "b"(getpid()), "c"(SIGUSR2)
                     : "xmm1", "memory");
}

static struct {
    int has_fpregs, magic, xstate_flag, magic1;
    unsigned cw, tag, mxcsr;
    double st0, xmm1;
} seen;

static void on_usr2(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    struct fpstate32 *fp = (struct fpstate32 *)uc->uc_mcontext.fpregs;
    handler_fp_work();
    seen.has_fpregs = fp != NULL;
    if (!fp)
        return;
    long double st0;
    memcpy(&st0, &fp->st[0], 10);
    seen.magic = fp->magic;
    seen.xstate_flag = uc->uc_flags & 1;
    seen.magic1 = fp->sw_reserved[0] == 0x46505853u;
    seen.cw = fp->cw & 0xffff;
    seen.tag = fp->tag & 0xffff;
    seen.mxcsr = fp->mxcsr & ~0x3fu; /* without the exception flags */
    seen.st0 = (double)st0;
    memcpy(&seen.xmm1, &fp->xmm[1], 8);
    /* Change what the interrupted code gets back. */
    long double v = 42.0L;
    memcpy(&fp->st[0], &v, 10);
    double w = 7.25;
    memcpy(&fp->xmm[1], &w, 8);
    fp->cw = 0xc7f;
    fp->mxcsr = 0x7f80;
}

int main(void)
{
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if ((c & (1u << 28)) && (c & (1u << 27))) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        have_avx = (lo & 6) == 6;
    }
    set_modes(0x77f, 0x3f80); /* round down, both units */

    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 5);
    sigprocmask(SIG_BLOCK, &rt, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm_legacy;
    sigaction(SIGALRM, &sa, NULL);
    run_chunks("legacy handler");
    printf("legacy frame: fpstate with FXSR magic and the interrupted control word: %d\n",
           legacy_fpstate_ok);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alarm_info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGALRM, &sa, NULL);
    run_chunks("SA_SIGINFO handler");

    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("mask after sigreturn keeps SIGRTMIN+5: %d\n", sigismember(&now, SIGRTMIN + 5));

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    double o0, o1;
    raise_in_fp(1.5, 2.25, &o0, &o1);
    printf("fpregs: present %d, magic %#x, UC_FP_XSTATE %d, XSTATE magic1 %d\n", seen.has_fpregs,
           seen.magic, seen.xstate_flag, seen.magic1);
    printf("interrupted: cw %#x tag %#x mxcsr %#x st0 %g xmm1 %g\n", seen.cw, seen.tag, seen.mxcsr,
           seen.st0, seen.xmm1);
    unsigned short cw = get_cw();
    unsigned mx = get_mxcsr() & ~0x3fu;
    set_modes(0x37f, 0x1f80);
    printf("after the handler: st0 %g xmm1 %g cw %#x mxcsr %#x\n", o0, o1, cw, mx);
    printf("handler entries with a non-initial FPU: %d\n", entry_bad);
    return 0;
}
