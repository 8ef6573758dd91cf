/* rodata_switch: large dense switches on a byte whose jump tables gcc puts
 * in .rodata (PIC-relative tables in the -static-pie variants), iterated over
 * many inputs:
 *  - `step`: 64 cases 0x20..0x5f, each a different computation, plus default;
 *  - `sstep`: 64 cases on a signed char, -32..31 (a biased table index);
 *  - `tok`: a tokenizer state machine switching on a byte in a loop, with
 *    `break` (not return) and cases sharing code;
 * and a byte sweep 0..255, a fixed text, and 20000 pseudo-random bytes. */
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static unsigned hits[8];

static NOINLINE unsigned bump(unsigned x, unsigned k)
{
    hits[k & 7] += 2;
    return x * 2654435761u + k;
}

static NOINLINE unsigned step(unsigned char c, unsigned x)
{
    switch (c) {
    case 0x20: return (x << 26) | (x >> 6);
    case 0x21: return (x & 0xc2ce6f44u) | 121u;
    case 0x22: return x * 9u;
    case 0x23: return (x >> 25) ^ x;
    case 0x24: hits[4 & 7]++; return x - (x >> 8);
    case 0x25: return x / 3u + 924u;
    case 0x26: return x ^ (x << 7);
    case 0x27: return x - 541u * 3u;
    case 0x28: return x + (x >> 22) * 13u;
    case 0x29: return x ^ 0xed2f89d9u;
    case 0x2a: return x * x + 945u;
    case 0x2b: return x + 124u;
    case 0x2c: return x % 251u;
    case 0x2d: hits[13 & 7]++; return (x | 311u) * 11u;
    case 0x2e: return ~x + 403u;
    case 0x2f: return bump(x, 762);
    case 0x30: return (x << 22) | (x >> 10);
    case 0x31: return (x & 0xa9ec0806u) | 89u;
    case 0x32: return x * 17u;
    case 0x33: return (x >> 23) ^ x;
    case 0x34: return x - (x >> 6);
    case 0x35: return x / 36u + 233u;
    case 0x36: hits[22 & 7]++; return x ^ (x << 12);
    case 0x37: return x - 471u * 3u;
    case 0x38: return x + (x >> 26) * 65537u;
    case 0x39: return x ^ 0x349aae90u;
    case 0x3a: return x * x + 891u;
    case 0x3b: return x + 424u;
    case 0x3c: return x % 1009u;
    case 0x3d: return (x | 470u) * 101u;
    case 0x3e: return ~x + 564u;
    case 0x3f: hits[31 & 7]++; return bump(x, 817);
    case 0x40: return (x << 1) | (x >> 31);
    case 0x41: return (x & 0xcc1b0c3eu) | 276u;
    case 0x42: return x * 5u;
    case 0x43: return (x >> 9) ^ x;
    case 0x44: return x - (x >> 16);
    case 0x45: return x / 28u + 25u;
    case 0x46: return x ^ (x << 29);
    case 0x47: return x - 215u * 3u;
    case 0x48: hits[40 & 7]++; return x + (x >> 2) * 17u;
    case 0x49: return x ^ 0x819d7ca7u;
    case 0x4a: return x * x + 853u;
    case 0x4b: return x + 462u;
    case 0x4c: return x % 65521u;
    case 0x4d: return (x | 61u) * 65537u;
    case 0x4e: return ~x + 314u;
    case 0x4f: return bump(x, 762);
    case 0x50: return (x << 28) | (x >> 4);
    case 0x51: hits[49 & 7]++; return (x & 0xf652d008u) | 840u;
    case 0x52: return x * 65537u;
    case 0x53: return (x >> 7) ^ x;
    case 0x54: return x - (x >> 4);
    case 0x55: return x / 22u + 304u;
    case 0x56: return x ^ (x << 10);
    case 0x57: return x - 206u * 3u;
    case 0x58: return x + (x >> 22) * 9u;
    case 0x59: return x ^ 0x58068a9du;
    case 0x5a: hits[58 & 7]++; return x * x + 497u;
    case 0x5b: return x + 87u;
    case 0x5c: return x % 1009u;
    case 0x5d: return (x | 347u) * 13u;
    case 0x5e: return ~x + 799u;
    case 0x5f: return bump(x, 565);
    default: return x ^ c;
    }
}

