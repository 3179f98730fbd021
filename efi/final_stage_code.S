/*
 * The final stage of a direct resume: the last code hiberload runs.
 *
 * Copied by efi/final_stage.cpp into a page of the scratch region (memory no
 * image destination covers) and called there after ExitBootServices and
 * SetVirtualAddressMap, as
 *
 *     void final_stage(const FinalStageArgs *args);   // System V: args in %rdi
 *
 * It never returns. Position-independent: only %rip-relative references.
 * Everything it touches (its code, args, GDT, stack, page tables, the copy
 * list and the staged data) lies in scratch, which the copies never write.
 * The offsets below must match struct FinalStageArgs (static_asserts in
 * efi/final_stage.cpp).
 */
#define ARG_CR3         0
#define ARG_STACK_TOP   8
#define ARG_ENTRY       16
#define ARG_COPY_COUNT  24
#define ARG_COPIES      32
#define ARG_GDT_DESC    40
#define ARG_SET_NXE     48
#define ARG_IDT_DESC    56   /* 10 bytes: limit 0, base 0 */

#define COPY_DESTINATION 0
#define COPY_SOURCE      8
#define COPY_SIZE        16
#define COPY_ENTRY_BYTES 24

#define MSR_EFER  0xc0000080
#define EFER_NXE  0x800
/* Linux's __KERNEL_CS and __KERNEL_DS (arch/x86/include/asm/segment.h). The
 * hibernated kernel's return path reloads its own GDT but not CS, so CS keeps
 * our selector until its first IRET reloads it from the kernel's GDT: with
 * any other selector that lands on a different descriptor (0x08 is the
 * kernel's 32-bit code segment, and the kernel then runs in compatibility
 * mode with a truncated stack pointer). */
#define CODE_SELECTOR 0x10
#define DATA_SELECTOR 0x18

	.section .text
	.code64
	.globl hl_final_stage_begin
	.globl hl_final_stage_end

hl_final_stage_begin:
	/* No interrupts from here on: the firmware's IDT and handlers may be
	 * overwritten by the copies below. */
	cli
	movq	%rdi, %rbx

	/* The hibernated kernel's page tables may carry NX bits; without
	 * EFER.NXE those would be reserved-bit faults once it loads them. */
	cmpq	$0, ARG_SET_NXE(%rbx)
	je	1f
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_NXE, %eax
	wrmsr
1:
	/* Our identity map: the firmware's page tables, GDT and stack live in
	 * boot-services memory, which the copies may overwrite. */
	movq	ARG_CR3(%rbx), %rax
	movq	%rax, %cr3
	movq	ARG_GDT_DESC(%rbx), %rax
	lgdt	(%rax)
	/* An IDT of limit 0: a fault now shuts the machine down cleanly
	 * (triple fault) instead of running a stale handler. */
	lidt	ARG_IDT_DESC(%rbx)
	/* Reload CS from the new GDT with a far return. */
	leaq	2f(%rip), %rax
	pushq	$CODE_SELECTOR
	pushq	%rax
	lretq
2:
	movw	$DATA_SELECTOR, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movq	ARG_STACK_TOP(%rbx), %rsp

	/* Copy every deferred range from its staging place to its destination. */
	movq	ARG_COPY_COUNT(%rbx), %r8
	movq	ARG_COPIES(%rbx), %r9
	cld
3:
	testq	%r8, %r8
	jz	4f
	movq	COPY_DESTINATION(%r9), %rdi
	movq	COPY_SOURCE(%r9), %rsi
	movq	COPY_SIZE(%r9), %rcx
	rep movsb
	addq	$COPY_ENTRY_BYTES, %r9
	decq	%r8
	jmp	3b
4:
	/* Enter the hibernated kernel as its kexec code expects: as if
	 * returning from `call *%rdx` in relocate_kernel. The entry reads
	 * 0(%rsp) as the peer's re-entry point: give it our halt loop. */
	movq	ARG_ENTRY(%rbx), %rax
	leaq	halt(%rip), %rdx
	pushq	%rdx
	xorl	%ebx, %ebx
	jmpq	*%rax

halt:
	cli
	hlt
	jmp	halt
hl_final_stage_end:


	.section .note.GNU-stack,"",@progbits
