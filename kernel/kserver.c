/*
 * kserver.c - the kernel server: the services a task reaches by an
 * IPC_CALL on KERNEL_CID (creating tasks, memory, IRQs, I/O ports, timers,
 * information). Each request is served at once; the reply overwrites the
 * caller's message with .arg = result or -error.
 */
#include "channel.h"
#include "dma.h"

/* What KS_MMIO answers: where the registers are mapped (paging ports) or
 * 0 (they are at their physical address). */
#ifndef ARCH_MMIO_VADDR
#define ARCH_MMIO_VADDR(b) 0
#endif

/* One request being served: the caller, its message and the request's
 * data copied out of the message as the label's struct (zero-filled past
 * the bytes sent; the table below refused it if shorter than min_len). */
struct request {
    struct task *t;
    struct nagi_msg *m;
    union {
        struct ks_create_task_req create;
        struct ks_tid_req tid;
        struct ks_exit_req exit;
        struct ks_alloc_page_req alloc_page;
        struct ks_free_page_req free_page;
        struct ks_listen_irq_req listen_irq;
        struct ks_ioport_req ioport;
        struct ks_timer_req timer;
        struct ks_task_info_req task_info;
        struct ks_mmio_req mmio;
        struct ks_supervise_req supervise;
        struct ks_dma_alloc_req dma_alloc;
    } u;
};

/* A task created but not started yet, or NULL. */
static struct task *stopped_task(uint32_t tid) {
    struct task *c = task_lookup((int)tid);
    return c && c->state == TASK_STATE_STOPPED ? c : NULL;
}

/* Move the request's channel payload into task `to`; its new channel. */
static struct channel *take_channel(struct request *r, struct task *to, long *err) {
    struct channel *ch;
    if (!(r->m->flags & MSG_CHANNEL) || !(ch = channel_get(r->t, r->m->channel))) {
        *err = -E_BADCH;
        return NULL;
    }
    if (!channel_has_free_slot(to)) {
        *err = -E_NOMEM;
        return NULL;
    }
    channel_move(ch, to);
    return ch;
}

/* The handlers: called by kserver_call once the table's checks passed
 * (capability, paging, length); each returns the result or -error. */

static long ks_create_task(struct request *r) {
    const struct ks_create_task_req *q = &r->u.create;
    unsigned name_len = r->m->len - offsetof(struct ks_create_task_req, name);
    char name[TASK_NAME_MAX];
    long err = 0;

    if (name_len >= TASK_NAME_MAX)
        return -E_INVAL;
    if (q->caps & ~r->t->caps)
        return -E_PERM;
    if ((r->m->flags & MSG_CHANNEL) && !channel_get(r->t, r->m->channel))
        return -E_BADCH;
    if (q->prio >= NUM_PRIORITIES)
        return -E_INVAL;
    memcpy(name, q->name, name_len);
    name[name_len] = '\0';
    struct task *c = task_create(name, (int)q->prio, q->caps);
    if (!c)
        return -E_NOMEM;
    /* One way out for every failure after this point: the half-made task
     * is destroyed (memory, slot), and the caller keeps its channel. */
    if ((err = task_load(c, name, q->arg)) < 0 ||
        ((r->m->flags & MSG_CHANNEL) && !take_channel(r, c, &err))) {
        task_destroy(c);
        return err;
    }
    return c->tid;
}

static long ks_set_pager(struct request *r) {
    long err = 0;
    struct task *c = stopped_task(r->u.tid.tid);
    if (!c)
        return -E_NOENT;
    struct channel *ch = take_channel(r, c, &err);
    if (!ch)
        return err;
    c->pager = ch;
    return 0;
}

static long ks_start_task(struct request *r) {
    struct task *c = stopped_task(r->u.tid.tid);
    if (!c)
        return -E_NOENT;
    task_start(c);
    return 0;
}

static long ks_exit(struct request *r) {
    task_kill(r->t, TASK_STATE_EXITED, NULL);
    return 0;   /* not reached */
}

static long ks_kill(struct request *r) {
    struct task *c = task_lookup((int)r->u.tid.tid);
    if (!c || c->state == TASK_STATE_KILLED || c->state == TASK_STATE_EXITED)
        return -E_NOENT;
    if (c == r->t)
        return -E_INVAL;
    task_kill(c, TASK_STATE_KILLED, "killed on request");
    return 0;
}

