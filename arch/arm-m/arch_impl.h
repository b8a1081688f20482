/*
 * arch_impl.h (arm-m: ARMv7-M, Cortex-M3/M4/M7) - the types and constants
 * arch.h asks a port for. No MMU: programs are placed at build time
 * (kernel/tasktable.c) and confined by the MPU. Only arch.h includes this.
 */
#ifndef NAGI_ARCH_IMPL_H
#define NAGI_ARCH_IMPL_H

#define ARCH_NAME "arm-m"
#define ARCH_PAGE_SIZE 32ul       /* the MPU's granule; there is no paging */
#define ARCH_HAS_PAGING 0

/* No paged user layout: these only keep the paging code compiling (the
 * heap range is empty; faults are described by the port, not by address). */
#define ARCH_USER_BASE      0x200ul
#define ARCH_USER_END       0xfffffffful
#define ARCH_IMAGE_BASE     0x0ul
#define ARCH_HEAP_BASE      0xfffffffful
#define ARCH_HEAP_SIZE      0x0ul
#define ARCH_PAGE_RECV_BASE 0x0ul
#define ARCH_PAGE_RECV_END  0x0ul
#define ARCH_STACK_TOP      0x0ul
#define ARCH_STACK_SIZE     0x0ul
#define ARCH_MSGBUF_ADDR    0x0ul

#define ARCH_IRQ_MAX        CONFIG_IRQ_COUNT
#define ARCH_RAM_BYTES      CONFIG_RAM_SIZE   /* KS_MEM_INFO without paging */
#define ARCH_TASK_TABLE     CONFIG_TASK_TABLE_ADDR
/* The boot and idle stack; every task's kernel stack is the lowest eighth
 * of its own RAM region (kernel/tasktable.c). */
#define ARCH_KSTACK_SIZE    512
#define ARCH_ELF_MACHINE    40      /* EM_ARM */

/* BASEPRI while the kernel runs: masks SysTick and device interrupts
 * (priority 0x80); SVC and the faults (priority 0) stay enabled. */
#define ARM_KERNEL_BASEPRI  0x80

#include "mpu_regions.h"   /* ARM_TASK_REGIONS, struct arm_mpu_region */

#ifndef __ASSEMBLER__
struct arch_task {
    uint32_t ksp;          /* saved kernel stack pointer (arch_switch); offset 0 */
    uint32_t kstack_top;   /* MSP while the task runs in thread mode; offset 4 */
};

struct arch_vm {
    struct arm_mpu_region r[ARM_TASK_REGIONS];   /* as loaded */
};
#endif

#endif
