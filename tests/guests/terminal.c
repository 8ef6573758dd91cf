/* Terminal and descriptor ioctls: a pseudo-terminal pair (openpty:
 * TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER), termios get/set, window size,
 * FIONREAD/TIOCOUTQ/TCFLSH/TCXONC, FIONBIO, TIOCGPGRP/TIOCGSID on a
 * terminal we do not control, and the ENOTTY answers on /dev/null and a
 * pipe. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "0";
    case ENOTTY: return "ENOTTY";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    default: return "other";
    }
}

/* Terminal input arrives through a work queue: wait for it. */
static void wait_in(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, 5000);
}

static void not_tty(const char *what, int fd) {
    struct winsize ws;
    errno = 0;
    int r = ioctl(fd, TIOCGWINSZ, &ws);
    printf("%s TIOCGWINSZ: %d %s\n", what, r, en(errno));
    struct termios t;
    errno = 0;
    r = tcgetattr(fd, &t);
    printf("%s tcgetattr: %d %s\n", what, r, en(errno));
    printf("%s isatty: %d\n", what, isatty(fd));
    pid_t pg;
    errno = 0;
    r = ioctl(fd, TIOCGPGRP, &pg);
    printf("%s TIOCGPGRP: %d %s\n", what, r, en(errno));
}

int main(void) {
    int null = open("/dev/null", O_RDWR);
    not_tty("/dev/null", null);
    int p[2];
    pipe(p);
    not_tty("pipe", p[0]);
    write(p[1], "12345", 5);
    int n = -1;
    int r = ioctl(p[0], FIONREAD, &n);
    printf("pipe FIONREAD: %d %d\n", r, n);
    int on = 1;
    r = ioctl(p[0], FIONBIO, &on);
    char buf[16];
    read(p[0], buf, sizeof buf);
    errno = 0;
    ssize_t k = read(p[0], buf, sizeof buf);
    printf("FIONBIO: %d then read %zd %s\n", r, k, en(errno));
    errno = 0;
    r = ioctl(p[0], 0x12345678, 0);
    printf("unknown ioctl: %d %s\n", r, en(errno));

    int m, s;
    char name[64];
    struct winsize ws = {24, 80, 0, 0};
    if (openpty(&m, &s, name, NULL, &ws) != 0) {
        printf("openpty failed\n");
        return 0;
    }
    printf("openpty: ok, name starts /dev/pts/ %d\n", strncmp(name, "/dev/pts/", 9) == 0);
    printf("isatty slave %d master %d\n", isatty(s), isatty(m));
    struct winsize g;
    memset(&g, 0, sizeof g);
    r = ioctl(s, TIOCGWINSZ, &g);
    printf("TIOCGWINSZ: %d %dx%d\n", r, g.ws_row, g.ws_col);
    ws.ws_row = 50;
    ws.ws_col = 132;
    ws.ws_xpixel = 7;
    r = ioctl(m, TIOCSWINSZ, &ws);
    memset(&g, 0, sizeof g);
    ioctl(s, TIOCGWINSZ, &g);
    printf("TIOCSWINSZ: %d -> %dx%d xpixel %d\n", r, g.ws_row, g.ws_col, g.ws_xpixel);

    struct termios t;
    r = tcgetattr(s, &t);
    printf("tcgetattr: %d icanon %d echo %d\n", r, !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO));
    cfmakeraw(&t);
    cfsetospeed(&t, B9600);
    r = tcsetattr(s, TCSANOW, &t);
    struct termios t2;
    tcgetattr(s, &t2);
    printf("tcsetattr raw: %d icanon %d echo %d ospeed B9600 %d\n", r, !!(t2.c_lflag & ICANON),
           !!(t2.c_lflag & ECHO), cfgetospeed(&t2) == B9600);
    t2.c_lflag |= ICANON | ECHO;
    printf("TCSADRAIN: %d TCSAFLUSH: %d\n", tcsetattr(s, TCSADRAIN, &t2), tcsetattr(s, TCSAFLUSH, &t2));

    /* Data both ways; FIONREAD, TIOCOUTQ, flush. */
    t2.c_lflag &= ~(ICANON | ECHO);
    tcsetattr(s, TCSANOW, &t2);
    write(m, "typed", 5);
    wait_in(s);
    n = -1;
    ioctl(s, FIONREAD, &n);
    printf("slave FIONREAD: %d\n", n);
    memset(buf, 0, sizeof buf);
    k = read(s, buf, sizeof buf - 1);
    printf("slave read: %zd '%s'\n", k, buf);
    write(s, "out", 3);
    wait_in(m);
    n = -1;
    ioctl(m, FIONREAD, &n);
    printf("master FIONREAD: %d\n", n);
    n = -1;
    r = ioctl(s, TIOCOUTQ, &n);
    printf("TIOCOUTQ: %d %d\n", r, n);
    printf("tcflush: %d\n", tcflush(m, TCIOFLUSH));
    n = -1;
    ioctl(m, FIONREAD, &n);
    printf("master FIONREAD after flush: %d\n", n);
    printf("tcflow: %d %d\n", tcflow(s, TCOOFF), tcflow(s, TCOON));
    printf("tcsendbreak: %d\n", tcsendbreak(s, 0));
    printf("tcdrain: %d\n", tcdrain(s));

    /* Not our controlling terminal. */
    pid_t pg = 0;
    errno = 0;
    r = ioctl(s, TIOCGPGRP, &pg);
    printf("TIOCGPGRP: %d %s\n", r, en(errno));
    errno = 0;
    r = ioctl(s, TIOCGSID, &pg);
    printf("TIOCGSID: %d %s\n", r, en(errno));
    int ptn = -1;
    r = ioctl(m, TIOCGPTN, &ptn);
    printf("TIOCGPTN: %d match %d\n", r, ptn >= 0 && strcmp(name + 9, "") != 0);
    int lck = -1;
    r = ioctl(m, TIOCGPTLCK, &lck);
    printf("TIOCGPTLCK: %d %d\n", r, lck);
    int pkt = 0;
    r = ioctl(m, TIOCGPKT, &pkt);
    printf("TIOCGPKT: %d %d\n", r, pkt);
    int excl = -1;
    r = ioctl(s, TIOCGEXCL, &excl);
    printf("TIOCGEXCL: %d %d\n", r, excl);
    int disc = -1;
    r = ioctl(s, TIOCGETD, &disc);
    printf("TIOCGETD: %d %d\n", r, disc);
    close(s);
    close(m);
    return 0;
}
