/* Sockets: a socketpair, SCM_RIGHTS and SCM_CREDENTIALS over it, a TCP
 * server and client over loopback in one process (non-blocking connect,
 * poll-driven accept), UDP with sendmmsg/recvmmsg, socket options with
 * i386 layouts (timeval timeouts, linger), and the socketcall multiplexer
 * and the direct i386 socket calls side by side. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "0";
    case EINPROGRESS: return "EINPROGRESS";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case ENOTCONN: return "ENOTCONN";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case ENOTSOCK: return "ENOTSOCK";
    default: return "other";
    }
}

static void pair_and_rights(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); return; }
    printf("socketpair ok: %d\n", sv[0] != sv[1]);
    int on = 1;
    printf("SO_PASSCRED set: %d\n", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));

    int pfd[2];
    pipe(pfd);
    write(pfd[1], "through the pipe", 16);

    /* Send the pipe's read end and our credentials with one byte. */
    char cbuf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {"X", 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
    c = CMSG_NXTHDR(&m, c);
    struct ucred uc = {getpid(), getuid(), getgid()};
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof uc);
    memcpy(CMSG_DATA(c), &uc, sizeof uc);
    printf("sendmsg: %zd\n", sendmsg(sv[0], &m, 0));
    close(pfd[0]);

    char data[8];
    char rbuf[256];
    struct iovec riov = {data, sizeof data};
    struct msghdr r = {0};
    r.msg_iov = &riov;
    r.msg_iovlen = 1;
    r.msg_control = rbuf;
    r.msg_controllen = sizeof rbuf;
    ssize_t n = recvmsg(sv[1], &r, 0);
    printf("recvmsg: %zd '%c' flags %#x controllen>0 %d\n", n, data[0], r.msg_flags,
           r.msg_controllen > 0);
    int got_fd = -1, creds_ok = 0, nmsgs = 0;
    for (c = CMSG_FIRSTHDR(&r); c; c = CMSG_NXTHDR(&r, c)) {
        nmsgs++;
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            printf("SCM_RIGHTS len %u\n", (unsigned)c->cmsg_len);
            memcpy(&got_fd, CMSG_DATA(c), sizeof(int));
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred g;
            memcpy(&g, CMSG_DATA(c), sizeof g);
            printf("SCM_CREDENTIALS len %u\n", (unsigned)c->cmsg_len);
            creds_ok = g.pid == getpid() && g.uid == getuid() && g.gid == getgid();
        }
    }
    printf("cmsgs %d creds ok %d\n", nmsgs, creds_ok);
    if (got_fd >= 0) {
        char buf[32] = {0};
        ssize_t k = read(got_fd, buf, sizeof buf - 1);
        printf("read through passed fd: %zd '%s'\n", k, buf);
        close(got_fd);
    }

    /* A control buffer too small for two descriptors: MSG_CTRUNC. */
    int two[2] = {pfd[1], pfd[1]};
    char c2[CMSG_SPACE(2 * sizeof(int))];
    m.msg_control = c2;
    m.msg_controllen = sizeof c2;
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    memcpy(CMSG_DATA(c), two, sizeof two);
    printf("sendmsg 2 fds: %zd\n", sendmsg(sv[0], &m, 0));
    on = 0;
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    char small[CMSG_SPACE(sizeof(int))];
    r.msg_control = small;
    r.msg_controllen = sizeof small;
    n = recvmsg(sv[1], &r, 0);
    c = CMSG_FIRSTHDR(&r);
    printf("small recvmsg: %zd ctrunc %d len %u\n", n, !!(r.msg_flags & MSG_CTRUNC),
           c ? (unsigned)c->cmsg_len : 0);
    if (c) {
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        printf("fd valid: %d\n", fcntl(fd, F_GETFD) >= 0);
        close(fd);
    }
    /* Bad control length. */
    m.msg_controllen = 4;
    errno = 0;
    ssize_t bad = sendmsg(sv[0], &m, 0);
    printf("sendmsg bad control: %zd %s\n", bad, en(errno));
    close(pfd[1]);
    close(sv[0]);
    close(sv[1]);
}

