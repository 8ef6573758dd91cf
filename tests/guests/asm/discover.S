/* discover.S: a guest without libc whose block structure is known exactly,
 * for the discovery-report tests (tests/tests/discovery.rs). Built with
 * `gcc -m32 -static -nostdlib`. It prints "hi\n" four times and exits with
 * status 168 (3 * 56).
 *
 * _start calls `hidden` three times through a register. The only reference
 * to `hidden` is the data word `enc`, which holds its address plus BIAS (not
 * a code address), so the static pass cannot find it: `hidden` has no symbol
 * (a .L label), no unwind info, and nothing jumps or calls to it directly.
 *
 * Blocks (a block ends at a control transfer; `int $0x80` does not end one;
 * the static pass also splits at every block start it knows):
 *
 *   static pass (seeds: the entry point and the function symbols _start and
 *   print; it follows direct targets and the fall-through after calls and
 *   conditional jumps):
 *     S1 _start         xor, mov                       (split at .Louter)
 *     S2 .Louter        mov, sub, call *%eax
 *     S3 (after call *) add, dec, jnz .Louter
 *     S4 (jnz falls)    call print
 *     S5 (after call)   mov, mov, int $0x80, ud2
 *     P1 print          mov, mov, mov, mov, int $0x80, ret
 *   6 blocks, all executed.
 *
 *   found only at run time (translated from their start to the first control
 *   transfer, not split):
 *     H1 hidden         push, xor, mov, add, dec, jnz .Lloop
 *     H2 .Lloop         add, dec, jnz .Lloop
 *     H3 (jnz falls)    mov, mov, call .Lprint_mid
 *     H4 .Lprint_mid    mov, mov, int $0x80, ret       (inside P1: P1 is a
 *                                                       static block, but
 *                                                       .Lprint_mid is no
 *                                                       static block start)
 *     H5 (after call)   lea, pop, ret
 *   5 blocks.
 *
 *   `rehost run` (no static pass) translates every distinct block entry at
 *   run time: _start (running on through .Louter's instructions to the call),
 *   H1..H5, S3, .Louter (S2, reached by the jnz), S4, P1, S5: 11 blocks.
 *
 *   With the 5 run-time addresses as a profile, the static pass has 11
 *   blocks (H1 now split at .Lloop, P1 split at .Lprint_mid), all executed,
 *   and nothing is left for the runtime.
 */
#define BIAS 0x40000000

    .section .note.GNU-stack, "", @progbits

    .data
    .p2align 2
enc:
    .long .Lhidden + BIAS
msg:
    .ascii "hi\n"
    .set msglen, . - msg

    .text
    .globl _start
    .type _start, @function
_start:
    xorl %esi, %esi
    movl $3, %edi
.Louter:
    movl enc, %eax
    subl $BIAS, %eax
    call *%eax
    addl %eax, %esi
    decl %edi
    jnz .Louter
    call print
    movl %esi, %ebx
    movl $252, %eax              /* exit_group */
    int $0x80
    ud2
    .size _start, . - _start

    .globl print
    .type print, @function
print:
    movl $4, %eax                /* write */
    movl $1, %ebx
.Lprint_mid:
    movl $msg, %ecx
    movl $msglen, %edx
    int $0x80
    ret
    .size print, . - print

/* No symbol, no CFI: reached only through `enc`. Returns 56. */
.Lhidden:
    pushl %esi
    xorl %esi, %esi
    movl $10, %edx
.Lloop:
    addl %edx, %esi
    decl %edx
    jnz .Lloop
    movl $4, %eax                /* write(1, msg, msglen) via print's tail */
    movl $1, %ebx
    call .Lprint_mid
    leal 1(%esi), %eax
    popl %esi
    ret
