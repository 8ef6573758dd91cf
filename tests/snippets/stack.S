/* stack.S: push/pop of every operand kind (DESIGN.md pitfalls: push esp
 * pushes the old value; pop [esp+d] addresses after esp grew; push [mem]
 * reads before esp shrinks; pop esp loads esp from the stack).
 *
 * a: push eax (0x11111111), push imm8 -2 (sign-extended), push imm32,
 *    push [0x20000100] (0xa5a5a5a5); popped into ebx, ecx, edx, esi
 * # expect a eax=0x11111111 ebx=0xa5a5a5a5 ecx=0x12345678 edx=0xfffffffe
 * # expect a esi=0x11111111 esp=0x20110000 efl=0x00000000
 * b: push esp pushes 0x20110000 (its value before the push); popped into
 *    edi; then push 0x20100800, pop esp: esp = the popped value
 * # expect b edi=0x20110000 esp=0x20100800
 * c: esp = STACK_TOP; push 0xaa, 0xbb, 0xcc (at ..fffc, ..fff8, ..fff4);
 *    pop [esp+4]: pops 0xcc, esp = ..fff8, stores at ..fffc
 * # expect c esp=0x2010fff8
 * # expect cm m0=0x000000cc m1=0x000000bb m2=0x000000cc
 * d: pop [esp]: pops 0xbb, esp = ..fffc, stores 0xbb at ..fffc; then
 *    push [esp] reads 0xbb at ..fffc and stores it at ..fff8; push
 *    [esp+4] reads ..fffc (esp+4 before the push) and stores at ..fff4;
 *    pop [0x20000104] takes that 0xbb: 0x20000104 = 0xbb, esp = ..fff8
 * # expect dm m0=0x000000bb m1=0x000000bb m2=0x000000bb
 * # expect d esp=0x2010fff8 eax=0x000000bb
 * e: 16-bit (0x66) forms from esp = STACK_TOP: push ax (0x2222), push
 *    imm16 0x1234, push imm8 -3 (0xfffd), push word [0x20000100] (0xa5a5):
 *    8 bytes, esp = ..fff8; dwords at ..fff8: 0xfffda5a5, 0x22221234
 * # expect em m0=0xfffda5a5 m1=0x22221234
 * # expect e esp=0x2010fff8
 *    pop bx, pop cx, pop dx (16-bit: upper halves kept), pop word
 *    [0x20000108] (0x2222; its upper half 0xffff kept)
 * # expect f ebx=0xbbbba5a5 ecx=0xeeeefffd edx=0xdddd1234 esp=0x20110000
 * # expect fm m0=0xffff2222
 * g: push/pop of segment registers: push ds (32-bit slot: the selector in
 *    the low 16 bits), pop es; push fs (0) and pop gs; pushw ss, popw fs
 * # expect g eax=0x0000002b ebx=0x0000002b ecx=0x00000000 edx=0x0000002b
 * # expect g esi=0x0000002b esp=0x20110000
 * all pushes and pops leave the flags alone: efl stays 0
 * # expect f efl=0x00000000
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
mem1:
    .long 0xa5a5a5a5
mem2:
    .long 0
mem3:
    .long 0xffff0000

    .text
    .globl _start
_start:
    START
    movl $0x11111111, %eax
    pushl %eax
    pushl $-2
    pushl $0x12345678
    pushl mem1
    popl %ebx
    popl %ecx
    popl %edx
    popl %esi
    CHECK a
    pushl %esp
    popl %edi
    pushl $0x20100800
    popl %esp
    CHECK b
    movl $STACK_TOP, %esp
    pushl $0xaa
    pushl $0xbb
    pushl $0xcc
    popl 4(%esp)
    CHECK c
    CHECKMEM cm, 0x2010fff4, 3
    popl (%esp)
    pushl (%esp)
    pushl 4(%esp)
    popl mem2
    movl mem2, %eax
    CHECK d
    CHECKMEM dm, 0x2010fff4, 3
    movl $STACK_TOP, %esp
    movl $0x2222, %eax
    pushw %ax
    pushw $0x1234
    pushw $-3
    pushw mem1
    CHECK e
    CHECKMEM em, 0x2010fff8, 2
    movl $0xbbbbbbbb, %ebx
    movl $0xeeeeeeee, %ecx
    movl $0xdddddddd, %edx
    popw %bx
    popw %cx
    popw %dx
    popw mem3
    CHECK f
    CHECKMEM fm, mem3, 1
    movl $STACK_TOP, %esp
    pushl %ds
    movl (%esp), %ebx
    andl $0xffff, %ebx
    popl %es
    movl %es, %eax
    pushl %fs
    popl %gs
    movl %gs, %ecx
    pushw %ss
    movzwl (%esp), %edx
    popw %fs
    movl %fs, %esi
    CHECK g
    /* what a 32-bit push of a segment register leaves in the upper half
     * of its slot is model-specific (zero-extended or a 16-bit store):
     * compared with the native run only */
    movl $0xdeadbeef, -4(%esp)
    pushl %ds
    popl %eax
    CHECK h
    EXIT
