/* enter.S: enter/leave with nesting levels 0, 1, 2, 5, and the 16-bit
 * (0x66) enterw/leavew. enter size, level: push ebp; t = esp; for i in
 * 1..level: push [ebp - 4i]; if level > 0: push t; ebp = t; esp -= size.
 * E = 0x20000210, the frame pointer of an outer frame whose display words
 * at E-4, E-8, E-12, E-16 are 0x1111, 0x2222, 0x3333, 0x4444.
 *
 * l0: enter 16,0 from esp = STACK_TOP, ebp = E: [..fffc] = E, ebp =
 *    0x2010fffc, esp = ..ffec; then leave: esp = ebp + 4, ebp = E
 * # expect l0 ebp=0x2010fffc esp=0x2010ffec
 * # expect l0l ebp=0x20000210 esp=0x20110000
 * l1: enter 8,1: E at ..fffc, t = ..fffc pushed at ..fff8, esp = ..fff0
 * # expect l1 ebp=0x2010fffc esp=0x2010fff0
 * # expect l1m m0=0x2010fffc m1=0x20000210
 * l2: enter 4,2: E, [E-4], t: esp = ..fff4 - 4
 * # expect l2 ebp=0x2010fffc esp=0x2010fff0
 * # expect l2m m0=0x2010fffc m1=0x00001111 m2=0x20000210
 * l5: enter 0,5: E, [E-4], [E-8], [E-12], [E-16], t: esp = ..ffe8
 * # expect l5 ebp=0x2010fffc esp=0x2010ffe8
 * # expect l5m m0=0x2010fffc m1=0x00004444 m2=0x00003333 m3=0x00002222
 * # expect l5m m4=0x00001111 m5=0x20000210
 *    leave: esp = ebp + 4, ebp = E; flags untouched (popf 0x8d5 before)
 * # expect l5l ebp=0x20000210 esp=0x20110000 efl=0x000008d5
 * w0: enterw 0,0 with ebp = E: push bp (0x0210) at ..fffe; only BP gets
 *    the new frame (0xfffe), the upper half of ebp stays 0x2000
 * # expect w0 ebp=0x2000fffe esp=0x2010fffe
 * # expect w0m m0=0x02100000
 * w2: ebp = F = 0x20108010 ([F-2] = 0x1111 as a word), the dword at
 *    ..fff8 zeroed; enterw 4,2: bp 0x8010 at ..fffe, word [F-2] at ..fffc,
 *    t's low word 0xfffe at ..fffa; bp = 0xfffe; esp = ..fffa - 4
 * # expect w2 ebp=0x2010fffe esp=0x2010fff6
 * # expect w2m m0=0xfffe0000 m1=0x80101111
 *    leavew: esp = ebp (..fffe), bp = pop word (0x8010), esp = ..0000
 * # expect w2l ebp=0x20108010 esp=0x20110000
 */
#include "snippet.h"

    .section .fixed
    .org 0x200
    .long 0x4444, 0x3333, 0x2222, 0x1111
E:

    .text
    .globl _start
_start:
    START
    movl $E, %ebp
    enter $16, $0
    CHECK l0
    leave
    CHECK l0l
    enter $8, $1
    CHECK l1
    CHECKMEM l1m, 0x2010fff8, 2
    leave
    enter $4, $2
    CHECK l2
    CHECKMEM l2m, 0x2010fff4, 3
    leave
    pushl $0x8d5
    popfl
    enter $0, $5
    CHECK l5
    CHECKMEM l5m, 0x2010ffe8, 6
    leave
    CHECK l5l
    movl $0, 0x2010fffc
    enterw $0, $0
    CHECK w0
    CHECKMEM w0m, 0x2010fffc, 1
    movl $STACK_TOP, %esp
    movl $0x20108010, %ebp
    movw $0x1111, -2(%ebp)
    movl $0, 0x2010fff8
    enterw $4, $2
    CHECK w2
    CHECKMEM w2m, 0x2010fff8, 2
    leavew
    CHECK w2l
    EXIT