static NOINLINE int sstep(signed char c, int v)
{
    switch (c) {
    case -32: return v + 490;
    case -31: return v * 442;
    case -30: return v - 486 * c;
    case -29: return v ^ 435;
    case -28: return (v << 1) + 29;
    case -27: return v / 2 + 47;
    case -26: return -v + 44;
    case -25: return v % 185 + c;
    case -24: return v + 428;
    case -23: return v * 87;
    case -22: return v - 377 * c;
    case -21: return v ^ 415;
    case -20: return (v << 1) + 343;
    case -19: return v / 2 + 438;
    case -18: return -v + 158;
    case -17: return v % 129 + c;
    case -16: return v + 311;
    case -15: return v * 109;
    case -14: return v - 311 * c;
    case -13: return v ^ 19;
    case -12: return (v << 1) + 298;
    case -11: return v / 2 + 349;
    case -10: return -v + 82;
    case -9: return v % 221 + c;
    case -8: return v + 327;
    case -7: return v * 202;
    case -6: return v - 412 * c;
    case -5: return v ^ 371;
    case -4: return (v << 1) + 441;
    case -3: return v / 2 + 261;
    case -2: return -v + 487;
    case -1: return v % 191 + c;
    case 0: return v + 279;
    case 1: return v * 480;
    case 2: return v - 228 * c;
    case 3: return v ^ 258;
    case 4: return (v << 1) + 138;
    case 5: return v / 2 + 462;
    case 6: return -v + 19;
    case 7: return v % 446 + c;
    case 8: return v + 15;
    case 9: return v * 187;
    case 10: return v - 239 * c;
    case 11: return v ^ 478;
    case 12: return (v << 1) + 164;
    case 13: return v / 2 + 465;
    case 14: return -v + 195;
    case 15: return v % 217 + c;
    case 16: return v + 457;
    case 17: return v * 453;
    case 18: return v - 270 * c;
    case 19: return v ^ 85;
    case 20: return (v << 1) + 287;
    case 21: return v / 2 + 91;
    case 22: return -v + 121;
    case 23: return v % 119 + c;
    case 24: return v + 13;
    case 25: return v * 91;
    case 26: return v - 167 * c;
    case 27: return v ^ 89;
    case 28: return (v << 1) + 70;
    case 29: return v / 2 + 262;
    case 30: return -v + 262;
    case 31: return v % 185 + c;
    default: return v - c;
    }
}

enum { T_NONE, T_IDENT, T_NUMBER, T_SPACE, T_PUNCT, T_STRING };
static const char *const tnames[] = { "none", "ident", "number", "space", "punct", "string" };

/* Counts tokens of each kind; returns a hash of their lengths. */
static NOINLINE unsigned tok(const unsigned char *p, size_t n, unsigned counts[6])
{
    unsigned h = 0;
    int state = T_NONE;
    unsigned len = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? p[i] : 0;
        int next;
        switch (c) {
        case 'a': case 'b': case 'c': case 'd': case 'e': case 'f': case 'g': case 'h':
        case 'i': case 'j': case 'k': case 'l': case 'm': case 'n': case 'o': case 'p':
        case 'q': case 'r': case 's': case 't': case 'u': case 'v': case 'w': case 'x':
        case 'y': case 'z': case '_':
            next = state == T_NUMBER ? T_NUMBER : (state == T_STRING ? T_STRING : T_IDENT);
            break;
        case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            next = state == T_IDENT || state == T_STRING ? state : T_NUMBER;
            break;
        case ' ': case '\t': case '\n':
            next = state == T_STRING ? T_STRING : T_SPACE;
            break;
        case '"':
            next = state == T_STRING ? T_NONE : T_STRING;
            break;
        case '(': case ')': case '{': case '}': case ';': case ',': case '+': case '-':
        case '*': case '/': case '=': case '<': case '>': case '!': case '&': case '|':
            next = state == T_STRING ? T_STRING : T_PUNCT;
            break;
        case 0:
            next = -1;
            break;
        default:
            next = state == T_STRING ? T_STRING : T_NONE;
            break;
        }
        if (next != state || next == T_PUNCT) {
            if (state != T_NONE) {
                counts[state]++;
                h = h * 31 + len * 7 + (unsigned)state;
            }
            len = 0;
        }
        if (next < 0)
            break;
        state = next;
        len++;
    }
    return h;
}

static const char text[] =
    "int main(void) { int x = 42; for (i = 0; i < 10; i++) x = x * 3 + i;\n"
    "printf(\"hello, %d\\n\", x); return x & 0x7f; } /* the end */ "
    "while (a1 != b2 && c3 || d_4) { y = \"str with 9 words ( ) ;\" ; z -= 17; }";

static unsigned rng = 0x9e3779b9u;
static unsigned char next_byte(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (unsigned char)(rng >> 11);
}

int main(void)
{
    /* Every byte once, from a fixed x. */
    for (unsigned c = 0; c < 256; c++) {
        unsigned r = step((unsigned char)c, 0x12345678u + c);
        int s = sstep((signed char)c, 1000 + (int)c);
        if (c >= 0x18 && c < 0x68)
            printf("%02x: %08x %d\n", c, r, s);
        else if (c % 16 == 0)
            printf("%02x: %08x %d (outside)\n", c, r, s);
    }

    /* A chain: each result feeds the next, over the text. */
    unsigned x = 1;
    int v = 0;
    for (size_t i = 0; i < sizeof text - 1; i++) {
        x = step((unsigned char)text[i] & 0x7f, x);
        v = sstep((signed char)(text[i] - 64), v) % 1000003;
        if (i % 16 == 15)
            printf("text[%3zu] x %08x v %d\n", i, x, v);
    }
    printf("text: x %08x v %d\n", x, v);

    /* Pseudo-random bytes. */
    unsigned caseh[4] = { 0 };
    for (int i = 0; i < 20000; i++) {
        unsigned char c = next_byte();
        x = step(c, x + (unsigned)i);
        v = sstep((signed char)c, v) % 1000003;
        caseh[c >> 6] = caseh[c >> 6] * 33 + (x & 0xffff);
    }
    printf("random: x %08x v %d h %08x %08x %08x %08x\n", x, v, caseh[0], caseh[1], caseh[2], caseh[3]);
    for (int i = 0; i < 8; i++)
        printf("hits[%d] = %u\n", i, hits[i]);

    unsigned counts[6] = { 0 };
    unsigned h = tok((const unsigned char *)text, sizeof text - 1, counts);
    printf("tok hash %08x\n", h);
    for (int i = 1; i < 6; i++)
        printf("  %-6s %u\n", tnames[i], counts[i]);
    return (int)(x & 31);
}
