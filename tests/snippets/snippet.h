/* snippet.h: the frame every self-checking snippet (tests/snippets/*.S)
 * includes. GNU as, AT&T syntax, no libc; built by tests/tests/snippets.rs
 * with `gcc -m32 -static -nostdlib -no-pie` and the two fixed sections below.
 *
 * Fixed addresses, so expected values can be written down by hand:
 *   .fixed    at 0x20000000: the snippet's own data (`.org` places buffers)
 *   .fixstack at 0x20100000: 64 KiB of stack; START sets esp = STACK_TOP
 *
 * START         esp = STACK_TOP, every other register 0, EFLAGS 0x202
 * CHECK tag     print "tag eax=........ ecx=... edx ebx esp ebp esi edi efl"
 *               (hex, EFLAGS masked with EFL_MASK or the second argument)
 *               and go on with every register and flag unchanged; it does
 *               not touch the guest stack, so esp may hold anything
 * CHECKMEM tag, addr, n   print "tag m0=........ m1=..." (n dwords, n <= 16)
 * ON_SIGNAL sig installs a handler (SA_SIGINFO) that prints two lines,
 *               "TAG sig=.. cod=.. eip=.. _ds=.. _es=.. _fs=.. _gs=.. _ss=.."
 *               (si_signo, si_code, eip relative to the `here` label of
 *               FAULT_AT, segment selectors from the sigcontext) and
 *               "TAG_ctx eax=..." (the registers at the fault), then
 *               resumes at the `resume` label
 * FAULT_AT here, resume, TAG   before each instruction meant to fault
 * TLS_GS base   gs = a TLS segment with that base (set_thread_area)
 * EXIT          exit(0)
 *
 * The test parses comment lines `# expect TAG key=0xVALUE ...` of the
 * snippet and compares every key with the line TAG printed.
 */

#define FIXED 0x20000000
#define STACK_TOP 0x20110000
/* CF PF AF ZF SF DF OF AC */
#define EFL_MASK 0x40cd5

    .section .note.GNU-stack, "", @progbits

    .section .fixstack, "aw", @nobits
    .space 0x10000

    .section .fixed, "aw", @progbits

.macro START
    movl $STACK_TOP, %esp
    xorl %eax, %eax
    movl %eax, %ecx
    movl %eax, %edx
    movl %eax, %ebx
    movl %eax, %ebp
    movl %eax, %esi
    movl %eax, %edi
    pushl $0
    popfl
.endm

.macro SNIP_SAVE tag, mask, memn, memaddr
    movl %esp, snip_save + 16
    movl $snip_stack_top, %esp
    pushfl
    popl snip_save + 32
    movl %eax, snip_save + 0
    movl %ecx, snip_save + 4
    movl %edx, snip_save + 8
    movl %ebx, snip_save + 12
    movl %ebp, snip_save + 20
    movl %esi, snip_save + 24
    movl %edi, snip_save + 28
    movl $\mask, snip_mask
    movl $\memn, snip_memn
    movl $\memaddr, snip_memaddr
    movl $.Lsnip_tag\@, snip_tag
    movl $.Lsnip_ret\@, snip_ret
    jmp snip_dump
    .pushsection .rodata
.Lsnip_tag\@:
    .asciz "\tag"
    .popsection
.Lsnip_ret\@:
.endm

.macro CHECK tag, mask=EFL_MASK
    SNIP_SAVE \tag, \mask, 0, 0
.endm

.macro CHECKMEM tag, addr, n
    SNIP_SAVE \tag, EFL_MASK, \n, \addr
.endm

.macro EXIT
    movl $1, %eax
    xorl %ebx, %ebx
    int $0x80
.endm

.macro FAULT_AT here, resume, tag
    movl $\here, snip_fault_at
    movl $\resume, snip_resume_at
    movl $.Lsnip_sigtag\@, snip_sigtag
    movl $.Lsnip_ctxtag\@, snip_ctxtag
    .pushsection .rodata
.Lsnip_sigtag\@:
    .asciz "\tag"
.Lsnip_ctxtag\@:
    .asciz "\tag\()_ctx"
    .popsection
.endm

/* set_thread_area({-1, base, 0xfffff pages, 32-bit data}); gs = its
 * selector (entry 12 on an x86-64 kernel: 0x63). Clobbers eax, ebx. */
.macro TLS_GS base
    movl $-1, snip_udesc
    movl $\base, snip_udesc + 4
    movl $0xfffff, snip_udesc + 8
    movl $0x51, snip_udesc + 12
    movl $243, %eax
    movl $snip_udesc, %ebx
    int $0x80
    movl snip_udesc, %eax
    leal 3(, %eax, 8), %eax
    movw %ax, %gs
    movl $0, %ebx
.endm

/* rt_sigaction(sig, {snip_on_signal, SA_SIGINFO|SA_RESTORER, snip_restorer, 0}, 0, 8) */
.macro ON_SIGNAL sig
    movl $174, %eax
    movl $\sig, %ebx
    movl $snip_sigaction, %ecx
    xorl %edx, %edx
    movl $8, %esi
    int $0x80
    xorl %eax, %eax
    movl %eax, %ebx
    movl %eax, %ecx
    movl %eax, %esi
.endm

    .text
/* Print the line SNIP_SAVE prepared, restore everything, go back. Uses no
 * string instructions (DF may be set) and only the dump stack. */
snip_dump:
    movl $snip_line, %edi
    movl snip_tag, %esi
1:  movb (%esi), %al
    testb %al, %al
    jz 2f
    movb %al, (%edi)
    incl %esi
    incl %edi
    jmp 1b
