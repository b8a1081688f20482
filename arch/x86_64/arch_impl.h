/*
 * arch_impl.h (x86_64) - the types and constants arch.h asks a port for.
 * Only arch.h includes this file.
 */
#ifndef NAGI_ARCH_IMPL_H
#define NAGI_ARCH_IMPL_H

#define ARCH_NAME "x86_64"
#include "user_layout.h"   /* ARCH_PAGE_SIZE .. ARCH_ELF_MACHINE */

/* Where KS_MMIO maps physical address b (vm.c arch_mmio_grant). */
#define ARCH_MMIO_VADDR(b) (MMIO_WINDOW + (b))

/* arch_task.switch_work: what arch_switch must do beyond the stack swap
 * (one test of both tasks' flags keeps the common case at one branch). */
#define X86_WORK_IO  0x1   /* the task holds an I/O port range */
#define X86_WORK_FPU 0x2   /* the task has FP state (it used the FPU) */

struct arch_task {
    uint64_t rsp;          /* saved kernel stack pointer (arch_switch) */
    uint64_t kstack_top;   /* loaded into TSS.rsp0 and the syscall stack */
    uint16_t io_base;      /* granted I/O port range (count 0: none) */
    uint16_t io_count;
    uint8_t switch_work;   /* X86_WORK_* */
    /* The task's x87/SSE state (FXSAVE image) while it does not run;
     * meaningful only with X86_WORK_FPU (arch/x86_64/fpu.c). */
    uint8_t fpu[512] __attribute__((aligned(16)));
};

struct arch_vm {
    uint64_t *pml4;        /* kernel-virtual (= physical) address */
};

#endif
