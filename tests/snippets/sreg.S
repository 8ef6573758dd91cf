/* sreg.S: segment register moves. Reads give the i386 selectors: cs 0x23,
 * ds/es/ss 0x2b (flat user data), fs/gs 0 in a program without libc, a
 * TLS selector (entry * 8 + 3) after set_thread_area. Loads are checked as
 * the CPU checks them against the kernel's GDT: the null selector is fine
 * in ds/es/fs/gs (not ss), a readable code segment (0x23) in ds/es/fs/gs
 * (not ss), RPL 0 (0x28) in ds (not ss, whose RPL must be 3). A bad
 * selector raises #GP: SIGSEGV, si_code SI_KERNEL (0x80), at the
 * instruction, nothing changed (selectors, esp, the register of lds).
 *
 * a: mov r32, sreg for all six
 * # expect a eax=0x0000002b ebx=0x0000002b ecx=0x0000002b edx=0x00000023
 * # expect a esi=0x00000000 edi=0x00000000
 * b: mov ax, ds keeps the upper half (0xffff002b); mov word [m], cs over
 *    0xaaaaaaaa gives 0xaaaa0023 (edi); fs = 0x2b from bx, read into ecx;
 *    es = 0 from memory, read into edx; ds = 0 read into ebp, then ds =
 *    0x2b again; ss = 0x2b from a register; ds = 0x23 read into esi; ds =
 *    0x28 read into ebx, then 0x2b again
 * # expect b eax=0xffff002b edi=0xaaaa0023 ecx=0x0000002b edx=0x00000000
 * # expect b ebp=0x00000000 esi=0x00000023 ebx=0x00000028
 * c: gs = TLS base 0x20000100 (selector 0x63 in edx): gs:[0] = 0x600dcafe
 *    (eax), gs:[-4] wraps to 0x200000fc = 0x11112222 (ebx); push gs, pop
 *    fs: fs = 0x63 (ecx), fs:[4] = 0x33334444 (esi)
 * # expect c edx=0x00000063 eax=0x600dcafe ebx=0x11112222 ecx=0x00000063
 * # expect c esi=0x33334444
 * faults (selectors in the sig line: ds 0x2b, es 0, fs gs 0x63, ss 0x2b)
 *  f1: mov ss, 0
 * # expect f1 sig=0x0000000b cod=0x00000080 eip=0x00000000 _ss=0x0000002b
 *  f2: mov ds, 0x1234 (past the GDT)
 * # expect f2 sig=0x0000000b cod=0x00000080 eip=0x00000000 _ds=0x0000002b
 *  f3: mov es, 7 (an LDT selector; there is no LDT)
 * # expect f3 sig=0x0000000b cod=0x00000080 eip=0x00000000 _es=0x00000000
 *  f4: mov fs, 0x73 (TLS entry 14, never set)
 * # expect f4 sig=0x0000000b cod=0x00000080 eip=0x00000000 _fs=0x00000063
 *  f5: pop ds of 0x1234: esp still points at it
 * # expect f5 sig=0x0000000b cod=0x00000080 eip=0x00000000 _ds=0x0000002b
 * # expect f5_ctx esp=0x2010fffc
 *  f6: lss esp with a null selector: esp unchanged
 * # expect f6 sig=0x0000000b cod=0x00000080 eip=0x00000000 _ss=0x0000002b
 * # expect f6_ctx esp=0x20110000
 *  f7: lds eax with selector 0x1234: eax unchanged (0x5555)
 * # expect f7 sig=0x0000000b cod=0x00000080 eip=0x00000000 _ds=0x0000002b
 * # expect f7_ctx eax=0x00005555
 *  f8: mov ss, 0x23 (code segment)
 * # expect f8 sig=0x0000000b cod=0x00000080 eip=0x00000000 _ss=0x0000002b
 *  f9: mov ss, 0x28 (RPL 0)
 * # expect f9 sig=0x0000000b cod=0x00000080 eip=0x00000000 _ss=0x0000002b
 * z: all resumed; ebx never 0xbad
 * # expect z ebx=0x00000000 esp=0x20110000
 */
#include "snippet.h"

    .section .fixed
    .org 0xfc
    .long 0x11112222
    .long 0x600dcafe
    .long 0x33334444
    .org 0x120
cs_here:
    .long 0xaaaaaaaa
zero:
    .word 0
    .org 0x130
fpnull:
    .long 0x12345678
    .word 0
fpbad:
    .long 0x12345678
    .word 0x1234

    .text
    .globl _start
_start:
    START
    movl %ds, %eax
    movl %es, %ebx
    movl %ss, %ecx
    movl %cs, %edx
    movl %fs, %esi
    movl %gs, %edi
    CHECK a
    movl $0xffffffff, %eax
    movw %ds, %ax
    movw %cs, cs_here
    movl cs_here, %edi
    movw $0x2b, %bx
    movw %bx, %fs
    movl %fs, %ecx
    movw zero, %es
    movl %es, %edx
    xorl %esi, %esi
    movw %si, %ds
    movl %ds, %ebp
    movw $0x2b, %si
    movw %si, %ds
    movw %si, %ss
    movw $0x23, %si
    movw %si, %ds
    movl %ds, %esi
    movw $0x28, %bx
    movw %bx, %ds
    movl %ds, %ebx
    movw $0x2b, %cx
    movw %cx, %ds
    movl %fs, %ecx
    CHECK b
    TLS_GS 0x20000100
    movl %gs, %edx
    movl %gs:0, %eax
    movl %gs:-4, %ebx
    pushl %gs
    popl %fs
    movl %fs, %ecx
    movl %fs:4, %esi
    CHECK c
    ON_SIGNAL 11
    FAULT_AT 1f, 2f, f1
    xorl %eax, %eax
1:  movw %ax, %ss
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, f2
    movw $0x1234, %ax
1:  movw %ax, %ds
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, f3
    movw $7, %ax
1:  movw %ax, %es
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, f4
    movw $0x73, %ax
1:  movw %ax, %fs
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, f5
    pushl $0x1234
1:  popl %ds
    movl $0xbad, %ebx
2:  movl $STACK_TOP, %esp
    FAULT_AT 1f, 2f, f6
1:  lss fpnull, %esp
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, f7
    movl $0x5555, %eax
1:  lds fpbad, %eax
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, f8
    movw $0x23, %ax
1:  movw %ax, %ss
    movl $0xbad, %ebx
2:  FAULT_AT 1f, 2f, f9
    movw $0x28, %ax
1:  movw %ax, %ss
    movl $0xbad, %ebx
2:  CHECK z
    EXIT