2:  cmpl $0, snip_memn
    jne 5f
    xorl %ebx, %ebx
3:  movb $' ', (%edi)
    movl snip_names_ptr, %eax
    movl (%eax, %ebx, 4), %eax
    movl %eax, 1(%edi)
    addl $5, %edi
    movl snip_save(, %ebx, 4), %eax
    cmpl $8, %ebx
    jne 4f
    andl snip_mask, %eax
4:  call snip_hex
    incl %ebx
    cmpl $9, %ebx
    jne 3b
    jmp 8f
5:  xorl %ebx, %ebx
    movl snip_memaddr, %esi
6:  movb $' ', (%edi)
    movb $'m', 1(%edi)
    addl $2, %edi
    movl %ebx, %eax
    cmpl $10, %ebx
    jb 7f
    movb $'1', (%edi)
    incl %edi
    subl $10, %eax
7:  addl $'0', %eax
    movb %al, (%edi)
    movb $'=', 1(%edi)
    addl $2, %edi
    movl (%esi, %ebx, 4), %eax
    call snip_hex
    incl %ebx
    cmpl snip_memn, %ebx
    jne 6b
8:  movb $'\n', (%edi)
    incl %edi
    movl $4, %eax
    movl $1, %ebx
    movl $snip_line, %ecx
    movl %edi, %edx
    subl %ecx, %edx
    int $0x80
    pushl snip_save + 32
    popfl
    movl snip_save + 0, %eax
    movl snip_save + 4, %ecx
    movl snip_save + 8, %edx
    movl snip_save + 12, %ebx
    movl snip_save + 20, %ebp
    movl snip_save + 24, %esi
    movl snip_save + 28, %edi
    movl snip_save + 16, %esp
    jmp *snip_ret

/* eax -> 8 hex digits at edi (edi advances); clobbers ecx, edx */
snip_hex:
    movl $8, %ecx
1:  roll $4, %eax
    movl %eax, %edx
    andl $15, %edx
    movb snip_digits(%edx), %dl
    movb %dl, (%edi)
    incl %edi
    decl %ecx
    jnz 1b
    ret

/* SA_SIGINFO handler: (sig, info, ucontext); sigcontext at ucontext + 20 */
snip_on_signal:
    movl %esp, snip_hsp
    movl 12(%esp), %ebx
    addl $20, %ebx
    movl %ebx, snip_sc
    movl 4(%esp), %eax
    movl %eax, snip_save + 0
    movl 8(%esp), %eax
    movl 8(%eax), %eax
    movl %eax, snip_save + 4
    movl 56(%ebx), %eax
    subl snip_fault_at, %eax
    movl %eax, snip_save + 8
    movzwl 12(%ebx), %eax
    movl %eax, snip_save + 12
    movzwl 8(%ebx), %eax
    movl %eax, snip_save + 16
    movzwl 4(%ebx), %eax
    movl %eax, snip_save + 20
    movzwl 0(%ebx), %eax
    movl %eax, snip_save + 24
    movzwl 72(%ebx), %eax
    movl %eax, snip_save + 28
    movl $0, snip_save + 32
    movl $snip_signames, snip_names_ptr
    movl snip_sigtag, %eax
    movl %eax, snip_tag
    movl $EFL_MASK, snip_mask
    movl $0, snip_memn
    movl $1f, snip_ret
    movl $snip_stack_top, %esp
    jmp snip_dump
1:  movl snip_hsp, %esp
    movl $snip_regnames, snip_names_ptr
    movl snip_sc, %ebx
    movl 44(%ebx), %eax
    movl %eax, snip_save + 0
    movl 40(%ebx), %eax
    movl %eax, snip_save + 4
    movl 36(%ebx), %eax
    movl %eax, snip_save + 8
    movl 32(%ebx), %eax
    movl %eax, snip_save + 12
    movl 28(%ebx), %eax
    movl %eax, snip_save + 16
    movl 24(%ebx), %eax
    movl %eax, snip_save + 20
    movl 20(%ebx), %eax
    movl %eax, snip_save + 24
    movl 16(%ebx), %eax
    movl %eax, snip_save + 28
    movl 64(%ebx), %eax
    movl %eax, snip_save + 32
    movl snip_ctxtag, %eax
    movl %eax, snip_tag
    movl $2f, snip_ret
    movl $snip_stack_top, %esp
    jmp snip_dump
2:  movl snip_hsp, %esp
    movl snip_sc, %ebx
    movl snip_resume_at, %eax
    movl %eax, 56(%ebx)
    ret

snip_restorer:
    movl $173, %eax
    int $0x80

    .section .rodata
snip_digits:
    .ascii "0123456789abcdef"
snip_regnames:
    .ascii "eax=ecx=edx=ebx=esp=ebp=esi=edi=efl="
snip_signames:
    .ascii "sig=cod=eip=_ds=_es=_fs=_gs=_ss=efl="
snip_sigaction:
    .long snip_on_signal, 0x04000004, snip_restorer, 0, 0

    .data
    .p2align 2
snip_names_ptr:
    .long snip_regnames

    .bss
    .p2align 4
snip_save:
    .space 36
snip_mask:
    .space 4
snip_memn:
    .space 4
snip_memaddr:
    .space 4
snip_tag:
    .space 4
snip_ret:
    .space 4
snip_hsp:
    .space 4
snip_sc:
    .space 4
snip_fault_at:
    .space 4
snip_resume_at:
    .space 4
snip_sigtag:
    .space 4
snip_udesc:
    .space 16
snip_ctxtag:
    .space 4
snip_line:
    .space 512
    .p2align 4
    .space 256
snip_stack_top:

    .section .fixed, "aw", @progbits
