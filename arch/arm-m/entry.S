/*
 * entry.S (arm-m) - the vector table and every way into and out of the
 * kernel.
 *
 * The kernel runs in privileged *thread* mode on the current task's kernel
 * stack (MSP), with BASEPRI masking SysTick and device interrupts; so a
 * task can block anywhere in the kernel, as on x86_64, and no exception
 * stays active while it does. An exception from a task (SVC, SysTick, an
 * interrupt, a fault) comes to trap_entry in handler mode, which saves the
 * task's callee-saved registers (s16-s31 too when the task used the FPU)
 * at the top of its kernel stack and "returns" into arm_trap() in thread
 * mode. The way back is `svc` from the kernel: svc_from_kernel restores
 * the registers of `current` and returns to it, unprivileged, on its PSP.
 *
 * Trap frame at the top of a task's kernel stack (kstack_top = T):
 *   T-4 EXC_RETURN, T-8 PSP, then s16-s31 (64 bytes, only if EXC_RETURN
 *   bit 4 is clear), then r4-r11 (32 bytes).
 *
 * FP state is private (docs/mcu-port.md, "Floating point"): while the
 * kernel runs, and while a task without FP state runs, s0-s31 are zero
 * and FPSCR is 0. A task has FP state once it executed an FP instruction
 * (CONTROL.FPCA, so each of its exceptions stacks an FP frame: s0-s15 and
 * FPSCR on its PSP by the hardware, s16-s31 here); trap_entry clears the
 * registers right after saving them (FP_CLEAR), and the way back restores
 * them for that task only. A task that never used the FPU never pays.
 */
#include <arch_impl.h>
#include "armv7m.h"

    .syntax unified
    .cpu cortex-m4
    .fpu fpv4-sp-d16
    .thumb

/* s0-s31 = 0, FPSCR = 0 (clobbers r0). */
    .macro FP_CLEAR
    ldr     r0, =arm_fp_zeros
    vldmia  r0, {s0-s31}
    movs    r0, #0
    vmsr    fpscr, r0
    .endm

    .section .rodata
    .balign 4
arm_fp_zeros:
    .space  128

    .section .vectors, "a", %progbits
    .align 9
    .global arm_vectors
arm_vectors:
    .word sched_idle_stack + ARCH_KSTACK_SIZE   /* boot stack, then idle's */
    .word arm_reset
    .word trap_entry            /* 2 NMI */
    .word trap_entry            /* 3 HardFault (EXC_HARDFAULT) */
    .word trap_entry            /* 4 MemManage (EXC_MEMMANAGE) */
    .word trap_entry            /* 5 BusFault (EXC_BUSFAULT) */
    .word trap_entry            /* 6 UsageFault (EXC_USAGE) */
    .word 0, 0, 0, 0
    .word trap_entry            /* 11 SVCall */
    .word 0, 0
    .word trap_entry            /* 14 PendSV */
    .word trap_entry            /* 15 SysTick */
    .rept CONFIG_IRQ_COUNT
    .word trap_entry
    .endr

    .text

    .thumb_func
    .global trap_entry
trap_entry:
    tst     lr, #EXC_RETURN_SPSEL   /* came from the PSP (a task)? */
    beq     from_kernel
    mrs     r0, psp
    push    {r0, lr}                /* T-8 = PSP, T-4 = EXC_RETURN */
    tst     lr, #EXC_RETURN_NOFP    /* clear: an FP frame */
    bne     1f
    vpush   {s16-s31}
    FP_CLEAR                        /* nothing of this task's stays loaded */
1:  push    {r4-r11}
    mrs     r0, ipsr
    mov     r1, sp                  /* arm_trap(exception, &r4) */
    sub     sp, sp, #(HW_FRAME_WORDS * 4)   /* a frame to return into thread mode */
    str     r0, [sp, #HW_R0 * 4]
    str     r1, [sp, #HW_R1 * 4]
    ldr     r2, =arm_trap
    bic     r2, r2, #1
    str     r2, [sp, #HW_PC * 4]
    mov     r2, #XPSR_T
    str     r2, [sp, #HW_XPSR * 4]
    movs    r2, #ARM_KERNEL_BASEPRI
    msr     basepri, r2
    movs    r2, #0                  /* privileged; FPCA follows EXC_RETURN */
    msr     control, r2
    isb
    mvn     lr, #(~EXC_RETURN_THREAD_MSP & 0xffffffff)   /* thread mode, MSP */
    bx      lr

from_kernel:
    mrs     r0, ipsr
    cmp     r0, #EXC_SVC
    beq     svc_from_kernel
    mov     r1, sp
    b       arm_kernel_exception    /* returns through lr = EXC_RETURN */

/* The kernel asks to run `current` in user mode. */
svc_from_kernel:
    ldr     r0, =current
    ldr     r0, [r0]
    ldr     r1, [r0, #4]            /* current->arch.kstack_top */
    ldr     r2, [r1, #-4]           /* EXC_RETURN */
    ldr     r3, [r1, #-8]           /* PSP */
    sub     r0, r1, #40
    tst     r2, #EXC_RETURN_NOFP
    it      eq
    subeq   r0, r0, #64
    mov     sp, r0
    pop     {r4-r11}
    tst     r2, #EXC_RETURN_NOFP
    it      eq
    vpopeq  {s16-s31}
    mov     sp, r1                  /* the kernel stack is empty while it runs */
    msr     psp, r3
    movs    r0, #CONTROL_NPRIV      /* unprivileged thread mode */
    msr     control, r0
    movs    r0, #0
    msr     basepri, r0
    isb
    bx      r2

/* void arch_switch(struct task *prev, struct task *next) */
    .thumb_func
    .global arch_switch
arch_switch:
    push    {r3-r11, lr}
    mov     r2, sp
    str     r2, [r0, #0]            /* prev->arch.ksp */
    ldr     r2, [r1, #0]            /* next->arch.ksp */
    mov     sp, r2
    pop     {r3-r11, pc}

/* void arm_fp_reset(void): at boot, once the FPU is enabled. The FP
 * registers are UNKNOWN after reset: clear them, and leave the kernel with
 * no FP context (CONTROL.FPCA = 0) so its own exceptions stay basic frames. */
    .thumb_func
    .global arm_fp_reset
arm_fp_reset:
    FP_CLEAR
    mrs     r0, control
    bic     r0, r0, #4              /* FPCA */
    msr     control, r0
    isb
    bx      lr

/* First kernel context of a task (arch_task_init): go to user mode. */
    .thumb_func
    .global arm_task_entry
arm_task_entry:
    b       arm_return_to_user
