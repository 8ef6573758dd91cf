/* threads: pthreads with per-thread __thread copies, a mutex-protected
 * shared counter, condition variables and join. Output is printed only by
 * the main thread after joins, so it is deterministic. */
#include <pthread.h>
#include <stdio.h>

enum { NT = 4, ITERS = 20000 };

static __thread int tls_id = -1;
static __thread unsigned tls_acc = 7;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long shared;
static int ready;
static unsigned results[NT];
static int initial_ids[NT];

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    initial_ids[id] = tls_id;
    tls_id = id;
    for (int i = 0; i < ITERS; i++) {
        tls_acc = tls_acc * 31 + (unsigned)(i ^ id);
        pthread_mutex_lock(&lock);
        shared += id + 1;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    ready++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    results[id] = tls_acc ^ (unsigned)tls_id;
    return (void *)(long)(id * 100);
}

int main(void)
{
    pthread_t t[NT];
    tls_id = 99;
    for (long i = 0; i < NT; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0) {
            puts("pthread_create failed");
            return 1;
        }
    pthread_mutex_lock(&lock);
    while (ready < NT) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < NT; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        printf("thread %d returned %ld, saw initial tls_id %d, result %08x\n", i, (long)ret,
               initial_ids[i], results[i]);
    }
    printf("shared %ld (expect %ld)\n", shared, (long)ITERS * (1 + 2 + 3 + 4));
    printf("main tls_id %d tls_acc %u\n", tls_id, tls_acc);
    return 0;
}
