/* strings_seg.S: string instructions whose source has an fs/gs override
 * (the source segment of movs/lods/cmps/outs may be overridden; es:edi may
 * not). 16-bit addressing is in strings16.S.
 * gs = a TLS segment with base 0x20000000; src at 0x20000100 = "ABCDEFGH".
 *
 * a: cld, esi = 0x100: lodsb gs:[esi] -> 'A', lodsw gs:[esi] -> "BC";
 *    esi = 0x103
 * # expect a eax=0x00004342 esi=0x00000103
 * b: movsd gs:[esi] -> es:[edi] (esi = 0x104, edi = 0x20000200): "EFGH";
 *    rep movsb with ecx 2 copies "AB" after it (esi = 0x100)
 * # expect b esi=0x00000102 edi=0x20000206 ecx=0x00000000
 * # expect bm m0=0x48474645 m1=0x00004241
 * c: repe cmpsb gs:[esi] vs es:[edi], "ABCD" at gs:0x100 vs "ABXD" at
 *    0x20000300, ecx 4: stops after 'C' - 'X' (0xeb: CF SF PF... AF:
 *    3 - 8 borrows): ecx 1, esi = 0x103, edi = 0x20000303
 * # expect c ecx=0x00000001 esi=0x00000103 edi=0x20000303 efl=0x00000095
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
src:
    .ascii "ABCDEFGH"
    .org 0x300
    .ascii "ABXD"

    .text
    .globl _start
_start:
    START
    TLS_GS 0x20000000
    xorl %eax, %eax
    cld
    movl $0x100, %esi
    lodsb %gs:(%esi)
    lodsw %gs:(%esi)
    CHECK a
    movl $0x104, %esi
    movl $0x20000200, %edi
    movsl %gs:(%esi), %es:(%edi)
    movl $0x100, %esi
    movl $2, %ecx
    rep movsb %gs:(%esi), %es:(%edi)
    CHECK b
    CHECKMEM bm, 0x20000200, 2
    movl $0x100, %esi
    movl $0x20000300, %edi
    movl $4, %ecx
    repe cmpsb %es:(%edi), %gs:(%esi)
    CHECK c
    EXIT
