/* qsort: glibc qsort (merge sort with an indirect call per comparison) over
 * 1M pseudo-random ints, then a verification pass. Measures calls through
 * function pointers from library code. */
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    int rounds = 5;
    int *a = malloc(sizeof *a * (size_t)n);
    unsigned s = 12345, hash = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++) {
            s = s * 1103515245u + 12345u;
            a[i] = (int)(s >> 1);
        }
        qsort(a, (size_t)n, sizeof *a, cmp);
        for (int i = 1; i < n; i++)
            if (a[i - 1] > a[i]) {
                puts("qsort: not sorted");
                return 1;
            }
        hash = hash * 31 + (unsigned)a[n / 2] + (unsigned)a[n / 7];
    }
    printf("qsort: %d ints x %d rounds, hash %08x\n", n, rounds, hash);
    free(a);
    return 0;
}
