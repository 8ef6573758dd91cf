/* morecalls: system calls converted or passed through late: restart_syscall,
 * mlockall/munlockall, NUMA policy (set/get_mempolicy, mbind, move_pages,
 * migrate_pages, set_mempolicy_home_node), key rings (add_key, keyctl,
 * request_key), remap_file_pages, sysfs, ustat, reboot and the module calls
 * (refused), quotactl, the new mount API (fsopen, fsconfig, fsmount, open_tree,
 * fspick, mount_setattr, move_mount), Landlock, process_madvise, ioperm/iopl,
 * memfd_secret, arch_prctl. Results are printed as values or errno names,
 * so a kernel or container that refuses a call gives the same output
 * natively and ported. Runs in an empty working directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
    static char buf[32];
    switch (e) {
#define E(x)                                                                                       \
    case x:                                                                                        \
        return #x;
        E(EPERM) E(ENOENT) E(EINTR) E(EBADF) E(EFAULT) E(EINVAL) E(ENOSYS) E(EACCES) E(ENOMEM)
        E(EOPNOTSUPP) E(ENODEV) E(EXDEV) E(EKEYREVOKED) E(ENOKEY) E(EDQUOT) E(EAGAIN) E(ENOEXEC)
        E(EBUSY) E(ESRCH) E(ENOTDIR) E(ENOTBLK) E(ENOTTY)
#undef E
    default:
        snprintf(buf, sizeof buf, "errno %d", e);
        return buf;
    }
}

/* "value" for a success (shown only if show), else the errno name. */
static void res(const char *what, long r, int show)
{
    if (r < 0)
        printf("%s: %s\n", what, ename(errno));
    else if (show)
        printf("%s: %ld\n", what, r);
    else
        printf("%s: ok\n", what);
}

static void numa(void)
{
    int mode = -1;
    uint32_t mask[2] = {0, 0};
    long r = syscall(SYS_get_mempolicy, &mode, mask, 65, 0, 0);
    printf("get_mempolicy: %s mode %d mask %#x\n", r < 0 ? ename(errno) : "ok", mode, mask[0]);
    if (r < 0)
        return;
    uint32_t one = 1;
    res("set_mempolicy(MPOL_BIND, node 0)", syscall(SYS_set_mempolicy, 2, &one, 2), 1);
    mask[0] = 0;
    syscall(SYS_get_mempolicy, &mode, mask, 65, 0, 0);
    printf("  now mode %d mask %#x\n", mode, mask[0]);
    res("set_mempolicy(MPOL_DEFAULT)", syscall(SYS_set_mempolicy, 0, NULL, 0), 1);
    mask[0] = 0;
    syscall(SYS_get_mempolicy, &mode, mask, 65, 0, 4 /* MPOL_F_MEMS_ALLOWED */);
    printf("  allowed mask %#x\n", mask[0]);
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    res("mbind(MPOL_PREFERRED, node 0)", syscall(SYS_mbind, p, 8192, 1, &one, 2, 0), 1);
    mode = -1;
    syscall(SYS_get_mempolicy, &mode, NULL, 0, p, 2 /* MPOL_F_ADDR */);
    printf("  policy at the range %d\n", mode);
    res("mbind on unmapped memory", syscall(SYS_mbind, (void *)0x1000, 4096, 1, &one, 2, 0), 1);
    res("set_mempolicy_home_node", syscall(SYS_set_mempolicy_home_node, p, 8192, 0, 0), 1);
    p[0] = 1;
    void *pages[1] = {p};
    int status[1] = {-1};
    long m = syscall(SYS_move_pages, 0, 1, pages, NULL, status, 0);
    printf("move_pages: %s status %d\n", m < 0 ? ename(errno) : "ok", status[0]);
    uint32_t from = 1, to = 1;
    res("migrate_pages", syscall(SYS_migrate_pages, 0, 2, &from, &to), 1);
    munmap(p, 8192);
}

