/* pushf.S: pushf/popf, 32- and 16-bit, including DF and AC.
 *
 * a: popf 0xcd5 (OF DF SF ZF AF PF CF) then pushf; pop eax: the image has
 *    the reserved bit 1 and IF (0x202) as well
 * # expect a eax=0x00000ed7 esp=0x20110000 efl=0x00000cd5
 * b: DF set by std shows in pushf (ebx), cleared by cld (ecx)
 * # expect b ebx=0x00000602 ecx=0x00000202 efl=0x00000000
 * c: AC (bit 18) set by popf and read back by pushf, with esp = 4 mod 8
 *    (edx) and 0 mod 8 (esi), then cleared by popf (edi); no unaligned
 *    access happens while it is set (in between: a jump to a new block and
 *    a getpid system call, its result then cleared by a mov)
 * # expect c eax=0x00000000 edx=0x00040202 esi=0x00040202 edi=0x00000202 esp=0x20110000
 * # expect c efl=0x00000000
 * d: pushfw/popfw move 16 bits: pushfw of 0x8d5 stores the word 0x0ad7
 *    at 0x2010fffe (ebp = that word); popfw of 0x0001 sets only CF (and
 *    clears the rest of the low 16 bits)
 * # expect d ebp=0x00000ad7 esp=0x20110000 efl=0x00000001
 */
#include "snippet.h"

    .text
    .globl _start
_start:
    START
    pushl $0xcd5
    popfl
    pushfl
    popl %eax
    CHECK a
    pushl $0
    popfl
    std
    pushfl
    popl %ebx
    cld
    pushfl
    popl %ecx
    CHECK b
    pushl $0x40202
    popfl
    pushfl
    popl %edx
    subl $4, %esp
    pushl $0x40202
    popfl
    pushfl
    popl %esi
    /* with AC set: a new block (a jump to it) and a system call */
    jmp 1f
1:  movl $20, %eax
    int $0x80
    movl $0, %eax
    pushl $0x202
    popfl
    leal 4(%esp), %esp
    pushfl
    popl %edi
    pushl $0
    popfl
    CHECK c
    pushl $0x8d5
    popfl
    pushfw
    movzwl (%esp), %ebp
    addl $2, %esp
    pushw $0x0001
    popfw
    CHECK d
    EXIT
