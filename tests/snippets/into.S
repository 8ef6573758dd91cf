/* into.S: into is a no-op with OF clear; with OF set it raises #OF, a
 * trap: Linux delivers SIGSEGV with si_code SI_KERNEL (0x80) and the
 * address of the instruction after the into (1 byte) in the sigcontext.
 *
 * a: OF clear (popf 0), into, then OF clear from an add (1 + 1): into;
 *    nothing happens, flags as the add left them (PF from 2? 0x02 has one
 *    bit: PF clear; all clear)
 * # expect a eax=0x00000002 efl=0x00000000
 * of: 0x7fffffff + 1 sets OF SF AF PF (0x894); into traps, eip = +1
 * # expect of sig=0x0000000b cod=0x00000080 eip=0x00000001
 * # expect of_ctx eax=0x80000000 efl=0x00000894
 * pf: OF set by popf (0x800) alone, into in the middle of straight code
 * # expect pf sig=0x0000000b cod=0x00000080 eip=0x00000001
 * # expect pf_ctx ecx=0x00000005 efl=0x00000800
 * z: both resumed after the into (ebx = 7 set there), edx never 0xbad
 * # expect z ebx=0x00000007 edx=0x00000000
 */
#include "snippet.h"

    .text
    .globl _start
_start:
    START
    into
    movl $1, %eax
    addl $1, %eax
    into
    CHECK a
    ON_SIGNAL 11
    FAULT_AT 1f, 1f + 1, of
    movl $0x7fffffff, %eax
    addl $1, %eax
1:  into
    movl $7, %ebx
    FAULT_AT 1f, 1f + 1, pf
    movl $5, %ecx
    pushl $0x800
    popfl
1:  into
    movl $7, %ebx
    CHECK z
    EXIT