static void keys(void)
{
    long id = syscall(SYS_add_key, "user", "rehost:test", "secret", 6, -2 /* process */);
    if (id < 0) {
        printf("add_key: %s\n", ename(errno));
        return;
    }
    printf("add_key: ok\n");
    char buf[256] = {0};
    long n = syscall(SYS_keyctl, 11 /* READ */, id, buf, sizeof buf);
    printf("keyctl READ: %ld %.*s\n", n, n > 0 ? (int)n : 0, buf);
    n = syscall(SYS_keyctl, 6 /* DESCRIBE */, id, buf, sizeof buf);
    char *d = strrchr(buf, ';');
    printf("keyctl DESCRIBE: %s type %.5s\n", d ? d + 1 : "?", buf);
    res("keyctl UPDATE", syscall(SYS_keyctl, 2, id, "other!", 6), 1);
    memset(buf, 0, sizeof buf);
    n = syscall(SYS_keyctl, 11, id, buf, sizeof buf);
    printf("keyctl READ: %ld %.*s\n", n, n > 0 ? (int)n : 0, buf);
    long s = syscall(SYS_keyctl, 10 /* SEARCH */, -2, "user", "rehost:test", 0);
    printf("keyctl SEARCH finds it: %d\n", s == id);
    long q = syscall(SYS_request_key, "user", "rehost:test", NULL, 0);
    printf("request_key finds it: %d\n", q == id);
    res("keyctl SETPERM", syscall(SYS_keyctl, 5, id, 0x3f3f0000), 1);
    res("keyctl bad buffer", syscall(SYS_keyctl, 6, id, (void *)0xfffff000, 100000), 1);
    res("keyctl REVOKE", syscall(SYS_keyctl, 3, id), 1);
    res("keyctl READ revoked", syscall(SYS_keyctl, 11, id, buf, sizeof buf), 1);
}

static void remap(void)
{
    int fd = open("pages", O_RDWR | O_CREAT | O_TRUNC, 0600);
    char page[4096];
    memset(page, 'A', sizeof page);
    write(fd, page, sizeof page);
    memset(page, 'B', sizeof page);
    write(fd, page, sizeof page);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    long r = syscall(SYS_remap_file_pages, m, 4096, 0, 1, 0);
    printf("remap_file_pages: %s first page now %c%c\n", r < 0 ? ename(errno) : "ok", m[0],
           m[4095]);
    munmap(m, 8192);
    close(fd);
}

static void admin(void)
{
    res("sysfs(1, \"proc\") >= 0", syscall(SYS_sysfs, 1, "proc") >= 0 ? 0 : -1, 0);
    long idx = syscall(SYS_sysfs, 1, "proc");
    char name[64] = "?";
    if (idx >= 0 && syscall(SYS_sysfs, 2, idx, name) == 0)
        printf("sysfs(2) names it %s\n", name);
    struct stat st;
    stat(".", &st);
    unsigned char u[20];
    res("ustat", syscall(SYS_ustat, (unsigned)st.st_dev, u), 0);
    res("reboot with a bad magic", syscall(SYS_reboot, 0, 0, 0, 0), 1);
    res("finit_module(-1)", syscall(SYS_finit_module, -1, "", 0), 1);
    res("delete_module of nothing", syscall(SYS_delete_module, "rehost_no_such", O_NONBLOCK), 1);
    res("restart_syscall", syscall(SYS_restart_syscall), 1);
    uint32_t dq[18];
    res("quotactl(Q_GETQUOTA, /)", syscall(SYS_quotactl, (0x800007 << 8) | 0, "/", 0, dq), 1);
    res("quotactl(Q_GETFMT, no device)", syscall(SYS_quotactl, (0x800004 << 8) | 0, "/nonexistent", 0, dq), 1);
    int d = open(".", O_RDONLY);
    res("quotactl_fd(Q_GETQUOTA)", syscall(SYS_quotactl_fd, d, (0x800007 << 8) | 0, 0, dq), 1);
    close(d);
}

