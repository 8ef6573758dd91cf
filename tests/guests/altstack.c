/* altstack: alternate signal stacks as the i386 kernel handles them now
 * that frames carry the XSAVE state: AT_MINSIGSTKSZ is reported and a
 * stack of that size takes a frame; one too small for the frame kills
 * with SIGSEGV; SS_AUTODISARM disables the stack inside the handler and
 * rt_sigreturn restores it; without it, the handler sees SS_ONSTACK and
 * cannot change the stack (EPERM). Deterministic output only. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static volatile int in_flags = -1, change = 0, ran;

static void on_usr1(int sig)
{
    (void)sig;
    stack_t o;
    sigaltstack(NULL, &o);
    in_flags = o.ss_flags;
    stack_t n = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0};
    change = sigaltstack(&n, NULL) == 0 ? 0 : errno;
    ran++;
}

static volatile int tiny_ran;

static void on_tiny(int sig) { tiny_ran = sig; }

static void install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK | flags;
    sigaction(SIGUSR1, &sa, NULL);
}

static const char *fl(int f)
{
    static char bufs[2][64];
    static int k;
    char *b = bufs[k++ & 1];
    b[0] = 0;
    if (f & SS_ONSTACK)
        strcat(b, "SS_ONSTACK ");
    if (f & SS_DISABLE)
        strcat(b, "SS_DISABLE ");
    if (f & SS_AUTODISARM)
        strcat(b, "SS_AUTODISARM ");
    if (!b[0])
        strcat(b, "0 ");
    return b;
}

int main(void)
{
    long min = sysconf(_SC_MINSIGSTKSZ);
    printf("AT_MINSIGSTKSZ given: %d, sysconf agrees: %d\n", getauxval(AT_MINSIGSTKSZ) != 0,
           (long)getauxval(AT_MINSIGSTKSZ) == min);

    /* A stack of AT_MINSIGSTKSZ bytes takes a frame (and a handler that
     * needs next to no stack). */
    stack_t ss = {.ss_sp = malloc(min), .ss_size = min, .ss_flags = 0};
    printf("sigaltstack(min): %d\n", sigaltstack(&ss, NULL));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tiny;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    printf("minimal handler ran: %d\n", tiny_ran);

    /* On the alternate stack: SS_ONSTACK, and it cannot be changed. */
    ss.ss_sp = malloc(sysconf(_SC_SIGSTKSZ));
    ss.ss_size = sysconf(_SC_SIGSTKSZ);
    printf("sigaltstack(SIGSTKSZ): %d\n", sigaltstack(&ss, NULL));
    install(0);
    raise(SIGUSR1);
    printf("handler ran: %d, saw %s, changing the stack: %s\n", ran, fl(in_flags),
           change == EPERM ? "EPERM" : "allowed");

    /* SS_AUTODISARM. */
    ss.ss_sp = malloc(65536);
    ss.ss_size = 65536;
    ss.ss_flags = SS_AUTODISARM;
    printf("sigaltstack(SS_AUTODISARM): %d\n", sigaltstack(&ss, NULL));
    raise(SIGUSR1);
    stack_t o;
    sigaltstack(NULL, &o);
    printf("handler saw %s, changing the stack: %s; afterwards %s, handler's stack %d\n",
           fl(in_flags), change == 0 ? "allowed" : "refused", fl(o.ss_flags), o.ss_sp != ss.ss_sp);

    /* The same with SA_SIGINFO: rt_sigreturn brings the disarmed one back. */
    ss.ss_sp = malloc(65536);
    sigaltstack(&ss, NULL);
    install(SA_SIGINFO);
    raise(SIGUSR1);
    sigaltstack(NULL, &o);
    printf("SA_SIGINFO: handler saw %s; afterwards %s, same stack %d\n", fl(in_flags),
           fl(o.ss_flags), o.ss_sp == ss.ss_sp);

    /* Too small for the frame: SIGSEGV. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        static char tiny[2048];
        stack_t t = {.ss_sp = tiny, .ss_size = sizeof tiny, .ss_flags = 0};
        sigaltstack(&t, NULL);
        raise(SIGUSR1);
        printf("tiny stack: handler ran\n");
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("tiny stack: killed by signal %d\n", WTERMSIG(st));
    else
        printf("tiny stack: exited %d\n", WEXITSTATUS(st));
    return 0;
}
