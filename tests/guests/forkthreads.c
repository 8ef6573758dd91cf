/* forkthreads: fork and vfork in a multi-threaded guest. The forked child
 * has only the forking thread: it starts and joins threads of its own, and
 * its raw exit system call (SYS_exit, one thread) ends it with that status.
 * A vfork child's raw SYS_exit leaves the parent's thread count alone: when
 * the parent's helper thread exits later, the process lives on.
 * Deterministic output only. */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int go[2];

static void *helper(void *arg)
{
    char c;
    read(go[0], &c, 1); /* until main says so */
    return arg;
}

static void *square(void *arg)
{
    long v = (long)arg;
    return (void *)(v * v);
}

int main(void)
{
    pipe(go);
    pthread_t h;
    pthread_create(&h, NULL, helper, NULL);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long sum = 0;
        for (long k = 1; k <= 4; k++) {
            pthread_t t;
            void *r;
            pthread_create(&t, NULL, square, (void *)k);
            pthread_join(t, &r);
            sum += (long)r;
        }
        printf("fork child: threads summed %ld\n", sum);
        fflush(stdout);
        syscall(SYS_exit, 5);
        _exit(99);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("fork child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));

    pid = vfork();
    if (pid == 0)
        syscall(SYS_exit, 6);
    waitpid(pid, &st, 0);
    printf("vfork child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));

    /* The helper exits now: the process must go on with main. */
    write(go[1], "x", 1);
    pthread_join(h, NULL);
    printf("main outlived its helper thread\n");
    return 0;
}
