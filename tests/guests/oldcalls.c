/* Older and rarer file and process calls, made directly so that the i386
 * layouts are exercised: the pre-LFS stat family (18/28/84 and 106-108),
 * statfs/fstatfs (99/100), utime/utimes/futimesat, the xattr family,
 * splice/tee/vmsplice, preadv2/pwritev2, openat2, the 16-bit id calls, the
 * old unames, capget, nice, timerfd and POSIX timers, adjtimex (read-only),
 * sched_rr_get_interval, POSIX message queues. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "0";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case ENODATA: return "ENODATA";
    case ERANGE: return "ERANGE";
    case EPERM: return "EPERM";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EOVERFLOW: return "EOVERFLOW";
    case EAGAIN: return "EAGAIN";
    case ENOSYS: return "ENOSYS";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case ELOOP: return "ELOOP";
    default: return "other";
    }
}

/* i386 struct stat (106-108) and __old_kernel_stat (18/28/84). */
struct stat32 {
    uint32_t dev, ino;
    uint16_t mode, nlink, uid, gid;
    uint32_t rdev, size, blksize, blocks, atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns, u4, u5;
};
struct oldstat {
    uint16_t dev, ino, mode, nlink, uid, gid, rdev, pad;
    uint32_t size, atime, mtime, ctime;
};

static void stats(void) {
    int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0640);
    write(fd, "0123456789", 10);
    struct stat64 ref;
    fstat64(fd, &ref);
    struct stat32 s;
    memset(&s, 0xff, sizeof s);
    long r = syscall(106, "f", &s);
    int same_ino = s.ino == (uint32_t)ref.st_ino;
    printf("stat: %ld size %u mode %o nlink %u ino %d mtime %d unused %u\n", r, s.size,
           s.mode & 07777, s.nlink, same_ino, s.mtime == (uint32_t)ref.st_mtime, s.u4);
    memset(&s, 0, sizeof s);
    r = syscall(108, fd, &s);
    printf("fstat: %ld size %u blksize>0 %d\n", r, s.size, s.blksize > 0);
    symlink("f", "l");
    r = syscall(107, "l", &s);
    printf("lstat: %ld is link %d size %u\n", r, S_ISLNK(s.mode), s.size);
    errno = 0;
    r = syscall(106, "missing", &s);
    printf("stat missing: %ld %s\n", r, en(errno));
    /* 16-bit inode numbers: EOVERFLOW exactly when the inode is larger. */
    struct oldstat o;
    int big = ref.st_ino > 0xffff;
    errno = 0;
    r = syscall(18, "f", &o);
    int e = errno;
    printf("oldstat consistent: %d\n", big ? r == -1 && e == EOVERFLOW : r == 0 && o.size == 10);
    errno = 0;
    r = syscall(28, fd, &o);
    e = errno;
    printf("oldfstat consistent: %d\n", big ? r == -1 && e == EOVERFLOW : r == 0 && o.size == 10);
    struct stat64 lref;
    lstat64("l", &lref);
    errno = 0;
    r = syscall(84, "l", &o);
    e = errno;
    printf("oldlstat consistent: %d\n",
           lref.st_ino > 0xffff ? r == -1 && e == EOVERFLOW : r == 0 && S_ISLNK(o.mode));
    struct {
        int32_t type, bsize, blocks, bfree, bavail, files, ffree, fsid[2], namelen, frsize, flags, spare[4];
    } fs;
    struct statfs64 ref64;
    statfs64(".", &ref64);
    /* 32-bit counts: EOVERFLOW exactly when a block count is larger. */
    int wide = (ref64.f_blocks | ref64.f_bfree | ref64.f_bavail) >> 32 != 0 ||
               (ref64.f_files != (fsfilcnt64_t)-1 && ref64.f_files >> 32) ||
               (ref64.f_ffree != (fsfilcnt64_t)-1 && ref64.f_ffree >> 32);
    errno = 0;
    r = syscall(99, ".", &fs);
    e = errno;
    printf("statfs consistent: %d\n",
           wide ? r == -1 && e == EOVERFLOW
                : r == 0 && (uint32_t)fs.type == (uint32_t)ref64.f_type &&
                      fs.bsize == (int32_t)ref64.f_bsize && fs.namelen == (int32_t)ref64.f_namelen);
    errno = 0;
    r = syscall(100, fd, &fs);
    e = errno;
    printf("fstatfs consistent: %d\n", wide ? r == -1 && e == EOVERFLOW : r == 0);
    close(fd);
}

