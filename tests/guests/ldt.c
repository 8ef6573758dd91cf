/* modify_ldt (123) and LDT selectors in %gs/%fs/%ds, and a LinuxThreads-style
 * clone (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND, no CLONE_THREAD) whose
 * child sets its own LDT entry, reads its data through %gs and exits with
 * exit(2); the parent reaps it with waitpid (__WCLONE for exit signal 0).
 * Output is deterministic: addresses never printed, only compared. */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long ldt(int func, void *p, unsigned long n)
{
    long r = syscall(SYS_modify_ldt, func, p, n);
    return r < 0 ? -errno : r;
}

static struct user_desc desc(unsigned entry, unsigned base, unsigned limit,
                             int contents, int rx_only, int pages,
                             int not_present, int useable)
{
    struct user_desc d;
    memset(&d, 0, sizeof d);
    d.entry_number = entry;
    d.base_addr = base;
    d.limit = limit;
    d.seg_32bit = 1;
    d.contents = contents;
    d.read_exec_only = rx_only;
    d.limit_in_pages = pages;
    d.seg_not_present = not_present;
    d.useable = useable;
    return d;
}

/* The descriptor Linux's fill_ldt makes (accessed bit set). */
static uint64_t expect(const struct user_desc *d, int old)
{
    uint64_t base = d->base_addr, limit = d->limit;
    uint64_t type = ((uint64_t)(d->read_exec_only ^ 1) << 1) |
                    ((uint64_t)d->contents << 2) | 1;
    return (limit & 0xffff) | (base & 0xffffff) << 16 | type << 40 |
           1ull << 44 | 3ull << 45 | (uint64_t)(d->seg_not_present ^ 1) << 47 |
           ((limit >> 16) & 0xf) << 48 |
           (uint64_t)(old ? 0 : d->useable) << 52 |
           (uint64_t)d->seg_32bit << 54 | (uint64_t)d->limit_in_pages << 55 |
           (base >> 24) << 56;
}

static uint32_t tdata[4] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
static uint32_t zdata[2] = {0x55555555, 0x66666666};

static unsigned gs_read(unsigned sel, unsigned off)
{
    unsigned old, v;
    __asm__ volatile("mov %%gs, %0\n\t"
                     "mov %2, %%gs\n\t"
                     "mov %%gs:(%3), %1\n\t"
                     "mov %0, %%gs"
                     : "=&r"(old), "=&r"(v)
                     : "r"(sel), "r"(off)
                     : "memory");
    return v;
}

static unsigned gs_selector(unsigned sel)
{
    unsigned old, v;
    __asm__ volatile("mov %%gs, %0\n\t"
                     "mov %2, %%gs\n\t"
                     "mov %%gs, %1\n\t"
                     "mov %0, %%gs"
                     : "=&r"(old), "=&r"(v)
                     : "r"(sel)
                     : "memory");
    return v;
}

static unsigned fs_read(unsigned sel)
{
    unsigned old, v;
    __asm__ volatile("mov %%fs, %0\n\t"
                     "mov %2, %%fs\n\t"
                     "mov %%fs:4, %1\n\t"
                     "mov %0, %%fs"
                     : "=&r"(old), "=&r"(v)
                     : "r"(sel)
                     : "memory");
    return v;
}

static unsigned gs_pop_read(unsigned sel)
{
    unsigned old, v;
    __asm__ volatile("mov %%gs, %0\n\t"
                     "push %2\n\t"
                     "pop %%gs\n\t"
                     "mov %%gs:8, %1\n\t"
                     "mov %0, %%gs"
                     : "=&r"(old), "=&r"(v)
                     : "r"(sel)
                     : "memory");
    return v;
}

static unsigned lgs_read(unsigned sel)
{
    struct __attribute__((packed)) { uint32_t off; uint16_t sel; } fp = {7, (uint16_t)sel};
    unsigned old, v, r;
    __asm__ volatile("mov %%gs, %0\n\t"
                     "lgs %3, %2\n\t"
                     "mov %%gs:12, %1\n\t"
                     "mov %0, %%gs"
                     : "=&r"(old), "=&r"(v), "=&r"(r)
                     : "m"(fp)
                     : "memory");
    return v + (r == 7);
}

