/*
 * arch_impl.h (host) - the types and constants arch.h asks a port for, for
 * the host unit tests in kernel/tests/. "Physical" pages are host heap
 * pages (arch_phys_to_virt is the identity). The user layout is x86_64's
 * (the same header), and an address space carries both an x86_64 page
 * table, run by the x86_64 walker, and arm-m's MPU regions, run by arm-m's
 * regions.c (see host.c). Only arch.h includes this file.
 */
#ifndef NAGI_ARCH_IMPL_H
#define NAGI_ARCH_IMPL_H

#define ARCH_NAME "host"
#include "../x86_64/user_layout.h"   /* ARCH_PAGE_SIZE .. ARCH_ELF_MACHINE */
#include "../arm-m/mpu_regions.h"    /* ARM_TASK_REGIONS, struct arm_mpu_region */

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

/* pml4: x86_64 4-level tables in host memory (arch/x86_64/pagetable.c).
 * r: the regions arch_vm_add_region / arch_mmio_grant gave, encoded for
 * the MPU exactly as on arm-m (arch/arm-m/regions.c). A space from the
 * task table has regions and empty tables, one from an ELF image tables
 * and perhaps device grants. */
struct arch_vm {
    uint64_t *pml4;
    struct arm_mpu_region r[ARM_TASK_REGIONS];
};

#endif
