/* callret.S: call/ret: direct, indirect through a register and through
 * memory (also esp-relative), ret imm16, a return address read and changed
 * by the callee, the PIC thunk idiom (call next; pop), ret to a pushed
 * address. None of them changes the flags.
 *
 * a: call f1: f1 sees its return address (ret1) at [esp] and esp =
 *    STACK_TOP - 4; eax = [esp] - ret1, ebx = esp in f1
 * # expect a eax=0x00000000 ebx=0x2010fffc esp=0x20110000
 * b: call ecx (f2): edx = [esp] - ret2; call [fptr] (f3): esi = [esp] -
 *    ret3; call [esp+4] with f5 pushed below a 0: the operand is read
 *    before the call pushes, f5: edi = [esp] - ret5, ret 8 drops both
 * # expect b edx=0x00000000 esi=0x00000000 edi=0x00000000 esp=0x20110000
 * c: flags = OF|CF (popf 0x801); push 0x111, 0x222; call f4: ebp = [esp+4]
 *    (0x222), ret 8 pops the return address, then 8 bytes
 * # expect c ebp=0x00000222 esp=0x20110000 efl=0x00000801
 * d: call f6, which adds 5 to its return address: the 5-byte mov eax,
 *    0xbad after the call is skipped, eax keeps 0x600d; call 1f; pop ecx
 *    leaves ecx = 1f (ecx - 1f = 0); push ret7; ret goes to ret7, ebx = 7
 *    (f6's add sets the flags; d does not state them)
 * # expect d eax=0x0000600d ecx=0x00000000 ebx=0x00000007 esp=0x20110000
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
fptr:
    .long f3

    .text
f1:
    movl (%esp), %eax
    subl $ret1, %eax
    movl %esp, %ebx
    ret
f2:
    movl (%esp), %edx
    subl $ret2, %edx
    ret
f3:
    movl (%esp), %esi
    subl $ret3, %esi
    ret
f4:
    movl 4(%esp), %ebp
    ret $8
f5:
    movl (%esp), %edi
    subl $ret5, %edi
    ret $8
f6:
    addl $5, (%esp)
    ret

    .globl _start
_start:
    START
    call f1
ret1:
    CHECK a
    movl $f2, %ecx
    call *%ecx
ret2:
    call *fptr
ret3:
    pushl $0
    pushl $f5
    pushl $0
    call *4(%esp)
ret5:
    addl $4, %esp
    CHECK b
    pushl $0x801
    popfl
    pushl $0x111
    pushl $0x222
    call f4
    CHECK c
    movl $0x600d, %eax
    call f6
    movl $0xbad, %eax
    call 1f
1:  popl %ecx
    leal -1b(%ecx), %ecx
    pushl $ret7
    ret
    movl $0xbad, %ebx
ret7:
    movl $7, %ebx
    CHECK d
    EXIT
