/* SysV IPC in one process: shared memory (attached twice, at a chosen and
 * at a kernel-chosen address, IPC_STAT), semaphores (SETVAL/GETVAL, semop,
 * SETALL/GETALL, IPC_STAT), message queues (typed send/receive, IPC_STAT,
 * IPC_SET), through glibc (the ipc multiplexer) and the direct i386 calls. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static const char *en(int e) {
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case ENOMSG: return "ENOMSG";
    case EAGAIN: return "EAGAIN";
    case E2BIG: return "E2BIG";
    case EIDRM: return "EIDRM";
    case EFAULT: return "EFAULT";
    default: return "other";
    }
}

static void shm(void) {
    int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    printf("shmget: ok %d\n", id >= 0);
    char *a = shmat(id, NULL, 0);
    printf("shmat: ok %d below 4G %d page aligned %d\n", a != (void *)-1,
           (uintptr_t)a <= 0xffffffffu, ((uintptr_t)a & 4095) == 0);
    char *b = shmat(id, NULL, SHM_RDONLY);
    printf("second shmat: ok %d distinct %d\n", b != (void *)-1, a != b);
    strcpy(a + 9000, "shared bytes");
    printf("seen through the other mapping: '%s'\n", b + 9000);
    struct shmid_ds ds;
    int r = shmctl(id, IPC_STAT, &ds);
    printf("IPC_STAT: %d segsz %u nattch %lu mode %o cpid ok %d\n", r, (unsigned)ds.shm_segsz,
           (unsigned long)ds.shm_nattch, ds.shm_perm.mode & 0777, ds.shm_cpid == getpid());
    ds.shm_perm.mode = 0640;
    r = shmctl(id, IPC_SET, &ds);
    struct shmid_ds ds2;
    shmctl(id, IPC_STAT, &ds2);
    printf("IPC_SET: %d mode %o\n", r, ds2.shm_perm.mode & 0777);
    printf("shmdt b: %d\n", shmdt(b));
    errno = 0;
    r = shmdt(b);
    printf("shmdt again: %d %s\n", r, en(errno));
    /* Attach at an address of our choice: where the first one is, with
     * SHM_REMAP, and somewhere fresh. */
    char *c = shmat(id, a, 0);
    int e = errno;
    printf("shmat over existing: %s\n", c == (void *)-1 ? en(e) : "ok");
    c = shmat(id, a, SHM_REMAP);
    printf("shmat SHM_REMAP: same %d text '%s'\n", c == a, c + 9000);
    errno = 0;
    c = shmat(id, a + 1, 0);
    e = errno;
    printf("shmat unaligned: %s\n", c == (void *)-1 ? en(e) : "ok");
    c = shmat(id, a + 1, SHM_RND);
    printf("shmat SHM_RND: same %d\n", c == a);
    shmctl(id, IPC_STAT, &ds);
    printf("nattch %lu\n", (unsigned long)ds.shm_nattch);
    printf("shmdt a: %d\n", shmdt(a));
    /* The direct calls: shmget 395, shmat 397, shmctl 396, shmdt 398. */
    int id2 = syscall(395, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    unsigned long p = syscall(397, id2, 0, 0);
    printf("direct shmat: ok %d\n", p != -1UL && p != 0 && (p & 4095) == 0);
    *(int *)p = 42;
    struct shmid_ds d3;
    r = syscall(396, id2, IPC_STAT, &d3);
    printf("direct IPC_STAT: %ld segsz %u nattch %lu\n", (long)r, (unsigned)d3.shm_segsz,
           (unsigned long)d3.shm_nattch);
    printf("direct shmdt: %ld\n", syscall(398, p));
    struct shminfo info;
    r = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
    printf("IPC_INFO: ok %d shmmni>0 %d\n", r >= 0, info.shmmni > 0);
    printf("rmid: %d %ld\n", shmctl(id, IPC_RMID, NULL), syscall(396, id2, IPC_RMID, 0));
}

