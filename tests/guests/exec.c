/* exec: execve of i386 programs (itself through /proc/self/exe, and a tiny
 * static i386 ELF it writes), of a native program (/bin/echo), of #!
 * scripts (host /bin/sh, and an i386 interpreter), fexecve (execveat with
 * AT_EMPTY_PATH), and the errors a failed exec returns without disturbing
 * the caller (ENOENT, EACCES, ENOEXEC). Runs in an empty working directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A 118-byte i386 ELF: write(1, "ok\n", 3); exit(7). */
static void write_tiny(const char *path)
{
    const unsigned base = 0x08048000, code_off = 52 + 32;
    unsigned char code[] = {
        0xb8, 4, 0, 0, 0,    /* mov eax, 4 */
        0xbb, 1, 0, 0, 0,    /* mov ebx, 1 */
        0xb9, 0, 0, 0, 0,    /* mov ecx, msg */
        0xba, 3, 0, 0, 0,    /* mov edx, 3 */
        0xcd, 0x80,          /* int 0x80 */
        0xb8, 1, 0, 0, 0,    /* mov eax, 1 */
        0xbb, 7, 0, 0, 0,    /* mov ebx, 7 */
        0xcd, 0x80,          /* int 0x80 */
        'o', 'k', '\n'};
    unsigned msg = base + code_off + 34, size = code_off + sizeof code, entry = base + code_off;
    memcpy(code + 11, &msg, 4);
    unsigned char f[52 + 32] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
    unsigned short h16[] = {2, 3}; /* ET_EXEC, EM_386 */
    memcpy(f + 16, h16, 4);
    unsigned h32[] = {1, entry, 52, 0, 0};
    memcpy(f + 20, h32, sizeof h32);
    unsigned short h16b[] = {52, 32, 1, 40, 0, 0};
    memcpy(f + 40, h16b, sizeof h16b);
    unsigned ph[] = {1, 0, base, base, size, size, 5, 0x1000};
    memcpy(f + 52, ph, sizeof ph);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    write(fd, f, sizeof f);
    write(fd, code, sizeof code);
    close(fd);
}

static void write_file(const char *path, const char *text, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    write(fd, text, strlen(text));
    close(fd);
}

static void report(const char *what, int st)
{
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
}

/* Fork, run `fn` in the child (which must exec), wait. */
static void in_child(const char *what, void (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        printf("%s: exec failed: %s\n", what, strerror(errno));
        fflush(stdout);
        _exit(120);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    report(what, st);
}

static void exec_self(void)
{
    char *argv[] = {"exec-child", "child-stage", "x y", NULL};
    char *envp[] = {"FOO=bar", "EMPTY=", NULL};
    execve("/proc/self/exe", argv, envp);
}

static void exec_tiny(void)
{
    char *argv[] = {"./tiny", NULL};
    char *envp[] = {NULL};
    execve("./tiny", argv, envp);
}

static void exec_echo(void) { execl("/bin/echo", "echo", "native", "echo", (char *)NULL); }
static void exec_script(void) { execl("./script.sh", "script.sh", "hi", (char *)NULL); }
static void exec_i386_script(void) { execl("./tiny-script", "tiny-script", (char *)NULL); }

static void exec_fd(void)
{
    int fd = open("./tiny", O_RDONLY | O_CLOEXEC);
    char *argv[] = {"tiny-by-fd", NULL};
    char *envp[] = {NULL};
    fexecve(fd, argv, envp);
}

static void try_exec(const char *path)
{
    char *argv[] = {(char *)path, NULL};
    char *envp[] = {NULL};
    errno = 0;
    int r = execve(path, argv, envp);
    printf("execve(%s) = %d: %s\n", path, r, strerror(errno));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child-stage") == 0) {
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        const char *base = strrchr(exe, '/');
        const char *foo = getenv("FOO");
        int nenv = 0;
        for (char **e = environ; *e; e++) nenv++;
        printf("child stage: argc %d argv0 [%s] argv2 [%s] FOO [%s] env count %d\n", argc,
               argv[0], argv[2], foo ? foo : "(unset)", nenv);
        printf("child stage: /proc/self/exe names the guest %d\n",
               base && strncmp(base + 1, "exec", 4) == 0);
        return 6;
    }
    in_child("self via /proc/self/exe", exec_self);
    write_tiny("tiny");
    in_child("tiny i386 ELF", exec_tiny);
    in_child("fexecve", exec_fd);
    in_child("/bin/echo", exec_echo);
    write_file("script.sh", "#!/bin/sh\necho script says $1\nexit 4\n", 0755);
    in_child("sh script", exec_script);
    write_file("tiny-script", "#!./tiny -x\n", 0755);
    in_child("i386 interpreter script", exec_i386_script);

    try_exec("./does-not-exist");
    write_file("not-executable", "#!/bin/sh\n", 0644);
    try_exec("./not-executable");
    write_file("garbage", "this is not a program\n", 0755);
    try_exec("./garbage");
    try_exec(".");
    try_exec("./tiny/x");
    printf("still here after failed execs\n");
    return 0;
}
