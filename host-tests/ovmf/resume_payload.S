/*
 * A stand-in for the hibernated kernel's kexec jump back entry, for OVMF
 * tests of the direct resume without Linux.
 *
 * host-tests/ovmf/synthetic_image.cpp places this code at the image's jump
 * back entry and fills the table at offset 0x800 with the image's segments,
 * a range to skip (these pages: they hold the table itself) and the FNV-1a-64
 * of all other segment bytes, taken over 8-byte little-endian words. When
 * hiberload's final stage jumps here, the payload
 *   - reads 0(%rsp) as the real entry does (faults if the stack is bad),
 *   - hashes all of memory the image restored, as it is now,
 *   - prints the result on COM1 (the firmware left the UART programmed),
 *   - and ends QEMU through isa-debug-exit: 0x20 memory intact (exit status
 *     65), 0x21 mismatch (67).
 * Position-independent: only %rip-relative references.
 */
#define TABLE_OFFSET   0x800
#define T_COUNT        0
#define T_SKIP_BASE    8
#define T_SKIP_SIZE    16
#define T_EXPECTED     24
#define T_SEGMENTS     32
#define COM1           0x3f8
#define DEBUG_EXIT     0x501

	.text
	.code64
payload_start:
	cli
	movq	(%rsp), %rax			/* as kexec's entry: 0(%rsp) must be mapped */
	leaq	payload_start(%rip), %r15
	addq	$TABLE_OFFSET, %r15
	movabsq	$0xcbf29ce484222325, %rax	/* FNV-1a offset basis */
	movabsq	$0x100000001b3, %r14		/* FNV prime */
	movq	T_COUNT(%r15), %rcx
	leaq	T_SEGMENTS(%r15), %r13
	movq	T_SKIP_BASE(%r15), %r11
	movq	T_SKIP_SIZE(%r15), %r12
	addq	%r11, %r12			/* skip end */
next_segment:
	testq	%rcx, %rcx
	jz	hashed
	movq	0(%r13), %rsi
	movq	8(%r13), %rdx
	addq	%rsi, %rdx
next_word:
	cmpq	%rdx, %rsi
	jae	segment_done
	cmpq	%r11, %rsi
	jb	hash_word
	cmpq	%r12, %rsi
	jae	hash_word
	movq	%r12, %rsi			/* jump over the skipped range */
	jmp	next_word
hash_word:
	xorq	(%rsi), %rax
	imulq	%r14, %rax
	addq	$8, %rsi
	jmp	next_word
segment_done:
	addq	$16, %r13
	decq	%rcx
	jmp	next_segment
hashed:
	movq	%rax, %rbx
	leaq	msg_hash(%rip), %rsi
	call	puts
	movq	%rbx, %rax
	call	put_hex
	cmpq	T_EXPECTED(%r15), %rbx
	jne	mismatch
	leaq	msg_ok(%rip), %rsi
	call	puts
	movb	$0x20, %al
	jmp	exit
mismatch:
	leaq	msg_bad(%rip), %rsi
	call	puts
	movq	T_EXPECTED(%r15), %rax
	call	put_hex
	leaq	msg_nl(%rip), %rsi
	call	puts
	movb	$0x21, %al
exit:
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
halt:
	hlt
	jmp	halt

/* puts: writes the NUL-terminated string at %rsi to COM1. */
puts:
	movb	(%rsi), %al
	testb	%al, %al
	jz	1f
	call	putc
	incq	%rsi
	jmp	puts
1:	ret

/* putc: %al to COM1, waiting for the transmit holding register. */
putc:
	movb	%al, %ah
	movw	$COM1 + 5, %dx
2:	inb	%dx, %al
	testb	$0x20, %al
	jz	2b
	movb	%ah, %al
	movw	$COM1, %dx
	outb	%al, %dx
	ret

/* put_hex: %rax as 16 hex digits. */
put_hex:
	movq	%rax, %rdi
	movl	$16, %r8d
3:	rolq	$4, %rdi
	movl	%edi, %eax
	andl	$0xf, %eax
	leaq	hex_digits(%rip), %r9
	movb	(%r9, %rax), %al
	call	putc
	decl	%r8d
	jnz	3b
	ret

hex_digits:	.ascii "0123456789abcdef"
msg_hash:	.asciz "\r\nresume-payload: jumped to; memory hash "
msg_ok:		.asciz "\r\nresume-payload: memory intact\r\n"
msg_bad:	.asciz "\r\nresume-payload: MEMORY MISMATCH, expected "
msg_nl:		.asciz "\r\n"

	.org	TABLE_OFFSET
table:
	.quad	0, 0, 0, 0
	.section .note.GNU-stack,"",@progbits