static void sem(void) {
    int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    printf("semget: ok %d\n", id >= 0);
    union semun u;
    u.val = 5;
    printf("SETVAL: %d\n", semctl(id, 1, SETVAL, u));
    printf("GETVAL: %d\n", semctl(id, 1, GETVAL));
    struct sembuf ops[2] = {{1, -2, 0}, {2, 3, 0}};
    printf("semop: %d\n", semop(id, ops, 2));
    unsigned short vals[3];
    u.array = vals;
    semctl(id, 0, GETALL, u);
    printf("GETALL: %u %u %u\n", vals[0], vals[1], vals[2]);
    unsigned short set[3] = {7, 8, 9};
    u.array = set;
    printf("SETALL: %d\n", semctl(id, 0, SETALL, u));
    u.array = vals;
    semctl(id, 0, GETALL, u);
    printf("GETALL: %u %u %u\n", vals[0], vals[1], vals[2]);
    struct sembuf wait0 = {0, -100, IPC_NOWAIT};
    errno = 0;
    int r = semop(id, &wait0, 1);
    printf("semop would block: %d %s\n", r, en(errno));
    struct timespec ts = {0, 1000000};
    errno = 0;
    r = semtimedop(id, &wait0 + 0, 1, &ts);
    printf("semtimedop nowait: %d %s\n", r, en(errno));
    struct semid_ds ds;
    u.buf = &ds;
    r = semctl(id, 0, IPC_STAT, u);
    printf("IPC_STAT: %d nsems %lu mode %o\n", r, (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 0777);
    /* Direct semctl (394) and semtimedop_time64 (420). */
    printf("direct GETVAL: %ld\n", syscall(394, id, 2, GETVAL, 0));
    struct { long long s, ns; } t64 = {0, 1000};
    struct sembuf inc = {2, 1, 0};
    printf("semtimedop_time64: %ld\n", syscall(420, id, &inc, 1, &t64));
    printf("GETNCNT: %d GETPID ok %d\n", semctl(id, 0, GETNCNT), semctl(id, 2, GETPID) == getpid());
    printf("rmid: %d\n", semctl(id, 0, IPC_RMID));
    errno = 0;
    r = semctl(id, 0, GETVAL);
    printf("after rmid: %d %s\n", r, en(errno));
}

struct msg {
    long mtype;
    char text[32];
};

static void msg(void) {
    int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    printf("msgget: ok %d\n", id >= 0);
    struct msg m = {2, "second type"};
    printf("msgsnd: %d\n", msgsnd(id, &m, strlen(m.text) + 1, 0));
    m.mtype = 1;
    strcpy(m.text, "first type");
    printf("msgsnd: %d\n", msgsnd(id, &m, strlen(m.text) + 1, 0));
    struct msqid_ds ds;
    int r = msgctl(id, IPC_STAT, &ds);
    printf("IPC_STAT: %d qnum %lu cbytes %lu\n", r, (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes);
    struct msg in;
    memset(&in, 0, sizeof in);
    ssize_t n = msgrcv(id, &in, sizeof in.text, 2, 0);
    printf("msgrcv type 2: %zd %ld '%s'\n", n, in.mtype, in.text);
    memset(&in, 0, sizeof in);
    errno = 0;
    n = msgrcv(id, &in, 4, 0, 0);
    printf("msgrcv too small: %zd %s\n", n, en(errno));
    n = msgrcv(id, &in, 4, 0, MSG_NOERROR);
    printf("msgrcv MSG_NOERROR: %zd %ld '%.4s'\n", n, in.mtype, in.text);
    errno = 0;
    n = msgrcv(id, &in, sizeof in.text, 0, IPC_NOWAIT);
    printf("msgrcv empty: %zd %s\n", n, en(errno));
    ds.msg_qbytes = 4000;
    printf("IPC_SET: %d\n", msgctl(id, IPC_SET, &ds));
    msgctl(id, IPC_STAT, &ds);
    printf("qbytes %lu\n", (unsigned long)ds.msg_qbytes);
    /* Direct calls: msgsnd 400, msgrcv 401, msgctl 402; mtype is 4 bytes. */
    struct { int32_t mtype; char t[8]; } dm = {-1, "neg"}, dr;
    errno = 0;
    long rr = syscall(400, id, &dm, 4, 0);
    printf("direct msgsnd bad type: %ld %s\n", rr, en(errno));
    dm.mtype = 9;
    printf("direct msgsnd: %ld\n", syscall(400, id, &dm, 4, 0));
    memset(&dr, 0, sizeof dr);
    rr = syscall(401, id, &dr, 8, -10, 0);
    printf("direct msgrcv: %ld %d '%s'\n", rr, dr.mtype, dr.t);
    printf("direct rmid: %ld\n", syscall(402, id, IPC_RMID, 0));
}

int main(void) {
    shm();
    sem();
    msg();
    return 0;
}
