/* recursion: deep and branchy recursion (Ackermann, Fibonacci, Hanoi,
 * mutual recursion, permutations); return-address prediction and deep stacks. */
#include <stdio.h>

static int ack(int m, int n)
{
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static long long hanoi_moves;
static void hanoi(int n, int from, int to, int via)
{
    if (n == 0) return;
    hanoi(n - 1, from, via, to);
    hanoi_moves++;
    hanoi(n - 1, via, to, from);
}

static int is_odd(unsigned n);
static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }

static int perm_count;
static unsigned perm_hash;
static void permute(char *s, int k, int n)
{
    if (k == n) {
        perm_count++;
        for (int i = 0; i < n; i++) perm_hash = perm_hash * 31 + (unsigned char)s[i];
        return;
    }
    for (int i = k; i < n; i++) {
        char t = s[k]; s[k] = s[i]; s[i] = t;
        permute(s, k + 1, n);
        t = s[k]; s[k] = s[i]; s[i] = t;
    }
}

static int depth(int n, volatile char *prev)
{
    volatile char frame[64];
    frame[0] = (char)n;
    if (n == 0) return prev ? prev[0] : 0;
    return depth(n - 1, frame) + frame[0];
}

int main(void)
{
    for (int m = 0; m <= 3; m++)
        for (int n = 0; n <= 4; n++) printf("ack(%d,%d) = %d\n", m, n, ack(m, n));
    printf("ack(3,7) = %d\n", ack(3, 7));
    for (unsigned n = 0; n <= 30; n += 5) printf("fib(%u) = %u\n", n, fib(n));
    hanoi(20, 1, 3, 2);
    printf("hanoi(20) moves %lld\n", hanoi_moves);
    printf("is_even(10001) %d is_odd(7777) %d\n", is_even(10001), is_odd(7777));
    char s[] = "abcdefgh";
    permute(s, 0, 8);
    printf("permutations %d hash %08x\n", perm_count, perm_hash);
    printf("deep recursion sum %d\n", depth(50000, 0));
    return 0;
}
