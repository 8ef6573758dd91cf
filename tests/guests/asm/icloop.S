/* icloop.S: a guest without libc for the inline-cache tests
 * (tests/tests/ic.rs). Built with `gcc -m32 -static -nostdlib`.
 *
 * 1000 iterations of two indirect sites:
 *   site A  `call *%esi`: always f1 (monomorphic: level 1 after learning);
 *   site B  `jmp *%ebx`:  t0 and t1 alternately (two targets: levels 1, 2).
 * CF is set or cleared just before each site and consumed by `adc` at the
 * target, so a cache that changed EFLAGS would change the sum:
 * 1000 * 1 + 500 * 2 + 500 * 3 = 3500. Exits with status 42 if the sum is
 * right, 1 otherwise.
 */
	.text
	.globl _start
_start:
	xor %edi, %edi
	mov $1000, %ebp
	mov $f1, %esi
1:
	stc
	call *%esi
	mov %ebp, %eax
	and $1, %eax
	mov tab(,%eax,4), %ebx
	clc
	jmp *%ebx
t0:
	adc $2, %edi
	jmp 2f
t1:
	adc $3, %edi
2:
	dec %ebp
	jnz 1b
	mov $1, %ebx
	cmp $3500, %edi
	jne 3f
	mov $42, %ebx
3:
	mov $1, %eax
	int $0x80
	ud2

f1:
	adc $0, %edi
	ret

	.data
tab:
	.long t0, t1
