/*
 * fpu.c (x86_64) - the x87/SSE state of user tasks: each task's is
 * private, and a task that never used the FPU costs the context switch
 * nothing.
 *
 * The rule: while a task runs, the FP registers hold its own state, or the
 * clean state (fpu_clean below: FNINIT's x87 control word, the reset MXCSR
 * 0x1f80, every x87 and XMM register zero) if it has none. Another task's
 * values are never in the registers, not even while CR0.TS is set (which
 * keeps them out of reach of speculation too, unlike a lazy switch that
 * leaves the previous owner's state loaded).
 *
 *   a task without FP state runs with CR0.TS set and clean registers;
 *   its first FP instruction      -> #NM -> x86_fpu_first_use: clear TS,
 *                                    mark the task X86_WORK_FPU
 *   switch away from an FP task   -> FXSAVE into prev->arch.fpu, then
 *   switch to an FP task          -> FXRSTOR next->arch.fpu (TS clear), or
 *   switch to a task without      -> FXRSTOR fpu_clean, set TS
 *
 * Switches between tasks without FP state (the IPC fastpath's usual case;
 * Rust user programs are built soft-float and never touch the FPU unless
 * they ask for it in asm) do nothing here: arch_switch tests one flag
 * byte of each task that it tested for I/O ports already. The kernel itself
 * is built with -mno-sse -mno-mmx and never executes an FP instruction
 * (one would raise #NM in the kernel, a panic, whenever TS is set).
 */
#include "x86.h"
#include "fpu_plan.h"
#include <task.h>

/* The FXSAVE image's header (Intel SDM vol. 1, table 10-2); the x87
 * registers (ST0-7, 16 bytes each) follow at 32, XMM0-15 at 160. */
struct fxsave_header {
    uint16_t fcw, fsw;
    uint8_t ftw, reserved0;
    uint16_t fop;
    uint64_t fip, fdp;
    uint32_t mxcsr, mxcsr_mask;
};

/* What a task without FP state finds: FNINIT plus LDMXCSR 0x1f80, and
 * every data register zero (FNINIT alone only tags the x87 registers
 * empty; FXSAVE would still show their old contents). */
static const union {
    struct fxsave_header h;
    uint8_t bytes[FXSAVE_SIZE];
} fpu_clean __attribute__((aligned(16))) = {
    .h = { .fcw = FCW_DEFAULT, .mxcsr = MXCSR_DEFAULT },
};

_Static_assert(sizeof(fpu_clean) == FXSAVE_SIZE, "FXSAVE image size");
_Static_assert(sizeof(((struct arch_task *)0)->fpu) == FXSAVE_SIZE,
               "arch_task.fpu holds an FXSAVE image");
_Static_assert(__builtin_offsetof(struct arch_task, fpu) % 16 == 0,
               "FXSAVE needs 16-byte alignment");

static inline void fxsave(uint8_t *area) {
    __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[FXSAVE_SIZE])area));
}

static inline void fxrstor(const uint8_t *area) {
    __asm__ volatile("fxrstor64 %0" ::"m"(*(const uint8_t(*)[FXSAVE_SIZE])area));
}

static inline void clts(void) {
    __asm__ volatile("clts" ::: "memory");
}

static inline void stts(void) {
    write_cr0(read_cr0() | CR0_TS);
}

/* Called once by arch_init, before any task runs: SSE on (the CPU must
 * have it: every x86_64 does), x87 errors as exceptions, registers clean,
 * TS set for the first task. */
void x86_fpu_init(void) {
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
    fxrstor(fpu_clean.bytes);
    stts();
}

/* From arch_switch when prev or next has X86_WORK_FPU; the steps in
 * the order fpu_plan.h gives them. */
void x86_fpu_switch(struct task *prev, struct task *next) {
    unsigned plan = x86_fpu_plan(prev->arch.switch_work & X86_WORK_FPU,
                                 next->arch.switch_work & X86_WORK_FPU);

    if (plan & FPU_SAVE_PREV)
        fxsave(prev->arch.fpu);
    if (plan & FPU_CLEAR_TS)
        clts();
    if (plan & FPU_LOAD_NEXT)
        fxrstor(next->arch.fpu);
    if (plan & FPU_LOAD_CLEAN)
        fxrstor(fpu_clean.bytes);
    if (plan & FPU_SET_TS)
        stts();
}

/* #NM from user mode: the current task used the FPU for the first time.
 * Its registers are clean already (the rule above); let it have them.
 * false if it had FP state already (TS should have been clear: a bug). */
bool x86_fpu_first_use(void) {
    if (current->arch.switch_work & X86_WORK_FPU)
        return false;
    current->arch.switch_work |= X86_WORK_FPU;
    clts();
    return true;
}
