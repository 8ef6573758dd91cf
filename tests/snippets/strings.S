/* strings.S: rep movs/stos/cmps/scas/lods with DF clear and set, rep with
 * ecx = 0 (nothing happens, flags kept), repe/repne stopping early.
 * src at 0x20000100 = "ABCDEFGHIJKLMNOP"; buffers at 0x20000200 (zeroed).
 *
 * m1: cld, rep movsd, ecx 4: 16 bytes to 0x20000200; esi, edi += 16
 * # expect m1 esi=0x20000110 edi=0x20000210 ecx=0x00000000
 * # expect m1m m0=0x44434241 m1=0x48474645 m2=0x4c4b4a49 m3=0x504f4e4d
 * m2: std, rep movsb, ecx 3, from src+2 to 0x20000222: copies "CBA"
 *    order-wise downwards (0x20000222 = 'C', ..220 = 'A'); esi = src - 1,
 *    edi = 0x2000021f; DF stays set (efl 0x400)
 * # expect m2 esi=0x200000ff edi=0x2000021f ecx=0x00000000 efl=0x00000400
 * # expect m2m m0=0x00434241
 * m0: rep movsb with ecx 0: nothing moves, flags 0x8c5 kept
 * # expect m0 esi=0x20000100 edi=0x20000230 ecx=0x00000000 efl=0x000008c5
 * # expect m0m m0=0x00000000
 * s1: cld, rep stosd of 0x11223344, ecx 3, at 0x20000240: edi = ..24c;
 *    std, rep stosw of ax = 0x5566 (eax 0x99995566), ecx 2, edi = ..252:
 *    words at ..252 and ..250, edi = ..24e
 * # expect s1 edi=0x2000024e ecx=0x00000000
 * # expect s1m m0=0x11223344 m1=0x11223344 m2=0x11223344 m3=0x00000000
 * # expect s1m m4=0x55665566
 * c1: cld, repe cmpsb "ABCDEFGH" vs "ABCDXFGH", ecx 8: stops after the
 *    5th pair ('E' - 'X' = 0xed: CF SF AF PF): ecx 3, esi/edi + 5
 * # expect c1 ecx=0x00000003 esi=0x20000105 edi=0x20000265 efl=0x00000095
 * c2: std, repe cmpsd backwards over {1,2,3,4} vs {9,2,3,4} from the last
 *    dwords, ecx 4: equal three times, then 1 - 9: ecx 0, both pointers
 *    4 below the arrays, flags CF SF AF (0xfffffff8: PF clear) and DF
 * # expect c2 ecx=0x00000000 esi=0x2000026c edi=0x2000027c efl=0x00000491
 * c0: repe cmpsb with ecx 0: nothing, flags 0x8c5 kept (DF clear)
 * # expect c0 ecx=0x00000000 esi=0x20000100 edi=0x20000260 efl=0x000008c5
 * r1: cld, repne scasb for 'D' in src, ecx 8: stops at it, edi = src + 4,
 *    ecx 4, ZF PF
 * # expect r1 edi=0x20000104 ecx=0x00000004 efl=0x00000044
 * r2: repne scasb for 'Z', ecx 8: not found, ecx 0, edi = src + 8, last
 *    compare 'Z' - 'H' = 0x12: PF only
 * # expect r2 edi=0x20000108 ecx=0x00000000 efl=0x00000004
 * r3: repe scasd for eax = 0x44434241 over src with ecx 2: the first dword
 *    equals, the second not: ecx 0, edi = src + 8
 * # expect r3 edi=0x20000108 ecx=0x00000000
 * l1: cld, lodsb ('A' into al, eax 0x12340000 -> 0x12340041), then rep
 *    lodsw, ecx 3: ax = the last word, "FG" = 0x4746, esi = src + 7
 * # expect l1 eax=0x12344746 esi=0x20000107 ecx=0x00000000
 * l2: std, lodsd from src + 12: "MNOP" = 0x504f4e4d, esi = src + 8; lods
 *    leaves the flags of r3's last compare (0x44434241 - 0x48474645 =
 *    0xfbfbfbfc: CF SF AF PF = 0x95), plus DF
 * # expect l2 eax=0x504f4e4d esi=0x20000108 efl=0x00000495
 */
#include "snippet.h"

    .section .fixed
    .org 0x100
src:
    .ascii "ABCDEFGHIJKLMNOP"
    .org 0x260
s2:
    .ascii "ABCDXFGH"
    .org 0x270
a1:
    .long 1, 2, 3, 4
a2:
    .long 9, 2, 3, 4
    .org 0x300

    .text
    .globl _start
_start:
    START
    cld
    movl $src, %esi
    movl $0x20000200, %edi
    movl $4, %ecx
    rep movsl
    CHECK m1
    CHECKMEM m1m, 0x20000200, 4
    std
    movl $src + 2, %esi
    movl $0x20000222, %edi
    movl $3, %ecx
    rep movsb
    CHECK m2
    CHECKMEM m2m, 0x20000220, 1
    pushl $0x8c5
    popfl
    movl $src, %esi
    movl $0x20000230, %edi
    xorl %ecx, %ecx
    pushl $0x8c5
    popfl
    rep movsb
    CHECK m0
    CHECKMEM m0m, 0x20000230, 1
    cld
    movl $0x11223344, %eax
    movl $0x20000240, %edi
    movl $3, %ecx
    rep stosl
    std
    movl $0x99995566, %eax
    movl $0x20000252, %edi
    movl $2, %ecx
    rep stosw
    CHECK s1
    CHECKMEM s1m, 0x20000240, 5
    cld
    movl $src, %esi
    movl $s2, %edi
    movl $8, %ecx
    repe cmpsb
    CHECK c1
    std
    movl $a1 + 12, %esi
    movl $a2 + 12, %edi
    movl $4, %ecx
    repe cmpsl
    CHECK c2
    movl $src, %esi
    movl $s2, %edi
    xorl %ecx, %ecx
    pushl $0x8c5
    popfl
    repe cmpsb
    CHECK c0
    cld
    movl $src, %edi
    movl $8, %ecx
    movb $'D', %al
    repne scasb
    CHECK r1
    movl $src, %edi
    movl $8, %ecx
    movb $'Z', %al
    repne scasb
    CHECK r2
    movl $src, %edi
    movl $2, %ecx
    movl $0x44434241, %eax
    repe scasl
    CHECK r3
    cld
    movl $0x12340000, %eax
    movl $src, %esi
    lodsb
    movl $3, %ecx
    rep lodsw
    CHECK l1
    std
    movl $src + 12, %esi
    lodsl
    CHECK l2
    cld
    EXIT
