/* args: argc/argv/envp and the auxiliary vector as the loader builds them.
 * Run with args `alpha beta` and exactly the environment REHOST_TEST_VAR=hello. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv, char **envp)
{
    printf("argc %d\n", argc);
    printf("argv[0] non-empty %d, names args %d\n", argv[0][0] != 0, strstr(argv[0], "args") != NULL);
    for (int i = 1; i < argc; i++) printf("argv[%d] = [%s] len %zu\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc] is NULL %d\n", argv[argc] == NULL);
    int n = 0;
    for (char **e = envp; *e; e++, n++) printf("envp[%d] = [%s]\n", n, *e);
    printf("envp count %d, environ == envp %d, envp follows argv %d\n", n, environ == envp,
           envp == argv + argc + 1);
    const char *v = getenv("REHOST_TEST_VAR");
    printf("REHOST_TEST_VAR = [%s]\n", v ? v : "(unset)");
    printf("PATH set %d\n", getenv("PATH") != NULL);
    setenv("NEW_VAR", "set by guest", 1);
    printf("NEW_VAR = [%s]\n", getenv("NEW_VAR"));
    unsetenv("REHOST_TEST_VAR");
    printf("after unsetenv: %s\n", getenv("REHOST_TEST_VAR") ? "still set" : "unset");

    printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));
    printf("sysconf pagesize %ld\n", sysconf(_SC_PAGESIZE));
    const char *plat = (const char *)getauxval(AT_PLATFORM);
    printf("AT_PLATFORM [%s]\n", plat ? plat : "(none)");
    printf("AT_SECURE %lu\n", getauxval(AT_SECURE));
    printf("AT_RANDOM present %d\n", getauxval(AT_RANDOM) != 0);
    printf("AT_PHDR present %d AT_ENTRY present %d\n", getauxval(AT_PHDR) != 0, getauxval(AT_ENTRY) != 0);
    const char *fn = (const char *)getauxval(AT_EXECFN);
    printf("AT_EXECFN names args %d\n", fn && strstr(fn, "args") != NULL);
    printf("pointer size %zu, long size %zu\n", sizeof(void *), sizeof(long));
    struct utsname u;
    if (uname(&u) == 0) printf("uname sysname [%s] machine [%s]\n", u.sysname, u.machine);
    printf("getpid positive %d, getppid positive %d\n", getpid() > 0, getppid() > 0);
    return argc == 3 ? 0 : 10 + argc;
}
