/*
 * armv7m.h - the ARMv7-M system registers the port uses, their bits
 * (ARMv7-M Architecture Reference Manual, B1 and B3), and the port's
 * private functions. Assembler-safe up to the C part (entry.S uses the
 * exception numbers and EXC_RETURN, CONTROL and xPSR bits).
 */
#ifndef NAGI_ARMV7M_H
#define NAGI_ARMV7M_H

#ifndef __ASSEMBLER__
#include "task.h"
#endif

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

/* ---- System control block bits ------------------------------------------ */
#define ICSR_PENDSTSET (1u << 26)       /* SysTick exception pending */

#define CCR_DIV_0_TRP  (1u << 4)        /* divide by zero: UsageFault */
#define CCR_STKALIGN   (1u << 9)        /* 8-byte stack alignment on entry */

/* SHPRn: one priority byte per system exception (exception n at byte
 * n - 4 of SHPR1..3); SHPR3 holds PendSV (14) and SysTick (15). */
#define SHPR3_PENDSV_SHIFT  16
#define SHPR3_SYSTICK_SHIFT 24

#define SHCSR_MEMFAULTENA (1u << 16)    /* MemManage, BusFault, UsageFault */
#define SHCSR_BUSFAULTENA (1u << 17)    /* enabled (else they escalate to */
#define SHCSR_USGFAULTENA (1u << 18)    /* HardFault) */

#define CPACR_CP10_CP11_FULL (0xfu << 20)  /* FPU (CP10, CP11): full access */
#define FPCCR_ASPEN   (1u << 31)        /* FP state saved on exception entry; */
                                        /* LSPEN (bit 30) clear: not lazily */

/* CFSR = UFSR (31..16) | BFSR (15..8) | MMFSR (7..0); write one to clear:
 *
 *   31   25 24      19  18  17  16 | 15 13 12  11  10  9  8 | 7  5 4  3  1  0
 *  DIVBYZERO UNALIGNED NOCP INVPC  | BFARVALID  STKERR .. IBUSERR | MMARVALID
 *                  INVSTATE UNDEFINSTR  LSPERR UNSTKERR  PRECISERR  MSTKERR..IACCVIOL
 */
#define CFSR_IACCVIOL   (1u << 0)       /* MemManage: instruction fetch */
#define CFSR_DACCVIOL   (1u << 1)       /* MemManage: data access */
#define CFSR_MUNSTKERR  (1u << 3)       /* MemManage: on exception return */
#define CFSR_MSTKERR    (1u << 4)       /* MemManage: on exception entry */
#define CFSR_MLSPERR    (1u << 5)       /* MemManage: lazy FP state */
#define CFSR_MMARVALID  (1u << 7)       /* MMFAR holds the address */
#define CFSR_MMFSR      0x000000ffu     /* MemManage status */
#define CFSR_IBUSERR    (1u << 8)       /* BusFault: instruction fetch */
#define CFSR_PRECISERR  (1u << 9)       /* BusFault: precise data */
#define CFSR_IMPRECISERR (1u << 10)     /* BusFault: imprecise data */
#define CFSR_UNSTKERR   (1u << 11)      /* BusFault: on exception return */
#define CFSR_STKERR     (1u << 12)      /* BusFault: on exception entry */
#define CFSR_LSPERR     (1u << 13)      /* BusFault: lazy FP state */
#define CFSR_BFARVALID  (1u << 15)      /* BFAR holds the address */
#define CFSR_BFSR       0x0000ff00u     /* BusFault status */
#define CFSR_UFSR_SHIFT 16              /* UsageFault status: the top half */
/* UFSR = CFSR >> CFSR_UFSR_SHIFT (its own halfword at 0xe000ed2a) */
#define UFSR_UNDEFINSTR (1u << 0)       /* undefined instruction */
#define UFSR_INVSTATE   (1u << 1)       /* EPSR.T clear (not Thumb) */
#define UFSR_INVPC      (1u << 2)       /* bad EXC_RETURN */
#define UFSR_NOCP       (1u << 3)       /* no coprocessor */
#define UFSR_UNALIGNED  (1u << 8)       /* unaligned access */
#define UFSR_DIVBYZERO  (1u << 9)       /* division by zero */

