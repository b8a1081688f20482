/*
 * arch_impl.h (x86_64) - the types and constants arch.h asks a port for.
 * Only arch.h includes this file.
 */
#ifndef NAGI_ARCH_IMPL_H
#define NAGI_ARCH_IMPL_H

#define ARCH_NAME "x86_64"
#include "user_layout.h"   /* ARCH_PAGE_SIZE .. ARCH_ELF_MACHINE */

struct arch_task {
    uint64_t rsp;          /* saved kernel stack pointer (arch_switch) */
    uint64_t kstack_top;   /* loaded into TSS.rsp0 and the syscall stack */
    uint16_t io_base;      /* granted I/O port range (count 0: none) */
    uint16_t io_count;
};

struct arch_vm {
    uint64_t *pml4;        /* kernel-virtual (= physical) address */
};

#endif
