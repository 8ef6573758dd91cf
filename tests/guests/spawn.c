/* spawn: what needs a vfork child that shares the parent's memory
 * (CLONE_VM|CLONE_VFORK): posix_spawn reports a failed exec to the parent
 * through shared memory, and a vfork child's stores are seen by the parent;
 * but what posix_spawn's child does to its signal dispositions and mask
 * (handled signals reset to SIG_DFL before the exec) stays the child's. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile int got;

static void on_usr1(int sig) { got = sig; }

int main(void)
{
    signal(SIGUSR1, on_usr1);
    pid_t pid;
    char *argv[] = {"sh", "-c", "exit 5", NULL};
    int r = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
    int st = 0;
    if (r == 0) waitpid(pid, &st, 0);
    printf("posix_spawn(/bin/sh) = %d, status %d\n", r, WEXITSTATUS(st));
    char *bad[] = {"missing", NULL};
    r = posix_spawn(&pid, "./no-such-program", NULL, NULL, bad, environ);
    printf("posix_spawn(./no-such-program) = %s\n", r == 0 ? "0" : strerror(r));
    if (r == 0) waitpid(pid, &st, 0);

    static volatile int shared = 1;
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        shared = 42;
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("vfork child's store seen by the parent: %d\n", shared);

    raise(SIGUSR1);
    printf("the parent's SIGUSR1 handler after posix_spawn ran: %d\n", got == SIGUSR1);
    return 0;
}
