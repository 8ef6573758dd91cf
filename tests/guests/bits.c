/* bits: bit manipulation as compilers emit it on i386: popcount, bswap,
 * rotates and shifts by variable counts, widening mul/imul (high halves),
 * clz/ctz (bsr/bsf), parity, sign/zero extension, carries through adc/sbb. */
#include <stdint.h>
#include <stdio.h>

static volatile uint32_t vals[] = {0, 1, 0x80000000u, 0xffffffffu, 0x12345678u, 0xdeadbeefu, 0x0f0f0f0fu,
                                   0x7fffffffu, 0xaaaaaaaau, 3, 0x00010000u};

static uint32_t rotl(uint32_t x, unsigned n) { return (x << (n & 31)) | (x >> (-n & 31)); }
static uint32_t rotr(uint32_t x, unsigned n) { return (x >> (n & 31)) | (x << (-n & 31)); }

static uint32_t reverse(uint32_t x)
{
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x);
}

int main(void)
{
    int n = sizeof vals / sizeof vals[0];
    for (int i = 0; i < n; i++) {
        uint32_t x = vals[i];
        printf("%08x: pop %2d parity %d bswap %08x rev %08x clz %2d ctz %2d ffs %2d\n", x, __builtin_popcount(x),
               __builtin_parity(x), __builtin_bswap32(x), reverse(x), x ? __builtin_clz(x) : 32,
               x ? __builtin_ctz(x) : 32, __builtin_ffs((int)x));
    }
    for (int i = 0; i < n; i++) {
        uint32_t x = vals[i];
        uint32_t h = 0;
        for (volatile unsigned c = 0; c < 40; c += 3) {
            h = h * 17 + rotl(x, c);
            h ^= rotr(x, c + 1);
            h += x << (c & 31);
            h ^= x >> (c & 31);
            h += (uint32_t)((int32_t)x >> (c & 31));
        }
        printf("%08x: rot/shift hash %08x\n", x, h);
    }
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j += 3) {
            uint32_t a = vals[i], b = vals[j];
            uint64_t u = (uint64_t)a * b;
            int64_t s = (int64_t)(int32_t)a * (int32_t)b;
            printf("mul %08x*%08x: u hi %08x lo %08x s hi %08x lo %08x\n", a, b, (uint32_t)(u >> 32), (uint32_t)u,
                   (uint32_t)((uint64_t)s >> 32), (uint32_t)s);
        }
    uint64_t w = 0x0123456789abcdefULL;
    printf("bswap64 %016llx popcount64 %d clzll %d ctzll %d\n", (unsigned long long)__builtin_bswap64(w),
           __builtin_popcountll(w), __builtin_clzll(w), __builtin_ctzll(w << 4));
    volatile int8_t sb = -5;
    volatile int16_t sw = -1234;
    volatile uint8_t ub = 250;
    printf("extend: %d %d %u %u %d\n", (int)sb, (int)sw, (unsigned)(uint8_t)sb, (unsigned)(uint16_t)sw,
           (int)(int8_t)ub);
    /* 96-bit addition with carries */
    uint32_t a0 = 0xffffffffu, a1 = 0xffffffffu, a2 = 1, b0 = 1, b1 = 0, b2 = 2;
    uint64_t t = (uint64_t)a0 + b0;
    uint32_t r0 = (uint32_t)t;
    t = (uint64_t)a1 + b1 + (t >> 32);
    uint32_t r1 = (uint32_t)t;
    uint32_t r2 = a2 + b2 + (uint32_t)(t >> 32);
    printf("add96 %08x %08x %08x\n", r2, r1, r0);
    unsigned ovf = 0;
    int res;
    ovf += __builtin_add_overflow(0x7fffffff, 1, &res);
    ovf += __builtin_sub_overflow((int)0x80000000, 1, &res) << 1;
    ovf += __builtin_mul_overflow(65536, 65536, &res) << 2;
    ovf += __builtin_add_overflow(1, 2, &res) << 3;
    printf("overflow flags %x last %d\n", ovf, res);
    uint32_t lcg = 1;
    uint32_t mix = 0;
    for (int k = 0; k < 100000; k++) {
        lcg = lcg * 1664525u + 1013904223u;
        mix ^= rotl(lcg, lcg >> 27) + __builtin_popcount(lcg & mix);
        mix += (uint32_t)(((uint64_t)lcg * mix) >> 32);
    }
    printf("mix %08x\n", mix);
    return 0;
}
