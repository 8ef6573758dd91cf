/* textsmc: a program that rewrites code in its OWN .text (not a run-time
 * buffer), where a translator binds direct calls and jumps ahead of time.
 *
 * - value_a (alone on its page) and value_b (on a page shared with other
 *   code) are `mov eax, imm32; ret` in hand-written asm, so the compiler
 *   can neither inline them nor assume what they return; they are called
 *   through direct calls from a loop (sum_loop) and from another directly
 *   called function (call_twice), and through a pointer. The page is made
 *   RWX with mprotect, the immediate patched, the callers run again,
 *   patched again, restored, and the page made RX again.
 * - after a fork, the child runs the patched code too.
 * - a second thread calls the patched function after each patch (with a
 *   barrier between), then while the main thread flips the immediate's
 *   low byte: every result must be the old or the new value.
 * - remapped (alone on its page): the page is unmapped and a fresh
 *   anonymous page mapped in its place with the code copied back and
 *   patched; then patched again; then remapped read-only with the original
 *   bytes.
 * - straddle starts in the last two bytes of a page; its immediate, on the
 *   next page, is patched with only that page made writable.
 * - value_c and value_d (whose first instruction is short) are called in a
 *   loop by a second thread while the main thread patches them the first
 *   time.
 * value_b comes last: its page also holds the C code of every test.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

__asm__(".text\n"
        ".p2align 12\n"
        ".globl value_a\n"
        ".type value_a, @function\n"
        "value_a:\n"
        "    movl $1, %eax\n"
        "    ret\n"
        ".size value_a, .-value_a\n"
        ".p2align 12\n"
        ".globl remapped\n"
        ".type remapped, @function\n"
        "remapped:\n"
        "    movl $100, %eax\n"
        "    ret\n"
        ".size remapped, .-remapped\n"
        ".p2align 12\n"
        ".skip 4094, 0xcc\n"
        ".globl straddle\n"
        ".type straddle, @function\n"
        "straddle:\n"
        "    xorl %eax, %eax\n" /* the last two bytes of one page */
        "    .byte 0x05\n"       /* add eax, imm32: on the next page */
        "    .long 5\n"
        "    ret\n"
        ".size straddle, .-straddle\n"
        ".p2align 12\n"
        ".globl value_c\n"
        ".type value_c, @function\n"
        "value_c:\n"
        "    movl $1, %eax\n"
        "    ret\n"
        ".size value_c, .-value_c\n"
        ".globl value_d\n"
        ".type value_d, @function\n"
        "value_d:\n"
        "    xorl %eax, %eax\n"
        "    .byte 0x05\n" /* add eax, imm32 */
        "    .long 1\n"
        "    ret\n"
        ".size value_d, .-value_d\n"
        ".p2align 12\n"
        ".globl value_b\n"
        ".type value_b, @function\n"
        "value_b:\n"
        "    movl $2, %eax\n"
        "    ret\n"
        ".size value_b, .-value_b\n");

int value_a(void);
int value_b(void);
int remapped(void);
int straddle(void);
int value_c(void);
int value_d(void);

#define PAGE 4096u
#define RX (PROT_READ | PROT_EXEC)
#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

static void *page_of(int (*fn)(void))
{
    return (void *)((uintptr_t)fn & ~(uintptr_t)(PAGE - 1));
}

static void protect(int (*fn)(void), int prot)
{
    if (mprotect(page_of(fn), PAGE, prot) != 0) {
        perror("mprotect");
        exit(1);
    }
}

/* Rewrite the imm32 after the one-byte opcode at `op`. */
static void patch_imm(volatile uint8_t *op, uint8_t opcode, int32_t v)
{
    if (op[0] != opcode) {
        printf("unexpected opcode %#x\n", op[0]);
        exit(1);
    }
    for (int k = 0; k < 4; k++)
        op[1 + k] = (uint8_t)((uint32_t)v >> (8 * k));
}

/* Rewrite the imm32 of fn's `mov eax, imm32` (opcode b8 at fn+0). */
static void set_imm(int (*fn)(void), int32_t v)
{
    patch_imm((volatile uint8_t *)fn, 0xb8, v);
}

__attribute__((noipa)) static int sum_loop(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += value_a();
    return s;
}

__attribute__((noipa)) static int call_twice(void)
{
    return value_a() + 10 * value_a();
}

__attribute__((noipa)) static int sum_loop_b(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += value_b();
    return s;
}

__attribute__((noipa)) static int call_twice_b(void)
{
    return value_b() + 10 * value_b();
}

__attribute__((noipa)) static int sum_remapped(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += remapped();
    return s;
}

__attribute__((noipa)) static int sum_straddle(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += straddle();
    return s;
}

static int (*volatile pointer_a)(void) = value_a;

static void report(const char *what)
{
    printf("%-16s a: loop %d twice %d pointer %d   b: loop %d twice %d\n", what,
           sum_loop(1000), call_twice(), pointer_a(), sum_loop_b(1000), call_twice_b());
}

/* ---- a second thread -------------------------------------------------- */

static pthread_barrier_t barrier;
static int thread_loop, thread_twice;
static volatile int racing, race_bad, race_calls;

