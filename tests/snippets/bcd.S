/* bcd.S: daa das aaa aas aam aad, with bases other than 10 for aam/aad,
 * and aam 0 (#DE: SIGFPE, FPE_INTDIV, at the aam). Each case sets eax and
 * the flags (popf), runs one instruction and checks eax and the flags the
 * instruction defines (the mask: daa/das CF PF AF ZF SF 0xd5; aaa/aas CF AF
 * 0x11; aam/aad SF ZF PF 0xc4).
 *
 * d1: daa on eax 0x123456ae, flags 0x0: 0xae: low nibble > 9: +6 (AF); 0xae > 0x99: +0x60 (CF); upper bytes kept
 * # expect d1 eax=0x12345614 efl=0x00000015
 * d2: daa on eax 0x0000009a, flags 0x0: 0x9a: +6, +0x60 -> 0x00 with CF AF ZF PF
 * # expect d2 eax=0x00000000 efl=0x00000055
 * d3: daa on eax 0x00000015, flags 0x10: 0x15 with AF set: +6 only -> 0x1b
 * # expect d3 eax=0x0000001b efl=0x00000014
 * s1: das on eax 0x000000ee, flags 0x11: 0xee with CF AF: -6, -0x60 -> 0x88 (35 - 47 in BCD), CF AF SF PF
 * # expect s1 eax=0x00000088 efl=0x00000095
 * s2: das on eax 0x00000005, flags 0x0: 0x05, no flags: unchanged, PF
 * # expect s2 eax=0x00000005 efl=0x00000004
 * a1: aaa on eax 0x00000511, flags 0x10: al 0x11 with AF: ax + 0x106, al & 0x0f -> 0x0607, CF AF (other flags undefined)
 * # expect a1 eax=0x00000607 efl=0x00000011
 * a2: aaa on eax 0x00000507, flags 0x0: 0x0507, no AF, low nibble <= 9: al & 0x0f, CF AF clear
 * # expect a2 eax=0x00000507 efl=0x00000000
 * a3: aaa on eax 0x000005fb, flags 0x0: al 0xfb: ax + 0x106 carries into ah once: 0x0701
 * # expect a3 eax=0x00000701 efl=0x00000011
 * b1: aas on eax 0x000005fd, flags 0x11: 0x05fd with AF: ax - 6, ah - 1, al & 0x0f -> 0x0407
 * # expect b1 eax=0x00000407 efl=0x00000011
 * b2: aas on eax 0x00000503, flags 0x10: 0x0503 with AF: ax - 6 borrows from ah (0x04fd), ah - 1 -> 0x030d
 * # expect b2 eax=0x0000030d efl=0x00000011
 * m1: aam on eax 0x0000004f, flags 0x0: aam: 79 -> ah 7, al 9; SF ZF PF of al (AF CF OF undefined)
 * # expect m1 eax=0x00000709 efl=0x00000004
 * m2: aam $16 on eax 0x0000004f, flags 0x0: aam 16: 0x4f -> 0x040f
 * # expect m2 eax=0x0000040f efl=0x00000004
 * m3: aam $7 on eax 0x00000064, flags 0x0: aam 7: 100 -> ah 14, al 2
 * # expect m3 eax=0x00000e02 efl=0x00000000
 * n1: aad on eax 0x00000709, flags 0x0: aad: 7 * 10 + 9 = 79 = 0x4f, ah 0
 * # expect n1 eax=0x0000004f efl=0x00000000
 * n2: aad $16 on eax 0x0000040f, flags 0x0: aad 16: 4 * 16 + 15 = 0x4f
 * # expect n2 eax=0x0000004f efl=0x00000000
 * n3: aad $0xff on eax 0x00000203, flags 0x0: aad 255: 3 + 2 * 255 = 513, al = 0x01
 * # expect n3 eax=0x00000001 efl=0x00000000
 * z: aam 0 with eax 0x4f: SIGFPE (8) code FPE_INTDIV (1) at the aam,
 *    eax unchanged; the handler resumes after it
 * # expect z0 sig=0x00000008 cod=0x00000001 eip=0x00000000
 * # expect z0_ctx eax=0x0000004f
 * # expect z ebx=0x00000001
 */
#include "snippet.h"

    .text
    .globl _start
_start:
    START
    pushl $0x0
    popfl
    movl $0x123456ae, %eax
    daa
    CHECK d1, 0xd5
    pushl $0x0
    popfl
    movl $0x9a, %eax
    daa
    CHECK d2, 0xd5
    pushl $0x10
    popfl
    movl $0x15, %eax
    daa
    CHECK d3, 0xd5
    pushl $0x11
    popfl
    movl $0xee, %eax
    das
    CHECK s1, 0xd5
    pushl $0x0
    popfl
    movl $0x5, %eax
    das
    CHECK s2, 0xd5
    pushl $0x10
    popfl
    movl $0x511, %eax
    aaa
    CHECK a1, 0x11
    pushl $0x0
    popfl
    movl $0x507, %eax
    aaa
    CHECK a2, 0x11
    pushl $0x0
    popfl
    movl $0x5fb, %eax
    aaa
    CHECK a3, 0x11
    pushl $0x11
    popfl
    movl $0x5fd, %eax
    aas
    CHECK b1, 0x11
    pushl $0x10
    popfl
    movl $0x503, %eax
    aas
    CHECK b2, 0x11
    pushl $0x0
    popfl
    movl $0x4f, %eax
    aam
    CHECK m1, 0xc4
    pushl $0x0
    popfl
    movl $0x4f, %eax
    aam $16
    CHECK m2, 0xc4
    pushl $0x0
    popfl
    movl $0x64, %eax
    aam $7
    CHECK m3, 0xc4
    pushl $0x0
    popfl
    movl $0x709, %eax
    aad
    CHECK n1, 0xc4
    pushl $0x0
    popfl
    movl $0x40f, %eax
    aad $16
    CHECK n2, 0xc4
    pushl $0x0
    popfl
    movl $0x203, %eax
    aad $0xff
    CHECK n3, 0xc4
    ON_SIGNAL 8
    FAULT_AT 1f, 2f, z0
    movl $0x4f, %eax
1:  aam $0
    movl $0xbad, %ebx
    jmp 3f
2:  movl $1, %ebx
3:  CHECK z
    EXIT
