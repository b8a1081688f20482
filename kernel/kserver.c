/*
 * kserver.c - the kernel server: the services a task reaches by an
 * IPC_CALL on KERNEL_CID (creating tasks, memory, IRQs, I/O ports, timers,
 * information). Each request is served at once; the reply overwrites the
 * caller's message with .arg = result or -error.
 */
#include "channel.h"

struct request {
    struct task *t;
    struct nagi_msg *m;
};

/* Little-endian fields of the request's data; out of range reads fail. */
static bool get32(struct request *r, unsigned off, uint32_t *v) {
    if (off + 4 > r->m->len)
        return false;
    memcpy(v, r->m->data + off, 4);
    return true;
}

static bool get64(struct request *r, unsigned off, uint64_t *v) {
    if (off + 8 > r->m->len)
        return false;
    memcpy(v, r->m->data + off, 8);
    return true;
}

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

static long ks_create_task(struct request *r) {
    uint32_t caps, prio;
    uint64_t arg;
    char name[TASK_NAME_MAX];
    long err = 0;

    if (!(r->t->caps & CAP_TASK))
        return -E_PERM;
    if (!get32(r, 0, &caps) || !get32(r, 4, &prio) || !get64(r, 8, &arg) ||
        r->m->len <= 16 || r->m->len - 16 >= TASK_NAME_MAX)
        return -E_INVAL;
    if (caps & ~r->t->caps)
        return -E_PERM;
    if ((r->m->flags & MSG_CHANNEL) && !channel_get(r->t, r->m->channel))
        return -E_BADCH;
    memcpy(name, r->m->data + 16, r->m->len - 16);
    name[r->m->len - 16] = '\0';
    struct task *c = task_create(name, (int)prio, caps);
    if (!c)
        return -E_NOMEM;
    if ((err = task_load(c, name, arg)) < 0) {
        task_kill(c, TASK_STATE_KILLED, NULL);
        c->state = 0;
        return err;
    }
    if ((r->m->flags & MSG_CHANNEL) && !take_channel(r, c, &err))
        return err;
    return c->tid;
}

static long ks_set_pager(struct request *r) {
    uint32_t tid;
    long err = 0;
    struct task *c;
    if (!(r->t->caps & CAP_TASK))
        return -E_PERM;
    if (!ARCH_HAS_PAGING)
        return -E_NOTSUP;
    if (!get32(r, 0, &tid) || !(c = stopped_task(tid)))
        return -E_NOENT;
    struct channel *ch = take_channel(r, c, &err);
    if (!ch)
        return err;
    c->pager = ch;
    return 0;
}

static long ks_start_task(struct request *r) {
    uint32_t tid;
    struct task *c;
    if (!(r->t->caps & CAP_TASK))
        return -E_PERM;
    if (!get32(r, 0, &tid) || !(c = stopped_task(tid)))
        return -E_NOENT;
    task_start(c);
    return 0;
}

static long ks_kill(struct request *r) {
    uint32_t tid;
    struct task *c;
    if (!(r->t->caps & CAP_TASK))
        return -E_PERM;
    if (!get32(r, 0, &tid) || !(c = task_lookup((int)tid)) ||
        c->state == TASK_STATE_KILLED || c->state == TASK_STATE_EXITED)
        return -E_NOENT;
    if (c == r->t)
        return -E_INVAL;
    task_kill(c, TASK_STATE_KILLED, "killed on request");
    return 0;
}

static long ks_alloc_page(struct request *r) {
    uint64_t vaddr;
    if (!(r->t->caps & CAP_MEMORY))
        return -E_PERM;
    if (!ARCH_HAS_PAGING)
        return -E_NOTSUP;
    if (!get64(r, 0, &vaddr) || !IS_ALIGNED(vaddr, PAGE_SIZE))
        return -E_INVAL;
    if (vaddr < ARCH_USER_BASE || vaddr >= ARCH_USER_END)
        return -E_FAULT;
    return task_map_new_page(r->t, vaddr, VM_WRITE);
}

static long ks_listen_irq(struct request *r) {
    uint32_t irq, cid;
    struct channel *ch;
    if (!(r->t->caps & CAP_IRQ))
        return -E_PERM;
    if (!get32(r, 0, &irq) || !get32(r, 4, &cid))
        return -E_INVAL;
    if (!(ch = channel_get(r->t, (int32_t)cid)))
        return -E_BADCH;
    return irq_listen(irq, ch);
}

static long ks_ioport(struct request *r) {
    uint32_t v;
    if (!(r->t->caps & CAP_IO))
        return -E_PERM;
    if (!get32(r, 0, &v))
        return -E_INVAL;
    return arch_ioport_grant(r->t, v & 0xffff, v >> 16);
}