static void mountapi(void)
{
    long t = syscall(SYS_open_tree, AT_FDCWD, ".", O_CLOEXEC /* OPEN_TREE_CLOEXEC */);
    res("open_tree(.)", t, 0);
    if (t >= 0) {
        struct stat a, b;
        fstat((int)t, &a);
        stat(".", &b);
        printf("  same directory: %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
        close((int)t);
    }
    long fs = syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
    res("fsopen(tmpfs)", fs, 0);
    if (fs >= 0) {
        res("fsconfig size", syscall(SYS_fsconfig, fs, 1, "size", "1M", 0), 1);
        res("fsconfig bad key", syscall(SYS_fsconfig, fs, 1, "no_such_option", "1", 0), 1);
        res("fsconfig create", syscall(SYS_fsconfig, fs, 6, NULL, NULL, 0), 1);
        long mfd = syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0);
        res("fsmount", mfd, 0);
        if (mfd >= 0) {
            int f = openat((int)mfd, "file", O_RDWR | O_CREAT, 0600);
            char b[8] = {0};
            write(f, "tmpfs", 5);
            pread(f, b, 5, 0);
            printf("  file on the detached mount: %s\n", b);
            close(f);
            close((int)mfd);
        }
        close((int)fs);
    }
    long pk = syscall(SYS_fspick, AT_FDCWD, "/", 1);
    res("fspick(/)", pk, 0);
    if (pk >= 0)
        close((int)pk);
    uint64_t attr[4] = {0, 0, 0, 0};
    res("mount_setattr(-1)", syscall(SYS_mount_setattr, -1, "", 0x1000 /* AT_EMPTY_PATH */, attr, 32),
        1);
    res("move_mount(-1)", syscall(SYS_move_mount, -1, "", -1, "", 0), 1);
}

struct ruleset_attr {
    uint64_t handled_access_fs;
};
struct path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

static void landlock(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* VERSION */);
    if (v < 0) {
        printf("landlock: %s\n", ename(errno));
        return;
    }
    printf("landlock: available\n");
    int fd = open("existing", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    close(fd);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct ruleset_attr ra = {(1 << 1) | (1 << 8)}; /* WRITE_FILE, MAKE_REG */
        long rs = syscall(SYS_landlock_create_ruleset, &ra, sizeof ra, 0);
        struct path_beneath pb = {1 << 1, open(".", O_PATH | O_CLOEXEC)};
        res("  add_rule(write here)", syscall(SYS_landlock_add_rule, rs, 1, &pb, 0), 1);
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        res("  restrict_self", syscall(SYS_landlock_restrict_self, rs, 0), 1);
        res("  write an existing file", open("existing", O_WRONLY), 0);
        res("  create a file", open("new", O_WRONLY | O_CREAT, 0600), 0);
        res("  read /dev/null", open("/dev/null", O_RDONLY), 0);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
}

int main(void)
{
    res("mlockall(0)", syscall(SYS_mlockall, 0), 1);
    res("mlockall(MCL_CURRENT|MCL_FUTURE)", syscall(SYS_mlockall, 3), 1);
    char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char vec[16];
    mincore(p, 65536, vec);
    int resident = 0;
    for (int k = 0; k < 16; k++)
        resident += vec[k] & 1;
    printf("pages of a new mapping resident under MCL_FUTURE: %d of 16\n", resident);
    munmap(p, 65536);
    res("munlockall", syscall(SYS_munlockall), 1);

    numa();
    keys();
    remap();
    admin();
    mountapi();
    landlock();

    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
    struct iovec {
        void *base;
        size_t len;
    } iov = {p, 4096};
    res("process_madvise(MADV_COLD)", syscall(SYS_process_madvise, pidfd, &iov, 1, 20, 0), 1);
    close(pidfd);

    long s = syscall(SYS_memfd_secret, 0);
    res("memfd_secret", s, 0);
    if (s >= 0) {
        ftruncate((int)s, 4096);
        char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)s, 0);
        if (m != MAP_FAILED) {
            strcpy(m, "hidden");
            printf("  secret memory holds: %s\n", m);
        }
    }
    long io = syscall(SYS_ioperm, 0x80, 1, 1);
    res("ioperm(0x80)", io, 1);
    if (io == 0) {
        /* The POST diagnostic port: writing it is harmless. */
        __asm__ volatile("outb %%al, $0x80" ::"a"(0));
        printf("  outb to port 0x80 ran\n");
        res("  ioperm off", syscall(SYS_ioperm, 0x80, 1, 0), 1);
    }
    res("iopl(0)", syscall(SYS_iopl, 0), 1);
    res("arch_prctl(ARCH_GET_CPUID)", syscall(SYS_arch_prctl, 0x1011, 0), 1);
    res("arch_prctl(bad)", syscall(SYS_arch_prctl, 0x9999, 0), 1);
    return 0;
}
