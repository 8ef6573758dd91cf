/* cgoto: computed goto (GCC labels as values). Two little bytecode
 * interpreters run fixed programs:
 *  - `run_abs` dispatches through a table of label addresses (`&&label`),
 *    the classic threaded interpreter; the table is a run of code pointers
 *    in data;
 *  - `run_rel` dispatches through a table of label *offsets* from a base
 *    label (`&&op - &&base`, the position-independent idiom), so no code
 *    address is stored anywhere and only the runtime can find the handlers
 *    that the static pass does not reach by falling through.
 * Programs: factorials, Fibonacci, a prime sieve count, gcd, collatz steps,
 * and a checksum loop. */
#include <stdio.h>
#include <string.h>

enum {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER, OP_ADD, OP_SUB,
    OP_MUL, OP_DIVMOD, OP_JZ, OP_JNZ, OP_JMP, OP_LT, OP_PRINT, OP_LOAD,
    OP_STORE, OP_INC, OP_DEC, OP_XOR, OP_SHL, OP_SHR, OP_ROT,
    NOPS
};

static const char *const names[NOPS] = {
    "halt", "push", "pop", "dup", "swap", "over", "add", "sub", "mul", "divmod", "jz", "jnz",
    "jmp", "lt", "print", "load", "store", "inc", "dec", "xor", "shl", "shr", "rot",
};

struct vm {
    int stack[64];
    int sp;
    int mem[16];
    unsigned long counts[NOPS];
    char out[4096];
    int outlen;
};

static void emit(struct vm *vm, int v)
{
    vm->outlen += snprintf(vm->out + vm->outlen, sizeof vm->out - vm->outlen, "%d ", v);
}

/* The handlers, shared by both interpreters (NEXT differs). */
#define HANDLERS \
halt: \
    vm->counts[OP_HALT]++; \
    vm->sp = sp; \
    return sp ? s[sp - 1] : 0; \
push: \
    vm->counts[OP_PUSH]++; \
    s[sp++] = code[pc++]; \
    NEXT; \
pop: \
    vm->counts[OP_POP]++; \
    sp--; \
    NEXT; \
dup: \
    vm->counts[OP_DUP]++; \
    s[sp] = s[sp - 1]; \
    sp++; \
    NEXT; \
swap: \
    vm->counts[OP_SWAP]++; \
    a = s[sp - 1]; \
    s[sp - 1] = s[sp - 2]; \
    s[sp - 2] = a; \
    NEXT; \
over: \
    vm->counts[OP_OVER]++; \
    s[sp] = s[sp - 2]; \
    sp++; \
    NEXT; \
add: \
    vm->counts[OP_ADD]++; \
    sp--; \
    s[sp - 1] = (int)((unsigned)s[sp - 1] + (unsigned)s[sp]); \
    NEXT; \
sub: \
    vm->counts[OP_SUB]++; \
    sp--; \
    s[sp - 1] = (int)((unsigned)s[sp - 1] - (unsigned)s[sp]); \
    NEXT; \
mul: \
    vm->counts[OP_MUL]++; \
    sp--; \
    s[sp - 1] = (int)((unsigned)s[sp - 1] * (unsigned)s[sp]); \
    NEXT; \
divmod: \
    vm->counts[OP_DIVMOD]++; \
    a = s[sp - 2]; \
    b = s[sp - 1]; \
    s[sp - 2] = a / b; \
    s[sp - 1] = a % b; \
    NEXT; \
jz: \
    vm->counts[OP_JZ]++; \
    a = code[pc++]; \
    if (s[--sp] == 0) \
        pc = a; \
    NEXT; \
jnz: \
    vm->counts[OP_JNZ]++; \
    a = code[pc++]; \
    if (s[--sp] != 0) \
        pc = a; \
    NEXT; \
jmp: \
    vm->counts[OP_JMP]++; \
    pc = code[pc]; \
    NEXT; \
lt: \
    vm->counts[OP_LT]++; \
    sp--; \
    s[sp - 1] = s[sp - 1] < s[sp]; \
    NEXT; \
print: \
    vm->counts[OP_PRINT]++; \
    emit(vm, s[--sp]); \
    NEXT; \
load: \
    vm->counts[OP_LOAD]++; \
    s[sp++] = vm->mem[code[pc++]]; \
    NEXT; \
store: \
    vm->counts[OP_STORE]++; \
    vm->mem[code[pc++]] = s[--sp]; \
    NEXT; \
inc: \
    vm->counts[OP_INC]++; \
    s[sp - 1] = (int)((unsigned)s[sp - 1] + 1); \
    NEXT; \
dec: \
    vm->counts[OP_DEC]++; \
    s[sp - 1] = (int)((unsigned)s[sp - 1] - 1); \
    NEXT; \
xor: \
    vm->counts[OP_XOR]++; \
    sp--; \
    s[sp - 1] ^= s[sp]; \
    NEXT; \
shl: \
    vm->counts[OP_SHL]++; \
    sp--; \
    s[sp - 1] = (int)((unsigned)s[sp - 1] << (s[sp] & 31)); \
    NEXT; \
