/* xlat.S: xlat: al = byte [ebx + zero-extended al], the rest of eax kept,
 * flags untouched; with a segment override (fs = 0x2b, base 0; gs = a TLS
 * segment with base 0x20000200, reached with a negative ebx) and with
 * 16-bit addressing ([bx + al], 0x67) through that gs base.
 * tbl at 0x20000100: tbl[i] = (7 i + 3) mod 256.
 *
 * a: eax 0x12345680, ebx tbl: tbl[0x80] = 899 mod 256 = 0x83; then al =
 *    0xff: tbl[0xff] = 1788 mod 256 = 0xfc (in ecx); flags 0x8d5 kept
 * # expect a eax=0x123456fc ecx=0x12345683 efl=0x000008d5
 * f: fs: with al 0x10: tbl[0x10] = 115 = 0x73
 * # expect f eax=0x00000073
 * g: gs base 0x20000200, ebx = -0x100: linear 0x20000100 + al; al 0x01
 *    -> tbl[1] = 0x0a
 * # expect g eax=0x0000000a edx=0x00000063
 * w: addr16 xlat (0x67: [bx + al] mod 2^16) with gs = a second TLS segment
 *    (edx = its selector, entry 13) with base 0x20000000: bx 0x0100, al 2
 *    -> 0x20000102 = tbl[2] = 0x11 (kept in ecx); bx 0xffff, al 2 ->
 *    0x20000001 (the wrap), which holds 0xee
 * # expect w eax=0xffffffee ecx=0xffffff11 edx=0x0000006b
 */
#include "snippet.h"

    .section .fixed
    .byte 0, 0xee
    .org 0x100
tbl:
    .set i, 0
    .rept 256
    .byte (i * 7 + 3) & 0xff
    .set i, i + 1
    .endr

    .text
    .globl _start
_start:
    START
    pushl $0x8d5
    popfl
    movl $0x12345680, %eax
    movl $tbl, %ebx
    xlat
    movl %eax, %ecx
    movb $0xff, %al
    xlat
    CHECK a
    movw $0x2b, %ax
    movw %ax, %fs
    movl $0x10, %eax
    xlat %fs:(%ebx)
    CHECK f
    TLS_GS 0x20000200
    movl %gs, %edx
    movl $-0x100, %ebx
    movl $1, %eax
    xlat %gs:(%ebx)
    CHECK g
    TLS_GS 0x20000000
    movl %gs, %edx
    movl $0xffff0100, %ebx
    movl $0xffffff02, %eax
    addr16 xlat %gs:(%bx)
    movl %eax, %ecx
    movl $0xffffff02, %eax
    movl $0xffffffff, %ebx
    addr16 xlat %gs:(%bx)
    CHECK w
    EXIT
