/*
 * test_sched.c - the scheduler (kernel/sched.c): priorities, round robin
 * after the time slice, preemption and the kernel stack canary.
 */
#include "kt.h"

static struct task *started(const char *name, int prio) {
    struct task *t = task_create(name, prio, 0);
    REQUIRE(t != NULL);
    REQUIRE(elf_prepare_task(t, name) == 0);
    sched_init_stack(t);
    task_start(t);
    CHECK_EQ(t->state, TASK_STATE_RUNNABLE);
    CHECK(t->on_runqueue);
    return t;
}

TEST(sched_runs_the_highest_priority_first) {
    kt_boot();
    struct task *low = started("low", 5), *high = started("high", 1),
                *mid = started("mid", 3), *mid2 = started("mid2", 3);
    sched_yield();                                   /* from the boot context */
    CHECK(current == high);
    CHECK(host_switch_next == high);
    CHECK(!high->on_runqueue);
    sched_block(TASK_STATE_BLOCKED_RECV);
    CHECK(current == mid);
    sched_block(TASK_STATE_BLOCKED_RECV);
    CHECK(current == mid2);
    sched_block(TASK_STATE_BLOCKED_RECV);
    CHECK(current == low);
    sched_block(TASK_STATE_BLOCKED_RECV);
    CHECK_EQ(current->tid, 0);                       /* idle */
    CHECK_STR(current->name, "idle");
    CHECK(current->arch.kthread != NULL);
}

TEST(sched_round_robin_within_a_priority_after_the_slice) {
    kt_boot();
    struct task *a = started("a", 4), *b = started("b", 4), *c = started("c", 4);
    sched_yield();
    REQUIRE(current == a);
    /* 20 ms at 100 Hz: a slice is 2 ticks. */
    kernel_timer_tick();
    CHECK(current == a);
    kernel_timer_tick();
    CHECK(current == b);
    CHECK(a->on_runqueue);
    kernel_timer_tick();
    kernel_timer_tick();
    CHECK(current == c);
    kernel_timer_tick();
    kernel_timer_tick();
    CHECK(current == a);
    CHECK_EQ(a->cpu_ticks, 2);
    CHECK_EQ(b->cpu_ticks, 2);
    CHECK_EQ(c->cpu_ticks, 2);
    CHECK_EQ(ticks, 6);
}

TEST(sched_a_lower_priority_task_waits_for_a_busy_higher_one) {
    kt_boot();
    struct task *high = started("high", 2), *low = started("low", 6);
    sched_yield();
    REQUIRE(current == high);
    for (int i = 0; i < 10; i++)
        kernel_timer_tick();
    CHECK(current == high);
    CHECK_EQ(low->cpu_ticks, 0);
    CHECK(low->on_runqueue);
}

TEST(sched_wakeup_of_a_more_urgent_task_preempts_at_the_next_interrupt) {
    kt_boot();
    struct task *low = started("low", 6);
    sched_yield();
    REQUIRE(current == low);
    struct task *high = started("high", 1);
    CHECK(current == low);
    kernel_irq(9);                                   /* any interrupt */
    CHECK(current == high);
    CHECK(low->on_runqueue);
}

TEST(sched_wake_queues_at_the_tail) {
    kt_boot();
    struct task *a = started("a", 4), *b = kt_task("b", 4, 0);
    b->state = TASK_STATE_BLOCKED_RECV;
    sched_wake(b, -E_CLOSED);
    CHECK_EQ(b->ipc_result, -E_CLOSED);
    CHECK_EQ(b->state, TASK_STATE_RUNNABLE);
    sched_yield();
    CHECK(current == a);
    sched_block(TASK_STATE_BLOCKED_RECV);
    CHECK(current == b);
}

TEST(sched_dequeue_removes_from_the_middle) {
    kt_boot();
    struct task *a = started("a", 4), *b = started("b", 4), *c = started("c", 4);
    sched_dequeue(b);
    CHECK(!b->on_runqueue);
    sched_yield();
    CHECK(current == a);
    sched_block(TASK_STATE_BLOCKED_RECV);
    CHECK(current == c);
    sched_block(TASK_STATE_BLOCKED_RECV);
    CHECK_EQ(current->tid, 0);
}

TEST(sched_canary_overwrite_of_the_next_task_panics) {
    kt_boot();
    struct task *a = started("victim", 4);
    a->kstack[0] ^= 0xff;
    CHECK(HALTS(sched_yield()));
    CHECK(host_console_contains("PANIC: kernel stack overflow in task 1 (victim)"));
}

TEST(sched_canary_overwrite_of_the_current_task_panics) {
    kt_boot();
    struct task *a = started("a", 4);
    started("b", 4);
    sched_yield();
    REQUIRE(current == a);
    a->kstack[7] = 0;
    CHECK(HALTS(sched_block(TASK_STATE_BLOCKED_RECV)));
    CHECK(host_console_contains("kernel stack overflow in task 1 (a)"));
    CHECK(host_console_contains("current task: 1 (a)"));
}

TEST(sched_intact_canaries_do_not_panic) {
    kt_boot();
    struct task *a = started("a", 4);
    started("b", 4);
    a->kstack[8] = 0xff;                             /* past the canary */
    CHECK(!HALTS(sched_yield()));
    CHECK(!HALTS(sched_yield()));
    CHECK_EQ(host_halt_count, 0);
}
