/* signals: handlers installed with sigaction (with and without SA_SIGINFO),
 * raise/kill to self, signal masks and pending signals, SIGSEGV from a bad
 * access recovered with siglongjmp, SIGFPE from integer division, alarm-free. */
#pragma GCC diagnostic ignored "-Warray-bounds" /* the bad access is the point */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2, last_code;
static volatile int info_signo, info_code;
static sigjmp_buf recover;

static void on_usr1(int sig) { got_usr1 += sig; }
static void on_usr2(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_usr2++;
    info_signo = si->si_signo;
    info_code = si->si_code;
    (void)sig;
}
static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    last_code = si->si_code;
    siglongjmp(recover, sig);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("after raise: got_usr1 %d\n", got_usr1);
    kill(getpid(), SIGUSR1);
    printf("after kill: got_usr1 %d\n", got_usr1);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGUSR2);
    sigpending(&pending);
    printf("blocked: got_usr2 %d pending %d\n", got_usr2, sigismember(&pending, SIGUSR2));
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("unblocked: got_usr2 %d signo %d code is SI_TKILL %d\n", got_usr2, info_signo, info_code == SI_TKILL);

    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    printf("query handler matches %d\n", old.sa_handler == on_usr1);
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    printf("ignored: got_usr1 %d\n", got_usr1);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    int r = sigsetjmp(recover, 1);
    if (r == 0) {
        volatile int *bad = (volatile int *)16;
        *bad = 1;
        puts("no fault?");
    }
    printf("recovered from signal %d code SEGV_MAPERR %d\n", r, last_code == SEGV_MAPERR);
    r = sigsetjmp(recover, 1);
    if (r == 0) {
        volatile int zero = 0;
        volatile int x = 10 / zero;
        (void)x;
        puts("no fault?");
    }
    printf("recovered from signal %d code FPE_INTDIV %d\n", r, last_code == FPE_INTDIV);
    return 0;
}
