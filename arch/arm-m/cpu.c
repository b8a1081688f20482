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
        SCB_CPACR |= CPACR_FPU_FULL;
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
    arm_console_init();
}

void arch_init(void) {
    SCB_SHPR1 = 0;                             /* MemManage, BusFault, UsageFault: 0 */
    SCB_SHPR2 = 0;                             /* SVCall: 0 */
    SCB_SHPR3 = (0x80u << 24) | (0x80u << 16); /* SysTick, PendSV: 0x80 */
    for (unsigned i = 0; i < CONFIG_IRQ_COUNT; i++)
        NVIC_IPR8(i) = 0x80;
    for (unsigned i = 0; i < (CONFIG_IRQ_COUNT + 31) / 32; i++) {
        NVIC_ICER(i) = 0xffffffff;
        NVIC_ICPR(i) = 0xffffffff;
    }
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);
    SCB_CCR |= (1u << 4) | (1u << 9);          /* DIV_0_TRP, STKALIGN */
    arm_mpu_init();
    SYST_RVR = CONFIG_CPU_HZ / CONFIG_TICK_HZ - 1;
    SYST_CVR = 0;
    SYST_CSR = 7;                              /* processor clock, interrupt, on */
    printk("nagi: %s, MPU with %u regions, %u IRQ lines, CPU %u Hz\n",
           (SCB_CPACR & CPACR_FPU_FULL) ? "FPU on" : "no FPU",
           (unsigned)((MPU_TYPE >> 8) & 0xff), (unsigned)CONFIG_IRQ_COUNT,
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
