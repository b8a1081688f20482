/*
 * mpu.c (arm-m) - the MPU itself: enabled with the privileged default map
 * (PRIVDEFENA) for the kernel, and loaded with a task's regions when it
 * returns to user mode after another one ran (regions.c builds them).
 */
#include "armv7m.h"

struct arch_vm *arm_mpu_loaded;

void arm_mpu_init(void) {
    for (unsigned i = 0; i < MPU_REGIONS; i++) {
        MPU_RNR = i;
        MPU_RASR = 0;
    }
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    dsb();
    isb();
}

/* Regions 0..3 in one go through the RBAR/RASR aliases (each RBAR names
 * its region), then region 4. */
void arm_mpu_load(struct arch_vm *vm) {
    _Static_assert(ARM_TASK_REGIONS == 5, "arm_mpu_load writes five regions");
    const uint32_t *src = &vm->r[0].rbar;
    __asm__ volatile(
        "ldm %0!, {r2-r9}\n\t"
        "stm %1, {r2-r9}\n\t"
        "ldm %0, {r2-r3}\n\t"
        "stm %1, {r2-r3}\n\t"
        "dsb"
        : "+r"(src) : "r"(&MPU_RBAR)
        : "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory");
    arm_mpu_loaded = vm;
}
