/*
 * cpu.c (arm-m) - reset, the system control block, SysTick and the NVIC.
 */
#include "armv7m.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern const uint32_t arm_vectors[];
void arm_reset(void);

/* Reset: the hardware loaded MSP from arm_vectors[0] (the idle stack, which
 * the linker keeps out of .bss). Interrupts stay masked by BASEPRI from
 * here on, except in arch_idle. */
__attribute__((used, noreturn)) void arm_reset(void) {
    __asm__ volatile("msr basepri, %0" :: "r"(ARM_KERNEL_BASEPRI));
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
    if (CONFIG_ARCH_HAS_FPU + 0) {
        SCB_CPACR |= CPACR_CP10_CP11_FULL;
        FPU_FPCCR = FPCCR_ASPEN;              /* no FPCCR_LSPEN: eager stacking */
        dsb();
        isb();
        arm_fp_reset();                       /* registers zero (entry.S) */
    }
    arch_early_init();
    kernel_main();
    arch_halt();
}

void arch_early_init(void) {
    SCB_VTOR = (uint32_t)(uintptr_t)arm_vectors;
    arm_clock_init();
    arm_console_init();
}

void arch_init(void) {
    SCB_SHPR1 = PRIO_FAULTS;                   /* MemManage, BusFault, UsageFault */
    SCB_SHPR2 = PRIO_FAULTS;                   /* SVCall */
    SCB_SHPR3 = ((uint32_t)PRIO_DEVICE << SHPR3_SYSTICK_SHIFT) |
                ((uint32_t)PRIO_DEVICE << SHPR3_PENDSV_SHIFT);
    for (unsigned i = 0; i < CONFIG_IRQ_COUNT; i++)
        NVIC_IPR8(i) = PRIO_DEVICE;
    for (unsigned i = 0; i < (CONFIG_IRQ_COUNT + 31) / 32; i++) {
        NVIC_ICER(i) = 0xffffffff;
        NVIC_ICPR(i) = 0xffffffff;
    }
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;
    SCB_CCR |= CCR_DIV_0_TRP | CCR_STKALIGN;
    arm_mpu_init();
    SYST_RVR = CONFIG_CPU_HZ / CONFIG_TICK_HZ - 1;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    printk("nagi: %s, MPU with %u regions, %u IRQ lines, CPU %u Hz\n",
           (SCB_CPACR & CPACR_CP10_CP11_FULL) ? "FPU on" : "no FPU",
           (unsigned)MPU_TYPE_DREGION(MPU_TYPE), (unsigned)CONFIG_IRQ_COUNT,
           (unsigned)CONFIG_CPU_HZ);
}

void arch_memory_ranges(void (*add)(uintptr_t base, size_t len) UNUSED) {
    /* No page pool: task memory is placed at build time. */
}

void arch_dump_state(void) {
    printk("CFSR %x HFSR %x MMFAR %x BFAR %x\n", (unsigned)SCB_CFSR,
           (unsigned)SCB_HFSR, (unsigned)SCB_MMFAR, (unsigned)SCB_BFAR);
}

_Noreturn void arch_halt(void) {
    __asm__ volatile("cpsid i" ::: "memory");
    for (;;)
        __asm__ volatile("wfi");
}
