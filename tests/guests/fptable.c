/* fptable: indirect calls the static pass cannot resolve by itself.
 *  - a table of function pointers filled at run time from computed indices
 *    (through a volatile, so gcc cannot fold the calls), called in loops;
 *  - secret_fn, reached only through a pointer in a static struct
 *    (`ops.f`) and referenced nowhere else;
 *  - fp_hidden, hand-written code with no function symbol (STT_NOTYPE), no
 *    unwind info and no plain pointer to it anywhere: its address is stored
 *    biased (`+ 0x40000000`) and un-biased at run time, so only the runtime
 *    can find it (its blocks are what a REHOST_PROFILE run records);
 *  - pointers to functions returned from functions, and a callback chain. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

typedef unsigned (*binop)(unsigned, unsigned);

static NOINLINE unsigned op_add(unsigned a, unsigned b) { return a + b; }
static NOINLINE unsigned op_sub(unsigned a, unsigned b) { return a - b; }
static NOINLINE unsigned op_mul(unsigned a, unsigned b) { return a * b; }
static NOINLINE unsigned op_xor(unsigned a, unsigned b) { return a ^ b; }
static NOINLINE unsigned op_rotl(unsigned a, unsigned b) { return (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31)); }
static NOINLINE unsigned op_div(unsigned a, unsigned b) { return a / (b | 1); }
static NOINLINE unsigned op_mod(unsigned a, unsigned b) { return a % ((b & 0xffff) | 1); }
static NOINLINE unsigned op_min(unsigned a, unsigned b) { return a < b ? a : b; }
static NOINLINE unsigned op_max(unsigned a, unsigned b) { return a > b ? a : b; }
static NOINLINE unsigned op_mix(unsigned a, unsigned b)
{
    unsigned h = a * 2654435761u ^ b;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    return h ^ (h >> 12);
}
static NOINLINE unsigned op_popc(unsigned a, unsigned b)
{
    unsigned n = 0;
    for (unsigned x = a ^ b; x; x &= x - 1)
        n++;
    return n;
}

static const char *const op_names[] = {
    "add", "sub", "mul", "xor", "rotl", "div", "mod", "min", "max", "mix", "popc", "hidden",
};
#define NOPS 12

/* Hand-written, no symbol type and no CFI: (a * b + 7) + popcount(a). */
__asm__(".pushsection .text.fp_hidden,\"ax\",@progbits\n"
        ".globl fp_hidden\n"
        "fp_hidden:\n"
        "  movl 4(%esp), %eax\n"
        "  imull 8(%esp), %eax\n"
        "  addl $7, %eax\n"
        "  movl 4(%esp), %ecx\n"
        "1:\n"
        "  testl %ecx, %ecx\n"
        "  jz 2f\n"
        "  leal -1(%ecx), %edx\n"
        "  andl %edx, %ecx\n"
        "  incl %eax\n"
        "  jmp 1b\n"
        "2:\n"
        "  ret\n"
        ".popsection\n");
extern unsigned fp_hidden(unsigned, unsigned);

/* The only reference to fp_hidden: its address plus 0x40000000, which is
 * not a code address. Filled in at run time (gcc cannot add to a symbol's
 * address in a static initialiser of an integer). */
static volatile uintptr_t hidden_biased;
static volatile uintptr_t bias = 0x40000000u;

static binop pool(unsigned i)
{
    switch (i) {
    case 0: return op_add;
    case 1: return op_sub;
    case 2: return op_mul;
    case 3: return op_xor;
    case 4: return op_rotl;
    case 5: return op_div;
    case 6: return op_mod;
    case 7: return op_min;
    case 8: return op_max;
    case 9: return op_mix;
    case 10: return op_popc;
    default: return (binop)(hidden_biased - bias);
    }
}

/* Only reachable through ops.f. */
static int secret_fn(int x)
{
    int r = 1;
    for (int i = 0; i < (x & 15); i++)
        r = r * 3 + x;
    return r ^ 0x5a5a;
}

static int twice(int x) { return 2 * x + 1; }

