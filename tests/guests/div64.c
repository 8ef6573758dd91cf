/* div64: 64-bit integer arithmetic on i386: libgcc's __divdi3/__udivdi3/
 * __moddi3/__umoddi3, multiplication, shifts by variable counts, comparisons. */
#include <stdint.h>
#include <stdio.h>

static volatile int64_t sv[] = {0, 1, -1, 7, -7, 1000000007, -1000000007, 4294967296LL,
                                -4294967296LL, 9223372036854775807LL, INT64_MIN, 123456789012345678LL,
                                -98765432109876LL};
static volatile uint64_t uv[] = {1, 3, 10, 4294967295ULL, 4294967296ULL, 18446744073709551615ULL,
                                 0x8000000000000000ULL, 12345678901234567890ULL, 0xdeadbeefcafebabeULL};

int main(void)
{
    int n = sizeof sv / sizeof sv[0];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int64_t a = sv[i], b = sv[j];
            if (b == 0 || (a == INT64_MIN && b == -1)) continue;
            if ((i * 7 + j) % 3) continue;
            printf("s %lld / %lld = %lld rem %lld\n", (long long)a, (long long)b, (long long)(a / b),
                   (long long)(a % b));
        }
    int m = sizeof uv / sizeof uv[0];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            uint64_t a = uv[i], b = uv[j];
            printf("u %llu / %llu = %llu rem %llu\n", (unsigned long long)a, (unsigned long long)b,
                   (unsigned long long)(a / b), (unsigned long long)(a % b));
        }
    uint64_t h = 0x123456789abcdefULL;
    int64_t sh = -1;
    for (int i = 0; i < 64; i++) {
        volatile int c = i;
        h ^= (h << c) + (h >> (63 - c));
        sh += ((int64_t)h >> c) ^ (sh << (c & 31));
    }
    printf("shifts %016llx %016llx\n", (unsigned long long)h, (unsigned long long)sh);
    uint64_t prod = 1;
    for (uint64_t k = 1; k < 30; k++) prod = prod * (k * 2654435761ULL) + k;
    printf("product chain %016llx\n", (unsigned long long)prod);
    uint64_t acc = 0;
    for (uint32_t k = 1; k < 100000; k++) {
        uint64_t v = (uint64_t)k * 0x9e3779b97f4a7c15ULL;
        acc += v / (k | 1) + v % (k + 12345);
    }
    printf("div loop %016llx\n", (unsigned long long)acc);
    int64_t sacc = 0;
    for (int32_t k = -50000; k < 50000; k += 7) {
        int64_t v = (int64_t)k * 1234567891LL;
        sacc += v / (k == 0 ? 1 : k * 3) - v % 1000003;
    }
    printf("signed div loop %lld\n", (long long)sacc);
    printf("cmp: %d %d %d %d\n", sv[7] > sv[1], sv[8] < sv[2], uv[5] > uv[6], (uint64_t)sv[2] == uv[5]);
    printf("int64 min / 10 = %lld, %% 10 = %lld\n", (long long)(INT64_MIN / 10), (long long)(INT64_MIN % 10));
    return 0;
}
