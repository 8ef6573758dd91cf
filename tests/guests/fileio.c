/* fileio: stdio and POSIX file I/O in a private temporary directory
 * (mkdtemp under /tmp). Prints only deterministic facts: sizes, contents,
 * modes set explicitly, sorted directory listings, errno names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static const char *path(const char *name)
{
    static char buf[2][128];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
    return buf[which];
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_dir(void)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("opendir failed: %s\n", strerror(errno));
        return;
    }
    char *names[64];
    int n = 0, dots = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            dots++;
            continue;
        }
        if (n < 64) names[n++] = strdup(e->d_name);
    }
    printf("readdir end errno %s\n", errno ? strerror(errno) : "0");
    closedir(d);
    qsort(names, n, sizeof names[0], cmpstr);
    printf("dir has %d dot entries and %d files:", dots, n);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(void)
{
    strcpy(dir, "/tmp/rehost-fileio-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("mkdtemp ok, name length %zu\n", strlen(dir));

    /* stdio write, then read back with seeks */
    FILE *f = fopen(path("data.bin"), "w+b");
    if (!f) {
        perror("fopen");
        return 1;
    }
    unsigned rec[1000];
    for (int i = 0; i < 1000; i++) rec[i] = i * 2654435761u;
    size_t w = fwrite(rec, sizeof rec[0], 1000, f);
    fprintf(f, "trailer %d\n", 12345);
    printf("fwrite wrote %zu records, ftell %ld\n", w, ftell(f));
    fseek(f, 400, SEEK_SET);
    unsigned r[10];
    size_t got = fread(r, sizeof r[0], 10, f);
    printf("fread at 400: %zu items, first %u last %u (expect %u %u)\n", got, r[0], r[9], rec[100],
           rec[109]);
    fseek(f, -14, SEEK_END);
    char line[64] = {0};
    fgets(line, sizeof line, f);
    printf("tail line [%.*s] ftell %ld\n", (int)strcspn(line, "\n"), line, ftell(f));
    rewind(f);
    got = fread(r, 4, 1, f);
    printf("after rewind got %zu first %u, feof %d\n", got, r[0], feof(f));
    fseek(f, 0, SEEK_END);
    got = fread(r, 4, 1, f);
    printf("read at end got %zu feof %d\n", got, feof(f) != 0);
    fclose(f);

    struct stat st;
    if (stat(path("data.bin"), &st) == 0)
        printf("stat: size %lld regular %d dir %d nlink %u\n", (long long)st.st_size,
               S_ISREG(st.st_mode), S_ISDIR(st.st_mode), (unsigned)st.st_nlink);
    chmod(path("data.bin"), 0640);
    stat(path("data.bin"), &st);
    printf("after chmod mode %o\n", st.st_mode & 0777);

    /* POSIX I/O */
    int fd = open(path("text.txt"), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    const char *msg = "line one\nline two\nline three\n";
    ssize_t nw = write(fd, msg, strlen(msg));
    printf("write %zd\n", nw);
    close(fd);
    fd = open(path("text.txt"), O_RDWR | O_APPEND);
    write(fd, "appended\n", 9);
    off_t end = lseek(fd, 0, SEEK_END);
    printf("lseek end %ld\n", (long)end);
    char buf[128];
    lseek(fd, 5, SEEK_SET);
    ssize_t nr = read(fd, buf, sizeof buf - 1);
    buf[nr > 0 ? nr : 0] = 0;
    printf("read %zd from 5: [%s]\n", nr, buf);
    nr = pread(fd, buf, 8, 9);
    buf[nr > 0 ? nr : 0] = 0;
    printf("pread %zd: [%s]\n", nr, buf);
    struct stat fst;
    fstat(fd, &fst);
    printf("fstat size %lld\n", (long long)fst.st_size);
    close(fd);

    /* dup2 and a pipe */
    int p[2];
    if (pipe(p) == 0) {
        write(p[1], "through the pipe", 16);
        close(p[1]);
        nr = read(p[0], buf, sizeof buf - 1);
        buf[nr > 0 ? nr : 0] = 0;
        printf("pipe read %zd [%s]\n", nr, buf);
        close(p[0]);
    }

    /* more files for the listing */
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "file%02d.txt", i * 3);
        FILE *g = fopen(path(name), "w");
        fprintf(g, "%d\n", i);
        fclose(g);
    }
    mkdir(path("subdir"), 0755);
    list_dir();

    printf("rename %d\n", rename(path("text.txt"), path("renamed.txt")));
    /* each call is sequenced before errno is read */
    int a1 = access(path("renamed.txt"), R_OK);
    int a2 = access(path("text.txt"), F_OK);
    printf("access renamed %d old %d errno %s\n", a1, a2, strerror(errno));
    errno = 0;
    int o = open(path("nope"), O_RDONLY);
    printf("open missing %d errno %s\n", o, strerror(errno));
    int rd = rmdir(dir);
    printf("rmdir non-empty %d errno %s\n", rd, strerror(errno));

    /* clean up */
    DIR *d = opendir(dir);
    struct dirent *e;
    int removed = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strcmp(e->d_name, "subdir"))
            removed += rmdir(path(e->d_name)) == 0;
        else
            removed += unlink(path(e->d_name)) == 0;
    }
    closedir(d);
    printf("removed %d entries\n", removed);
    printf("rmdir %d\n", rmdir(dir));
    int sr = stat(dir, &st);
    printf("stat after rmdir %d errno %s\n", sr, strerror(errno));
    return 0;
}