static unsigned ds_load(unsigned sel)
{
    unsigned old, v;
    __asm__ volatile("mov %%ds, %0\n\t"
                     "mov %2, %%ds\n\t"
                     "mov %%ds, %1\n\t"
                     "mov %0, %%ds"
                     : "=&r"(old), "=&r"(v)
                     : "r"(sel)
                     : "memory");
    return v;
}

static sigjmp_buf jb;
static volatile int caught;

static void on_fault(int sig)
{
    caught = sig;
    siglongjmp(jb, 1);
}

static void try_load(const char *what, unsigned sel)
{
    caught = 0;
    if (sigsetjmp(jb, 1) == 0) {
        unsigned v = gs_selector(sel);
        printf("%s: loaded %#x\n", what, v);
    } else {
        printf("%s: signal %s\n", what,
               caught == SIGSEGV ? "SIGSEGV" : caught == SIGBUS ? "SIGBUS" : "other");
    }
}

/* ---- LinuxThreads-style clone ---- */

struct job {
    unsigned entry;
    uint32_t data[2];
    int parent_pid;
    long ldt_ret;
    unsigned a, b, sel_back;
    int own_pid, ppid_ok;
};

static long raw0(long nr)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(nr) : "memory");
    return r;
}

static long raw3(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("push %%ebx\n\t"
                     "mov %%esi, %%ebx\n\t"
                     "int $0x80\n\t"
                     "pop %%ebx"
                     : "=a"(r)
                     : "0"(nr), "S"(a), "c"(b), "d"(c)
                     : "memory");
    return r;
}

/* Runs in the child: raw system calls only (no libc, whose TLS is %gs). */
static int child_fn(struct job *j)
{
    struct user_desc d;
    unsigned char *p = (unsigned char *)&d;
    unsigned i, sel, old;
    for (i = 0; i < sizeof d; i++)
        p[i] = 0;
    d.entry_number = j->entry;
    d.base_addr = (unsigned)(uintptr_t)j->data;
    d.limit = 7;
    d.seg_32bit = 1;
    j->ldt_ret = raw3(SYS_modify_ldt, 0x11, (long)&d, sizeof d);
    sel = (j->entry << 3) | 7;
    __asm__ volatile("mov %%gs, %0\n\t"
                     "mov %1, %%gs"
                     : "=&r"(old)
                     : "r"(sel)
                     : "memory");
    __asm__ volatile("mov %%gs:0, %0" : "=r"(j->a) : : "memory");
    __asm__ volatile("mov %%gs:4, %0" : "=r"(j->b) : : "memory");
    __asm__ volatile("mov %%gs, %0" : "=r"(j->sel_back) : : "memory");
    __asm__ volatile("mov %0, %%gs" : : "r"(old) : "memory");
    j->own_pid = raw0(SYS_getpid) != j->parent_pid;
    j->ppid_ok = raw0(SYS_getppid) == j->parent_pid;
    return 40 + (int)j->entry;
}

/* clone(flags, stack) with the i386 int 0x80; the child calls fn(arg) on
 * the new stack and exit(2)s with its result. */
static int raw_clone(unsigned flags, void *stack_top, int (*fn)(struct job *),
                     struct job *arg)
{
    uint32_t *sp = (uint32_t *)stack_top;
    long r;
    *--sp = (uint32_t)(uintptr_t)arg;
    *--sp = (uint32_t)(uintptr_t)fn;
    __asm__ volatile("push %%ebx\n\t"
                     "mov %%esi, %%ebx\n\t"
                     "xor %%esi, %%esi\n\t"
                     "int $0x80\n\t"
                     "test %%eax, %%eax\n\t"
                     "jnz 1f\n\t"
                     "pop %%eax\n\t"
                     "call *%%eax\n\t"
                     "mov %%eax, %%ebx\n\t"
                     "mov $1, %%eax\n\t"
                     "int $0x80\n\t"
                     "hlt\n"
                     "1:\n\t"
                     "pop %%ebx"
                     : "=a"(r)
                     : "0"(120), "S"(flags), "c"(sp), "d"(0), "D"(0)
                     : "memory");
    return (int)r;
}

