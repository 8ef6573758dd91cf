/* bound.S: bound r32, m32&32 and bound r16, m16&16 (signed bounds, both
 * inclusive). In range: nothing happens (no flag changes). Out of range:
 * #BR, which Linux delivers as SIGSEGV with si_code SI_KERNEL (0x80), at
 * the bound instruction, registers unchanged.
 * bnds = [-5, 10] at 0x20000100, bnds16 = [-3, 3] at 0x20000108.
 *
 * a: eax = 10 and ecx = -5 (both ends), edx = 0x1234fffd (dx = -3),
 *    eax against [esi+edi] = bnds: no fault; flags stay 0
 * # expect a eax=0x0000000a ecx=0xfffffffb edx=0x1234fffd efl=0x00000000
 * hi: eax = 11 > 10
 * # expect hi sig=0x0000000b cod=0x00000080 eip=0x00000000
 * # expect hi_ctx eax=0x0000000b
 * lo: eax = -6 < -5
 * # expect lo sig=0x0000000b cod=0x00000080 eip=0x00000000
 * # expect lo_ctx eax=0xfffffffa
 * w: dx = 4 > 3 (16-bit form; the upper half of edx does not count)
 * # expect w sig=0x0000000b cod=0x00000080 eip=0x00000000
 * # expect w_ctx edx=0x00000004
 * z: every fault resumed after its bound, never reaching a mov 0xbad
 * # expect z ebx=0x00000000
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
bnds:
    .long -5, 10
bnds16:
    .word -3, 3

    .text
    .globl _start
_start:
    START
    movl $10, %eax
    bound %eax, bnds
    movl $-5, %ecx
    bound %ecx, bnds
    movl $0x1234fffd, %edx
    boundw %dx, bnds16
    movl $bnds, %esi
    xorl %edi, %edi
    pushl $0
    popfl
    bound %eax, (%esi, %edi)
    CHECK a
    ON_SIGNAL 11
    FAULT_AT 1f, 2f, hi
    movl $11, %eax
1:  bound %eax, bnds
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, lo
    movl $-6, %eax
1:  bound %eax, bnds
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, w
    movl $4, %edx
1:  boundw %dx, bnds16
    movl $0xbad, %ebx
2:  CHECK z
    EXIT
