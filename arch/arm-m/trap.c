/*
 * trap.c (arm-m) - what entry.S hands to C: system calls, the tick,
 * device interrupts and faults of tasks (arm_trap, kernel thread mode),
 * exceptions that interrupt the kernel itself (arm_kernel_exception,
 * handler mode), the idle wait and the way back to user mode.
 */
#include "armv7m.h"

volatile uint32_t arm_systick_wraps;
/* Taken while the idle thread waited (arch_idle), served after it. */
static volatile uint32_t idle_ticks;
static volatile uint32_t idle_irqs[(CONFIG_IRQ_COUNT + 31) / 32];

void arm_trap(uint32_t exc, uint32_t *regs);
void arm_kernel_exception(uint32_t exc, uint32_t *frame);

_Noreturn void arm_return_to_user(void) {
    if (arm_mpu_loaded != &current->vm)
        arm_mpu_load(&current->vm);
    __asm__ volatile("svc #0" ::: "memory");
    __builtin_unreachable();
}

static void irq_mask(unsigned irq) {
    NVIC_ICER(irq / 32) = 1u << (irq % 32);
    dsb();
}

bool arch_irq_valid(unsigned irq) {
    return irq < CONFIG_IRQ_COUNT;
}

void arch_irq_enable(unsigned irq) {
    if (irq < CONFIG_IRQ_COUNT)
        NVIC_ISER(irq / 32) = 1u << (irq % 32);
}

void arch_irq_disable(unsigned irq) {
    if (irq < CONFIG_IRQ_COUNT)
        irq_mask(irq);
}

int arch_ioport_grant(struct task *t UNUSED, unsigned base UNUSED,
                      unsigned count UNUSED) {
    return -E_NOTSUP;
}

/* CPU clock cycles since boot, rebuilt from SysTick (a wrap that is still
 * pending is counted). */
uint64_t arch_cycles(void) {
    uint32_t reload = SYST_RVR + 1;
    uint32_t wraps = arm_systick_wraps, val = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        val = SYST_CVR;
        wraps++;
    }
    return (uint64_t)wraps * reload + (reload - 1 - val);
}

/* Wait for an interrupt with everything unmasked; the handler only notes
 * it (arm_kernel_exception) and the kernel serves it here. */
void arch_idle(void) {
    __asm__ volatile("cpsid i\n\tmsr basepri, %0\n\tdsb\n\twfi\n\tcpsie i\n\tisb\n\t"
                     "msr basepri, %1" :: "r"(0), "r"(ARM_KERNEL_BASEPRI) : "memory");
    while (idle_ticks) {
        idle_ticks--;
        kernel_timer_tick();
    }
    for (unsigned w = 0; w < ARRAY_SIZE(idle_irqs); w++) {
        while (idle_irqs[w]) {
            unsigned bit = (unsigned)__builtin_ctz(idle_irqs[w]);
            idle_irqs[w] &= ~(1u << bit);
            kernel_irq(w * 32 + bit);
        }
    }
}

static const char *usage_reason(uint32_t ufsr) {
    if (ufsr & UFSR_UNDEFINSTR) return "undefined instruction";
    if (ufsr & UFSR_INVSTATE) return "invalid state (not Thumb)";
    if (ufsr & UFSR_INVPC) return "invalid exception return";
    if (ufsr & UFSR_NOCP) return "coprocessor not available";
    if (ufsr & UFSR_UNALIGNED) return "unaligned access";
    if (ufsr & UFSR_DIVBYZERO) return "division by zero";
    return "usage fault";
}

/* The current task faulted: name the cause, then the kernel kills it. */
static void user_fault(uint32_t exc, uint32_t *top) {
    uint32_t cfsr = SCB_CFSR, mmfar = SCB_MMFAR, bfar = SCB_BFAR, hfsr = SCB_HFSR;
    uint32_t psp = top[-2], ram = 0, size = 0;
    const uint32_t *hw = (const uint32_t *)psp;
    const char *why;
    uint32_t addr;

    SCB_CFSR = cfsr;             /* write one to clear */
    SCB_HFSR = hfsr;
    arm_vm_ram(&current->vm, &ram, &size);
    uint32_t guard_end = ram + size / 8;   /* the kernel stack subregion */

    if (cfsr & (CFSR_MSTKERR | CFSR_STKERR)) {
        addr = (cfsr & CFSR_MMARVALID) ? mmfar : psp;
        why = (psp >= ram && psp < guard_end + 128) ? "stack overflow"
                                                    : "bad stack pointer";
    } else if (cfsr & CFSR_MMFSR) {
        if (cfsr & CFSR_IACCVIOL) {
            addr = hw[HW_PC];
            why = "instruction fetch not allowed";
        } else {
            addr = (cfsr & CFSR_MMARVALID) ? mmfar : hw[HW_PC];
            why = (addr >= ram && addr < guard_end) ? "stack overflow"
                                                    : "memory access violation";
        }
    } else if (cfsr & CFSR_BFSR) {
        addr = (cfsr & CFSR_BFARVALID) ? bfar : hw[HW_PC];
        why = "bus error";
    } else if (cfsr >> CFSR_UFSR_SHIFT) {
        addr = hw[HW_PC];
        why = usage_reason(cfsr >> CFSR_UFSR_SHIFT);
    } else {
        addr = exc == EXC_HARDFAULT ? hw[HW_PC] : 0;
        why = "hard fault";
    }
    kernel_user_fault(false, addr, 0, why);
}

