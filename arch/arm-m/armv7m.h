/*
 * armv7m.h - the ARMv7-M system registers the port uses (ARMv7-M
 * Architecture Reference Manual, B3) and its private functions.
 */
#ifndef NAGI_ARMV7M_H
#define NAGI_ARMV7M_H

#include "task.h"

#define REG(a) (*(volatile uint32_t *)(a))

#define SCB_ICSR   REG(0xe000ed04)
#define SCB_VTOR   REG(0xe000ed08)
#define SCB_CCR    REG(0xe000ed14)
#define SCB_SHPR1  REG(0xe000ed18)
#define SCB_SHPR2  REG(0xe000ed1c)
#define SCB_SHPR3  REG(0xe000ed20)
#define SCB_SHCSR  REG(0xe000ed24)
#define SCB_CFSR   REG(0xe000ed28)
#define SCB_HFSR   REG(0xe000ed2c)
#define SCB_MMFAR  REG(0xe000ed34)
#define SCB_BFAR   REG(0xe000ed38)
#define SCB_CPACR  REG(0xe000ed88)
#define FPU_FPCCR  REG(0xe000ef34)

#define SYST_CSR   REG(0xe000e010)
#define SYST_RVR   REG(0xe000e014)
#define SYST_CVR   REG(0xe000e018)

#define NVIC_ISER(n) REG(0xe000e100 + 4 * (n))
#define NVIC_ICER(n) REG(0xe000e180 + 4 * (n))
#define NVIC_ICPR(n) REG(0xe000e280 + 4 * (n))
#define NVIC_IPR8(n) (*(volatile uint8_t *)(0xe000e400 + (n)))

#define MPU_TYPE   REG(0xe000ed90)
#define MPU_CTRL   REG(0xe000ed94)
#define MPU_RNR    REG(0xe000ed98)
#define MPU_RBAR   REG(0xe000ed9c)
#define MPU_RASR   REG(0xe000eda0)

#define ICSR_PENDSTSET (1u << 26)

/* FPU: CPACR grants CP10 and CP11 (the FPU); FPCCR selects the stacking of
 * FP state at exception entry (ARMv7-M ARM, B3.2.20 and B3.2.22). */
#define CPACR_FPU_FULL   (0xfu << 20)   /* CP10, CP11: full access */
#define FPCCR_ASPEN      (1u << 31)     /* FP instructions set CONTROL.FPCA */
#define FPCCR_LSPEN      (1u << 30)     /* lazy stacking (we leave it off) */

/* exception numbers */
#define EXC_HARDFAULT 3
#define EXC_MEMMANAGE 4
#define EXC_BUSFAULT  5
#define EXC_USAGE     6
#define EXC_SVC       11
#define EXC_PENDSV    14
#define EXC_SYSTICK   15
#define EXC_IRQ0      16

static inline void dsb(void) { __asm__ volatile("dsb" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }

/* console.c */
void arm_console_init(void);

/* mpu.c */
void arm_mpu_init(void);
void arm_mpu_load(struct arch_vm *vm);
bool arm_vm_ram(struct arch_vm *vm, uint32_t *base, uint32_t *size);
extern struct arch_vm *arm_mpu_loaded;

/* entry.S */
void arm_fp_reset(void);

/* trap.c */
_Noreturn void arm_return_to_user(void);
extern volatile uint32_t arm_systick_wraps;

#endif
