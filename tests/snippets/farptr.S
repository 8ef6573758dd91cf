/* farptr.S: far-pointer loads lds/les/lfs/lgs/lss, 32- and 16-bit
 * offsets, the destination register used in the address, a gs: operand.
 * The offset is loaded into the register and the selector (at +4, or +2 in
 * the 16-bit forms) into the segment register; 0x2b is the flat user data
 * selector, 0 the null selector (allowed in ds/es/fs/gs, not in ss).
 *
 * a: lds eax <- 0x11223344; les bx <- 0x5566 (upper half of ebx kept);
 *    lfs ecx <- 0xcafebabe with fs = 0; lgs edx,[edx] <- 0xdeadbeef;
 *    then esi = ds, edi = es, ebp = fs
 * # expect a eax=0x11223344 ebx=0xaaaa5566 ecx=0xcafebabe edx=0xdeadbeef
 * # expect a esi=0x0000002b edi=0x0000002b ebp=0x00000000 esp=0x20110000
 * b: eax = gs (0x2b); lss esp <- 0x2010fff0, ss = 0x2b; push 5 goes to
 *    0x2010ffec; ecx = ss; ebx = the dword at 0x2010ffec
 * # expect b eax=0x0000002b ecx=0x0000002b ebx=0x00000005 esp=0x2010ffec
 * c: lss sp <- 0x8000 (16-bit: upper half of esp kept) -> esp 0x20108000;
 *    lds esi, gs:[eax+ecx*2-0x56] with eax = 0x20000100, ecx = 0x2b
 *    -> esi = 0x11223344 (the pointer at 0x20000100)
 * # expect c esp=0x20108000 esi=0x11223344 eax=0x20000100 ecx=0x0000002b
 * flags are untouched by all of these: efl stays 0 (after START)
 * # expect a efl=0x00000000
 * # expect c efl=0x00000000
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
fp32:
    .long 0x11223344
    .word 0x2b
    .org 0x110
fp16:
    .word 0x5566
    .word 0x2b
    .org 0x120
fpnull:
    .long 0xcafebabe
    .word 0
    .org 0x130
fpself:
    .long 0xdeadbeef
    .word 0x2b
    .org 0x140
fpss:
    .long 0x2010fff0
    .word 0x2b
    .org 0x150
fpss16:
    .word 0x8000
    .word 0x2b

    .text
    .globl _start
_start:
    START
    movl $0xffffffff, %eax
    lds fp32, %eax
    movl $0xaaaabbbb, %ebx
    lesw fp16, %bx
    lfs fpnull, %ecx
    movl $fpself, %edx
    lgs (%edx), %edx
    movl %ds, %esi
    movl %es, %edi
    movl %fs, %ebp
    CHECK a
    movl %gs, %eax
    lss fpss, %esp
    pushl $5
    movl %ss, %ecx
    movl (%esp), %ebx
    CHECK b
    lssw fpss16, %sp
    movl $0x20000100, %eax
    movl $0x2b, %ecx
    lds %gs:-0x56(%eax, %ecx, 2), %esi
    CHECK c
    EXIT
