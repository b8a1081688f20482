/*
 * task.c - the task table: creating a task (address space, message buffer,
 * stack), starting it, and killing it (the kernel and the other tasks go
 * on; its channels close and its memory is freed).
 */
#include "channel.h"

struct task tasks[CONFIG_MAX_TASKS];
static uint8_t kstacks[CONFIG_MAX_TASKS][ARCH_KSTACK_SIZE]
    __attribute__((aligned(16)));

struct task *task_lookup(int tid) {
    if (tid < 1 || tid > CONFIG_MAX_TASKS)
        return NULL;
    struct task *t = &tasks[tid - 1];
    return t->state ? t : NULL;
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

/* A stopped task with a message buffer and a stack; no program yet. */
struct task *task_create(const char *name, int prio, unsigned caps) {
    struct task *t = alloc_slot();
    if (!t)
        return NULL;
    int tid = (int)(t - tasks) + 1;
    memset(t, 0, sizeof(*t));
    t->tid = tid;
    t->kstack = kstacks[tid - 1];
    sched_init_stack(t);
    t->prio = prio < 0 ? 0 : (prio >= NUM_PRIORITIES ? NUM_PRIORITIES - 1 : prio);
    t->caps = caps;
    strlcpy_k(t->name, name, sizeof(t->name));
    t->page_recv_next = ARCH_PAGE_RECV_BASE;
    if (arch_vm_init(&t->vm) < 0)
        return NULL;
    t->state = TASK_STATE_STOPPED;

    uintptr_t addr;
    bool ok = task_map_new_page(t, ARCH_MSGBUF_ADDR, VM_WRITE) == 0;
    for (addr = ARCH_STACK_TOP - ARCH_STACK_SIZE; ok && addr < ARCH_STACK_TOP;
         addr += PAGE_SIZE)
        ok = task_map_new_page(t, addr, VM_WRITE) == 0;
    if (!ok) {
        task_kill(t, TASK_STATE_KILLED, NULL);
        t->state = 0;
        return NULL;
    }
    uintptr_t paddr;
    unsigned attrs;
    arch_vm_lookup(&t->vm, ARCH_MSGBUF_ADDR, &paddr, &attrs);
    t->msgbuf = arch_phys_to_virt(paddr);
    t->ipc_buf = t->msgbuf;

    struct nagi_bootinfo *bi =
        (struct nagi_bootinfo *)((uint8_t *)t->msgbuf + BOOTINFO_OFFSET);
    bi->tid = (uint64_t)tid;
    bi->heap_base = ARCH_HEAP_BASE;
    bi->heap_size = ARCH_HEAP_SIZE;
    bi->stack_top = ARCH_STACK_TOP;
    strlcpy_k(bi->name, t->name, sizeof(bi->name));
    return t;
}

void task_start(struct task *t) {
    if (t->state == TASK_STATE_STOPPED) {
        t->state = TASK_STATE_RUNNABLE;
        sched_enqueue(t);
    }
}

/* Stop t for good. why != NULL: report it on the console. If t is the
 * current task this does not return. */
void task_kill(struct task *t, int state, const char *why) {
    if (why)
        printk("nagi: task %d (%s) killed: %s\n", t->tid, t->name, why);
    ipc_forget(t);
    sched_dequeue(t);
    channel_close_all(t);
    arch_vm_destroy(&t->vm, page_free);
    t->pages = 0;
    t->msgbuf = t->ipc_buf = NULL;
    t->state = state;
    if (t == current)
        sched_block(state);
}
