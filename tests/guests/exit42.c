/* exit42: exit(42) from a nested call; atexit handlers run in reverse order
 * and buffered stdout is flushed. */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { puts("atexit: registered first, runs last"); }
static void second(void) { puts("atexit: registered second, runs first"); }

static void deep(int n)
{
    if (n == 0) {
        printf("leaving from depth 0 with buffered output\n");
        exit(42);
    }
    deep(n - 1);
    puts("never printed");
}

int main(void)
{
    atexit(first);
    atexit(second);
    printf("before exit\n");
    deep(5);
    return 0;
}
