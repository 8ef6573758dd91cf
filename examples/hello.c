/* hello: a first guest to translate. Build it as an i386 static program and
 * port it:
 *
 *     gcc -m32 -static -O2 -o hello hello.c
 *     rehost translate hello -o hello.x86_64 && ./hello.x86_64 some args
 *
 * (`make demo` does exactly this.) It greets, does some integer and
 * floating-point arithmetic, and sorts names with qsort, so the port has to
 * get libc start-up, stdio, 64-bit division on a 32-bit CPU, x87 doubles and
 * calls through function pointers right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static unsigned long long factorial(unsigned n) { return n < 2 ? 1 : n * factorial(n - 1); }

int main(int argc, char **argv)
{
    printf("Hello, world, from an i386 Linux program!\n");
    printf("I was started with %d argument%s", argc - 1, argc == 2 ? "" : "s");
    for (int i = 1; i < argc; i++) printf("%s %s", i == 1 ? ":" : ",", argv[i]);
    printf("\n");

    printf("sizeof(void *) = %zu, sizeof(long) = %zu\n", sizeof(void *), sizeof(long));
    printf("20! = %llu\n", factorial(20));
    unsigned long long big = 0xfedcba9876543210ULL;
    printf("%llu / 1000003 = %llu remainder %llu\n", big, big / 1000003, big % 1000003);
    double x = 1.0;
    for (int i = 0; i < 20; i++) x = x / 2 + 1 / x; /* Newton's iteration for sqrt(2) */
    printf("sqrt(2) ~ %.15f\n", x);

    const char *names[] = {"rehost", "i386", "x86-64", "ELF", "qsort", "guest", "host", "block"};
    size_t n = sizeof names / sizeof names[0];
    qsort(names, n, sizeof names[0], by_name);
    printf("sorted:");
    for (size_t i = 0; i < n; i++) printf(" %s", names[i]);
    printf("\n");
    return 0;
}
