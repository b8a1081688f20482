/*
 * task.c - the task table: creating a task (an address space, then a
 * program from one of the loaders), starting it, and killing it (the kernel and the other tasks go
 * on; its channels close and its memory is freed).
 */
#include "channel.h"

struct task tasks[CONFIG_MAX_TASKS];

/* The task named by tid, or NULL: an out-of-range slot, a free slot, or a
 * tid of an earlier task of that slot (stale: its generation differs). */
struct task *task_lookup(int tid) {
    int slot = tid & TID_SLOT_MASK;
    if (tid < 1 || slot < 1 || slot > CONFIG_MAX_TASKS)
        return NULL;
    struct task *t = &tasks[slot - 1];
    return t->state && t->tid == tid ? t : NULL;
}

static bool is_dead(struct task *t) {
    return t->state == TASK_STATE_KILLED || t->state == TASK_STATE_EXITED;
}

/* A free slot, else the oldest dead task's slot. */
static struct task *alloc_slot(void) {
    for (int i = 0; i < CONFIG_MAX_TASKS; i++)
        if (!tasks[i].state)
            return &tasks[i];
    for (int i = 0; i < CONFIG_MAX_TASKS; i++)
        if (is_dead(&tasks[i]) && &tasks[i] != current)
            return &tasks[i];
    return NULL;
}

/* Map a fresh zeroed page at vaddr in t. */
int task_map_new_page(struct task *t, uintptr_t vaddr, unsigned attrs) {
    uintptr_t page = page_alloc();
    if (!page)
        return -E_NOMEM;
    int err = arch_vm_map(&t->vm, vaddr, page, attrs | VM_USER);
    if (err < 0) {
        page_free(page);
        return err;
    }
    t->pages++;
    return 0;
}

/* A stopped task with an empty address space; task_load gives it a
 * program (with its message buffer and stacks). name must outlive the
 * task unless task_load replaces it. NULL if prio is not 0..
 * NUM_PRIORITIES-1 (the kernel server answers -E_INVAL before) or no slot
 * is free. */
struct task *task_create(const char *name, int prio, unsigned caps) {
    if (prio < 0 || prio >= NUM_PRIORITIES)
        return NULL;
    struct task *t = alloc_slot();
    if (!t)
        return NULL;
    int slot = (int)(t - tasks) + 1;
    /* A used slot's next task gets the next generation (0 again after
     * TID_GEN_MAX: a tid recurs only after that many reuses of a slot). */
    int gen = t->tid ? ((t->tid >> TID_SLOT_BITS) + 1) & TID_GEN_MAX : 0;
    memset(t, 0, sizeof(*t));
    t->tid = slot | (gen << TID_SLOT_BITS);
    t->creator = current ? current->tid : 0;
    t->prio = (int8_t)prio;
    t->caps = caps;
    t->name = name;
    t->page_recv_next = ARCH_PAGE_RECV_BASE;
    if (arch_vm_init(&t->vm) < 0)
        return NULL;
    t->state = TASK_STATE_STOPPED;
    return t;
}

/* Give the stopped task t the program `file`, started with arg. On error
 * the caller destroys t (task_kill + free slot). */
int task_load(struct task *t, const char *file, uint64_t arg) {
    int err = ARCH_HAS_PAGING ? image_load_elf(t, file, arg)
                              : image_load_table(t, file, arg);
    if (err == 0)
        sched_init_stack(t);
    return err;
}

void task_start(struct task *t) {
    if (t->state == TASK_STATE_STOPPED) {
        t->state = TASK_STATE_RUNNABLE;
        sched_enqueue(t);
    }
}

/* Tasks t created and never started die with it: no one else holds
 * their tid to start them, and they would keep a slot and memory. */
static void reclaim_unstarted(struct task *t) {
    for (int i = 0; i < CONFIG_MAX_TASKS; i++) {
        struct task *c = &tasks[i];
        if (c != t && c->state == TASK_STATE_STOPPED && c->creator == t->tid)
            task_destroy(c);
    }
}

/* Stop t for good (a fault, KS_KILL, KS_EXIT). why != NULL: report it on
 * the console. The supervisor (unless t is its owner) gets
 * NOTIFY_TASK_DIED. If t is the current task this does not return. */
void task_kill(struct task *t, int state, const char *why) {
    if (why)
        printk("nagi: task %d (%s) killed: %s\n", t->tid, t->name, why);
    if (supervisor && supervisor->owner != t)
        ipc_notify(supervisor->transfer_to, NOTIFY_TASK_DIED);
    ipc_forget(t);
    sched_dequeue(t);
    channel_close_all(t);
    arch_vm_destroy(&t->vm, page_free);
    t->pages = 0;
    t->dma_pages = 0;   /* its DMA pages went back to the pool with the space */
    t->msgbuf = t->ipc_buf = NULL;
    t->state = state;
    reclaim_unstarted(t);
    if (t == current)
        sched_block(state);
}

/* Undo a task that never ran (a failed creation, or one its creator never
 * started): everything freed and the slot free again, with no report. */
void task_destroy(struct task *t) {
    task_kill(t, TASK_STATE_KILLED, NULL);
    t->state = 0;
}
