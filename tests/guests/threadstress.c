/* threadstress: many guest threads at once calling through function
 * pointers (run-time translation, chaining and the map table under
 * concurrency), a mutex-protected counter, a condition variable barrier,
 * __thread variables per thread, and pthread_join of every thread. */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 16
#define ITERS 20000

static __thread unsigned tls_seed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int arrived;
static long total;

static unsigned f0(unsigned x) { return x * 3 + 1; }
static unsigned f1(unsigned x) { return x ^ (x >> 3); }
static unsigned f2(unsigned x) { return x + 0x9e3779b9u; }
static unsigned f3(unsigned x) { return (x << 5) | (x >> 27); }
static unsigned f4(unsigned x) { return x * 2654435761u; }
static unsigned f5(unsigned x) { return ~x; }
static unsigned f6(unsigned x) { return x - 12345; }
static unsigned f7(unsigned x) { return x / 3 + 7; }
static unsigned (*const volatile table[8])(unsigned) = {f0, f1, f2, f3, f4, f5, f6, f7};

static void *worker(void *arg)
{
    unsigned id = (unsigned)(unsigned long)arg;
    tls_seed = id * 1000 + 1;
    pthread_mutex_lock(&lock);
    arrived++;
    pthread_cond_broadcast(&cond);
    while (arrived < NTHREADS)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    unsigned x = tls_seed;
    for (int i = 0; i < ITERS; i++) {
        x = table[(x + i) & 7](x);
        if ((i & 1023) == 0) {
            pthread_mutex_lock(&lock);
            total++;
            pthread_mutex_unlock(&lock);
        }
    }
    return (void *)(unsigned long)(x ^ tls_seed);
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (unsigned i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(unsigned long)i) != 0) {
            printf("pthread_create failed\n");
            return 1;
        }
    unsigned long mix = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        printf("thread %2d -> %08lx\n", i, (unsigned long)r);
        mix ^= (unsigned long)r;
    }
    printf("total %ld (expect %d), mix %08lx\n", total, NTHREADS * ((ITERS + 1023) / 1024), mix);
    return 0;
}
