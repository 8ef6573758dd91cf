/* fib: naive recursive Fibonacci; a call and a return per node of the tree,
 * so it measures call/return translation (return address checks, the
 * return predictor). */
#include <stdio.h>
#include <stdlib.h>

static __attribute__((noinline)) unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 42;
    printf("fib: fib(%u) = %u\n", n, fib(n));
    return 0;
}
