/* malloc: small (brk heap) and large (>128 KiB, mmap) allocations, realloc growth
 * and shrink (which may move through mremap), calloc zeroing, free in mixed order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned checksum(const unsigned char *p, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

int main(void)
{
    /* many small blocks */
    enum { N = 2000 };
    static unsigned char *small[N];
    unsigned total = 0;
    for (int i = 0; i < N; i++) {
        size_t sz = 1 + (i * 37) % 500;
        small[i] = malloc(sz);
        if (!small[i]) {
            puts("small malloc failed");
            return 1;
        }
        fill(small[i], sz, i);
        total += ((uintptr_t)small[i] % 8 == 0);
    }
    printf("small: %d blocks, %u aligned to 8\n", N, total);
    unsigned h = 0;
    for (int i = 0; i < N; i += 2) {
        h ^= checksum(small[i], 1 + (i * 37) % 500);
        free(small[i]);
    }
    printf("small checksum (even) %08x\n", h);
    for (int i = 0; i < N; i += 2) {
        size_t sz = 1 + (i * 53) % 300;
        small[i] = malloc(sz);
        fill(small[i], sz, i ^ 0x55);
    }
    h = 0;
    for (int i = 0; i < N; i++) {
        size_t sz = (i % 2) ? 1 + (i * 37) % 500 : 1 + (i * 53) % 300;
        h = h * 3 + checksum(small[i], sz);
        free(small[i]);
    }
    printf("small checksum (all) %08x\n", h);

    /* large blocks: served by mmap */
    size_t sizes[] = {128 * 1024 + 1, 256 * 1024, 1024 * 1024, 5 * 1024 * 1024 + 123,
                      16 * 1024 * 1024};
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = malloc(sizes[i]);
        if (!p) {
            printf("large %zu failed\n", sizes[i]);
            return 1;
        }
        fill(p, sizes[i], i);
        printf("large %zu: aligned16 %d checksum %08x first %u last %u\n", sizes[i],
               (int)((uintptr_t)p % 16 == 0), checksum(p, sizes[i]), p[0], p[sizes[i] - 1]);
        free(p);
    }

    /* realloc: grow from small to large and back */
    size_t sz = 16;
    unsigned char *r = malloc(sz);
    fill(r, sz, 99);
    unsigned before = checksum(r, sz);
    while (sz < 8 * 1024 * 1024) {
        size_t nsz = sz * 3;
        r = realloc(r, nsz);
        if (!r) {
            puts("realloc failed");
            return 1;
        }
        if (checksum(r, sz) != before) printf("realloc %zu -> %zu lost data\n", sz, nsz);
        memset(r + sz, (int)(nsz & 0xff), nsz - sz);
        sz = nsz;
        before = checksum(r, sz);
        printf("realloc grow to %zu checksum %08x\n", sz, before);
    }
    while (sz > 100) {
        size_t nsz = sz / 5;
        r = realloc(r, nsz);
        sz = nsz;
        printf("realloc shrink to %zu checksum %08x\n", sz, checksum(r, sz));
    }
    free(r);

    /* calloc must zero, even when reusing freed memory */
    for (int round = 0; round < 3; round++) {
        size_t n = round == 2 ? 300000 : 1000 + round * 5000;
        unsigned char *d = malloc(n);
        memset(d, 0xAB, n);
        free(d);
        unsigned *c = calloc(n / 4, 4);
        size_t nonzero = 0;
        for (size_t i = 0; i < n / 4; i++) nonzero += c[i] != 0;
        printf("calloc %zu: nonzero words %zu\n", n, nonzero);
        free(c);
    }

    /* a linked list built and torn down */
    struct node {
        struct node *next;
        int v;
    } *head = NULL;
    for (int i = 0; i < 10000; i++) {
        struct node *n = malloc(sizeof *n);
        n->v = i * i % 9973;
        n->next = head;
        head = n;
    }
    long long s = 0;
    int count = 0;
    while (head) {
        struct node *n = head;
        s += n->v * (long long)(count++ % 13);
        head = n->next;
        free(n);
    }
    printf("list sum %lld count %d\n", s, count);
    void *z = malloc(0);
    printf("malloc(0) non-null %d\n", z != NULL);
    free(z);
    free(NULL);
    puts("malloc done");
    return 0;
}
