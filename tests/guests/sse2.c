/* sse2: scalar and packed SSE2 arithmetic (built with -msse2 -mfpmath=sse):
 * double/float math in xmm registers, conversions, intrinsics, MXCSR. */
#include <emmintrin.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void print_pd(const char *what, __m128d v)
{
    double d[2];
    _mm_storeu_pd(d, v);
    printf("%-10s %.17g %.17g\n", what, d[0], d[1]);
}

static void print_epi32(const char *what, __m128i v)
{
    int d[4];
    _mm_storeu_si128((__m128i *)d, v);
    printf("%-10s %d %d %d %d\n", what, d[0], d[1], d[2], d[3]);
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

int main(void)
{
    printf("mxcsr %08x\n", _mm_getcsr());
    double a[256], b[256];
    float fa[256];
    for (int i = 0; i < 256; i++) {
        a[i] = i * 0.5 - 17.25;
        b[i] = 1.0 / (i + 1);
        fa[i] = (float)(i * 0.1);
    }
    printf("dot %.17g\n", dot(a, b, 256));
    float fs = 0;
    for (int i = 0; i < 256; i++) fs += fa[i] * fa[i];
    printf("float sum of squares %.9g\n", fs);
    double s = 0;
    for (int i = 1; i <= 200; i++) s += sqrt((double)i) / (i + 0.5);
    printf("sqrt series %.17g\n", s);
    volatile double x = 0.7;
    printf("sin %.17g cos %.17g exp %.17g log %.17g pow %.17g\n", sin(x), cos(x), exp(x), log(x), pow(x, 2.5));
    printf("float: sqrtf %.9g expf %.9g\n", sqrtf((float)x), expf((float)x));

    volatile double conv[] = {2.5, -2.5, 3.99, -3.99, 1e9, -2147483648.0};
    for (unsigned i = 0; i < sizeof conv / sizeof conv[0]; i++)
        printf("cvt %.17g: trunc %d round %d ll %lld float %.9g\n", conv[i], (int)conv[i],
               _mm_cvtsd_si32(_mm_set_sd(conv[i])), (long long)conv[i], (float)conv[i]);

    __m128d p = _mm_set_pd(2.0, 9.0);
    __m128d q = _mm_set_pd(-0.5, 3.0);
    print_pd("add", _mm_add_pd(p, q));
    print_pd("mul", _mm_mul_pd(p, q));
    print_pd("div", _mm_div_pd(p, q));
    print_pd("sqrt", _mm_sqrt_pd(p));
    print_pd("min", _mm_min_pd(p, q));
    print_pd("max", _mm_max_pd(p, q));
    print_pd("unpacklo", _mm_unpacklo_pd(p, q));
    print_pd("shuffle", _mm_shuffle_pd(p, q, 1));
    printf("cmplt mask %d\n", _mm_movemask_pd(_mm_cmplt_pd(p, q)));

    __m128i i1 = _mm_set_epi32(4, -3, 2, 1);
    __m128i i2 = _mm_set_epi32(100, 200, -300, 400);
    print_epi32("add32", _mm_add_epi32(i1, i2));
    print_epi32("sub32", _mm_sub_epi32(i1, i2));
    print_epi32("mullo16", _mm_mullo_epi16(i1, i2));
    print_epi32("shuf", _mm_shuffle_epi32(i2, 0x1b));
    print_epi32("sll", _mm_slli_epi32(i1, 5));
    print_epi32("sra", _mm_srai_epi32(i2, 3));
    print_epi32("cmpgt", _mm_cmpgt_epi32(i1, i2));
    print_epi32("cvttpd", _mm_cvttpd_epi32(_mm_set_pd(-7.9, 7.9)));
    print_pd("cvtepi32", _mm_cvtepi32_pd(i1));
    __m128i bytes = _mm_setr_epi8(1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16);
    printf("movemask8 %04x\n", _mm_movemask_epi8(bytes));
    __m128i sad = _mm_sad_epu8(bytes, _mm_setzero_si128());
    print_epi32("sad", sad);
    unsigned char buf[64];
    for (int i = 0; i < 64; i++) buf[i] = (unsigned char)(i * 37);
    __m128i acc = _mm_setzero_si128();
    for (int i = 0; i < 64; i += 16) acc = _mm_add_epi8(acc, _mm_loadu_si128((const __m128i *)(buf + i)));
    print_epi32("bytesum", acc);

    unsigned csr = _mm_getcsr();
    _mm_setcsr((csr & ~0x6000u) | 0x2000u); /* round down */
    volatile double one = 1.0, three = 3.0;
    double down = one / three;
    _mm_setcsr((csr & ~0x6000u) | 0x4000u); /* round up */
    double up = one / three;
    _mm_setcsr(csr);
    printf("1/3 down %a up %a differ %d\n", down, up, down != up);
    volatile double tiny = 1e-310;
    printf("denormal * 0.5 = %a\n", tiny * 0.5);
    return 0;
}
