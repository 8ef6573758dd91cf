/* fork: child processes. fork + pipe + waitpid, exit statuses and deaths
 * by signal, wait4 with rusage, waitid with siginfo, vfork ordering,
 * system() and popen() (glibc: clone3 with CLONE_VM|CLONE_VFORK), and the
 * child's own identity (getppid, gettid, raise through its cached tid). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *s) { write(1, s, strlen(s)); }

static void report(const char *what, int st)
{
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else
        printf("%s: status %#x\n", what, st);
}

int main(void)
{
    int fd[2];
    if (pipe(fd) != 0) return 1;
    fflush(stdout);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        char msg[64];
        int n = snprintf(msg, sizeof msg, "child: ppid ok %d, pid differs %d",
                         getppid() == parent, getpid() != parent);
        write(fd[1], msg, n);
        _exit(5);
    }
    close(fd[1]);
    char buf[128];
    int got = 0, n;
    while ((n = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += n;
    buf[got] = 0;
    printf("parent read: [%s]\n", buf);
    int st = 0;
    pid_t w = waitpid(pid, &st, 0);
    printf("waitpid returned the child %d\n", w == pid);
    report("first child", st);

    /* Death by a signal, and raise() in the child (glibc's tgkill uses the
     * tid the kernel stored through CLONE_CHILD_SETTID). */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (syscall(SYS_gettid) != getpid()) _exit(99);
        raise(SIGTERM);
        _exit(98);
    }
    waitpid(pid, &st, 0);
    report("raise(SIGTERM) child", st);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGKILL);
        _exit(97);
    }
    waitpid(pid, &st, 0);
    report("SIGKILL child", st);

    /* wait4 with rusage. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) _exit(11);
    struct rusage ru;
    memset(&ru, 0xff, sizeof ru);
    w = wait4(pid, &st, 0, &ru);
    printf("wait4 returned the child %d, rusage sane %d\n", w == pid,
           ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_sec >= 0);
    report("wait4 child", st);

    /* waitid with siginfo. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) _exit(12);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, pid, &si, WEXITED);
    printf("waitid %d: signo %d code %d status %d pid ok %d\n", r, si.si_signo, si.si_code,
           si.si_status, si.si_pid == pid);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        raise(SIGUSR1);
        _exit(13);
    }
    memset(&si, 0, sizeof si);
    r = waitid(P_ALL, 0, &si, WEXITED);
    printf("waitid %d: signo %d code %d status %d pid ok %d\n", r, si.si_signo, si.si_code,
           si.si_status, si.si_pid == pid);
    memset(&si, 0x55, sizeof si);
    r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
    printf("waitid without children: %d\n", r);

    /* Raw clone (i386 argument order: flags, newsp, parent_tid, tls,
     * child_tid) with CLONE_PARENT_SETTID, and clone3 with CLONE_PIDFD. */
    fflush(stdout);
    pid_t ptid = 0;
    long c = syscall(SYS_clone, CLONE_PARENT_SETTID | SIGCHLD, 0, &ptid, 0, 0);
    if (c == 0) _exit(15);
    waitpid(c, &st, 0);
    printf("clone: parent_tid stored %d\n", ptid == c);
    report("clone child", st);
    struct {
        unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
            tls, set_tid, set_tid_size, cgroup;
    } ca;
    memset(&ca, 0, sizeof ca);
    int pidfd = -1;
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (unsigned long)&pidfd;
    ca.exit_signal = SIGCHLD;
    fflush(stdout);
    c = syscall(SYS_clone3, &ca, sizeof ca);
    if (c == 0) _exit(16);
    memset(&si, 0, sizeof si);
    r = waitid(3 /* P_PIDFD */, pidfd, &si, WEXITED);
    printf("clone3: pidfd valid %d, waitid(P_PIDFD) %d status %d pid ok %d\n", pidfd >= 0, r,
           si.si_status, si.si_pid == c);
    close(pidfd);
    ca.flags = 1ULL << 40; /* no such flag */
    printf("clone3 with a bad flag: %ld\n", syscall(SYS_clone3, &ca, sizeof ca));
    printf("clone3 with a short struct: %ld\n", syscall(SYS_clone3, &ca, 32));

    /* vfork: the parent waits until the child exits. */
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        say("vfork child runs first\n");
        _exit(14);
    }
    say("vfork parent runs after\n");
    waitpid(pid, &st, 0);
    report("vfork child", st);

    /* system() and popen() (host /bin/sh, as natively). */
    fflush(stdout);
    st = system("echo system says hello");
    report("system", st);
    st = system("exit 3");
    report("system exit 3", st);
    FILE *p = popen("echo popen line", "r");
    if (p) {
        char line[64] = "";
        if (!fgets(line, sizeof line, p)) line[0] = 0;
        printf("popen read: %s", line);
        report("pclose", pclose(p));
    }
    errno = 0;
    printf("waitpid without children: %d\n", (int)waitpid(-1, &st, WNOHANG));
    return 0;
}
