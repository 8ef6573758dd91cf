/* qsort: function pointers called from libc (qsort, bsearch), a table of
 * function pointers, and callbacks through a struct. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned rng = 2463534242u;
static unsigned next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_int_desc(const void *a, const void *b) { return cmp_int(b, a); }
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

struct person {
    char name[16];
    int age;
    double score;
};
static int cmp_person(const void *a, const void *b)
{
    const struct person *p = a, *q = b;
    if (p->age != q->age) return p->age - q->age;
    if (p->score != q->score) return p->score < q->score ? 1 : -1;
    return strcmp(p->name, q->name);
}

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
static int maxf(int a, int b) { return a > b ? a : b; }
static int (*const ops[])(int, int) = {add, sub, mul, maxf};
static const char *const opnames[] = {"add", "sub", "mul", "max"};

struct visitor {
    void (*visit)(struct visitor *, int);
    long long sum;
    int count;
};
static void visit_sum(struct visitor *v, int x) { v->sum += x; v->count++; }
static void visit_sq(struct visitor *v, int x) { v->sum += (long long)x * x; v->count++; }

static int is_sorted(const int *a, int n, int (*cmp)(const void *, const void *))
{
    for (int i = 1; i < n; i++)
        if (cmp(&a[i - 1], &a[i]) > 0) return 0;
    return 1;
}

int main(void)
{
    enum { N = 20000 };
    static int a[N];
    for (int i = 0; i < N; i++) a[i] = (int)(next() % 100000) - 50000;
    qsort(a, N, sizeof a[0], cmp_int);
    printf("sorted asc %d: min %d max %d median %d\n", is_sorted(a, N, cmp_int), a[0], a[N - 1], a[N / 2]);
    long long s = 0;
    for (int i = 0; i < N; i += 97) s += (long long)a[i] * (i + 1);
    printf("weighted sum %lld\n", s);
    for (int k = -50000; k <= 50000; k += 12500) {
        int *p = bsearch(&k, a, N, sizeof a[0], cmp_int);
        printf("bsearch %d: %s\n", k, p ? "found" : "absent");
    }
    qsort(a, N, sizeof a[0], cmp_int_desc);
    printf("sorted desc %d: first %d last %d\n", is_sorted(a, N, cmp_int_desc), a[0], a[N - 1]);

    const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "kiwi", "date", "grape", "lemon", "apricot"};
    enum { W = sizeof words / sizeof words[0] };
    const char *sorted[W];
    memcpy(sorted, words, sizeof words);
    qsort(sorted, W, sizeof sorted[0], cmp_str);
    for (int i = 0; i < W; i++) printf("%s%s", sorted[i], i + 1 < W ? " " : "\n");

    struct person people[8];
    for (int i = 0; i < 8; i++) {
        snprintf(people[i].name, sizeof people[i].name, "p%c%d", 'a' + (int)(next() % 26), i);
        people[i].age = 20 + (int)(next() % 4);
        people[i].score = (next() % 1000) / 10.0;
    }
    qsort(people, 8, sizeof people[0], cmp_person);
    for (int i = 0; i < 8; i++) printf("person %s age %d score %.1f\n", people[i].name, people[i].age, people[i].score);

    for (int i = 0; i < 4; i++) {
        int acc = 1;
        for (int j = 1; j <= 10; j++) acc = ops[i](acc, j);
        printf("fold %s = %d\n", opnames[i], acc);
    }
    struct visitor vs[2] = {{visit_sum, 0, 0}, {visit_sq, 0, 0}};
    for (int i = 0; i < 1000; i++) vs[i & 1].visit(&vs[i & 1], i);
    printf("visitors: %lld/%d %lld/%d\n", vs[0].sum, vs[0].count, vs[1].sum, vs[1].count);
    return 0;
}