/* The members are volatile so that gcc, seeing `ops` never written, cannot
 * turn `ops.f(x)` into a direct call of secret_fn. */
static struct ops {
    int (*volatile f)(int);
    const char *name;
    int (*volatile g)(int);
} ops = { secret_fn, "secret", twice };

static volatile unsigned seed = 7;

static binop table[16];
static unsigned table_ix[16];

static unsigned rng = 88172645u;
static unsigned next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Returns a function pointer chosen from its argument. */
static NOINLINE binop pick(unsigned k) { return table[k & 15]; }

static NOINLINE unsigned apply_chain(binop *fs, int n, unsigned a, unsigned b)
{
    for (int i = 0; i < n; i++)
        a = fs[i](a, b + i);
    return a;
}

struct node {
    int (*visit)(struct node *, int);
    int value;
    struct node *next;
};

static int visit_add(struct node *n, int acc) { return acc + n->value; }
static int visit_mul(struct node *n, int acc) { return acc * (n->value | 1) % 1000003; }
static int visit_neg(struct node *n, int acc) { return n->value - acc; }

int main(void)
{
    hidden_biased = (uintptr_t)fp_hidden + bias;

    /* Fill the table: index (i * seed + 3) mod NOPS, through a volatile. */
    for (unsigned i = 0; i < 16; i++) {
        table_ix[i] = (i * seed + 3) % NOPS;
        table[i] = pool(table_ix[i]);
    }
    for (unsigned i = 0; i < 16; i++)
        printf("table[%2u] = %s\n", i, op_names[table_ix[i]]);

    /* Each op on fixed operands. */
    for (unsigned k = 0; k < NOPS; k++) {
        binop f = pool(k);
        printf("%-6s %10u %10u %10u\n", op_names[k], f(1000, 37), f(0xdeadbeefu, 0x1234u), f(5, 0xffffffffu));
    }

    /* Loops of indirect calls. */
    unsigned acc = 1;
    for (int round = 0; round < 2000; round++) {
        unsigned r = next();
        acc = pick(r)(acc, r >> 4) + 1;
        if (round % 250 == 0)
            printf("round %4d acc %08x\n", round, acc);
    }
    printf("acc %08x\n", acc);

    /* Per-slot sums over many calls. */
    unsigned sums[16] = { 0 };
    for (int i = 0; i < 640; i++) {
        unsigned s = (unsigned)i % 16;
        sums[s] += table[s](i * 31u + 5, i ^ 0x55u);
    }
    for (int s = 0; s < 16; s++)
        printf("sum[%2d] %08x\n", s, sums[s]);

    /* Chains of calls through an array passed around. */
    binop chain[8];
    for (int i = 0; i < 8; i++)
        chain[i] = table[(i * 5 + 1) & 15];
    for (unsigned a = 1; a < 100000; a = a * 7 + 3)
        printf("chain(%6u) = %08x\n", a, apply_chain(chain, 8, a, a >> 1));

    /* The function known only from a data structure. */
    for (int x = -3; x < 20; x += 2)
        printf("%s(%d) = %d, g = %d\n", ops.name, x, ops.f(x), ops.g(ops.f(x)));

    /* A linked list whose nodes carry their own visit function. */
    struct node nodes[10];
    int (*const visits[3])(struct node *, int) = { visit_add, visit_mul, visit_neg };
    for (int i = 0; i < 10; i++) {
        nodes[i].visit = visits[(i * seed) % 3];
        nodes[i].value = i * i + 3;
        nodes[i].next = i < 9 ? &nodes[i + 1] : NULL;
    }
    int acc2 = 0;
    for (struct node *n = nodes; n; n = n->next) {
        acc2 = n->visit(n, acc2);
        printf("node %2d -> %d\n", n->value, acc2);
    }

    /* The hidden function, called directly through the pointer in a loop. */
    binop h = pool(NOPS - 1);
    unsigned hs = 0;
    for (unsigned i = 0; i < 300; i++)
        hs = hs * 33 + h(i, i + 1);
    printf("hidden sum %08x\n", hs);
    return (int)(acc & 0x3f);
}
