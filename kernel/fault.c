/*
 * fault.c - what happens when a task faults in user mode: a page fault in
 * its heap goes to its pager as a message (the kernel itself serves heap
 * faults of tasks that have no pager, such as init and the pager); any
 * other fault kills the task and is reported on the console.
 */
#include "channel.h"

struct channel *supervisor;   /* KS_SUPERVISE; cleared when it closes;
                                 task_kill notifies it */

static bool in_heap(uintptr_t addr) {
    return addr >= ARCH_HEAP_BASE && addr < ARCH_HEAP_BASE + ARCH_HEAP_SIZE;
}

static void kill_current(const char *what, uintptr_t addr) {
    char why[96];
    static const char hex[] = "0123456789abcdef";
    size_t n = strnlen(what, 60);
    memcpy(why, what, n);
    memcpy(why + n, " at 0x", 6);
    n += 6;
    for (int shift = (int)sizeof(addr) * 8 - 4; shift >= 0; shift -= 4)
        why[n++] = hex[(addr >> shift) & 0xf];
    why[n] = '\0';
    task_kill(current, TASK_STATE_KILLED, why);
}

#if ARCH_HAS_PAGING
/* Ask t's pager for the page at addr; the reply maps it. 0 or -error. */
static long call_pager(struct task *t, uintptr_t page, unsigned flags) {
    struct nagi_msg *m = &t->fault_msg;
    struct page_fault_msg data = { .tid = (uint64_t)t->tid, .addr = page, .flags = flags };

    memset(m, 0, MSG_HEADER_SIZE);
    m->label = LABEL_PAGE_FAULT;
    m->flags = MSG_KERNEL;
    m->len = sizeof(data);
    memcpy(m->data, &data, sizeof(data));
    t->ipc_buf = m;
    t->fault_addr = page;
    long err = ipc(t, t->pager, IPC_CALL);
    t->ipc_buf = t->msgbuf;
    t->fault_addr = 0;
    if (err == 0 && !(m->flags & MSG_PAGE))
        err = -E_FAULT;
    return err;
}
#else
static long call_pager(struct task *t UNUSED, uintptr_t page UNUSED,
                       unsigned flags UNUSED) {
    return -E_NOTSUP;
}
#endif

void kernel_user_fault(bool is_memory, uintptr_t addr, unsigned flags,
                       const char *reason) {
    struct task *t = current;
    uintptr_t page = ALIGN_DOWN(addr, PAGE_SIZE);

    if (!is_memory)
        kill_current(reason, addr);
    else if (addr < 16 * PAGE_SIZE)
        kill_current("null pointer access", addr);
    else if (addr < ARCH_USER_BASE || addr >= ARCH_USER_END)
        kill_current("touched kernel memory", addr);
    else if (flags & FAULT_PRESENT)
        kill_current((flags & FAULT_WRITE) ? "write to a read-only page"
                                           : "access not allowed", addr);
    else if (!t->pager) {
        if (!in_heap(addr) || task_map_new_page(t, page, VM_WRITE) < 0)
            kill_current("page fault outside the heap", addr);
    } else if (t->pager->linked && t->pager->linked->transfer_to->owner == t) {
        /* Its pager channel leads back to itself (a creator may hand a
         * child both ends): the fault would wait for its own reply for
         * good, holding its slot and memory. */
        kill_current("its pager is itself", addr);
    } else if (call_pager(t, page, flags) < 0) {
        kill_current("pager refused page fault", addr);
    }
}