static void tcp(void) {
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    printf("bind: %d\n", bind(srv, (struct sockaddr *)&a, sizeof a));
    socklen_t al = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &al);
    printf("getsockname: len %u family %d port set %d\n", (unsigned)al, a.sin_family, a.sin_port != 0);
    printf("listen: %d\n", listen(srv, 4));

    int cli = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    errno = 0;
    int r = connect(cli, (struct sockaddr *)&a, sizeof a);
    printf("connect: %d %s\n", r, r == 0 ? "0" : en(errno));
    struct pollfd p = {srv, POLLIN, 0};
    r = poll(&p, 1, 5000);
    printf("poll listener: %d revents %#x\n", r, p.revents);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int acc = accept4(srv, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
    printf("accept4: ok %d peer len %u loopback %d cloexec %d\n", acc >= 0, (unsigned)pl,
           peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK), (fcntl(acc, F_GETFD) & FD_CLOEXEC) != 0);
    struct pollfd q = {cli, POLLOUT, 0};
    r = poll(&q, 1, 5000);
    printf("poll client: %d revents %#x\n", r, q.revents);
    int err = -1;
    socklen_t el = sizeof err;
    getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &el);
    printf("SO_ERROR: %d len %u\n", err, (unsigned)el);

    printf("send: %zd\n", send(cli, "hello server", 12, 0));
    char buf[64] = {0};
    ssize_t k = recv(acc, buf, sizeof buf - 1, 0);
    printf("recv: %zd '%s'\n", k, buf);
    printf("write: %zd\n", write(acc, "hello client", 12));
    struct pollfd c = {cli, POLLIN, 0};
    poll(&c, 1, 5000);
    memset(buf, 0, sizeof buf);
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    k = recvfrom(cli, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
    printf("recvfrom: %zd '%s' fromlen %u\n", k, buf, (unsigned)fl);
    socklen_t ql = sizeof peer;
    r = getpeername(cli, (struct sockaddr *)&peer, &ql);
    printf("getpeername: %d same port %d\n", r, peer.sin_port == a.sin_port);

    /* Timeouts: struct timeval is 8 bytes on i386. */
    struct timeval tv = {3, 500000}, tv2 = {0, 0};
    printf("SO_RCVTIMEO set: %d\n", setsockopt(acc, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    socklen_t tl = sizeof tv2;
    r = getsockopt(acc, SOL_SOCKET, SO_RCVTIMEO, &tv2, &tl);
    printf("SO_RCVTIMEO get: %d %ld.%06ld len %u\n", r, (long)tv2.tv_sec, (long)tv2.tv_usec,
           (unsigned)tl);
    tv.tv_sec = 2;
    tv.tv_usec = 0;
    setsockopt(acc, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    tl = sizeof tv2;
    getsockopt(acc, SOL_SOCKET, SO_SNDTIMEO, &tv2, &tl);
    printf("SO_SNDTIMEO get: %ld.%06ld\n", (long)tv2.tv_sec, (long)tv2.tv_usec);
    struct linger lg = {1, 7}, lg2;
    setsockopt(acc, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    socklen_t ll = sizeof lg2;
    getsockopt(acc, SOL_SOCKET, SO_LINGER, &lg2, &ll);
    printf("SO_LINGER: %d %d len %u\n", lg2.l_onoff, lg2.l_linger, (unsigned)ll);
    int nd = 1, nd2 = 0;
    socklen_t ndl = sizeof nd2;
    setsockopt(cli, IPPROTO_TCP, TCP_NODELAY, &nd, sizeof nd);
    getsockopt(cli, IPPROTO_TCP, TCP_NODELAY, &nd2, &ndl);
    printf("TCP_NODELAY: %d\n", nd2);
    int ty;
    socklen_t tyl = sizeof ty;
    getsockopt(cli, SOL_SOCKET, SO_TYPE, &ty, &tyl);
    printf("SO_TYPE: %d\n", ty);

    printf("shutdown: %d\n", shutdown(cli, SHUT_WR));
    memset(buf, 0, sizeof buf);
    k = recv(acc, buf, sizeof buf, 0);
    printf("recv after shutdown: %zd\n", k);
    close(acc);
    close(cli);
    close(srv);
}

static void udp(void) {
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(b, (struct sockaddr *)&sa, sizeof sa);
    socklen_t l = sizeof sa;
    getsockname(b, (struct sockaddr *)&sa, &l);
    connect(a, (struct sockaddr *)&sa, sizeof sa);

    struct mmsghdr out[3];
    struct iovec oi[3];
    const char *words[3] = {"one", "three", "seven"};
    memset(out, 0, sizeof out);
    for (int i = 0; i < 3; i++) {
        oi[i].iov_base = (void *)words[i];
        oi[i].iov_len = strlen(words[i]);
        out[i].msg_hdr.msg_iov = &oi[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
    int n = sendmmsg(a, out, 3, 0);
    printf("sendmmsg: %d lens %u %u %u\n", n, out[0].msg_len, out[1].msg_len, out[2].msg_len);

    struct mmsghdr in[4];
    struct iovec ii[4];
    char bufs[4][16];
    struct sockaddr_in froms[4];
    memset(in, 0, sizeof in);
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < 4; i++) {
        ii[i].iov_base = bufs[i];
        ii[i].iov_len = 15;
        in[i].msg_hdr.msg_iov = &ii[i];
        in[i].msg_hdr.msg_iovlen = 1;
        in[i].msg_hdr.msg_name = &froms[i];
        in[i].msg_hdr.msg_namelen = sizeof froms[i];
    }
    struct timespec ts = {1, 0};
    n = recvmmsg(b, in, 4, MSG_DONTWAIT, &ts);
    printf("recvmmsg: %d", n);
    for (int i = 0; i < n; i++)
        printf(" [%u '%s' namelen %u]", in[i].msg_len, bufs[i], (unsigned)in[i].msg_hdr.msg_namelen);
    printf("\n");
    /* Nothing more: EAGAIN. */
    errno = 0;
    char x[4];
    ssize_t e = recv(b, x, sizeof x, MSG_DONTWAIT);
    printf("recv empty: %zd %s\n", e, en(errno));
    /* Datagram truncation reported in msg_flags. */
    send(a, "0123456789", 10, 0);
    struct iovec ti = {x, sizeof x};
    struct msghdr tm = {0};
    tm.msg_iov = &ti;
    tm.msg_iovlen = 1;
    ssize_t k = recvmsg(b, &tm, 0);
    printf("truncated recvmsg: %zd flags trunc %d\n", k, !!(tm.msg_flags & MSG_TRUNC));
    close(a);
    close(b);
}

/* The same operations through socketcall(102) and the direct calls. */
static void raw_calls(void) {
    unsigned long args[4] = {AF_UNIX, SOCK_STREAM, 0, 0};
    int sv[2];
    args[3] = (unsigned long)sv;
    long r = syscall(102, 8 /* SYS_SOCKETPAIR */, args);
    printf("socketcall socketpair: %ld\n", r);
    r = syscall(369 /* sendto */, sv[0], "direct", 6, 0, 0, 0);
    printf("direct sendto: %ld\n", r);
    char buf[16] = {0};
    unsigned long rargs[4] = {(unsigned long)sv[1], (unsigned long)buf, sizeof buf - 1, 0};
    r = syscall(102, 10 /* SYS_RECV */, rargs);
    printf("socketcall recv: %ld '%s'\n", r, buf);
    int s = syscall(359, AF_INET, SOCK_DGRAM, 0);
    printf("direct socket: ok %d\n", s >= 0);
    int v = 0;
    socklen_t vl = sizeof v;
    r = syscall(365, s, SOL_SOCKET, SO_TYPE, &v, &vl);
    printf("direct getsockopt: %ld type %d\n", r, v);
    errno = 0;
    r = syscall(102, 99, args);
    printf("socketcall bad call: %ld %s\n", r, en(errno));
    errno = 0;
    r = syscall(102, 1, (void *)16);
    printf("socketcall bad args: %ld %s\n", r, en(errno));
    errno = 0;
    r = syscall(373, 0, SHUT_RD);
    printf("shutdown non-socket: %ld %s\n", r, en(errno));
    /* Direct sendmsg/recvmsg (370/372) carrying a descriptor. */
    int one = sv[0];
    char cb[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {"d", 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cb;
    m.msg_controllen = sizeof cb;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &one, sizeof one);
    r = syscall(370, sv[0], &m, 0);
    printf("direct sendmsg: %ld\n", r);
    char d, rb[64];
    struct iovec ri = {&d, 1};
    struct msghdr rm = {0};
    rm.msg_iov = &ri;
    rm.msg_iovlen = 1;
    rm.msg_control = rb;
    rm.msg_controllen = sizeof rb;
    r = syscall(372, sv[1], &rm, 0);
    c = CMSG_FIRSTHDR(&rm);
    printf("direct recvmsg: %ld '%c' controllen %u type %d\n", r, d, (unsigned)rm.msg_controllen,
           c ? c->cmsg_type : -1);
    if (c) {
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        close(fd);
    }
    /* recvmmsg (337) with an old 32-bit timespec. */
    syscall(369, sv[0], "mm", 2, 0, 0, 0);
    char mb[8] = {0};
    struct iovec mi = {mb, sizeof mb - 1};
    struct mmsghdr mm;
    memset(&mm, 0, sizeof mm);
    mm.msg_hdr.msg_iov = &mi;
    mm.msg_hdr.msg_iovlen = 1;
    struct { int sec, nsec; } t32 = {2, 0};
    r = syscall(337, sv[1], &mm, 1, 0, &t32);
    printf("recvmmsg 32: %ld len %u '%s'\n", r, mm.msg_len, mb);
    close(s);
    close(sv[0]);
    close(sv[1]);
}

int main(void) {
    pair_and_rights();
    tcp();
    udp();
    raw_calls();
    return 0;
}
