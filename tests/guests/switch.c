/* switch: dense switches compiled to jump tables (indirect jumps through a
 * table in .rodata, PIC-relative in the -static-pie variant), a sparse switch,
 * a character-class switch and computed goto. */
#include <stdio.h>
#include <string.h>

static unsigned state = 12345;

static __attribute__((noinline)) unsigned step(unsigned x, int op)
{
    switch (op) {
    case 0: return x + 1;
    case 1: return x * 3;
    case 2: return x ^ 0xdeadbeef;
    case 3: return x >> 3;
    case 4: return x << 5 | x >> 27;
    case 5: return x - 77;
    case 6: return ~x;
    case 7: return x * x;
    case 8: return x / 7 + 1;
    case 9: return x % 1000003;
    case 10: state += x; return state;
    case 11: return x & 0xff00ff00;
    case 12: return x | 0x10001;
    case 13: return (x >> 16) | (x << 16);
    case 14: return x + state * 13;
    case 15: return x ^ (x >> 7);
    case 16: return x * 2654435761u;
    case 17: return x - (x >> 2);
    case 18: return (unsigned)-(int)x;
    case 19: return x + 0x12345;
    case 20: return x / 3 * 2;
    default: return 0xffffffff;
    }
}

static __attribute__((noinline)) const char *name(int v)
{
    switch (v) {
    case 0: return "zero";
    case 1: return "one";
    case 2: return "two";
    case 3: return "three";
    case 4: return "four";
    case 5: return "five";
    case 6: return "six";
    case 7: return "seven";
    case 8: return "eight";
    case 9: return "nine";
    default: return "many";
    }
}

static __attribute__((noinline)) int sparse(int v)
{
    switch (v) {
    case -1000: return 1;
    case 3: return 2;
    case 99: return 3;
    case 1024: return 4;
    case 65536: return 5;
    case 1 << 30: return 6;
    default: return 0;
    }
}

static void classify(const char *s)
{
    int digits = 0, upper = 0, lower = 0, space = 0, punct = 0, other = 0;
    for (; *s; s++) {
        switch (*s) {
        case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9': digits++; break;
        case 'A' ... 'Z': upper++; break;
        case 'a' ... 'z': lower++; break;
        case ' ': case '\t': case '\n': space++; break;
        case '!': case '?': case '.': case ',': case ';': case ':': punct++; break;
        default: other++;
        }
    }
    printf("classify: digits %d upper %d lower %d space %d punct %d other %d\n", digits, upper,
           lower, space, punct, other);
}

static int run_threaded(const unsigned char *code, int n)
{
    static const void *labels[] = {&&op_inc, &&op_dbl, &&op_dec, &&op_end};
    int acc = 0, pc = 0;
#define NEXT goto *labels[code[pc++] & 3]
    NEXT;
op_inc:
    acc += 1;
    if (pc >= n) return acc;
    NEXT;
op_dbl:
    acc *= 2;
    if (pc >= n) return acc;
    NEXT;
op_dec:
    acc -= 3;
    if (pc >= n) return acc;
    NEXT;
op_end:
    return acc;
#undef NEXT
}

int main(void)
{
    unsigned x = 1;
    int hist[22] = {0};
    for (int i = 0; i < 100000; i++) {
        int op = (int)((x >> 7) % 22); /* 21 -> default */
        hist[op]++;
        x = step(x, op);
        if (i % 10000 == 0) printf("i %6d op %2d x %08x\n", i, op, x);
    }
    printf("final x %08x state %08x\n", x, state);
    for (int i = 0; i < 22; i++) printf("op %2d taken %d times\n", i, hist[i]);
    for (int i = -1; i <= 11; i++) printf("name(%d) = %s\n", i, name(i));
    int sp[] = {-1000, 3, 4, 99, 1024, 65536, 1 << 30, 0, 7};
    for (unsigned i = 0; i < sizeof sp / sizeof sp[0]; i++) printf("sparse(%d) = %d\n", sp[i], sparse(sp[i]));
    classify("Hello, World! 123 times: the Quick brown fox.\tTabs\n#$%");
    unsigned char prog[64];
    for (int i = 0; i < 64; i++) prog[i] = (unsigned char)(i * 7 % 5 == 4 ? 0 : i * 7 % 5);
    prog[63] = 3;
    printf("threaded code result %d\n", run_threaded(prog, 64));
    return 0;
}
