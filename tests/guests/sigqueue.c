/* sigqueue: signals with a value (rt_sigqueueinfo, rt_tgsigqueueinfo,
 * pidfd_send_signal), received by SA_SIGINFO handlers and sigwaitinfo with
 * si_code SI_QUEUE, si_value/si_int, si_pid and si_uid; queued real-time
 * signals arrive once each, in order; fifty thread-directed signals reach
 * the one thread that does not block them; a bad siginfo pointer gives EFAULT.
 * Deterministic output only. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int go_fd;
static volatile int got_sig, got_code, got_int, got_pid_ok, got_uid_ok;
static int rt_values[8];
static volatile int rt_count;

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig == si->si_signo ? sig : -1;
    got_code = si->si_code;
    got_int = si->si_int;
    got_pid_ok = si->si_pid == getpid();
    got_uid_ok = si->si_uid == getuid();
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (rt_count < 8)
        rt_values[rt_count] = si->si_value.sival_int;
    rt_count++;
}

/* A worker thread takes thread-directed signals with values. */
static int ack[2];
static volatile int worker_sum, worker_wrong_thread;
static pthread_t worker_id;

static void on_worker(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (!pthread_equal(pthread_self(), worker_id))
        worker_wrong_thread++;
    worker_sum += si->si_value.sival_int;
    write(ack[1], "a", 1);
}

static void *worker(void *arg)
{
    (void)arg;
    sigset_t mine;
    sigemptyset(&mine);
    sigaddset(&mine, SIGRTMIN + 2);
    pthread_sigmask(SIG_UNBLOCK, &mine, NULL);
    char c;
    /* Wait (in read, interrupted by the signals) until told to stop. */
    while (read(go_fd, &c, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void report(const char *what)
{
    printf("%s: sig %d code %s value %d pid %d uid %d\n", what, got_sig,
           got_code == SI_QUEUE  ? "SI_QUEUE"
           : got_code == SI_USER ? "SI_USER"
           : got_code == SI_TKILL ? "SI_TKILL"
                                  : "other",
           got_int, got_pid_ok, got_uid_ok);
    got_sig = got_code = got_int = got_pid_ok = got_uid_ok = 0;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);

    union sigval v = {.sival_int = 1234};
    printf("sigqueue: %d\n", sigqueue(getpid(), SIGUSR1, v));
    report("rt_sigqueueinfo");

    v.sival_int = -77;
    printf("pthread_sigqueue: %d\n", pthread_sigqueue(pthread_self(), SIGUSR1, v));
    report("rt_tgsigqueueinfo");

    /* Real-time signals queue: three values, delivered in order on unblock. */
    sa.sa_sigaction = on_rt;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int k = 1; k <= 3; k++) {
        v.sival_int = 100 * k;
        sigqueue(getpid(), SIGRTMIN + 1, v);
    }
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("queued rt signals: %d:", rt_count);
    for (int k = 0; k < rt_count && k < 8; k++)
        printf(" %d", rt_values[k]);
    printf("\n");

    /* sigwaitinfo: the value of a pointer-sized sigval. */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    v.sival_ptr = (void *)0x12345678;
    sigqueue(getpid(), SIGUSR2, v);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int s = sigwaitinfo(&set, &si);
    printf("sigwaitinfo: sig %d code %d ptr %#lx pid %d\n", s == SIGUSR2, si.si_code == SI_QUEUE,
           (unsigned long)si.si_value.sival_ptr, si.si_pid == getpid());

    /* pidfd_send_signal with and without a siginfo. */
    int fd = syscall(SYS_pidfd_open, getpid(), 0);
    if (fd >= 0) {
        siginfo_t q;
        memset(&q, 0, sizeof q);
        q.si_signo = SIGUSR1;
        q.si_code = SI_QUEUE;
        q.si_pid = getpid();
        q.si_uid = getuid();
        q.si_value.sival_int = 4242;
        printf("pidfd_send_signal: %ld\n", syscall(SYS_pidfd_send_signal, fd, SIGUSR1, &q, 0));
        report("pidfd_send_signal");
        printf("pidfd_send_signal without info: %ld\n",
               syscall(SYS_pidfd_send_signal, fd, SIGUSR1, NULL, 0));
        got_int = 0;
        report("pidfd_send_signal NULL");
        close(fd);
    } else {
        printf("no pidfd_open\n");
    }

    /* Fifty thread-directed signals with values to a worker thread. */
    int go[2];
    pipe(go);
    pipe(ack);
    go_fd = go[0];
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_worker;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN + 2, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 2);
    sigprocmask(SIG_BLOCK, &set, NULL); /* only the worker takes it */
    pthread_create(&worker_id, NULL, worker, NULL);
    int sum = 0;
    for (int k = 1; k <= 50; k++) {
        v.sival_int = k;
        sum += k;
        pthread_sigqueue(worker_id, SIGRTMIN + 2, v);
        char c;
        read(ack[0], &c, 1);
    }
    write(go[1], "x", 1);
    pthread_join(worker_id, NULL);
    printf("worker thread: sum %d of %d, on another thread %d\n", worker_sum, sum,
           worker_wrong_thread);

    /* A bad siginfo pointer. */
    errno = 0;
    long r = syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, (void *)16);
    printf("bad pointer: %ld %s\n", r, errno == EFAULT ? "EFAULT" : strerror(errno));
    return 0;
}
