/*
 * boot.S (x86_64) - from the multiboot loader to C in long mode.
 *
 * QEMU's -kernel or GRUB's `multiboot` (v1 header below) and GRUB's
 * `multiboot2` (Multiboot2 header below; under UEFI GRUB exits boot
 * services first: no EFI tags are asked for) all enter boot32 in 32-bit
 * protected mode with paging off, eax = the loader's magic (0x2badb002
 * or 0x36d76289), ebx = its information (boot.c tells them apart). QEMU's
 * -kernel reads only the v1 header, which must stay in the first 8 KiB;
 * the Multiboot2 one must be in the first 32 KiB, 8-byte aligned. We build page
 * tables that identity-map the low 4 GiB with 2 MiB pages (kernel only:
 * no user bit), enable PAE + long mode + paging, load a 64-bit GDT and
 * jump to boot64, which calls arch_boot(magic, info) on the boot stack.
 */
#include "x86.h"
#include "pagetable.h"

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003   /* page-align modules, provide memory info */

#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0               /* 32-bit protected mode entry */
#define MB2_TAG_END 0
#define MB2_TAG_FRAMEBUFFER 5
#define MB2_TAG_OPTIONAL 1            /* flags: the loader may ignore the tag */

.section .multiboot, "a"
.align 4
.long MB_MAGIC
.long MB_FLAGS
.long -(MB_MAGIC + MB_FLAGS)

/* Multiboot2 header (spec 3.1): ask for a linear framebuffer of 32 bpp,
 * any size (optional: a text mode or none is handled too). */
.align 8
mb2_header:
.long MB2_MAGIC
.long MB2_ARCH_I386
.long mb2_header_end - mb2_header
.long (0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))) & 0xffffffff
.align 8
.short MB2_TAG_FRAMEBUFFER
.short MB2_TAG_OPTIONAL
.long 20
.long 0                               /* width: no preference */
.long 0                               /* height */
.long 32                              /* depth */
.align 8
.short MB2_TAG_END
.short 0
.long 8
mb2_header_end:

.section .boot, "ax"
.code32
.global boot32
boot32:
    cli
    mov $boot_stack_top, %esp
    mov %eax, %edi              /* keep magic and info for arch_boot */
    mov %ebx, %esi

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; PDn[i] -> 2 MiB pages. */
    mov $boot_pdpt, %eax
    or $(PTE_P | PTE_W), %eax   /* kernel only: no PTE_U, no PTE_G above leaves */
    mov %eax, boot_pml4

    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pdpt(,%ecx,8)
    inc %ecx
    cmp $4, %ecx
    jne 1b

    xor %ecx, %ecx              /* 2048 entries of 2 MiB = 4 GiB */
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_PS), %eax   /* a 2 MiB page */
    mov %eax, boot_pd(,%ecx,8)
    mov %ecx, %eax
    shr $11, %eax               /* high dword: bits 32.. of the address */
    mov %eax, boot_pd+4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    and $~(CR0_CD | CR0_NW), %eax       /* caches on */
    or $(CR0_PG | CR0_WP | CR0_PE), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $KERNEL_CS, $boot64

.code64
boot64:
    mov $KERNEL_DS, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    xor %ebp, %ebp
    call arch_boot
3:  hlt
    jmp 3b

.align 16
boot_gdt:
    .quad 0
    .quad GDT_KERNEL_CODE       /* KERNEL_CS */
    .quad GDT_KERNEL_DATA       /* KERNEL_DS */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt

.section .bss
.align 4096
.global boot_pml4
boot_pml4:  .space 4096
boot_pdpt:  .space 4096
boot_pd:    .space 4096 * 4
.global boot_stack_bottom
boot_stack_bottom:
    .space 16384
boot_stack_top:
