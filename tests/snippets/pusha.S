/* pusha.S: pusha/popa and the 16-bit pushaw/popaw. pusha stores eax, ecx,
 * edx, ebx, the original esp, ebp, esi, edi downwards from esp - 4; popa
 * loads them back but skips the saved esp; the 16-bit forms move the low
 * halves only. Flags are set to 0xcc5 (OF DF SF ZF PF CF) and stay.
 *
 * pm: after pusha from esp = STACK_TOP: edi at 0x2010ffe0 up to eax
 * # expect pm m0=0x7777d1d1 m1=0x66665151 m2=0x5555be00 m3=0x20110000
 * # expect pm m4=0x4444b0b0 m5=0x3333d0d0 m6=0x2222c0c0 m7=0x1111a0a0
 * p: esp after pusha
 * # expect p esp=0x2010ffe0 efl=0x00000cc5
 * a: registers overwritten, the saved esp slot set to 0x12345678, popa:
 *    everything back, esp = STACK_TOP (not 0x12345678)
 * # expect a eax=0x1111a0a0 ecx=0x2222c0c0 edx=0x3333d0d0 ebx=0x4444b0b0
 * # expect a ebp=0x5555be00 esi=0x66665151 edi=0x7777d1d1 esp=0x20110000
 * # expect a efl=0x00000cc5
 * wm: pushaw: words ax cx dx bx sp(0x0000, low half of 0x20110000) bp si
 *    di downwards from esp - 2: esp = 0x2010fff0, dwords there:
 * # expect wm m0=0x5151d1d1 m1=0x0000be00 m2=0xd0d0b0b0 m3=0xa0a0c0c0
 * w: every register but esp = 0xffffffff, saved sp = 0x1234, popaw: low
 *    halves back, upper halves stay 0xffff, esp += 16
 * # expect w eax=0xffffa0a0 ecx=0xffffc0c0 edx=0xffffd0d0 ebx=0xffffb0b0
 * # expect w ebp=0xffffbe00 esi=0xffff5151 edi=0xffffd1d1 esp=0x20110000
 * # expect w efl=0x00000cc5
 */
#include "snippet.h"

    .text
    .globl _start
_start:
    START
    movl $0x1111a0a0, %eax
    movl $0x2222c0c0, %ecx
    movl $0x3333d0d0, %edx
    movl $0x4444b0b0, %ebx
    movl $0x5555be00, %ebp
    movl $0x66665151, %esi
    movl $0x7777d1d1, %edi
    pushl $0xcc5
    popfl
    pushal
    CHECKMEM pm, 0x2010ffe0, 8
    CHECK p
    movl $0, %eax
    movl $0, %ecx
    movl $0, %edx
    movl $0, %ebx
    movl $0, %ebp
    movl $0, %esi
    movl $0, %edi
    movl $0x12345678, 12(%esp)
    popal
    CHECK a
    pushaw
    CHECKMEM wm, 0x2010fff0, 4
    movl $-1, %eax
    movl $-1, %ecx
    movl $-1, %edx
    movl $-1, %ebx
    movl $-1, %ebp
    movl $-1, %esi
    movl $-1, %edi
    movw $0x1234, 6(%esp)
    popaw
    CHECK w
    pushl $0
    popfl
    EXIT
