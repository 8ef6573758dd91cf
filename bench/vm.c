/* vm: a bytecode interpreter loop dispatching through a dense switch (an
 * indirect jump per instruction), running a small program that computes
 * primes by trial division and a checksum. Stresses indirect-branch
 * translation (inline caches, the map table). */
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, JZ, JMP, DUP, POP, INC, HALT, XOR, SHL };

static int run(const int *code, int *mem)
{
    int stack[64];
    int sp = 0, pc = 0;
    for (;;) {
        int op = code[pc++];
        switch (op) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case LOAD: stack[sp++] = mem[code[pc++]]; break;
        case STORE: mem[code[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case JZ: if (stack[--sp] == 0) pc = code[pc]; else pc++; break;
        case JMP: pc = code[pc]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case POP: sp--; break;
        case INC: mem[code[pc++]]++; break;
        case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case SHL: sp--; stack[sp - 1] <<= stack[sp]; break;
        case HALT: return sp ? stack[sp - 1] : 0;
        default: abort();
        }
    }
}

int main(int argc, char **argv)
{
    int limit = argc > 1 ? atoi(argv[1]) : 230000;
    /* mem: 0 n, 1 d, 2 prime count, 3 limit, 4 hash. The program:
     *   for (n = 2; n < limit; n++) {
     *     for (d = 2; d * d < n + 1; d++) if (n % d == 0) goto next;
     *     count++; hash = (hash << 5) + hash ^ n;
     *   next: ; }
     *   return count; */
    int prog[128];
    int p = 0;
#define E(x) prog[p++] = (x)
    E(PUSH); E(2); E(STORE); E(0);                           /* n = 2 */
    int outer = p;
    E(LOAD); E(0); E(LOAD); E(3); E(LT); E(JZ); int j_end = p; E(0);
    E(PUSH); E(2); E(STORE); E(1);                           /* d = 2 */
    int inner = p;
    E(LOAD); E(1); E(LOAD); E(1); E(MUL); E(LOAD); E(0); E(PUSH); E(1); E(ADD); E(LT);
    E(JZ); int j_prime = p; E(0);                            /* d*d < n+1 ? */
    E(LOAD); E(0); E(LOAD); E(1); E(MOD); E(JZ); int j_next = p; E(0);
    E(INC); E(1); E(JMP); E(inner);
    int prime = p;
    E(INC); E(2);
    E(LOAD); E(4); E(PUSH); E(5); E(SHL); E(LOAD); E(4); E(ADD); E(LOAD); E(0); E(XOR); E(STORE); E(4);
    int next = p;
    E(INC); E(0); E(JMP); E(outer);
    int end = p;
    E(LOAD); E(2); E(HALT);
#undef E
    prog[j_end] = end;
    prog[j_prime] = prime;
    prog[j_next] = next;
    int mem[8] = {0};
    long total = 0;
    unsigned hash = 0;
    for (int rep = 0; rep < 6; rep++) {
        for (int i = 0; i < 8; i++) mem[i] = 0;
        mem[3] = limit + rep;
        total += run(prog, mem);
        hash = hash * 31 + (unsigned)mem[4];
    }
    printf("vm: primes %ld hash %08x\n", total, hash);
    return 0;
}
