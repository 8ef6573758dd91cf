/* printf: integer and floating-point formatting through glibc's vfprintf.
 * Exercises %d %u %x %o %lld %e %f %g %a, widths, precisions, flags,
 * negative and large values, and snprintf return values. */
#pragma GCC diagnostic ignored "-Wformat-truncation" /* truncation is the point */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void ints(void)
{
    int vals[] = {0, 1, -1, 7, -42, 1000, 65535, -65536, 2147483647, INT_MIN};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        int v = vals[i];
        printf("int %d: [%d] [%5d] [%-5d] [%+d] [%05d] [%u] [%x] [%X] [%#o] [%hhd] [%hd]\n",
               i, v, v, v, v, v, (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v, (signed char)v,
               (short)v);
    }
    long long ll[] = {0LL, -1LL, 4294967296LL, -4294967297LL, LLONG_MAX, LLONG_MIN,
                      123456789012345LL};
    for (unsigned i = 0; i < sizeof ll / sizeof ll[0]; i++)
        printf("ll %u: [%lld] [%llu] [%llx] [%20lld] [%-22lld|]\n", i, ll[i],
               (unsigned long long)ll[i], (unsigned long long)ll[i], ll[i], ll[i]);
    printf("size_t max %zu, ptrdiff min %td, intmax %jd\n", (size_t)-1, (ptrdiff_t)INT_MIN,
           (intmax_t)INT64_MIN);
    printf("char [%c] [%3c] [%-3c|] string [%s] [%8s] [%-8s|] [%.3s]\n", 'A', 'b', 'c', "hello",
           "hi", "hi", "truncate");
    printf("percent %% star [%*d] [%-*d|] [%.*f]\n", 6, 42, 6, 42, 2, 3.14159);
}

static void doubles(void)
{
    double vals[] = {0.0,     -0.0,      1.0,       -1.5,    3.141592653589793, 2.718281828459045,
                     1e-300,  1e300,     -1.25e-10, 6.02214076e23, 123456789.125,   0.1,
                     1.0 / 3, -2.0 / 3,  65536.0,   1e15 + 0.3,    4.9406564584124654e-324,
                     1.7976931348623157e308};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        double v = vals[i];
        printf("dbl %2u: [%f] [%.2f] [%e] [%.3E] [%g] [%G] [%.10g] [%12.4f] [%-12.3e|] [%a]\n", i,
               v, v, v, v, v, v, v, v, v, v);
    }
    float f = 1.1f;
    printf("float 1.1f = %.10f, %.9g\n", f, f);
    printf("special: [%f] [%f] [%e] [%g]\n", 1.0 / 0.0, -1.0 / 0.0, -(1.0 / 0.0), 0.0 / 0.0 * 0);
    long double ld = 1.0L / 3.0L;
    printf("long double: [%Lf] [%.20Lg] [%Le]\n", ld, ld, ld);
    for (int e = -20; e <= 20; e += 5) {
        volatile double p = 1.0; /* volatile: no x87 excess precision at -O2 */
        if (e >= 0)
            for (int k = 0; k < e; k++) p *= 10.0;
        else
            for (int k = 0; k < -e; k++) p /= 10.0;
        printf("pow10(%d) = %g = %.17e\n", e, p, p);
    }
}

static void snprintfs(void)
{
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%s-%d-%f", "abcdefghij", 123456, 2.5);
    printf("snprintf returned %d, buf [%s], len %zu\n", n, buf, strlen(buf));
    n = snprintf(NULL, 0, "%lld", LLONG_MIN);
    printf("snprintf(NULL) = %d\n", n);
    char big[256];
    unsigned sum = 0;
    for (int i = 0; i < 200; i++) {
        int len = snprintf(big, sizeof big, "%d:%x:%.3f:%e", i * 7919 - 500000, i * 31337,
                           i / 7.0, i * 1234.5678);
        for (int k = 0; k < len; k++) sum = sum * 31 + (unsigned char)big[k];
        if (i % 50 == 0) printf("row %d: %s\n", i, big);
    }
    printf("snprintf checksum %08x\n", sum);
}

int main(void)
{
    ints();
    doubles();
    snprintfs();
    fflush(stdout);
    fputs("puts via fputs\n", stdout);
    puts("puts via puts");
    putchar('!');
    putchar('\n');
    return 0;
}