static void times_and_xattrs(void) {
    struct utimbuf ub = {1000000000, 1100000000};
    printf("utime: %d\n", utime("f", &ub));
    struct stat64 st;
    stat64("f", &st);
    printf("after utime: atime %ld mtime %ld\n", (long)st.st_atime, (long)st.st_mtime);
    struct timeval tv[2] = {{1200000000, 250000}, {1300000000, 500000}};
    printf("utimes: %d\n", utimes("f", tv));
    stat64("f", &st);
    printf("after utimes: mtime %ld.%09ld\n", (long)st.st_mtime, st.st_mtim.tv_nsec);
    tv[0].tv_usec = 1000000;
    errno = 0;
    int r = utimes("f", tv);
    printf("utimes bad usec: %d %s\n", r, en(errno));
    tv[0].tv_usec = 0;
    tv[1].tv_sec = 1400000000;
    tv[1].tv_usec = 0;
    printf("futimesat: %ld\n", syscall(299, AT_FDCWD, "f", tv));
    stat64("f", &st);
    printf("after futimesat: mtime %ld\n", (long)st.st_mtime);

    errno = 0;
    r = setxattr("f", "user.colour", "blue", 4, 0);
    int e = errno;
    if (r != 0) {
        printf("setxattr: %s (no user xattrs here)\n", en(e));
        return;
    }
    printf("setxattr: 0\n");
    char v[32] = {0};
    ssize_t n = getxattr("f", "user.colour", v, sizeof v);
    printf("getxattr: %zd '%s' size query %zd\n", n, v, getxattr("f", "user.colour", NULL, 0));
    errno = 0;
    n = getxattr("f", "user.colour", v, 2);
    printf("getxattr small: %zd %s\n", n, en(errno));
    int fd = open("f", O_RDONLY);
    fsetxattr(fd, "user.shape", "round", 5, XATTR_CREATE);
    errno = 0;
    r = fsetxattr(fd, "user.shape", "square", 6, XATTR_CREATE);
    printf("fsetxattr create twice: %d %s\n", r, en(errno));
    char list[128];
    n = flistxattr(fd, list, sizeof list);
    int has_c = 0, has_s = 0;
    for (char *p = list; p < list + n; p += strlen(p) + 1) {
        has_c |= strcmp(p, "user.colour") == 0;
        has_s |= strcmp(p, "user.shape") == 0;
    }
    printf("flistxattr: colour %d shape %d\n", has_c, has_s);
    memset(v, 0, sizeof v);
    n = lgetxattr("f", "user.shape", v, sizeof v);
    printf("lgetxattr: %zd '%s'\n", n, v);
    printf("removexattr: %d fremovexattr: %d\n", removexattr("f", "user.colour"),
           fremovexattr(fd, "user.shape"));
    errno = 0;
    n = getxattr("f", "user.colour", v, sizeof v);
    printf("getxattr removed: %zd %s\n", n, en(errno));
    n = listxattr("f", list, sizeof list);
    printf("listxattr empty: %zd\n", n);
    close(fd);
}