static long ks_alloc_page(struct request *r) {
    uint64_t vaddr = r->u.alloc_page.vaddr;
    if (!IS_ALIGNED(vaddr, PAGE_SIZE))
        return -E_INVAL;
    if (vaddr < ARCH_USER_BASE || vaddr >= ARCH_USER_END)
        return -E_FAULT;
    return task_map_new_page(r->t, vaddr, VM_WRITE);
}

/* The caller's channel `cid` into *ch, or -E_BADCH. */
static long own_channel(struct request *r, int32_t cid, struct channel **ch) {
    return (*ch = channel_get(r->t, cid)) ? 0 : -E_BADCH;
}

/* A page of the caller's own, unmapped and freed: a page payload it did
 * not ask for (servers drop them) or heap it gives back. */
static long ks_free_page(struct request *r) {
    uint64_t vaddr = r->u.free_page.vaddr;
    uintptr_t paddr;
    unsigned attrs;
    if (!IS_ALIGNED(vaddr, PAGE_SIZE))
        return -E_INVAL;
    if (vaddr < ARCH_USER_BASE || vaddr >= ARCH_USER_END || vaddr == ARCH_MSGBUF_ADDR ||
        arch_vm_lookup(&r->t->vm, vaddr, &paddr, &attrs) < 0 || !(attrs & VM_USER) ||
        (attrs & VM_DEVICE))
        return -E_FAULT;
    paddr = arch_vm_unmap(&r->t->vm, vaddr);
    if (dma_owns(paddr))
        r->t->dma_pages--;
    page_free(paddr);
    r->t->pages--;
    uintptr_t recv_base = ARCH_PAGE_RECV_BASE;   /* 0 without paging (never here) */
    if (vaddr >= recv_base && vaddr < r->t->page_recv_next)
        r->t->page_recv_next = vaddr;   /* the slot serves the next page */
    return 0;
}

static long ks_listen_irq(struct request *r) {
    struct channel *ch;
    long err = own_channel(r, r->u.listen_irq.cid, &ch);
    return err < 0 ? err : irq_listen(r->u.listen_irq.irq, ch);
}

static long ks_ioport(struct request *r) {
    return arch_ioport_grant(r->t, r->u.ioport.base, r->u.ioport.count);
}

static long ks_mmio(struct request *r) {
    long err = arch_mmio_grant(&r->t->vm, r->u.mmio.base, r->u.mmio.size);
    return err < 0 ? err : (long)ARCH_MMIO_VADDR((uintptr_t)r->u.mmio.base);
}

/* Contiguous pages for a device's DMA, mapped at the caller's vaddr (a
 * user range with nothing mapped yet), bounded per request and per task;
 * arg = their physical address. They are the task's pages: freed when it
 * dies, or one by one by KS_FREE_PAGE. */
static long ks_dma_alloc(struct request *r) {
    uint64_t vaddr = r->u.dma_alloc.vaddr, n = r->u.dma_alloc.pages;
    struct task *t = r->t;
    if (n == 0 || n > DMA_ALLOC_MAX_PAGES || !IS_ALIGNED(vaddr, PAGE_SIZE) ||
        r->u.dma_alloc.flags)
        return -E_INVAL;
    if (vaddr < ARCH_USER_BASE || vaddr >= ARCH_USER_END ||
        ARCH_USER_END - vaddr < n * PAGE_SIZE)
        return -E_FAULT;
    for (uint64_t i = 0; i < n; i++) {
        uintptr_t pa;
        unsigned attrs;
        if (arch_vm_lookup(&t->vm, vaddr + i * PAGE_SIZE, &pa, &attrs) == 0)
            return -E_BUSY;
    }
    if (t->dma_pages + n > DMA_TASK_MAX_PAGES)
        return -E_NOMEM;
    uintptr_t paddr = dma_alloc(n);
    if (!paddr)
        return -E_NOMEM;
    for (uint64_t i = 0; i < n; i++) {
        int err = arch_vm_map(&t->vm, vaddr + i * PAGE_SIZE, paddr + i * PAGE_SIZE,
                              VM_USER | VM_WRITE);
        if (err < 0) {   /* out of page-table pages: undo all of it */
            for (uint64_t j = 0; j < i; j++)
                arch_vm_unmap(&t->vm, vaddr + j * PAGE_SIZE);
            for (uint64_t j = 0; j < n; j++)
                page_free(paddr + j * PAGE_SIZE);
            return err;
        }
    }
    t->pages += n;
    t->dma_pages += (uint32_t)n;
    return (long)paddr;
}