/* From entry.S, in thread mode on the task's kernel stack, interrupts
 * masked. regs points at the saved r4..r11. */
void arm_trap(uint32_t exc, uint32_t *regs) {
    uint32_t *top = (uint32_t *)current->arch.kstack_top;

    if (likely(exc == EXC_SVC)) {
        uint32_t *hw = (uint32_t *)top[-2];
        hw[HW_R0] = (uint32_t)kernel_syscall((long)hw[HW_R0], (long)hw[HW_R1],
                                             (long)hw[HW_R2], (long)hw[HW_R3],
                                             (long)regs[0], (long)hw[HW_R12]);
    } else if (exc == EXC_SYSTICK) {
        arm_systick_wraps++;
        kernel_timer_tick();
    } else if (exc >= EXC_IRQ0) {
        kernel_irq(exc - EXC_IRQ0);       /* masks the line until it is served */
    } else if (exc != EXC_PENDSV) {
        user_fault(exc, top);
    }
    arm_return_to_user();
}

static void dump_frame(uint32_t exc, const uint32_t *f) {
    printk("exception %u from the kernel: pc %x lr %x xpsr %x\n"
           "r0 %x r1 %x r2 %x r3 %x r12 %x sp %x\n",
           (unsigned)exc, (unsigned)f[HW_PC], (unsigned)f[HW_LR], (unsigned)f[HW_XPSR],
           (unsigned)f[HW_R0], (unsigned)f[HW_R1], (unsigned)f[HW_R2], (unsigned)f[HW_R3],
           (unsigned)f[HW_R12], (unsigned)(uintptr_t)(f + HW_FRAME_WORDS));
}

/* From entry.S, in handler mode: an exception while the kernel ran. Ticks
 * and interrupts can only come in arch_idle's window; anything else is a
 * kernel bug. */
void arm_kernel_exception(uint32_t exc, uint32_t *frame) {
    if (exc == EXC_SYSTICK) {
        arm_systick_wraps++;
        idle_ticks++;
        return;
    }
    if (exc >= EXC_IRQ0) {
        unsigned irq = exc - EXC_IRQ0;
        irq_mask(irq);
        idle_irqs[irq / 32] |= 1u << (irq % 32);
        return;
    }
    if (exc == EXC_PENDSV)
        return;
    dump_frame(exc, frame);
    panic("%s in the kernel (CFSR %x HFSR %x MMFAR %x BFAR %x)",
          exc == EXC_HARDFAULT ? "hard fault" : exc == EXC_MEMMANAGE ? "memory fault" :
          exc == EXC_BUSFAULT ? "bus fault" : exc == EXC_USAGE ? "usage fault" : "exception",
          (unsigned)SCB_CFSR, (unsigned)SCB_HFSR, (unsigned)SCB_MMFAR, (unsigned)SCB_BFAR);
}

void arm_task_entry(void);

void arch_task_init(struct task *t, uintptr_t entry, uint64_t arg,
                    uintptr_t msgbuf, uintptr_t stack_top) {
    uint32_t *top = (uint32_t *)(t->kstack + t->kstack_size);
    uint32_t *hw = (uint32_t *)(stack_top - HW_FRAME_WORDS * 4);

    hw[HW_R0] = (uint32_t)arg;
    hw[HW_R1] = (uint32_t)msgbuf;
    hw[HW_R2] = hw[HW_R3] = hw[HW_R12] = 0;
    hw[HW_LR] = 0xffffffff;              /* returning from _start faults */
    hw[HW_PC] = (uint32_t)entry & ~1u;
    hw[HW_XPSR] = XPSR_T;
    t->arch.kstack_top = (uint32_t)(uintptr_t)top;
    top[-1] = EXC_RETURN_THREAD_PSP;
    top[-2] = (uint32_t)(uintptr_t)hw;
    uint32_t *sp = top - 10;             /* r4..r11 */
    for (int i = 0; i < 8; i++)
        sp[i] = 0;
    sp -= 10;                            /* arch_switch's r3..r11, lr */
    for (int i = 0; i < 9; i++)
        sp[i] = 0;
    sp[9] = (uint32_t)(uintptr_t)arm_task_entry;
    t->arch.ksp = (uint32_t)(uintptr_t)sp;
}

/* The idle thread never enters user mode; its context is the boot
 * context (sched_start), so nothing is written to its stack here. */
void arch_kthread_init(struct task *t, void (*fn)(void) UNUSED) {
    t->arch.kstack_top = (uint32_t)(uintptr_t)(t->kstack + t->kstack_size);
    arch_vm_init(&t->vm);
}