static void pipes(void) {
    int a[2], b[2];
    pipe(a);
    pipe(b);
    write(a[1], "splice-me", 9);
    ssize_t n = tee(a[0], b[1], 9, 0);
    printf("tee: %zd\n", n);
    n = splice(a[0], NULL, b[1], NULL, 9, 0);
    printf("splice: %zd\n", n);
    char buf[32] = {0};
    n = read(b[0], buf, sizeof buf - 1);
    printf("read: %zd '%s'\n", n, buf);
    char p1[] = "vm", p2[] = "splice";
    struct iovec iov[2] = {{p1, 2}, {p2, 6}};
    n = vmsplice(b[1], iov, 2, 0);
    memset(buf, 0, sizeof buf);
    read(b[0], buf, sizeof buf - 1);
    printf("vmsplice: %zd '%s'\n", n, buf);
    int fd = open("f", O_RDWR);
    loff_t off = 2;
    write(a[1], "XY", 2);
    n = splice(a[0], NULL, fd, &off, 2, 0);
    printf("splice to file: %zd off %lld\n", n, (long long)off);
    char x[4] = {0}, y[8] = {0};
    struct iovec rv[2] = {{x, 3}, {y, 7}};
    n = preadv2(fd, rv, 2, 1, 0);
    printf("preadv2: %zd '%s' '%s'\n", n, x, y);
    lseek(fd, 0, SEEK_SET);
    n = preadv2(fd, rv, 2, -1, 0);
    printf("preadv2 at position: %zd '%s' pos %ld\n", n, x, (long)lseek(fd, 0, SEEK_CUR));
    struct iovec wv = {"AB", 2};
    n = pwritev2(fd, &wv, 1, 0, 0);
    pread(fd, x, 3, 0);
    printf("pwritev2: %zd '%s'\n", n, x);
    close(fd);
    struct { uint64_t flags, mode, resolve; } how = {O_RDONLY, 0, 0};
    fd = syscall(437, AT_FDCWD, "f", &how, sizeof how);
    printf("openat2: ok %d\n", fd >= 0);
    close(fd);
    how.resolve = 0x04; /* RESOLVE_NO_SYMLINKS */
    errno = 0;
    fd = syscall(437, AT_FDCWD, "l", &how, sizeof how);
    printf("openat2 no symlinks: %d %s\n", fd, en(errno));
    close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

static void ids(void) {
    long u = syscall(24), g = syscall(47); /* getuid/getgid, 16-bit */
    printf("16-bit ids match: %d %d\n", u == (long)(getuid() > 0xffff ? 65534 : getuid()),
           g == (long)(getgid() > 0xffff ? 65534 : getgid()));
    uint16_t r16[3] = {1, 1, 1};
    long r = syscall(165, &r16[0], &r16[1], &r16[2]);
    printf("getresuid16: %ld all equal %d\n", r, r16[0] == r16[1] && r16[1] == r16[2]);
    printf("setuid16 to self: %ld\n", syscall(23, u));
    printf("setreuid16 -1 -1: %ld\n", syscall(70, 0xffff, 0xffff));
    printf("setfsuid16 query: %d\n", (int)syscall(138, 0xffff) == (int)u);
    printf("setfsuid32 query: %d\n", (int)syscall(215, -1) == (int)getuid());
    long n = syscall(80, 0, NULL);
    uint16_t grp[64];
    long n2 = syscall(80, 64, grp);
    printf("getgroups16: count agrees %d\n", n == n2 && n == getgroups(0, NULL));
    struct { char f[5][65]; } old;
    struct { char f[5][9]; } oldold;
    printf("olduname: %ld oldolduname: %ld\n", syscall(109, &old), syscall(59, &oldold));
    printf("sysname %s/%s\n", old.f[0], oldold.f[0]);
    struct { uint32_t version; int pid; } hdr = {0x20080522, 0};
    struct { uint32_t eff, perm, inh; } data[2];
    printf("capget: %ld\n", syscall(184, &hdr, data));
    printf("nice(0): %d\n", nice(0));
    printf("personality query: %#x\n", personality(0xffffffff));
}

static void timers(void) {
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec its = {{0, 0}, {100, 0}}, cur;
    printf("timerfd_settime: %d\n", timerfd_settime(tfd, 0, &its, NULL));
    timerfd_gettime(tfd, &cur);
    printf("timerfd_gettime: in range %d interval %ld\n",
           cur.it_value.tv_sec >= 98 && cur.it_value.tv_sec <= 100, (long)cur.it_interval.tv_sec);
    uint64_t ticks;
    errno = 0;
    ssize_t n = read(tfd, &ticks, sizeof ticks);
    printf("timerfd read early: %zd %s\n", n, en(errno));
    its.it_value.tv_sec = 0;
    its.it_value.tv_nsec = 1000000;
    timerfd_settime(tfd, 0, &its, &cur);
    usleep(20000);
    n = read(tfd, &ticks, sizeof ticks);
    printf("timerfd fired: %zd ticks %llu\n", n, (unsigned long long)ticks);
    close(tfd);

    timer_t t;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_NONE;
    printf("timer_create: %d\n", timer_create(CLOCK_MONOTONIC, &sev, &t));
    its.it_value.tv_sec = 50;
    its.it_value.tv_nsec = 0;
    its.it_interval.tv_sec = 5;
    printf("timer_settime: %d\n", timer_settime(t, 0, &its, NULL));
    timer_gettime(t, &cur);
    printf("timer_gettime: in range %d interval %ld\n", cur.it_value.tv_sec >= 48 && cur.it_value.tv_sec <= 50,
           (long)cur.it_interval.tv_sec);
    printf("timer_getoverrun: %d\n", timer_getoverrun(t));
    printf("timer_delete: %d\n", timer_delete(t));
    errno = 0;
    int r = timer_delete(t);
    printf("timer_delete again: %d %s\n", r, en(errno));

    struct timex tx;
    memset(&tx, 0, sizeof tx);
    r = adjtimex(&tx);
    printf("adjtimex read: state ok %d tick>0 %d\n", r >= 0, tx.tick > 0);
    struct timespec ts;
    printf("sched_rr_get_interval: %d\n", sched_rr_get_interval(0, &ts));
    long res = syscall(161, 0, &ts);
    printf("sched_rr_get_interval raw: %ld\n", res);
}

static void mqueues(void) {
    struct mq_attr at = {0, 4, 64, 0};
    mqd_t q = mq_open("/rehost-test-mq", O_CREAT | O_RDWR | O_EXCL, 0600, &at);
    if (q == (mqd_t)-1) {
        printf("mq_open: %s\n", en(errno));
        return;
    }
    mq_unlink("/rehost-test-mq");
    struct mq_attr got;
    mq_getattr(q, &got);
    printf("mq_getattr: maxmsg %ld msgsize %ld curmsgs %ld\n", got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);
    mq_send(q, "low", 3, 1);
    mq_send(q, "high", 4, 9);
    char buf[64] = {0};
    unsigned prio;
    ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
    printf("mq_receive: %zd '%s' prio %u\n", n, buf, prio);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    memset(buf, 0, sizeof buf);
    n = mq_timedreceive(q, buf, sizeof buf, &prio, &ts);
    printf("mq_timedreceive: %zd '%s' prio %u\n", n, buf, prio);
    struct mq_attr nb = {O_NONBLOCK, 0, 0, 0}, old;
    mq_setattr(q, &nb, &old);
    errno = 0;
    n = mq_receive(q, buf, sizeof buf, &prio);
    printf("mq_receive empty nonblocking: %zd %s old flags %ld\n", n, en(errno), old.mq_flags);
    mq_close(q);
}

int main(void) {
    stats();
    times_and_xattrs();
    pipes();
    ids();
    timers();
    mqueues();
    unlink("l");
    unlink("f");
    return 0;
}
