/* cmpxchg8b.S: cmpxchg8b m64: if edx:eax == m64 then ZF = 1, m64 =
 * ecx:ebx, else ZF = 0, edx:eax = m64. Only ZF changes. Plain, lock, with
 * fs (0x2b, base 0) and gs (a TLS base) overrides.
 * m at 0x20000100 = 0x11111111:0x22222222 (high:low), n at 0x20000108 =
 * 0x55555555:0x66666666.
 *
 * eq: equal: m becomes 0x33333333:0x44444444; edx:eax kept; flags 0x895
 *     (OF SF AF PF CF) before, ZF added
 * # expect eq eax=0x22222222 edx=0x11111111 efl=0x000008d5
 * # expect eqm m0=0x44444444 m1=0x33333333
 * ne: edx:eax = 0:0 differs: edx:eax = m; m unchanged; flags 0x8d5 before,
 *     ZF cleared
 * # expect ne eax=0x44444444 edx=0x33333333 efl=0x00000895
 * # expect nem m0=0x44444444 m1=0x33333333
 * lk: lock cmpxchg8b fs:[esi] (esi = m), equal to what ne loaded: m
 *     becomes 0x77777777:0x88888888
 * # expect lkm m0=0x88888888 m1=0x77777777
 * # expect lk efl=0x000008d5
 * gs: gs base 0x20000100, cmpxchg8b gs:[8] = n with edx:eax = 0:1: not
 *     equal, edx:eax = n
 * # expect gs eax=0x66666666 edx=0x55555555 efl=0x00000895
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
m:
    .long 0x22222222, 0x11111111
n:
    .long 0x66666666, 0x55555555

    .text
    .globl _start
_start:
    START
    movl $0x22222222, %eax
    movl $0x11111111, %edx
    movl $0x44444444, %ebx
    movl $0x33333333, %ecx
    pushl $0x895
    popfl
    cmpxchg8b m
    CHECK eq
    CHECKMEM eqm, m, 2
    xorl %eax, %eax
    xorl %edx, %edx
    pushl $0x8d5
    popfl
    cmpxchg8b m
    CHECK ne
    CHECKMEM nem, m, 2
    movw $0x2b, %si
    movw %si, %fs
    movl $m, %esi
    movl $0x88888888, %ebx
    movl $0x77777777, %ecx
    pushl $0x895
    popfl
    lock cmpxchg8b %fs:(%esi)
    CHECK lk
    CHECKMEM lkm, m, 2
    TLS_GS 0x20000100
    xorl %edx, %edx
    movl $1, %eax
    pushl $0x8d5
    popfl
    cmpxchg8b %gs:8
    CHECK gs
    EXIT
