/* Directory reading: 300 files in a fresh directory read back with
 * readdir (getdents64), the non-LFS getdents (141) with its 32-bit d_off,
 * the old one-entry readdir (89), telldir/seekdir round trips, and
 * rewinddir; names are sorted before printing. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 300

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *names[N + 8];

static int collect(DIR *d) {
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n < N + 8)
            names[n] = strdup(e->d_name);
        n++;
    }
    return n;
}

int main(void) {
    if (mkdir("d", 0755) != 0) {
        perror("mkdir");
        return 1;
    }
    char path[64];
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "d/file-%03d-%s", i, i % 2 ? "odd" : "even");
        close(open(path, O_CREAT | O_WRONLY, 0644));
    }
    mkdir("d/subdir", 0755);

    DIR *d = opendir("d");
    errno = 0;
    int n = collect(d);
    printf("readdir: %d entries, errno %d\n", n, errno);
    qsort(names, n < N + 8 ? n : N + 8, sizeof names[0], cmp);
    printf("first %s last %s\n", names[0], names[n - 1]);
    int ok = 1;
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "file-%03d-%s", i, i % 2 ? "odd" : "even");
        if (strcmp(names[i], path) != 0)
            ok = 0;
    }
    printf("all names present in order: %d\n", ok);

    /* telldir/seekdir: remember the position of the 100th entry. */
    rewinddir(d);
    long pos = -1;
    char want[256] = {0};
    for (int i = 0; i < 100; i++) {
        if (i == 99)
            pos = telldir(d);
        struct dirent *e = readdir(d);
        if (i == 99)
            strcpy(want, e->d_name);
    }
    readdir(d);
    seekdir(d, pos);
    struct dirent *e = readdir(d);
    printf("seekdir returns to the same entry: %d, telldir fits 31 bits: %d\n",
           e && strcmp(e->d_name, want) == 0, pos >= 0 && pos <= 0x7fffffff);
    closedir(d);

    /* getdents (141): struct linux_dirent with u32 d_ino/d_off, d_type last. */
    int fd = open("d", O_RDONLY | O_DIRECTORY);
    char buf[4096];
    int total = 0, dirs = 0, regs = 0, off_ok = 1, calls = 0;
    for (;;) {
        long r = syscall(141, fd, buf, sizeof buf);
        if (r <= 0) {
            if (r < 0)
                printf("getdents error %d\n", errno);
            break;
        }
        calls++;
        for (long p = 0; p < r;) {
            uint16_t reclen;
            uint32_t doff;
            memcpy(&doff, buf + p + 4, 4);
            memcpy(&reclen, buf + p + 8, 2);
            unsigned char type = buf[p + reclen - 1];
            total++;
            if (type == DT_DIR)
                dirs++;
            if (type == DT_REG)
                regs++;
            if (doff > 0x7fffffff)
                off_ok = 0;
            p += reclen;
        }
    }
    printf("getdents: %d entries, %d dirs, %d regular, offsets fit %d, several calls %d\n", total,
           dirs, regs, off_ok, calls > 1);
    /* The old readdir: one entry per call. */
    lseek(fd, 0, SEEK_SET);
    struct {
        uint32_t ino, off;
        uint16_t len;
        char name[256];
    } old;
    int count = 0;
    long r;
    while ((r = syscall(89, fd, &old, 1)) == 1)
        count++;
    printf("old readdir: %d entries, last result %ld\n", count, r);
    close(fd);

    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "d/file-%03d-%s", i, i % 2 ? "odd" : "even");
        unlink(path);
    }
    rmdir("d/subdir");
    printf("rmdir: %d\n", rmdir("d"));
    return 0;
}
