/* misc.S: the other one-byte forms rehost rewrites: inc/dec r32 and r16
 * (0x40-0x4f, REX prefixes in 64-bit mode), salc (0xd6), and the
 * opcode-0x82 aliases of group 1 (absent in 64-bit mode).
 *
 * i: CF set (popf 1); inc eax of 0x7fffffff = 0x80000000: OF SF AF PF,
 *    CF kept (inc/dec leave CF)
 * # expect i eax=0x80000000 efl=0x00000895
 * d: dec edi of 0: 0xffffffff: SF AF PF, CF still kept
 * # expect d edi=0xffffffff efl=0x00000095
 * w: inc ax (0x66 0x40) of eax 0x1234ffff: ax wraps, the upper half stays:
 *    0x12340000, ZF PF AF, CF kept; dec cx (0x66 0x49) of 0x56780001 ->
 *    0x56780000 (ZF PF, CF kept)
 * # expect w eax=0x12340000 ecx=0x56780000 efl=0x00000045
 * s: salc: al = CF ? 0xff : 0, flags untouched: with CF set, ebx =
 *    0xaaaaaaff; with CF clear (popf 0x40: ZF), edx = 0xbbbbbb00
 * # expect s ebx=0xaaaaaaff edx=0xbbbbbb00 efl=0x00000040
 * g: 0x82 /0 add al, 5 with eax 0x100000fe: al = 0x03, CF AF PF; then
 *    0x82 /7 cmp cl, 0x10 with cl 0x10 (ecx 0x10): ZF PF
 * # expect g eax=0x10000003 esi=0x00000015 efl=0x00000044
 */
#include "snippet.h"

    .text
    .globl _start
_start:
    START
    pushl $1
    popfl
    movl $0x7fffffff, %eax
    incl %eax
    CHECK i
    xorl %edi, %edi
    pushl $1
    popfl
    decl %edi
    CHECK d
    movl $0x1234ffff, %eax
    movl $0x56780001, %ecx
    pushl $1
    popfl
    incw %ax
    movl %eax, %ebx
    pushl $1
    popfl
    decw %cx
    CHECK w
    movl $0xaaaaaaaa, %eax
    pushl $1
    popfl
    .byte 0xd6
    movl %eax, %ebx
    movl $0xbbbbbbbb, %eax
    pushl $0x40
    popfl
    .byte 0xd6
    movl %eax, %edx
    CHECK s
    movl $0x100000fe, %eax
    pushl $0
    popfl
    .byte 0x82, 0xc0, 0x05
    pushfl
    popl %esi
    andl $0xd5, %esi
    movl $0x10, %ecx
    .byte 0x82, 0xf9, 0x10
    CHECK g
    EXIT
