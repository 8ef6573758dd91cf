/* strings16.S: a string instruction with 16-bit addressing (0x67: si, di,
 * cx) in 32-bit code, through a segment with a base (gs: TLS base
 * 0x20000000), since the low 64 KiB are not mapped under a flat ds.
 *
 * a: 0x67 lodsb gs:[si] with esi = 0xffff0100: al = 'A' from 0x20000100,
 *    si = 0x0101, the upper half of esi kept
 * # expect a eax=0x00000041 esi=0xffff0101
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
    .ascii "ABCD"

    .text
    .globl _start
_start:
    START
    TLS_GS 0x20000000
    xorl %eax, %eax
    cld
    movl $0xffff0100, %esi
    addr16 lodsb %gs:(%si)
    CHECK a
    EXIT
