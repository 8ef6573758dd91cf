/* Readiness on pipes: poll, ppoll, select, pselect, the old select(82)
 * argument block, _newselect, and epoll (create/ctl/wait/pwait, 12-byte
 * packed events), with zero and short timeouts. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static int p1[2], p2[2];

static void polls(void) {
    struct pollfd f[3] = {{p1[0], POLLIN, 0}, {p2[0], POLLIN, 0}, {p2[1], POLLOUT, 0}};
    int r = poll(f, 3, 0);
    printf("poll: %d revents %#x %#x %#x\n", r, f[0].revents, f[1].revents, f[2].revents);
    write(p1[1], "a", 1);
    r = poll(f, 3, 100);
    printf("poll after write: %d revents %#x %#x %#x\n", r, f[0].revents, f[1].revents, f[2].revents);
    struct timespec ts = {0, 20000000};
    sigset_t none;
    sigemptyset(&none);
    f[2].events = 0;
    r = ppoll(f, 3, &ts, &none);
    printf("ppoll: %d revents %#x %#x %#x\n", r, f[0].revents, f[1].revents, f[2].revents);
    struct pollfd g = {p2[0], POLLIN, 0};
    ts.tv_sec = 0;
    ts.tv_nsec = 10000000;
    r = ppoll(&g, 1, &ts, NULL);
    printf("ppoll timeout: %d\n", r);
    struct pollfd bad = {999, POLLIN, 0};
    r = poll(&bad, 1, 0);
    printf("poll bad fd: %d revents %#x\n", r, bad.revents);
}

static void selects(void) {
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(p1[0], &rd);
    FD_SET(p2[0], &rd);
    FD_SET(p2[1], &wr);
    int n = (p2[1] > p1[0] ? p2[1] : p1[0]) + 1;
    struct timeval tv = {0, 0};
    int r = select(n, &rd, &wr, NULL, &tv);
    printf("select: %d p1r %d p2r %d p2w %d\n", r, FD_ISSET(p1[0], &rd), FD_ISSET(p2[0], &rd),
           FD_ISSET(p2[1], &wr));
    FD_ZERO(&rd);
    FD_SET(p2[0], &rd);
    tv.tv_sec = 0;
    tv.tv_usec = 30000;
    r = select(p2[0] + 1, &rd, NULL, NULL, &tv);
    printf("select timeout: %d set %d tv left %ld.%06ld\n", r, FD_ISSET(p2[0], &rd),
           (long)tv.tv_sec, (long)tv.tv_usec);
    FD_ZERO(&rd);
    FD_SET(p1[0], &rd);
    struct timespec ts = {1, 0};
    sigset_t none;
    sigemptyset(&none);
    r = pselect(p1[0] + 1, &rd, NULL, NULL, &ts, &none);
    printf("pselect: %d set %d\n", r, FD_ISSET(p1[0], &rd));
    /* The old select: one pointer to the five arguments. */
    FD_ZERO(&rd);
    FD_SET(p1[0], &rd);
    struct timeval tv2 = {0, 0};
    unsigned long blk[5] = {p1[0] + 1, (unsigned long)&rd, 0, 0, (unsigned long)&tv2};
    r = syscall(82, blk);
    printf("old select: %d set %d\n", r, FD_ISSET(p1[0], &rd));
    FD_ZERO(&rd);
    FD_SET(p1[0], &rd);
    r = syscall(142, p1[0] + 1, &rd, NULL, NULL, &tv2);
    printf("_newselect: %d set %d\n", r, FD_ISSET(p1[0], &rd));
    /* A high descriptor: the fd_set words beyond the first. */
    int hi = dup2(p1[0], 100);
    FD_ZERO(&rd);
    FD_SET(hi, &rd);
    tv2.tv_sec = 0;
    tv2.tv_usec = 0;
    r = select(hi + 1, &rd, NULL, NULL, &tv2);
    printf("select fd 100: %d set %d\n", r, FD_ISSET(hi, &rd));
    close(hi);
    FD_ZERO(&rd);
    FD_SET(p2[0], &rd);
    errno = 0;
    r = select(-1, &rd, NULL, NULL, &tv2);
    printf("select negative: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
}

static void epolls(void) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll_create1: ok %d\n", ep >= 0);
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.u64 = 0x1122334455667788ull;
    printf("ctl add p1: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, p1[0], &ev));
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 0xaabbccdd00000002ull;
    printf("ctl add p2: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, p2[0], &ev));
    ev.events = EPOLLOUT;
    ev.data.fd = p2[1];
    printf("ctl add p2w: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, p2[1], &ev));
    struct epoll_event out[8];
    memset(out, 0, sizeof out);
    int n = epoll_wait(ep, out, 8, 0);
    printf("epoll_wait: %d\n", n);
    for (int i = 0; i < n; i++)
        printf("  events %#x data %#llx\n", out[i].events, (unsigned long long)out[i].data.u64);
    write(p2[1], "bb", 2);
    sigset_t none;
    sigemptyset(&none);
    n = epoll_pwait(ep, out, 8, 100, &none);
    printf("epoll_pwait: %d\n", n);
    int seen = 0;
    for (int i = 0; i < n; i++)
        if (out[i].data.u64 == 0xaabbccdd00000002ull)
            seen = out[i].events;
    printf("  p2 events %#x\n", seen);
    n = epoll_wait(ep, out, 8, 0);
    seen = 0;
    for (int i = 0; i < n; i++)
        if (out[i].data.u64 == 0xaabbccdd00000002ull)
            seen = 1;
    printf("edge-triggered again: %d\n", seen);
    printf("ctl del: %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, p2[1], NULL));
    errno = 0;
    int r = epoll_ctl(ep, EPOLL_CTL_DEL, p2[1], NULL);
    printf("ctl del again: %d %s\n", r, errno == ENOENT ? "ENOENT" : "other");
    n = epoll_wait(ep, out, 1, 0);
    printf("maxevents 1: %d\n", n);
    int ep2 = syscall(254, 10);
    printf("old epoll_create: ok %d\n", ep2 >= 0);
    errno = 0;
    r = syscall(254, 0);
    printf("epoll_create(0): %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    close(ep2);
    close(ep);
}

int main(void) {
    pipe(p1);
    pipe(p2);
    polls();
    selects();
    epolls();
    return 0;
}
