/* setjmp: setjmp/longjmp across frames (glibc mangles the saved esp/eip/ebp
 * with a pointer guard kept in the thread block at gs:0x18), sigsetjmp with
 * a saved signal mask, and locals kept volatile across the jump. */
#pragma GCC diagnostic ignored "-Winfinite-recursion" /* thrower ends in longjmp */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf env;
static sigjmp_buf senv;
static int calls;

static __attribute__((noinline)) void thrower(int depth, int code)
{
    calls++;
    if (depth == 0) longjmp(env, code);
    thrower(depth - 1, code);
    puts("not reached");
}

static __attribute__((noinline)) int try_it(int depth, int code)
{
    int r = setjmp(env);
    if (r == 0) {
        thrower(depth, code);
        return -1;
    }
    return r;
}

int main(void)
{
    for (int i = 0; i < 5; i++) printf("try_it(depth %d, code %d) = %d\n", i * 10, i, try_it(i * 10, i));
    printf("calls %d\n", calls);

    volatile int counter = 0;
    if (setjmp(env) < 5) {
        counter++;
        longjmp(env, counter);
    }
    printf("loop via longjmp counter %d\n", counter);

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    int r = sigsetjmp(senv, 1);
    if (r == 0) {
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigprocmask(SIG_BLOCK, NULL, &old);
        printf("before siglongjmp: USR1 blocked %d\n", sigismember(&old, SIGUSR1));
        siglongjmp(senv, 7);
    }
    sigprocmask(SIG_BLOCK, NULL, &old);
    printf("after siglongjmp r=%d: USR1 blocked %d\n", r, sigismember(&old, SIGUSR1));
    return 0;
}
