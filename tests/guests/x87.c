/* x87: long double arithmetic and libm on the x87 stack (the default i386
 * -mfpmath=387): transcendental functions, rounding modes, the control word,
 * float<->integer conversions, NaN/inf comparisons. Values are printed with
 * %a/%La too, so a wrong precision-control setting or a lost bit shows. */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static volatile double vd[] = {0.5, 1.0, 2.0, -0.75, 3.141592653589793, 10.0, 1e-5, 123.456};

int main(void)
{
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    printf("x87 control word %04x\n", cw);
    printf("LDBL_MANT_DIG %d DBL_MANT_DIG %d sizeof(long double) %zu\n", LDBL_MANT_DIG, DBL_MANT_DIG,
           sizeof(long double));

    long double third = 1.0L / 3.0L;
    long double acc = 0.0L;
    for (int i = 1; i <= 1000; i++) acc += 1.0L / ((long double)i * i);
    printf("1/3 = %.21Lg (%La)\n", third, third);
    printf("sum 1/i^2 = %.21Lg (%La)\n", acc, acc);
    printf("sqrtl(2) = %.21Lg\n", sqrtl(2.0L));
    printf("expl(1) = %.21Lg logl(10) = %.21Lg\n", expl(1.0L), logl(10.0L));
    printf("sinl(1) = %.21Lg cosl(1) = %.21Lg atanl(1)*4 = %.21Lg\n", sinl(1.0L), cosl(1.0L), atanl(1.0L) * 4);
    printf("powl(1.5, 40) = %.21Lg\n", powl(1.5L, 40.0L));

    for (unsigned i = 0; i < sizeof vd / sizeof vd[0]; i++) {
        double x = vd[i];
        volatile double s = sin(x), c = cos(x), t = tan(x), sq = sqrt(fabs(x)), e = exp(x);
        volatile double l = log(fabs(x)), p = pow(fabs(x), 1.7), a2 = atan2(x, 1.3), fm = fmod(x * 7.3, 1.1);
        printf("x=%-8g sin %.17g cos %.17g tan %.17g sqrt %.17g\n", x, s, c, t, sq);
        printf("           exp %.17g log %.17g pow %.17g atan2 %.17g fmod %.17g\n", e, l, p, a2, fm);
        printf("           sin %a sqrt %a\n", s, sq);
    }

    volatile double conv[] = {2.5, 3.5, -2.5, -3.7, 1e10, -0.49999999999999994, 2147483647.9};
    for (unsigned i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        double v = conv[i];
        printf("conv %.17g: (int) %d (long long) %lld rint %g lrint %ld floor %g ceil %g round %g trunc %g\n",
               v, (int)(v > 2e9 ? 0 : v), (long long)v, rint(v), lrint(v > 2e9 ? 0 : v), floor(v),
               ceil(v), round(v), trunc(v));
    }

    const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
    const char *names[] = {"nearest", "down", "up", "zero"};
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        volatile double x = 2.5, y = -2.5;
        volatile long double one = 1.0L, three = 3.0L;
        long double q = one / three;
        printf("round %-7s: rint(2.5) %g rint(-2.5) %g llrint(7.5) %lld 1/3 %La\n", names[m], rint(x),
               rint(y), llrint(x * 3), q);
    }
    fesetround(FE_TONEAREST);

    volatile double zero = 0.0;
    double nan = zero / zero, inf = 1.0 / zero;
    printf("nan==nan %d nan<1 %d nan>1 %d isnan %d isinf %d signbit(-0) %d\n", nan == nan, nan < 1,
           nan > 1, isnan(nan), isinf(-inf), signbit(-zero) != 0);
    printf("inf-inf isnan %d inf*0 isnan %d 1/inf %g -1/inf %g\n", isnan(inf - inf), isnan(inf * 0), 1 / inf,
           -1 / inf);

    int ex;
    double fr = frexp(1234.5678, &ex);
    printf("frexp %.17g exp %d ldexp %.17g modf ", fr, ex, ldexp(fr, ex));
    double ip;
    double fp = modf(-3.75, &ip);
    printf("%g %g\n", ip, fp);
    long double big = 1e4000L;
    printf("1e4000L = %Lg, LDBL_MAX = %Lg, LDBL_MIN = %Lg\n", big, LDBL_MAX, LDBL_MIN);
    printf("strtold %.21Lg\n", strtold("2.718281828459045235360287", NULL));

    long double h = 0.0L;
    for (int i = 0; i < 100000; i++) {
        long double x = i * 0.001L;
        h += sinl(x) * expl(-x * 0.01L);
    }
    printf("series %.18Lg\n", h);
    return 0;
}