static long ks_supervise(struct request *r) {
    struct channel *ch;
    long err = own_channel(r, r->u.supervise.cid, &ch);
    /* One supervisor: another CAP_TASK task cannot take the role (and the
     * death reports) from the one that holds it. */
    if (err == 0 && supervisor && supervisor->owner != r->t)
        err = -E_BUSY;
    if (err == 0)
        supervisor = ch;
    return err;
}

static long ks_timer(struct request *r) {
    struct channel *ch;
    long err = own_channel(r, r->u.timer.cid, &ch);
    if (err == 0)
        timer_set(ch, r->u.timer.ms);
    return err;
}

static long ks_uptime(struct request *r UNUSED) {
    return (long)uptime_ms();
}

static long ks_task_info(struct request *r) {
    uint32_t index = r->u.task_info.index, seen = 0;
    for (int i = 0; i < CONFIG_MAX_TASKS; i++) {
        struct task *t = &tasks[i];
        if (!t->state || seen++ != index)
            continue;
        struct ks_task_info info = {
            .tid = (uint32_t)t->tid, .state = (uint32_t)t->state,
            .prio = (uint32_t)t->prio, .pages = t->pages, .cpu_ticks = t->cpu_ticks,
        };
        for (int c = 0; c < CONFIG_TASK_CHANNELS; c++)
            info.channels += t->channels[c] != NULL;
        strlcpy_k(info.name, t->name, sizeof(info.name));
        memcpy(r->m->data, &info, sizeof(info));
        r->m->len = sizeof(info);
        return 0;
    }
    return -E_NOENT;
}

/* Pages of PAGE_SIZE bytes. Without paging: RAM, its part no running task
 * occupies, and the kernel's static RAM. */
static long ks_mem_info(struct request *r) {
    struct ks_mem_info info = {
        .total_pages = page_total_count(), .free_pages = page_free_count(),
        .kernel_pages = (uint64_t)(__kernel_end - __kernel_start + PAGE_SIZE - 1) / PAGE_SIZE,
        .page_size = PAGE_SIZE,
    };
    if (!ARCH_HAS_PAGING) {
        uint64_t ram = ARCH_RAM_BYTES;
        uint64_t taken = info.kernel_pages * PAGE_SIZE + image_table_ram_in_use();
        info.total_pages = ram / PAGE_SIZE;
        info.free_pages = ram > taken ? (ram - taken) / PAGE_SIZE : 0;
    }
    memcpy(r->m->data, &info, sizeof(info));
    r->m->len = sizeof(info);
    return 0;
}

static long ks_ipc_info(struct request *r) {
    struct ks_ipc_info info = {
        .messages = (uint64_t)ipc_counts.messages + ipc_counts.fastpath,
        .fastpath = ipc_counts.fastpath,
        .notifications = ipc_counts.notifications,
        .kernel_calls = ipc_counts.kernel_calls,
    };
    memcpy(r->m->data, &info, sizeof(info));
    r->m->len = sizeof(info);
    return 0;
}

static long ks_yield(struct request *r UNUSED) {
    sched_yield();
    return 0;
}

/* The supervisor stops the system (a critical task died): the reason is
 * the request's text, printed as given (bounded, non-printing bytes
 * shown as '?'). */