shr: \
    vm->counts[OP_SHR]++; \
    sp--; \
    s[sp - 1] = (int)((unsigned)s[sp - 1] >> (s[sp] & 31)); \
    NEXT; \
rot: \
    vm->counts[OP_ROT]++; \
    a = s[sp - 3]; \
    s[sp - 3] = s[sp - 2]; \
    s[sp - 2] = s[sp - 1]; \
    s[sp - 1] = a; \
    NEXT; \
    /* end */

#define NEXT goto *dispatch[code[pc++]]

static __attribute__((noinline)) int run_abs(struct vm *vm, const int *code)
{
    static void *const dispatch[NOPS] = {
        &&halt, &&push, &&pop, &&dup, &&swap, &&over, &&add, &&sub, &&mul, &&divmod, &&jz, &&jnz,
        &&jmp, &&lt, &&print, &&load, &&store, &&inc, &&dec, &&xor, &&shl, &&shr, &&rot,
    };
    int pc = 0;
    int *s = vm->stack;
    int sp = vm->sp;
    int a, b;
    NEXT;
HANDLERS
}

#undef NEXT
#define NEXT goto *(&&base + offs[code[pc++]])

/* Same machine, relative dispatch table. */
static __attribute__((noinline)) int run_rel(struct vm *vm, const int *code)
{
    static const int offs[NOPS] = {
        &&halt - &&base, &&push - &&base, &&pop - &&base, &&dup - &&base, &&swap - &&base,
        &&over - &&base, &&add - &&base, &&sub - &&base, &&mul - &&base, &&divmod - &&base,
        &&jz - &&base, &&jnz - &&base, &&jmp - &&base, &&lt - &&base, &&print - &&base,
        &&load - &&base, &&store - &&base, &&inc - &&base, &&dec - &&base, &&xor - &&base,
        &&shl - &&base, &&shr - &&base, &&rot - &&base,
    };
    int pc = 0;
    int *s = vm->stack;
    int sp = vm->sp;
    int a, b;
    NEXT;
base:
HANDLERS
}

/* mem[0] = n; prints n! for n = 1..12, leaves 12! */
static const int prog_fact[] = {
    OP_PUSH, 1, OP_STORE, 1,            /* 0: acc = 1 */
    OP_PUSH, 1, OP_STORE, 0,            /* 4: n = 1 */
    OP_LOAD, 1, OP_LOAD, 0, OP_MUL,     /* 8: acc *= n */
    OP_DUP, OP_PRINT, OP_STORE, 1,      /* 13 */
    OP_LOAD, 0, OP_INC, OP_DUP, OP_STORE, 0, /* 17: n++ */
    OP_PUSH, 13, OP_LT, OP_JNZ, 8,      /* 24: while n < 13 */
    OP_LOAD, 1, OP_HALT,                /* 29 */
};

/* Fibonacci numbers below 1e6 */
static const int prog_fib[] = {
    OP_PUSH, 0, OP_PUSH, 1,             /* 0: a b */
    OP_OVER, OP_PRINT,                  /* 4: print a */
    OP_SWAP, OP_OVER, OP_ADD,           /* 6: b a+b */
    OP_DUP, OP_PUSH, 1000000, OP_LT,    /* 9 */
    OP_JNZ, 4,                          /* 13 */
    OP_ADD, OP_HALT,                    /* 15 */
};

/* count primes below 2000 by trial division; mem: 0 = n, 1 = d, 2 = count */
static const int prog_primes[] = {
    OP_PUSH, 0, OP_STORE, 2,            /* 0 */
    OP_PUSH, 2, OP_STORE, 0,            /* 4: n = 2 */
    /* 8: outer: d = 2 */
    OP_PUSH, 2, OP_STORE, 1,
    /* 12: inner: if d*d > n -> prime */
    OP_LOAD, 0, OP_LOAD, 1, OP_DUP, OP_MUL, OP_LT, OP_JNZ, 38,
    /* 21: if n % d == 0 -> not prime */
    OP_LOAD, 0, OP_LOAD, 1, OP_DIVMOD, OP_SWAP, OP_POP, OP_JZ, 45,
    /* 30: d++ ; goto inner */
    OP_LOAD, 1, OP_INC, OP_STORE, 1, OP_JMP, 12,
    OP_HALT,                            /* 37 (unused) */
    /* 38: prime: count++ */
    OP_LOAD, 2, OP_INC, OP_STORE, 2, OP_JMP, 45,
    /* 45: next n */
    OP_LOAD, 0, OP_INC, OP_DUP, OP_STORE, 0,
    OP_PUSH, 2000, OP_LT, OP_JNZ, 8,
    OP_LOAD, 2, OP_DUP, OP_PRINT, OP_HALT, /* 56 */
};

