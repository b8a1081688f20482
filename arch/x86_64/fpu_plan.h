/*
 * fpu_plan.h (x86_64) - what arch_switch does with the FP registers, as a
 * pure function of whether prev and next have FP state (fpu.c carries it
 * out; arch/x86_64/tests/test_fpu_plan.c checks it on the host against a
 * model of the CPU). No instructions here.
 */
#ifndef X86_FPU_PLAN_H
#define X86_FPU_PLAN_H

#include <stdbool.h>

#define FPU_SAVE_PREV  0x01   /* FXSAVE into prev's area (TS is clear) */
#define FPU_CLEAR_TS   0x02   /* CLTS, before any FXRSTOR */
#define FPU_LOAD_NEXT  0x04   /* FXRSTOR next's area */
#define FPU_LOAD_CLEAN 0x08   /* FXRSTOR the clean image: nothing of prev's stays */
#define FPU_SET_TS     0x10   /* last: next's first FP instruction -> #NM */

/* A task with FP state runs with TS clear, one without with TS set and
 * clean registers; so FXSAVE/FXRSTOR run only while TS is clear. */
static inline unsigned x86_fpu_plan(bool prev_fpu, bool next_fpu) {
    if (next_fpu)
        return (prev_fpu ? FPU_SAVE_PREV : FPU_CLEAR_TS) | FPU_LOAD_NEXT;
    if (prev_fpu)
        return FPU_SAVE_PREV | FPU_LOAD_CLEAN | FPU_SET_TS;
    return 0;
}

#endif
