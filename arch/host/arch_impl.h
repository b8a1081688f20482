/*
 * arch_impl.h (host) - the types and constants arch.h asks a port for, for
 * the host unit tests in kernel/tests/. "Physical" pages are host heap
 * pages (arch_phys_to_virt is the identity); the user layout copies the
 * x86_64 numbers so the kernel's range checks see realistic addresses.
 * Only arch.h includes this file.
 */
#ifndef NAGI_ARCH_IMPL_H
#define NAGI_ARCH_IMPL_H

#define ARCH_NAME "host"
#define ARCH_PAGE_SIZE 4096ul
#define ARCH_HAS_PAGING 1

#define ARCH_USER_BASE      0x0000008000000000ul
#define ARCH_USER_END       0x0000800000000000ul
#define ARCH_IMAGE_BASE     0x0000008000000000ul
#define ARCH_HEAP_BASE      0x0000010000000000ul
#define ARCH_HEAP_SIZE      (64ul << 20)
#define ARCH_PAGE_RECV_BASE 0x0000018000000000ul
#define ARCH_STACK_TOP      0x000001fffff00000ul
#define ARCH_STACK_SIZE     (64ul << 10)
#define ARCH_MSGBUF_ADDR    0x0000020000000000ul
#define ARCH_IRQ_MAX        16
#define ARCH_TASK_TABLE     0
#define ARCH_RAM_BYTES      0ul   /* paging: pages are counted instead */
#define ARCH_KSTACK_SIZE    8192ul
#define ARCH_ELF_MACHINE    62      /* the test ELF images say EM_X86_64 */

/* What arch_task_init / arch_kthread_init were given (tests read it). */
struct arch_task {
    uintptr_t entry;
    uint64_t arg;
    uintptr_t msgbuf;
    uintptr_t stack_top;
    void (*kthread)(void);
    unsigned inits;        /* how many times arch_task_init ran for it */
    uint16_t io_base;      /* granted I/O port range (count 0: none) */
    uint16_t io_count;
};

/* Real 4-level tables in host memory, like x86_64. The field is named
 * pml4 because kernel/task.c reads t->vm.pml4 to tell whether a space
 * exists (see kernel/tests/README.md). */
struct arch_vm {
    uint64_t *pml4;
    /* whole regions given by arch_vm_add_region / arch_mmio_grant
     * (the MPU ports' model; kernel/tests/test_tasktable.c reads them) */
    struct { uintptr_t base; size_t size; unsigned attrs; } regions[8];
    unsigned nregions;
};

#endif