/* gcd(a, b) for a few pairs pushed by the host, Euclid with divmod */
static const int prog_gcd[] = {
    /* stack: a b */
    OP_DUP, OP_JZ, 11,                  /* 0: if b == 0 -> done */
    OP_SWAP, OP_OVER,                   /* 3: b a b */
    OP_DIVMOD, OP_SWAP, OP_POP,         /* 5: b a%b */
    OP_JMP, 0,                          /* 8 */
    OP_HALT,                            /* 10 (unused) */
    OP_POP, OP_DUP, OP_PRINT, OP_HALT,  /* 11: a */
};

/* collatz steps of mem[0]; mem[1] = steps */
static const int prog_collatz[] = {
    OP_PUSH, 0, OP_STORE, 1,                                  /* 0: steps = 0 */
    OP_LOAD, 0, OP_PUSH, 1, OP_SUB, OP_JZ, 44,                /* 4: while n != 1 */
    OP_LOAD, 0, OP_PUSH, 2, OP_DIVMOD, OP_SWAP, OP_POP, OP_JZ, 30, /* 11: even? */
    OP_LOAD, 0, OP_PUSH, 3, OP_MUL, OP_INC, OP_STORE, 0, OP_JMP, 37, /* 20: n = 3n+1 */
    OP_LOAD, 0, OP_PUSH, 1, OP_SHR, OP_STORE, 0,              /* 30: n >>= 1 */
    OP_LOAD, 1, OP_INC, OP_STORE, 1, OP_JMP, 4,               /* 37: steps++ */
    OP_LOAD, 1, OP_HALT,                                      /* 44 */
};

/* checksum: x = x * 31 ^ (x >> 7) rotated through 3 stack slots, 5000 times */
static const int prog_hash[] = {
    OP_PUSH, 5000, OP_STORE, 0,         /* 0: counter */
    OP_PUSH, 17, OP_PUSH, 3, OP_PUSH, 0x1234, /* 4: three values */
    /* 10: loop */
    OP_DUP, OP_PUSH, 31, OP_MUL, OP_SWAP, OP_PUSH, 7, OP_SHR, OP_XOR, /* x' */
    OP_ROT,                             /* 19 */
    OP_LOAD, 0, OP_DEC, OP_DUP, OP_STORE, 0, OP_JNZ, 10, /* 20 */
    OP_ADD, OP_XOR, OP_DUP, OP_PRINT, OP_HALT, /* 28 */
};

typedef int (*runner)(struct vm *, const int *);

static void show(const char *what, const char *how, struct vm *vm, int r)
{
    unsigned long total = 0;
    for (int i = 0; i < NOPS; i++)
        total += vm->counts[i];
    printf("%s/%s: result %d, sp %d, %lu ops\n  out: %s\n", what, how, r, vm->sp, total, vm->out);
}

static void run_all(runner run, const char *how, unsigned long *grand)
{
    static struct vm vm;
    int r;

    memset(&vm, 0, sizeof vm);
    r = run(&vm, prog_fact);
    show("fact", how, &vm, r);
    for (int i = 0; i < NOPS; i++)
        grand[i] += vm.counts[i];

    memset(&vm, 0, sizeof vm);
    r = run(&vm, prog_fib);
    show("fib", how, &vm, r);
    for (int i = 0; i < NOPS; i++)
        grand[i] += vm.counts[i];

    memset(&vm, 0, sizeof vm);
    r = run(&vm, prog_primes);
    show("primes", how, &vm, r);
    for (int i = 0; i < NOPS; i++)
        grand[i] += vm.counts[i];

    static const int pairs[][2] = { { 1071, 462 }, { 270, 192 }, { 17, 5 }, { 1 << 20, 3 << 12 }, { 99991, 7 } };
    memset(&vm, 0, sizeof vm);
    for (int i = 0; i < 5; i++) {
        vm.stack[0] = pairs[i][0];
        vm.stack[1] = pairs[i][1];
        vm.sp = 2;
        r = run(&vm, prog_gcd);
    }
    show("gcd", how, &vm, r);
    for (int i = 0; i < NOPS; i++)
        grand[i] += vm.counts[i];

    memset(&vm, 0, sizeof vm);
    for (int n = 1; n <= 30; n++) {
        vm.mem[0] = n;
        vm.sp = 0;
        r = run(&vm, prog_collatz);
        emit(&vm, vm.mem[1]);
    }
    show("collatz", how, &vm, r);
    for (int i = 0; i < NOPS; i++)
        grand[i] += vm.counts[i];

    memset(&vm, 0, sizeof vm);
    r = run(&vm, prog_hash);
    show("hash", how, &vm, r);
    for (int i = 0; i < NOPS; i++)
        grand[i] += vm.counts[i];
}

int main(void)
{
    unsigned long abs_counts[NOPS] = { 0 }, rel_counts[NOPS] = { 0 };
    run_all(run_abs, "abs", abs_counts);
    run_all(run_rel, "rel", rel_counts);
    for (int i = 0; i < NOPS; i++)
        printf("%-7s %8lu %8lu\n", names[i], abs_counts[i], rel_counts[i]);
    return memcmp(abs_counts, rel_counts, sizeof abs_counts) ? 1 : 0;
}
