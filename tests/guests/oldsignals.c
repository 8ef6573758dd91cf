/* oldsignals: the old i386 signal system calls legacy binaries make
 * (signal 48, sigaction 67 with the old struct, sgetmask/ssetmask,
 * sigprocmask 126, sigpending 73) through raw syscall(), non-RT signal
 * frames returning through sigreturn, and sigsuspend (rt_sigsuspend)
 * waking on a timer signal with the mask restored afterwards. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

struct old_sigaction {
    void (*handler)(int);
    unsigned long mask;
    unsigned long flags;
    void (*restorer)(void);
};

static volatile int hits;
static void on_sig(int sig) { hits += sig; }

int main(void)
{
    long old = syscall(SYS_signal, SIGUSR1, on_sig);
    printf("signal() old handler is SIG_DFL: %d\n", old == 0);
    kill(getpid(), SIGUSR1);
    printf("after kill: hits %d\n", hits);
    /* signal() handlers are one-shot: the disposition is back to default */
    struct old_sigaction q;
    memset(&q, 0, sizeof q);
    syscall(SYS_sigaction, SIGUSR1, NULL, &q);
    printf("one-shot reset to SIG_DFL: %d\n", q.handler == SIG_DFL);

    struct old_sigaction sa = {on_sig, 0, 0, 0};
    printf("old sigaction: %ld\n", syscall(SYS_sigaction, SIGUSR2, &sa, NULL));
    unsigned long set = 1UL << (SIGUSR2 - 1), prev = 0, pend = 0;
    syscall(SYS_sigprocmask, SIG_BLOCK, &set, &prev);
    kill(getpid(), SIGUSR2);
    syscall(SYS_sigpending, &pend);
    printf("blocked and pending: hits %d pending %d\n", hits, (pend & set) != 0);
    printf("sgetmask has USR2: %d\n", (syscall(SYS_sgetmask) & set) != 0);
    syscall(SYS_sigprocmask, SIG_UNBLOCK, &set, NULL);
    printf("unblocked: hits %d\n", hits);

    /* sigsuspend: block SIGALRM, arm a timer, wait with it unblocked. */
    struct sigaction rs;
    memset(&rs, 0, sizeof rs);
    rs.sa_handler = on_sig;
    sigaction(SIGALRM, &rs, NULL);
    sigset_t blk, waitmask, now;
    sigemptyset(&blk);
    sigaddset(&blk, SIGALRM);
    sigprocmask(SIG_BLOCK, &blk, NULL);
    struct itimerval it = {{0, 0}, {0, 10000}};
    setitimer(ITIMER_REAL, &it, NULL);
    sigemptyset(&waitmask);
    int r = sigsuspend(&waitmask);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend returned %d, hits %d, ALRM blocked again %d\n", r, hits, sigismember(&now, SIGALRM));
    return 0;
}
