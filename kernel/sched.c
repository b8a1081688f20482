/*
 * sched.c - preemptive round-robin scheduling with priorities: one FIFO
 * run queue per priority, a time slice of CONFIG_TIMESLICE_MS, direct
 * hand-off for IPC, and the idle thread when nothing is runnable.
 */
#include "task.h"

#define KSTACK_CANARY 0x4e4147494e414749ull   /* "NAGINAGI" */

struct task *current;
static struct task idle_task;
static struct task *rq_head[NUM_PRIORITIES], *rq_tail[NUM_PRIORITIES];
/* The boot stack of ports that boot on it (arm-m); the idle thread is the
 * boot context once sched_start has run. */
uint8_t sched_idle_stack[ARCH_KSTACK_SIZE] __attribute__((aligned(16)));
static const int slice_ticks =
    (CONFIG_TIMESLICE_MS * CONFIG_TICK_HZ + 999) / 1000;

void sched_enqueue(struct task *t) {
    if (t->on_runqueue || t == &idle_task)
        return;
    t->rq_next = NULL;
    if (rq_tail[t->prio])
        rq_tail[t->prio]->rq_next = t;
    else
        rq_head[t->prio] = t;
    rq_tail[t->prio] = t;
    t->on_runqueue = true;
}

void sched_dequeue(struct task *t) {
    if (!t->on_runqueue)
        return;
    struct task **pp = &rq_head[t->prio], *prev = NULL;
    while (*pp != t) {
        prev = *pp;
        pp = &(*pp)->rq_next;
    }
    *pp = t->rq_next;
    if (rq_tail[t->prio] == t)
        rq_tail[t->prio] = prev;
    t->on_runqueue = false;
}

static struct task *pick_next(void) {
    for (int p = 0; p < NUM_PRIORITIES; p++) {
        struct task *t = rq_head[p];
        if (t) {
            sched_dequeue(t);
            return t;
        }
    }
    return &idle_task;
}

/* Kernel stacks are 8-aligned (their canary is read as one word). */
void sched_check_canary(struct task *t) {
    if (*(const uint64_t *)(const void *)t->kstack != KSTACK_CANARY)
        panic("kernel stack overflow in task %d (%s)", t->tid, t->name);
}

void sched_init_stack(struct task *t) {
    *(uint64_t *)(void *)t->kstack = KSTACK_CANARY;
}

static void switch_to(struct task *next) {
    struct task *prev = current;
    if (next == prev)
        return;
    sched_check_canary(prev);
    sched_check_canary(next);
    if (next->slice <= 0)
        next->slice = slice_ticks;
    current = next;
    arch_switch(prev, next);
}

/* current cannot go on (blocked, killed, exited): run someone else. */
void sched_block(int state) {
    current->state = state;
    switch_to(pick_next());
}

/* Hand the CPU straight to next, a task an IPC just completed for. */
void sched_switch_to(struct task *next, int state) {
    current->state = state;
    next->state = TASK_STATE_RUNNABLE;
    switch_to(next);
}

void sched_wake(struct task *t, long result) {
    t->ipc_result = result;
    t->state = TASK_STATE_RUNNABLE;
    sched_enqueue(t);
}

void sched_yield(void) {
    if (current != &idle_task && current->state == TASK_STATE_RUNNABLE) {
        current->slice = slice_ticks;
        sched_enqueue(current);
    }
    switch_to(pick_next());
}

/* After an interrupt: give the CPU to a more urgent task, if any. */
void sched_preempt_check(void) {
    int limit = current == &idle_task ? NUM_PRIORITIES : current->prio;
    for (int p = 0; p < limit; p++) {
        if (rq_head[p]) {
            sched_yield();
            return;
        }
    }
}

void sched_tick(void) {
    if (current == &idle_task)
        return;
    current->cpu_ticks++;
    if (--current->slice <= 0)
        sched_yield();
}

static void idle_loop(void) {
    for (;;) {
        arch_idle();
        sched_preempt_check();
    }
}

void sched_init(void) {
    idle_task.kstack = sched_idle_stack;
    idle_task.kstack_size = ARCH_KSTACK_SIZE;
    idle_task.tid = 0;
    idle_task.prio = NUM_PRIORITIES - 1;
    idle_task.state = TASK_STATE_RUNNABLE;
    idle_task.name = "idle";
    sched_init_stack(&idle_task);
    arch_kthread_init(&idle_task, idle_loop);
    current = &idle_task;
}

/* The first switch saves the boot context as the idle thread's: when
 * nothing else is runnable, the boot code goes on here as the idle loop. */
_Noreturn void sched_start(void) {
    struct task *first = pick_next();
    current = first;
    first->slice = slice_ticks;
    arch_switch(&idle_task, first);
    idle_loop();
    panic("idle loop returned");
}
