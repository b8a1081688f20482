/*
 * mpu_regions.h (arm-m) - the shape of a task's MPU regions, shared by
 * arm-m's arch_impl.h and the host port (arch/host/), whose address
 * spaces carry the same regions so the kernel unit tests run the real
 * regions.c. Assembler-safe.
 */
#ifndef NAGI_ARM_M_MPU_REGIONS_H
#define NAGI_ARM_M_MPU_REGIONS_H

/* MPU regions of a task: 0 flash, 1 RAM, 2.. device registers (KS_MMIO). */
#define ARM_TASK_REGIONS    5

#ifndef __ASSEMBLER__
/* One region exactly as the MPU's RBAR and RASR hold it (mpu.c copies a
 * task's array into the MPU as it is). */
struct arm_mpu_region {
    uint32_t rbar, rasr;
};
#endif

#endif
