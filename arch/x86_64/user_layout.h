/*
 * user_layout.h (x86_64) - where a user task's pieces live in its address
 * space, and the other constants of arch.h that the x86_64 port and the
 * host port (arch/host/, for the kernel unit tests) share. Included by
 * both arch_impl.h files and nothing else.
 *
 *   0x0000_0000_0000 +---------------------------+ PML4 entry 0: the kernel's
 *                    | identity map of low 4 GiB |  (supervisor only)
 *   0x0080_0000_0000 +---------------------------+ ARCH_USER_BASE = IMAGE_BASE
 *                    | program image (ELF)       |
 *   0x0100_0000_0000 | heap (64 MiB)             | ARCH_HEAP_BASE
 *   0x0180_0000_0000 | pages received by IPC     | ARCH_PAGE_RECV_BASE
 *   0x01ff_fff0_0000 | <- stack top (64 KiB)     | ARCH_STACK_TOP
 *   0x0200_0000_0000 | message buffer            | ARCH_MSGBUF_ADDR
 *   0x8000_0000_0000 +---------------------------+ ARCH_USER_END (PML4 entry 256:
 *                                                   non-canonical above)
 */
#ifndef NAGI_X86_64_USER_LAYOUT_H
#define NAGI_X86_64_USER_LAYOUT_H

#define ARCH_PAGE_SIZE 4096ul
#define ARCH_HAS_PAGING 1

/* PML4 entry 0 (the low 512 GiB) is the kernel's; users own entries 1..255. */
#define ARCH_USER_BASE      0x0000008000000000ul
#define ARCH_USER_END       0x0000800000000000ul
#define ARCH_IMAGE_BASE     0x0000008000000000ul
#define ARCH_HEAP_BASE      0x0000010000000000ul
#define ARCH_HEAP_SIZE      (64ul << 20)
#define ARCH_PAGE_RECV_BASE 0x0000018000000000ul
/* Received pages go in [BASE, END): below the stack and its guard page. */
#define ARCH_PAGE_RECV_END  (ARCH_STACK_TOP - ARCH_STACK_SIZE - ARCH_PAGE_SIZE)
#define ARCH_STACK_TOP      0x000001fffff00000ul
#define ARCH_STACK_SIZE     (64ul << 10)
#define ARCH_MSGBUF_ADDR    0x0000020000000000ul
#define ARCH_IRQ_MAX        16      /* the two 8259 PICs */
#define ARCH_TASK_TABLE     0
#define ARCH_RAM_BYTES      0ul     /* paging: pages are counted instead */
#define ARCH_KSTACK_SIZE    8192ul
#define ARCH_ELF_MACHINE    62      /* EM_X86_64 */

#endif
