/* What an i386 process reads about itself in /proc: maps (8-digit
 * addresses, a [stack] line holding our locals, the executable named on
 * the lines of its code, nothing past 4 GiB), auxv (as getauxval sees it),
 * stat (startstack inside the stack mapping), cmdline, and
 * pthread_getattr_np, which parses maps to find the main stack. Only
 * layout-independent facts are printed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static char text[1 << 16];

static int read_file(const char *path, char *buf, int cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int n = 0, k;
    while (n < cap - 1 && (k = read(fd, buf + n, cap - 1 - n)) > 0)
        n += k;
    buf[n] = 0;
    close(fd);
    return n;
}

static void maps(void) {
    int local = 0;
    uintptr_t me = (uintptr_t)&local, code = (uintptr_t)&maps;
    char exe[512] = {0};
    readlink("/proc/self/exe", exe, sizeof exe - 1);
    void *heap = malloc(100);
    int n = read_file("/proc/self/maps", text, sizeof text);
    printf("maps read: %d\n", n > 0);
    int lines = 0, well_formed = 0, stack_lines = 0, local_in_stack = 0, code_named = 0;
    int heap_rw = 0, sorted = 1;
    unsigned long prev_end = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        lines++;
        unsigned long lo, hi, off, ino;
        char perms[5], dev[6];
        int pos = 0;
        if (sscanf(l, "%8lx-%8lx %4s %lx %5s %lu %n", &lo, &hi, perms, &off, dev, &ino, &pos) >= 6 &&
            l[8] == '-' && l[17] == ' ' && lo < hi && hi <= 0xffffffffUL + 1ULL)
            well_formed++;
        if (lo < prev_end)
            sorted = 0;
        prev_end = hi;
        const char *name = strchr(l, '/') ? strchr(l, '/') : strchr(l, '[');
        if (name && strcmp(name, "[stack]") == 0) {
            stack_lines++;
            if (lo <= me && me < hi)
                local_in_stack = 1;
        }
        if (lo <= code && code < hi && perms[2] == 'x' && name && strcmp(name, exe) == 0)
            code_named = 1;
        if (lo <= (uintptr_t)heap && (uintptr_t)heap < hi && perms[0] == 'r' && perms[1] == 'w')
            heap_rw = 1;
    }
    printf("lines>3 %d all well formed %d sorted %d\n", lines > 3, well_formed == lines, sorted);
    printf("[stack] lines %d, local inside %d\n", stack_lines, local_in_stack);
    printf("code line names the executable: %d\n", code_named);
    printf("heap in a rw mapping: %d\n", heap_rw);
    /* Reading it again in small pieces gives the same bytes. */
    int fd = open("/proc/self/maps", O_RDONLY);
    char c;
    int count = 0;
    while (read(fd, &c, 1) == 1)
        count++;
    printf("byte-wise read ends: %d\n", count > 0);
    printf("lseek back: %ld\n", (long)lseek(fd, 0, SEEK_SET));
    close(fd);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", getpid());
    n = read_file(path, text, sizeof text);
    printf("/proc/PID/maps has [stack]: %d\n", n > 0 && strstr(text, "[stack]") != NULL);
    n = read_file("/proc/thread-self/maps", text, sizeof text);
    printf("/proc/thread-self/maps has [stack]: %d\n", n > 0 && strstr(text, "[stack]") != NULL);
    free(heap);
}

static void auxv(void) {
    uint32_t v[256];
    int fd = open("/proc/self/auxv", O_RDONLY);
    int n = read(fd, v, sizeof v);
    close(fd);
    printf("auxv bytes multiple of 8: %d\n", n > 0 && n % 8 == 0);
    int pagesz = 0, phdr = 0, entry = 0, hasnull = 0, random = 0;
    for (int i = 0; i + 1 < n / 4; i += 2) {
        if (v[i] == AT_NULL) {
            hasnull = 1;
            break;
        }
        if (v[i] == AT_PAGESZ)
            pagesz = v[i + 1] == 4096;
        if (v[i] == AT_PHDR)
            phdr = v[i + 1] == getauxval(AT_PHDR);
        if (v[i] == AT_ENTRY)
            entry = v[i + 1] == getauxval(AT_ENTRY);
        if (v[i] == AT_RANDOM)
            random = v[i + 1] == getauxval(AT_RANDOM);
    }
    printf("auxv: AT_NULL %d pagesz %d phdr %d entry %d random %d\n", hasnull, pagesz, phdr, entry, random);
}

static void stat(void) {
    int n = read_file("/proc/self/stat", text, sizeof text);
    char *p = strrchr(text, ')');
    printf("stat read: %d\n", n > 0 && p != NULL);
    if (!p)
        return;
    unsigned long f[64] = {0};
    int k = 3;
    char *save;
    for (char *t = strtok_r(p + 2, " \n", &save); t && k < 64; t = strtok_r(NULL, " \n", &save))
        f[k++] = strtoul(t, NULL, 10);
    printf("fields >= 52: %d\n", k - 1 >= 52);
    int local;
    unsigned long startstack = f[28], start_code = f[26], end_code = f[27];
    printf("startstack above our frame: %d, within 8 MiB: %d\n", startstack > (uintptr_t)&local,
           startstack - (uintptr_t)&local < (8u << 20));
    printf("startcode <= main < endcode: %d\n",
           start_code <= (uintptr_t)&stat && (uintptr_t)&stat < end_code);
    printf("pid field: %d\n", (int)strtol(text, NULL, 10) == getpid());
    unsigned long arg_start = f[48], arg_end = f[49];
    printf("arg area holds argv: %d\n", arg_start < arg_end && arg_end - arg_start < 4096);
}

static void cmdline(char **argv) {
    char buf[4096];
    int n = read_file("/proc/self/cmdline", buf, sizeof buf);
    int ok = n > 0 && strcmp(buf, argv[0]) == 0;
    const char *rest = buf + strlen(buf) + 1;
    printf("cmdline argv[0] matches %d, then '%s' '%s'\n", ok, rest, rest + strlen(rest) + 1);
    n = read_file("/proc/self/environ", buf, sizeof buf);
    printf("environ: %d '%s'\n", n, buf);
}

static void attr(void) {
    pthread_attr_t a;
    void *addr;
    size_t size;
    int r = pthread_getattr_np(pthread_self(), &a);
    pthread_attr_getstack(&a, &addr, &size);
    int local;
    printf("pthread_getattr_np: %d stack holds local %d size >= 64 KiB %d\n", r,
           (uintptr_t)addr <= (uintptr_t)&local && (uintptr_t)&local < (uintptr_t)addr + size,
           size >= 65536);
    pthread_attr_destroy(&a);
}

int main(int argc, char **argv) {
    (void)argc;
    maps();
    auxv();
    stat();
    cmdline(argv);
    attr();
    int n = read_file("/proc/cpuinfo", text, sizeof text);
    printf("cpuinfo readable: %d\n", n > 0);
    return 0;
}