static long ks_mmio(struct request *r) {
    uint32_t base, size;
    if (!(r->t->caps & CAP_IO))
        return -E_PERM;
    if (!get32(r, 0, &base) || !get32(r, 4, &size))
        return -E_INVAL;
    return arch_mmio_grant(&r->t->vm, base, size);
}

static long ks_supervise(struct request *r) {
    uint32_t cid;
    struct channel *ch;
    if (!(r->t->caps & CAP_TASK))
        return -E_PERM;
    if (!get32(r, 0, &cid))
        return -E_INVAL;
    if (!(ch = channel_get(r->t, (int32_t)cid)))
        return -E_BADCH;
    supervisor = ch;
    return 0;
}

/* The supervisor stops the system (a critical task died): the reason is
 * the request's text, printed as given (bounded, non-printing bytes
 * shown as '?'). */
static long ks_halt(struct request *r) {
    char why[65];
    unsigned n = r->m->len < sizeof(why) - 1 ? r->m->len : sizeof(why) - 1;
    if (!(r->t->caps & CAP_TASK))
        return -E_PERM;
    for (unsigned i = 0; i < n; i++) {
        uint8_t c = r->m->data[i];
        why[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    why[n] = '\0';
    printk("nagi: system halted by task %d (%s): %s\n", r->t->tid, r->t->name, why);
    arch_halt();
}

static long ks_timer(struct request *r) {
    uint32_t cid, ms;
    struct channel *ch;
    if (!get32(r, 0, &cid) || !get32(r, 4, &ms))
        return -E_INVAL;
    if (!(ch = channel_get(r->t, (int32_t)cid)))
        return -E_BADCH;
    timer_set(ch, ms);
    return 0;
}

static long ks_task_info(struct request *r) {
    uint32_t index, seen = 0;
    if (!get32(r, 0, &index))
        return -E_INVAL;
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
    uint64_t info[4] = { page_total_count(), page_free_count(), 0, PAGE_SIZE };
    info[2] = (uint64_t)(__kernel_end - __kernel_start + PAGE_SIZE - 1) / PAGE_SIZE;
    if (!ARCH_HAS_PAGING) {
        uint64_t ram = ARCH_RAM_BYTES;
        uint64_t taken = info[2] * PAGE_SIZE + image_table_ram_in_use();
        info[0] = ram / PAGE_SIZE;
        info[1] = ram > taken ? (ram - taken) / PAGE_SIZE : 0;
    }
    memcpy(r->m->data, info, sizeof(info));
    r->m->len = sizeof(info);
    return 0;
}

/* Serve t's IPC_CALL on KERNEL_CID. Returns the syscall result. */
long kserver_call(struct task *t, unsigned flags) {
    struct request r = { .t = t, .m = t->ipc_buf };
    long result;

    if (flags != IPC_CALL)
        return -E_INVAL;
    if (r.m->len > MSG_INLINE_MAX)
        return -E_TOOBIG;
    switch (r.m->label) {
    case KS_CREATE_TASK: result = ks_create_task(&r); break;
    case KS_SET_PAGER:   result = ks_set_pager(&r); break;
    case KS_START_TASK:  result = ks_start_task(&r); break;
    case KS_EXIT:
        task_kill(t, TASK_STATE_EXITED, NULL);
        return 0;   /* not reached */
    case KS_KILL:        result = ks_kill(&r); break;
    case KS_ALLOC_PAGE:  result = ks_alloc_page(&r); break;
    case KS_LISTEN_IRQ:  result = ks_listen_irq(&r); break;
    case KS_IOPORT:      result = ks_ioport(&r); break;
    case KS_TIMER:       result = ks_timer(&r); break;
    case KS_UPTIME:      result = (long)uptime_ms(); break;
    case KS_TASK_INFO:   result = ks_task_info(&r); break;
    case KS_MEM_INFO:    result = ks_mem_info(&r); break;
    case KS_YIELD:       sched_yield(); result = 0; break;
    case KS_MMIO:        result = ks_mmio(&r); break;
    case KS_SUPERVISE:   result = ks_supervise(&r); break;
    case KS_HALT:        result = ks_halt(&r); break;
    case KS_PANIC:
#ifdef CONFIG_DEBUG_COMMANDS
        panic("requested by task %d (%s)", t->tid, t->name);
#endif
        result = -E_PERM;
        break;
    default:             result = -E_NOSYS; break;
    }
    /* Only these two replies carry data. */
    if (result < 0 || (r.m->label != KS_TASK_INFO && r.m->label != KS_MEM_INFO))
        r.m->len = 0;
    r.m->flags = 0;
    r.m->from = KERNEL_CID;
    r.m->arg = (uint64_t)result;
    return 0;
}
