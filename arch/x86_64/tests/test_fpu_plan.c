/*
 * test_fpu_plan.c - the x86_64 FP switching plan (arch/x86_64/fpu_plan.h)
 * against a model of the CPU: FP registers labelled with the task whose
 * values they hold (CLEAN for the clean image), CR0.TS, and one FXSAVE
 * area per task. Whatever the order of switches and first uses, a task
 * only ever sees its own values or clean ones, FXSAVE/FXRSTOR never run
 * with TS set (that would be #NM in the kernel), and a task without FP
 * state always runs with TS set (so its first use is caught).
 */
#include <stdlib.h>
#include "fpu_plan.h"
#include "test.h"

#define NTASKS 4
#define CLEAN (-1)

struct model {
    int regs;                 /* whose values the FP registers hold */
    bool ts;
    bool has_fpu[NTASKS];     /* X86_WORK_FPU */
    int area[NTASKS];         /* whose values each FXSAVE area holds */
    int current;
};

/* arch_switch: what fpu.c does with the plan, step by step. */
static void model_switch(struct model *m, int next) {
    int prev = m->current;
    unsigned plan = x86_fpu_plan(m->has_fpu[prev], m->has_fpu[next]);

    if (plan & FPU_SAVE_PREV) {
        CHECK(!m->ts);
        m->area[prev] = m->regs;
    }
    if (plan & FPU_CLEAR_TS)
        m->ts = false;
    if (plan & FPU_LOAD_NEXT) {
        CHECK(!m->ts);
        m->regs = m->area[next];
    }
    if (plan & FPU_LOAD_CLEAN) {
        CHECK(!m->ts);
        m->regs = CLEAN;
    }
    if (plan & FPU_SET_TS)
        m->ts = true;
    m->current = next;
}

/* The current task executes an FP instruction that writes its registers:
 * first #NM if TS is set (x86_fpu_first_use), then it reads what is there. */
static int model_use(struct model *m) {
    int t = m->current;
    if (m->ts) {
        REQUIRE(!m->has_fpu[t]);
        m->has_fpu[t] = true;
        m->ts = false;
    }
    int seen = m->regs;
    m->regs = t;
    return seen;
}

static void check_invariants(struct model *m) {
    int t = m->current;
    CHECK(m->regs == CLEAN || m->regs == t);
    CHECK_EQ(m->ts, !m->has_fpu[t]);
    if (!m->has_fpu[t])
        CHECK_EQ(m->regs, CLEAN);
    for (int i = 0; i < NTASKS; i++)
        CHECK(m->area[i] == CLEAN || m->area[i] == i);
}

static struct model model_boot(void) {
    struct model m = { .regs = CLEAN, .ts = true, .current = 0 };
    for (int i = 0; i < NTASKS; i++)
        m.area[i] = CLEAN;
    return m;
}

TEST(fpu_plan_no_fp_state_no_work) {
    CHECK_EQ(x86_fpu_plan(false, false), 0);
}

TEST(fpu_plan_each_case) {
    CHECK_EQ(x86_fpu_plan(true, true), FPU_SAVE_PREV | FPU_LOAD_NEXT);
    CHECK_EQ(x86_fpu_plan(false, true), FPU_CLEAR_TS | FPU_LOAD_NEXT);
    CHECK_EQ(x86_fpu_plan(true, false), FPU_SAVE_PREV | FPU_LOAD_CLEAN | FPU_SET_TS);
}

TEST(fpu_plan_first_use_after_another_task_sees_clean_registers) {
    struct model m = model_boot();
    CHECK_EQ(model_use(&m), CLEAN);          /* task 0 fills the registers */
    model_switch(&m, 1);
    CHECK_EQ(model_use(&m), CLEAN);          /* task 1's first use */
    model_switch(&m, 0);
    CHECK_EQ(model_use(&m), 0);              /* task 0 gets its own back */
}

TEST(fpu_plan_random_schedules_keep_state_private) {
    srand(1);
    for (int run = 0; run < 200; run++) {
        struct model m = model_boot();
        for (int step = 0; step < 200; step++) {
            if (rand() % 3 == 0) {
                int t = m.current;
                int seen = model_use(&m);
                CHECK(seen == CLEAN || seen == t);
            } else {
                model_switch(&m, rand() % NTASKS);
            }
            check_invariants(&m);
        }
    }
}
