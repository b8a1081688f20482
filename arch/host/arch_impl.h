/*
 * arch_impl.h (host) - the types and constants arch.h asks a port for, for
 * the host unit tests in kernel/tests/. "Physical" pages are host heap
 * pages (arch_phys_to_virt is the identity); the user layout is x86_64's
 * own header, so the kernel's range checks see the pc's addresses.
 * Only arch.h includes this file.
 */
#ifndef NAGI_ARCH_IMPL_H
#define NAGI_ARCH_IMPL_H

#define ARCH_NAME "host"
#include "../x86_64/user_layout.h"   /* ARCH_PAGE_SIZE .. ARCH_ELF_MACHINE */

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