static void *worker(void *arg)
{
    (void)arg;
    for (int round = 0; round < 3; round++) {
        pthread_barrier_wait(&barrier);
        thread_loop = sum_loop(100);
        thread_twice = call_twice();
        pthread_barrier_wait(&barrier);
    }
    pthread_barrier_wait(&barrier);
    int bad = 0, calls = 0;
    while (racing) {
        int v = value_a();
        if (v != 1 && v != 2)
            bad++;
        race_calls = ++calls;
    }
    race_bad = bad;
    return NULL;
}

static void threads(void)
{
    pthread_t t;
    pthread_barrier_init(&barrier, NULL, 2);
    if (pthread_create(&t, NULL, worker, NULL) != 0) {
        puts("pthread_create failed");
        exit(1);
    }
    protect(value_a, RWX);
    static const int vals[3] = {3, 5, 9};
    for (int round = 0; round < 3; round++) {
        set_imm(value_a, vals[round]);
        pthread_barrier_wait(&barrier);
        pthread_barrier_wait(&barrier);
        printf("thread after patch %d: loop %d twice %d\n", vals[round], thread_loop,
               thread_twice);
    }
    set_imm(value_a, 1);
    racing = 1;
    pthread_barrier_wait(&barrier);
    volatile uint8_t *low = (volatile uint8_t *)value_a + 1;
    for (int flips = 0; flips < 200 || race_calls < 2000; flips++) {
        *low = (uint8_t)(2 - (flips & 1));
        for (volatile int k = 0; k < 5000; k++)
            ;
    }
    racing = 0;
    pthread_join(t, NULL);
    set_imm(value_a, 1);
    protect(value_a, RX);
    printf("race: calls %s, %d bad results\n", race_calls > 0 ? "made" : "none", race_bad);
}

/* ---- the first patch while another thread runs the code ---------------- */

static volatile int running_cd, calls_cd, bad_cd;

static void *worker_cd(void *arg)
{
    (void)arg;
    int bad = 0, calls = 0;
    while (running_cd) {
        int c = value_c(), d = value_d();
        if ((c != 1 && c != 2) || (d != 1 && d != 2))
            bad++;
        calls_cd = ++calls;
    }
    bad_cd = bad;
    return NULL;
}

static void race_first_patch(void)
{
    pthread_t t;
    running_cd = 1;
    if (pthread_create(&t, NULL, worker_cd, NULL) != 0) {
        puts("pthread_create failed");
        exit(1);
    }
    while (calls_cd < 1000)
        ;
    protect(value_c, RWX); /* value_c and value_d share the page */
    volatile uint8_t *c = (volatile uint8_t *)value_c + 1;
    volatile uint8_t *d = (volatile uint8_t *)value_d + 3;
    for (int flips = 0; flips < 200 || calls_cd < 3000; flips++) {
        *c = (uint8_t)(2 - (flips & 1));
        *d = (uint8_t)(2 - (flips & 1));
        for (volatile int k = 0; k < 5000; k++)
            ;
    }
    *c = 2;
    *d = 2;
    int seen = calls_cd;
    while (calls_cd < seen + 1000)
        ;
    running_cd = 0;
    pthread_join(t, NULL);
    printf("first patch under a running thread: %d bad results; now %d %d\n", bad_cd,
           value_c(), value_d());
    set_imm(value_c, 1);
    patch_imm((volatile uint8_t *)value_d + 2, 0x05, 1);
    protect(value_c, RX);
}

/* ---- unmapped and remapped -------------------------------------------- */

static void remap(int32_t imm, int prot)
{
    static uint8_t save[PAGE];
    void *page = page_of(remapped);
    memcpy(save, page, PAGE);
    if (munmap(page, PAGE) != 0) {
        perror("munmap");
        exit(1);
    }
    void *p = mmap(page, PAGE, RWX, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p != page) {
        perror("mmap");
        exit(1);
    }
    memcpy(page, save, PAGE);
    set_imm(remapped, imm);
    if (prot != RWX)
        protect(remapped, prot);
}

int main(void)
{
    report("start");
    protect(value_a, RWX);
    set_imm(value_a, 7);
    report("a=7");
    set_imm(value_a, 42);
    report("a=42");

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        report("child a=42");
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child status %d\n", status);

    set_imm(value_a, -5);
    report("a=-5");
    set_imm(value_a, 1);
    protect(value_a, RX);
    report("a restored");

    threads();
    report("after threads");
    race_first_patch();

    printf("remapped: %d %d\n", sum_remapped(10), remapped());
    remap(200, RWX);
    printf("remapped 200: %d %d\n", sum_remapped(10), remapped());
    set_imm(remapped, 300);
    printf("patched 300: %d %d\n", sum_remapped(10), remapped());
    remap(100, RX);
    printf("remapped back: %d %d\n", sum_remapped(10), remapped());

    /* straddle starts on one page and is patched on the next one, which
     * alone is made writable. */
    volatile uint8_t *add = (volatile uint8_t *)straddle + 2;
    int (*second_page)(void) = (int (*)(void))(uintptr_t)add;
    printf("straddle: %d %d\n", sum_straddle(10), straddle());
    protect(second_page, RWX);
    patch_imm(add, 0x05, 6);
    printf("straddle 6: %d %d\n", sum_straddle(10), straddle());
    patch_imm(add, 0x05, 5);
    protect(second_page, RX);
    printf("straddle 5: %d %d\n", sum_straddle(10), straddle());

    /* Last: value_b's page holds the C code above too. */
    protect(value_b, RWX);
    set_imm(value_b, 1000);
    report("b=1000");
    set_imm(value_b, 2);
    protect(value_b, RX);
    report("b restored");
    return 0;
}