static unsigned char stacks[3][65536] __attribute__((aligned(16)));

static volatile int usr1_pid;

/* Shared with the child by CLONE_SIGHAND; no libc (the child's TLS). */
static void on_usr1(int sig)
{
    (void)sig;
    usr1_pid = raw0(SYS_getpid);
}

/* Child 2: waits for SIGUSR1 from the parent, which its handler records. */
static int child_wait_fn(struct job *j)
{
    (void)j;
    while (!usr1_pid)
        raw0(SYS_sched_yield);
    return 7;
}

static void linuxthreads(void)
{
    static struct job jobs[2];
    const unsigned base = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND;
    int k;
    for (k = 0; k < 2; k++) {
        int st = 0, pid, w;
        struct job *j = &jobs[k];
        j->entry = 20 + k;
        j->data[0] = 0xa0 + k;
        j->data[1] = 0xb0 + k;
        j->parent_pid = getpid();
        pid = raw_clone(base | (k == 0 ? 0 : SIGCHLD), stacks[k] + sizeof stacks[k],
                        child_fn, j);
        if (pid < 0) {
            printf("clone %d: error %d\n", k, pid);
            continue;
        }
        w = waitpid(pid, &st, k == 0 ? __WCLONE : 0);
        printf("clone %d: reaped %s, exited %d status %d\n", k,
               w == pid ? "yes" : "no", WIFEXITED(st), WEXITSTATUS(st));
        printf("clone %d: modify_ldt %ld, gs:0 %#x gs:4 %#x, gs reads %#x, own pid %d, "
               "ppid is parent %d\n",
               k, j->ldt_ret, j->a, j->b, j->sel_back, j->own_pid, j->ppid_ok);
    }
    {
        struct sigaction sa;
        int st = 0, pid, w;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sigaction(SIGUSR1, &sa, NULL);
        pid = raw_clone(base | SIGCHLD, stacks[2] + sizeof stacks[2], child_wait_fn, NULL);
        kill(pid, SIGUSR1);
        w = waitpid(pid, &st, 0);
        printf("clone 2: reaped %s, exited %d status %d, SIGUSR1 handled in the child %d\n",
               w == pid ? "yes" : "no", WIFEXITED(st), WEXITSTATUS(st), usr1_pid == pid);
    }
    {
        uint64_t buf[22];
        long n = ldt(0, buf, sizeof buf);
        printf("parent reads LDT: %ld bytes, entries 20/21 %s\n", n,
               (buf[20] >> 47 & 1) && (buf[21] >> 47 & 1) ? "present" : "missing");
    }
}

