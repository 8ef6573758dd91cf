/* strings: the string.h and stdio string routines glibc implements with
 * hand-written (often SSE2) i386 assembly selected by CPU features. */
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sign(int x) { return (x > 0) - (x < 0); }

int main(void)
{
    const char *words[] = {"", "a", "hello", "hello, world", "The quick brown fox jumps over the lazy dog",
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
        printf("strlen(%u) = %zu\n", i, strlen(words[i]));
    /* strlen at every alignment and length, across page-crossing-sized buffers */
    static char buf[8192];
    unsigned acc = 0;
    for (int off = 0; off < 64; off++)
        for (int len = 0; len < 100; len += 3) {
            memset(buf, 'x', sizeof buf);
            buf[off + len] = 0;
            acc = acc * 7 + strlen(buf + off);
        }
    printf("strlen sweep %08x\n", acc);

    const char *pairs[][2] = {{"abc", "abd"}, {"abc", "abc"}, {"abd", "abc"}, {"", "a"},
                              {"a", ""},      {"Hello", "hello"}, {"abc", "abcd"}};
    for (unsigned i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        printf("cmp [%s] [%s]: strcmp %d strncmp2 %d strcasecmp %d memcmp %d\n", pairs[i][0],
               pairs[i][1], sign(strcmp(pairs[i][0], pairs[i][1])),
               sign(strncmp(pairs[i][0], pairs[i][1], 2)), sign(strcasecmp(pairs[i][0], pairs[i][1])),
               sign(memcmp(pairs[i][0], pairs[i][1], 3)));

    const char *hay = "the cat sat on the mat with another cat";
    const char *needles[] = {"cat", "mat", "dog", "", "the", "r cat", "t"};
    for (unsigned i = 0; i < sizeof needles / sizeof needles[0]; i++) {
        const char *p = strstr(hay, needles[i]);
        printf("strstr [%s] -> %ld\n", needles[i], p ? (long)(p - hay) : -1L);
    }
    printf("strchr 'w' %ld strrchr 't' %ld memchr 'o' %ld strspn %zu strcspn %zu\n",
           (long)(strchr(hay, 'w') - hay), (long)(strrchr(hay, 't') - hay),
           (long)((const char *)memchr(hay, 'o', strlen(hay)) - hay), strspn(hay, "the "),
           strcspn(hay, "xyzm"));

    /* memcpy / memmove with overlap in both directions, many sizes */
    static unsigned char a[4096], b[4096];
    unsigned h = 0;
    for (int n = 0; n < 600; n += 7) {
        for (int i = 0; i < 4096; i++) a[i] = (unsigned char)(i * 13 + n);
        memcpy(b + (n % 17), a + (n % 5), n);
        memmove(a + 3, a, n);        /* forward overlap */
        memmove(a + 100, a + 105, n); /* backward overlap */
        for (int i = 0; i < 800; i++) h = h * 33 + a[i] + b[i];
    }
    printf("memcpy/memmove checksum %08x\n", h);
    memset(a, 0x5a, 1000);
    printf("memset: %d %d %d\n", a[0], a[999], a[1000]);

    char tok[] = "  alpha,beta;;gamma , delta,,epsilon  ";
    int k = 0;
    for (char *t = strtok(tok, " ,;"); t; t = strtok(NULL, " ,;")) printf("tok %d [%s]\n", k++, t);
    char tok2[] = "a=1&b=22&ccc=333";
    char *save;
    for (char *t = strtok_r(tok2, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(t, '=');
        *eq = 0;
        printf("kv [%s] = [%s]\n", t, eq + 1);
    }

    char out[200];
    int n = sprintf(out, "%s|%5d|%-6x|%08.3f|%c", "sprintf", -17, 0xbeef, -3.14159, 'Z');
    printf("sprintf -> %d [%s]\n", n, out);

    int i1, i2;
    unsigned u;
    double d;
    char w[32];
    long long ll;
    int got = sscanf("  -123 0x1F 3.5e2 word 77 9876543210", "%d %i %lf %31s %u %lld", &i1, &i2, &d, w, &u, &ll);
    printf("sscanf got %d: %d %d %g %s %u %lld\n", got, i1, i2, d, w, u, ll);
    got = sscanf("12:34:56", "%d:%d:%d", &i1, &i2, (int *)&u);
    printf("sscanf time %d: %d %d %u\n", got, i1, i2, u);
    got = sscanf("abc", "%d", &i1);
    printf("sscanf fail %d\n", got);

    printf("strtol %ld %ld %ld strtoul %lu strtod %g atoi %d\n", strtol("-0x7f", NULL, 16),
           strtol("777", NULL, 8), strtol("  +42abc", NULL, 10), strtoul("4294967295", NULL, 10),
           strtod("-1.5e-3", NULL), atoi("  1234xyz"));

    char cat[64] = "con";
    strcat(cat, "cat");
    strncat(cat, "enation!!!", 7);
    char cpy[64];
    strcpy(cpy, cat);
    strncpy(cpy + 3, "XY", 5);
    printf("strcat [%s] strncpy [%s] then [%s]\n", cat, cpy, cpy + 6);
    char *dup = strdup("duplicate me");
    for (char *p = dup; *p; p++) *p = (char)toupper((unsigned char)*p);
    printf("strdup/toupper [%s]\n", dup);
    free(dup);
    return 0;
}
