/* crc32: bytewise table-driven CRC-32 (IEEE) over a 1 MiB buffer, many
 * passes: a tight loop of loads, xors and shifts with a data-dependent
 * table lookup. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t table[256];

static void init_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int main(int argc, char **argv)
{
    int passes = argc > 1 ? atoi(argv[1]) : 350;
    enum { N = 1 << 20 };
    uint8_t *buf = malloc(N);
    uint32_t s = 1;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(s >> 24);
    }
    init_table();
    uint32_t crc = 0;
    for (int i = 0; i < passes; i++) {
        crc = crc32(crc, buf, N);
        buf[i % N] ^= (uint8_t)crc;
    }
    printf("crc32: %d passes, crc %08x (check %08x)\n", passes, crc, crc32(0, (const uint8_t *)"123456789", 9));
    free(buf);
    return 0;
}