int main(void)
{
    uint64_t buf[16];
    unsigned char junk[200];
    struct user_desc d0, d5, bad;
    long r;
    int i, zeros;
    struct sigaction sa;

    setvbuf(stdout, NULL, _IONBF, 0);
    printf("read before any write: %ld\n", ldt(0, buf, sizeof buf));
    memset(junk, 0xff, sizeof junk);
    r = ldt(2, junk, sizeof junk);
    for (i = zeros = 0; i < (int)sizeof junk; i++)
        zeros += junk[i] == 0;
    printf("read default: %ld, %d zero bytes\n", r, zeros);

    d0 = desc(0, (unsigned)(uintptr_t)tdata, 0xfff, 0, 0, 0, 0, 1);
    printf("write entry 0: %ld\n", ldt(0x11, &d0, sizeof d0));
    d5 = desc(5, (unsigned)(uintptr_t)zdata, 0xfffff, 0, 0, 1, 0, 1);
    printf("write entry 5 (old mode): %ld\n", ldt(1, &d5, sizeof d5));
    {
        struct user_desc z = desc(6, 0, 0xfffff, 0, 0, 1, 0, 0);
        printf("write entry 6 (base 0): %ld\n", ldt(0x11, &z, sizeof z));
    }
    memset(buf, 0xff, sizeof buf);
    r = ldt(0, buf, sizeof buf);
    printf("read: %ld\n", r);
    printf("entry 0 %s, entry 5 %s\n", buf[0] == expect(&d0, 0) ? "matches" : "differs",
           buf[5] == expect(&d5, 1) ? "matches" : "differs");
    printf("entry 0 without base: %#llx\n",
           (unsigned long long)(buf[0] & ~0xff0000ffffff0000ull));
    printf("entry 5 without base: %#llx\n",
           (unsigned long long)(buf[5] & ~0xff0000ffffff0000ull));
    for (i = zeros = 0; i < 16; i++)
        zeros += buf[i] == 0;
    printf("zero entries in 16: %d\n", zeros);
    memset(junk, 0xee, sizeof junk);
    r = ldt(0, junk, 12);
    printf("read 12 bytes: %ld, byte 12 untouched %d, first bytes %s\n", r, junk[12] == 0xee,
           memcmp(junk, &buf[0], 8) == 0 ? "match" : "differ");

    /* errors */
    printf("func 3: %ld\n", ldt(3, buf, sizeof buf));
    printf("bytecount 8: %ld\n", ldt(0x11, &d0, 8));
    bad = desc(8192, 0x1000, 1, 0, 0, 0, 0, 0);
    printf("entry 8192: %ld\n", ldt(0x11, &bad, sizeof bad));
    bad = desc(7, 0x1000, 1, 3, 0, 0, 0, 0);
    printf("contents 3 present: %ld\n", ldt(0x11, &bad, sizeof bad));
    bad = desc(7, 0x1000, 1, 3, 0, 0, 1, 0);
    printf("contents 3 not present, old mode: %ld\n", ldt(1, &bad, sizeof bad));
    printf("write from bad pointer: %ld\n", ldt(0x11, (void *)16, sizeof d0));
    printf("read to bad pointer: %ld\n", ldt(0, (void *)16, 64));
    printf("default to bad pointer: %ld\n", ldt(2, (void *)16, 64));

    /* selector loads */
    printf("gs (entry 0): %#x %#x, reads back %#x\n", gs_read(7, 0), gs_read(7, 12),
           gs_selector(7));
    printf("gs (entry 5): %#x, reads back %#x\n", gs_read((5 << 3) | 7, 4),
           gs_selector((5 << 3) | 7));
    printf("fs (entry 0): %#x\n", fs_read(7));
    printf("pop gs (entry 0): %#x\n", gs_pop_read(7));
    printf("lgs (entry 0): %#x\n", lgs_read(7));
    printf("ds (entry 6, base 0): %#x\n", ds_load((6 << 3) | 7));

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    {
        struct user_desc clr = desc(5, 0, 0, 0, 1, 0, 1, 0);
        clr.seg_32bit = 0;
        printf("clear entry 5: %ld\n", ldt(0x11, &clr, sizeof clr));
        r = ldt(0, buf, sizeof buf);
        printf("entry 5 now %#llx\n", (unsigned long long)buf[5]);
        clr = desc(4, (unsigned)(uintptr_t)tdata, 0xfff, 0, 0, 0, 1, 0);
        printf("write entry 4 not present: %ld\n", ldt(0x11, &clr, sizeof clr));
        clr = desc(3, 0x1000, 0xfff, 0, 0, 0, 0, 0);
        printf("write entry 3: %ld\n", ldt(0x11, &clr, sizeof clr));
        memset(&clr, 0, sizeof clr);
        clr.entry_number = 3;
        printf("clear entry 3 (old mode, zero base and limit): %ld\n",
               ldt(1, &clr, sizeof clr));
    }
    try_load("cleared entry 5", (5 << 3) | 7);
    try_load("cleared entry 3", (3 << 3) | 7);
    try_load("not-present entry 4", (4 << 3) | 7);
    try_load("entry 100 past the LDT", (100 << 3) | 7);
    try_load("entry 0 again", 7);

    linuxthreads();
    return 0;
}