static long ks_halt(struct request *r) {
    char why[65];
    unsigned n = MIN((unsigned)r->m->len, (unsigned)sizeof(why) - 1);
    for (unsigned i = 0; i < n; i++) {
        uint8_t c = r->m->data[i];
        why[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    why[n] = '\0';
    printk("nagi: system halted by task %d (%s): %s\n", r->t->tid, r->t->name, why);
    arch_halt();
}

static long ks_panic(struct request *r UNUSED) {
#ifdef CONFIG_DEBUG_COMMANDS
    panic("requested by task %d (%s)", r->t->tid, r->t->name);
#endif
    return -E_PERM;
}

/* Every label: what the caller needs, how long the request must be, who
 * serves it. Checked in this order by kserver_call: capability (-E_PERM),
 * paging (-E_NOTSUP), length (-E_INVAL). */
#define KS_OP(label, cap, min_len, flags, fn) \
    [(label) - KS_FIRST] = { (cap), (min_len), (flags), (fn) }

const struct ks_op ks_ops[KS_OP_COUNT] = {
    KS_OP(KS_CREATE_TASK, CAP_TASK, offsetof(struct ks_create_task_req, name) + 1, 0,
          ks_create_task),
    KS_OP(KS_SET_PAGER, CAP_TASK, sizeof(struct ks_tid_req), KS_NEEDS_PAGING, ks_set_pager),
    KS_OP(KS_START_TASK, CAP_TASK, sizeof(struct ks_tid_req), 0, ks_start_task),
    KS_OP(KS_EXIT, 0, 0, KS_NO_REPLY, ks_exit),
    KS_OP(KS_KILL, CAP_TASK, sizeof(struct ks_tid_req), 0, ks_kill),
    KS_OP(KS_ALLOC_PAGE, CAP_MEMORY, sizeof(struct ks_alloc_page_req), KS_NEEDS_PAGING,
          ks_alloc_page),
    KS_OP(KS_LISTEN_IRQ, CAP_IRQ, sizeof(struct ks_listen_irq_req), 0, ks_listen_irq),
    KS_OP(KS_IOPORT, CAP_IO, sizeof(struct ks_ioport_req), 0, ks_ioport),
    KS_OP(KS_TIMER, 0, sizeof(struct ks_timer_req), 0, ks_timer),
    KS_OP(KS_UPTIME, 0, 0, 0, ks_uptime),
    KS_OP(KS_TASK_INFO, 0, sizeof(struct ks_task_info_req), KS_REPLY_DATA, ks_task_info),
    KS_OP(KS_MEM_INFO, 0, 0, KS_REPLY_DATA, ks_mem_info),
    KS_OP(KS_PANIC, 0, 0, 0, ks_panic),
    KS_OP(KS_YIELD, 0, 0, 0, ks_yield),
    KS_OP(KS_MMIO, CAP_IO, sizeof(struct ks_mmio_req), 0, ks_mmio),
    KS_OP(KS_SUPERVISE, CAP_TASK, sizeof(struct ks_supervise_req), 0, ks_supervise),
    KS_OP(KS_FREE_PAGE, 0, sizeof(struct ks_free_page_req), KS_NEEDS_PAGING, ks_free_page),
    KS_OP(KS_HALT, CAP_TASK, 0, 0, ks_halt),
    KS_OP(KS_DMA_ALLOC, CAP_IO, sizeof(struct ks_dma_alloc_req), KS_NEEDS_PAGING,
          ks_dma_alloc),
    KS_OP(KS_IPC_INFO, 0, 0, KS_REPLY_DATA, ks_ipc_info),
};

/* The table entry of `label`, or NULL for a label no one serves. */
const struct ks_op *kserver_op(unsigned label) {
    if (label < KS_FIRST || label - KS_FIRST >= KS_OP_COUNT || !ks_ops[label - KS_FIRST].fn)
        return NULL;
    return &ks_ops[label - KS_FIRST];
}

/* Check r's request against its table entry and serve it. */
static long serve(struct request *r, const struct ks_op *op) {
    if (!op)
        return -E_NOSYS;
    if ((r->t->caps & op->cap) != op->cap)
        return -E_PERM;
    if ((op->flags & KS_NEEDS_PAGING) && !ARCH_HAS_PAGING)
        return -E_NOTSUP;
    if (r->m->len < op->min_len)
        return -E_INVAL;
    /* Copy out the bytes sent (at most the union's size); the rest stays 0. */
    memset(&r->u, 0, sizeof(r->u));
    memcpy(&r->u, r->m->data, MIN((size_t)r->m->len, sizeof(r->u)));
    return op->fn(r);
}

/* Serve t's IPC_CALL on KERNEL_CID. Returns the syscall result. */
long kserver_call(struct task *t, unsigned flags) {
    struct request r = { .t = t, .m = t->ipc_buf };

    if (flags != IPC_CALL)
        return -E_INVAL;
    if (r.m->len > MSG_INLINE_MAX)
        return -E_TOOBIG;
    ipc_counts.kernel_calls++;
    const struct ks_op *op = kserver_op(r.m->label);
    long result = serve(&r, op);
    if (op && (op->flags & KS_NO_REPLY))
        return 0;   /* not reached on a real kernel */
    if (result < 0 || !op || !(op->flags & KS_REPLY_DATA))
        r.m->len = 0;
    r.m->flags = 0;
    r.m->from = KERNEL_CID;
    r.m->arg = (uint64_t)result;
    return 0;
}