#define HFSR_VECTTBL    (1u << 1)       /* vector table read failed */
#define HFSR_FORCED     (1u << 30)      /* an escalated configurable fault */
#define HFSR_DEBUGEVT   (1u << 31)

/* ---- SysTick --------------------------------------------------------------- */
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)    /* exception on reaching zero */
#define SYST_CSR_CLKSOURCE (1u << 2)    /* the processor clock */
#define SYST_CSR_COUNTFLAG (1u << 16)

/* ---- MPU (B3.5) ------------------------------------------------------------ */
#define MPU_TYPE_DREGION(t) (((t) >> 8) & 0xff)   /* regions the MPU has */
#define MPU_CTRL_ENABLE     (1u << 0)
#define MPU_CTRL_HFNMIENA   (1u << 1)   /* MPU on in HardFault/NMI too */
#define MPU_CTRL_PRIVDEFENA (1u << 2)   /* privileged code: default map */
#define MPU_REGIONS         8           /* regions of the Cortex-M3/M4 MPU */
#define MPU_MIN_REGION      32          /* bytes: SIZE 4 */
#define MPU_MIN_SRD_REGION  256         /* smaller regions have no subregions */

/* RBAR:  31 .. 5 ADDR | 4 VALID | 3 .. 0 REGION
 * RASR:  28 XN | 26..24 AP | 21..19 TEX | 18 S | 17 C | 16 B |
 *        15..8 SRD | 5..1 SIZE (region 2^(SIZE+1) bytes) | 0 ENABLE */
#define RBAR_ADDR        0xffffffe0u
#define RBAR_VALID       (1u << 4)      /* REGION selects the region */
#define RASR_ENABLE      1u
#define RASR_SIZE_SHIFT  1
#define RASR_SIZE_MASK   0x1fu
#define RASR_SRD0        (1u << 8)      /* lowest subregion disabled */
#define RASR_SRD_SHIFT   8
#define RASR_B           (1u << 16)
#define RASR_C           (1u << 17)
#define RASR_S           (1u << 18)
#define RASR_AP_SHIFT    24
#define RASR_AP_RO       (6u << 24)     /* read-only, privileged and user */
#define RASR_AP_RW       (3u << 24)     /* read-write, privileged and user */
#define RASR_XN          (1u << 28)     /* never execute */

/* ---- Priorities ------------------------------------------------------------ */
/* Faults and SVC run at 0; SysTick, PendSV and every device interrupt at
 * the level the kernel's BASEPRI masks. */
#define PRIO_FAULTS  0
#define PRIO_DEVICE  ARM_KERNEL_BASEPRI

/* ---- Exception entry and return (B1.5) ------------------------------------- */
/* EXC_RETURN (lr on exception entry): bit 2 return to the process stack
 * (PSP), bit 3 return to thread mode, bit 4 no FP state in the frame. */
#define EXC_RETURN_SPSEL       (1u << 2)
#define EXC_RETURN_NOFP        (1u << 4)
#define EXC_RETURN_THREAD_MSP  0xfffffff9u   /* thread mode, MSP, no FP */
#define EXC_RETURN_THREAD_PSP  0xfffffffdu   /* thread mode, PSP, no FP */

#define XPSR_T           (1u << 24)     /* Thumb state: always set */
#define CONTROL_NPRIV    (1u << 0)      /* thread mode unprivileged */

/* The frame the CPU pushes on exception entry, in words from its base. */
#define HW_R0  0
#define HW_R1  1
#define HW_R2  2
#define HW_R3  3
#define HW_R12 4
#define HW_LR  5
#define HW_PC  6
#define HW_XPSR 7
#define HW_FRAME_WORDS 8


/* exception numbers */
#define EXC_HARDFAULT 3
#define EXC_MEMMANAGE 4
#define EXC_BUSFAULT  5
#define EXC_USAGE     6
#define EXC_SVC       11
#define EXC_PENDSV    14
#define EXC_SYSTICK   15
#define EXC_IRQ0      16

#ifndef __ASSEMBLER__
static inline void dsb(void) { __asm__ volatile("dsb" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }

/* clock.c: the board's [clock] (before anything that counts on CPU_HZ) */
void arm_clock_init(void);

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

#endif /* !__ASSEMBLER__ */
#endif
