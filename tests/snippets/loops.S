/* loops.S: loop/loope/loopne/jecxz with ecx, and the 0x67 forms with cx
 * (loop, loope, loopne, jcxz), which leave the upper half of ecx alone.
 * None of them changes the flags.
 *
 * a: loop with ecx = 5: the body (eax += 1) runs 5 times
 * # expect a eax=0x00000005 ecx=0x00000000
 * b: loop with ecx = 0: ecx becomes 0xffffffff, not 0, so it jumps
 *    (taken: ebx = 1; the fall-through would set ebx = 0xbad)
 * # expect b ebx=0x00000001 ecx=0xffffffff
 * c: loope over s1 = "aaba" (ecx = 4; cmpb $'a', [esi]; lea esi, [esi+1]):
 *    ends at the 'b' with ZF clear: 3 rounds, ecx = 1 (kept in edx), esi =
 *    s1 + 3; loopne over s3 = "xaxx" (ecx = 4) ends at the 'a' (ZF set):
 *    2 rounds, ecx = 2, edi = s3 + 2; flags from that equal cmp: ZF PF
 * # expect c edx=0x00000001 esi=0x20000103 ecx=0x00000002 edi=0x20000112
 * # expect c efl=0x00000044
 * d: jecxz: ecx = 0 taken (ebx = 2), ecx = 1 not taken (ebp = 3)
 * # expect d ebx=0x00000002 ebp=0x00000003 ecx=0x00000001
 * e: 0x67 loop with ecx = 0x12340003: cx counts 3 -> 0, upper half kept
 * # expect e eax=0x00000003 ecx=0x12340000
 * f: 0x67 loop with ecx = 0xabcd0000 (cx = 0): cx wraps to 0xffff and the
 *    body runs 65536 times
 * # expect f eax=0x00010000 ecx=0xabcd0000
 * g: 0x67 jcxz with ecx = 0x00010000 (cx = 0): taken (ebx = 4); 0x67
 *    loope with cx = 3 over "aab": runs 3 times (ZF clear at 'b' and cx 0
 *    together), esi = s4 + 3, ecx = 0x77770000; 0x67 loopne over "xxa"
 *    with cx = 5 stops at 'a': cx = 2, edi = s5 + 3
 * # expect g ebx=0x00000004 esi=0x20000123 ecx=0x77770000 edx=0x88880002
 * # expect g edi=0x20000133
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
s1: .ascii "aaba"
    .org 0x110
s3: .ascii "xaxx"
    .org 0x120
s4: .ascii "aab"
    .org 0x130
s5: .ascii "xxa"

    .text
    .globl _start
_start:
    START
    movl $5, %ecx
1:  incl %eax
    loop 1b
    CHECK a
    xorl %ecx, %ecx
    loop 1f
    movl $0xbad, %ebx
    jmp 2f
1:  movl $1, %ebx
2:  CHECK b
    movl $4, %ecx
    movl $s1, %esi
1:  cmpb $'a', (%esi)
    leal 1(%esi), %esi
    loope 1b
    movl %ecx, %edx
    movl $4, %ecx
    movl $s3, %edi
1:  cmpb $'a', (%edi)
    leal 1(%edi), %edi
    loopne 1b
    CHECK c
    xorl %ecx, %ecx
    jecxz 1f
    movl $0xbad, %ebx
    jmp 2f
1:  movl $2, %ebx
2:  movl $1, %ecx
    jecxz 1f
    movl $3, %ebp
    jmp 2f
1:  movl $0xbad, %ebp
2:  CHECK d
    xorl %eax, %eax
    movl $0x12340003, %ecx
1:  incl %eax
    addr16 loop 1b
    CHECK e
    xorl %eax, %eax
    movl $0xabcd0000, %ecx
1:  incl %eax
    addr16 loop 1b
    CHECK f
    movl $0x10000, %ecx
    jcxz 1f
    movl $0xbad, %ebx
    jmp 2f
1:  movl $4, %ebx
2:  movl $0x77770003, %ecx
    movl $s4, %esi
1:  cmpb $'a', (%esi)
    leal 1(%esi), %esi
    addr16 loope 1b
    movl %ecx, %eax
    movl $0x88880005, %ecx
    movl $s5, %edi
1:  cmpb $'a', (%edi)
    leal 1(%edi), %edi
    addr16 loopne 1b
    movl %ecx, %edx
    movl %eax, %ecx
    CHECK g
    EXIT
