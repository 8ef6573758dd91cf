/* tls: static TLS (__thread) in the main thread: initialised and zeroed
 * variables, arrays, addresses taken and used through plain pointers, errno,
 * and reading %gs:0 (the thread pointer's self-reference). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__thread int counter = 5;
__thread long long wide = 0x1122334455667788LL;
__thread char name[32] = "initial tls string";
__thread int zeroed[100];
static __thread double dval = 2.5;
static __thread struct {
    int a;
    short b;
    char c[3];
} rec = {1, 2, "xy"};

static __attribute__((noinline)) int *counter_addr(void) { return &counter; }
static __attribute__((noinline)) void bump(int by) { counter += by; }

int main(void)
{
    printf("counter %d wide %llx name [%s] dval %g rec %d %d %s\n", counter, wide, name, dval, rec.a,
           rec.b, rec.c);
    int nz = 0;
    for (int i = 0; i < 100; i++) nz += zeroed[i] != 0;
    printf("zeroed nonzero %d\n", nz);
    for (int i = 0; i < 100; i++) zeroed[i] = i * i;
    long s = 0;
    for (int i = 0; i < 100; i++) s += zeroed[i];
    printf("zeroed sum after fill %ld\n", s);
    bump(10);
    int *p = counter_addr();
    *p *= 3;
    printf("counter after bump and pointer %d (via ptr %d)\n", counter, *p);
    wide >>= 4;
    wide += counter;
    printf("wide %llx\n", wide);
    strcat(name, " + more");
    printf("name [%s] len %zu\n", name, strlen(name));
    dval *= dval;
    rec.c[0] = 'Z';
    printf("dval %g rec.c %s\n", dval, rec.c);

    unsigned self;
    __asm__("movl %%gs:0, %0" : "=r"(self));
    printf("gs:0 equals &tcb-ish pointer nonzero %d\n", self != 0);
    printf("tls address below 4G above 0 %d\n", (unsigned long)p > 0);

    errno = 0;
    int r = close(-1);
    printf("close(-1) = %d errno %d (%s)\n", r, errno, strerror(errno));
    errno = 1234;
    printf("errno set directly %d\n", errno);
    return 0;
}
