/*
 * ipc.c - message passing: send, receive, call and reply through channels,
 * notifications, and the fastpath for the common call.
 *
 * A message moves from the sender's buffer to the receiver's buffer in one
 * copy, done by whichever side arrives second:
 *
 *   sender                                receiver
 *   ipc(SEND) -- receiver waiting? ---->  deliver(), wake it
 *             \- no: queue on the target, block ... ipc(RECV) takes the
 *                                         first queued sender: deliver(),
 *                                         then the sender either runs again
 *                                         (SEND) or waits for its reply (CALL)
 *
 * So a blocked task never finishes its own IPC: the task that wakes it has
 * already done all the work and left the result in t->ipc_result.
 */
#include "channel.h"

struct ipc_counts ipc_counts;

/* m is the kernel's page-fault message of t (fault.c), not a task's. */
static bool is_fault_msg(struct task *t UNUSED, struct nagi_msg *m UNUSED) {
#if ARCH_HAS_PAGING
    return m == &t->fault_msg;
#else
    return false;
#endif
}

/* Check what the sender asks to move, before anything blocks. */
static long check_send(struct task *t, struct channel *through) {
    struct nagi_msg *m = t->ipc_buf;
    bool kernel_msg = is_fault_msg(t, m);

    if (m->len > MSG_INLINE_MAX)
        return -E_TOOBIG;
    /* MSG_KERNEL only on the kernel's own page-fault message (fault.c):
     * a task can never make a message pass for the kernel's. */
    if (m->flags & ~(MSG_CHANNEL | MSG_PAGE | (kernel_msg ? MSG_KERNEL : 0)))
        return -E_INVAL;
    /* Nor can it use a kernel label (a forged notification or fault);
     * only a pager's answer to a fault is a task's to send. */
    if (m->label >= KERNEL_LABEL_FIRST && m->label != LABEL_PAGE_FAULT_REPLY && !kernel_msg)
        return -E_INVAL;
    if (m->flags & MSG_CHANNEL) {
        struct channel *c = channel_get(t, m->channel);
        if (!c)
            return -E_BADCH;
        if (c == through || c == through->transfer_to)
            return -E_INVAL;
    }
    if (m->flags & MSG_PAGE) {
        uintptr_t paddr;
        unsigned attrs;
        if (!ARCH_HAS_PAGING)
            return -E_NOTSUP;
        if (!IS_ALIGNED(m->page, PAGE_SIZE) ||
            arch_vm_lookup(&t->vm, m->page, &paddr, &attrs) < 0 ||
            !(attrs & VM_USER) || m->page == ARCH_MSGBUF_ADDR)
            return -E_FAULT;
    }
    return 0;
}

/* The lowest free page of r's page receive area at or above its hint:
 * pages given back (KS_FREE_PAGE) lower the hint, so the same addresses,
 * and page tables, serve again instead of the area creeping upwards. */
static uintptr_t recv_slot(struct task *r) {
    uintptr_t to = r->page_recv_next, paddr, end = ARCH_PAGE_RECV_END;  /* 0 without paging */
    unsigned attrs;
    while (to < end && arch_vm_lookup(&r->vm, to, &paddr, &attrs) == 0)
        to += PAGE_SIZE;
    return to < end ? to : 0;
}

/* Move the page at s's m->page to r (at its faulting address, or the
 * lowest free slot of its page receive area). */
static long move_page(struct task *s, struct task *r, struct nagi_msg *d,
                      uintptr_t from) {
    uintptr_t to = r->fault_addr ? r->fault_addr : recv_slot(r);
    if (!to)
        return -E_NOMEM;
    uintptr_t paddr = arch_vm_unmap(&s->vm, from);
    if (!paddr)
        return -E_FAULT;
    long err = arch_vm_map(&r->vm, to, paddr, VM_USER | VM_WRITE);
    if (err < 0) {
        arch_vm_map(&s->vm, from, paddr, VM_USER | VM_WRITE);
        return err;
    }
    s->pages--;
    r->pages++;
    if (!r->fault_addr)
        r->page_recv_next = to + PAGE_SIZE;
    d->page = to;
    return 0;
}

/* Copy s's message into r's buffer; it arrived through via (r's channel). */
static long deliver(struct task *s, struct task *r, struct channel *via) {
    struct nagi_msg *m = s->ipc_buf, *d = r->ipc_buf;
    struct channel *payload = NULL;

    if (m->flags & MSG_CHANNEL) {
        payload = channel_get(s, m->channel);
        if (!payload)
            return -E_BADCH;
        if (!channel_has_free_slot(r))
            return -E_NOMEM;
    }
    if (m->flags & MSG_PAGE) {
        long err = move_page(s, r, d, m->page);
        if (err < 0)
            return err;
    }
    uint64_t page = d->page;
    memcpy(d, m, MSG_HEADER_SIZE + m->len);
    d->page = (m->flags & MSG_PAGE) ? page : 0;
    d->from = via->cid;
    if (payload)
        d->channel = channel_move(payload, r);
    ipc_counts.messages++;
    return 0;
}

static void deliver_notification(struct task *r, struct channel *src) {
    struct nagi_msg *d = r->ipc_buf;
    d->label = LABEL_NOTIFICATION;
    d->len = 0;
    d->flags = 0;
    d->from = src->cid;
    d->arg = src->notifications;
    src->notifications = 0;
    ipc_counts.notifications++;
}

/* Unlink a blocked t from the queue or channel it waits on. */
static void ipc_cancel(struct task *t) {
    if (t->send_to) {
        struct task **pp = &t->send_to->senders, *prev = NULL;
        while (*pp && *pp != t) {
            prev = *pp;
            pp = &(*pp)->next_sender;
        }
        if (*pp)
            *pp = t->next_sender;
        if (t->send_to->senders_tail == t)
            t->send_to->senders_tail = prev;
        t->send_to = NULL;
        t->send_via = NULL;
        t->next_sender = NULL;
    }
    if (t->recv_on) {
        if (t->recv_on->receiver == t)
            t->recv_on->receiver = NULL;
        t->recv_on = NULL;
    }
    t->awaiting_reply = false;
    t->call_via = NULL;
}

/* A peer went away under a blocked t: fail its IPC with E_CLOSED. */
void ipc_abort(struct task *t) {
    ipc_cancel(t);
    if (t->state == TASK_STATE_BLOCKED_SEND || t->state == TASK_STATE_BLOCKED_RECV)
        sched_wake(t, -E_CLOSED);
}

void ipc_forget(struct task *t) {
    ipc_cancel(t);
}

/* t waits on src: for a reply if awaiting, else for anything. */
static void wait_on(struct task *t, struct channel *src) {
    src->receiver = t;
    t->recv_on = src;
    if (unlikely(src->irq_masked))
        irq_rearm(src);
}

/* The receive half when something is already there: a notification or a
 * queued sender. 1 if a message was taken, 0 if t must wait, or -error. */
static long take_pending(struct task *t, struct channel *src) {
    if (src->notifications) {
        deliver_notification(t, src);
        return 1;
    }
    while (src->senders) {
        struct task *s = src->senders;
        src->senders = s->next_sender;
        if (!src->senders)
            src->senders_tail = NULL;
        s->next_sender = NULL;
        s->send_to = NULL;
        long err = deliver(s, t, s->send_via);
        s->send_via = NULL;
        if (err < 0) {
            sched_wake(s, err);
            continue;
        }
        if (s->ipc_flags & IPC_RECV) {
            s->awaiting_reply = true;
            s->state = TASK_STATE_BLOCKED_RECV;
            wait_on(s, s->call_via->transfer_to);
        } else {
            sched_wake(s, 0);
        }
        return 1;
    }
    return 0;
}

/* The slow path: any combination of flags, any payload. */
long ipc(struct task *t, struct channel *ch, unsigned flags) {
    struct task *woken = NULL;
    long err;

    if ((flags & IPC_RECV) && ch->transfer_to->receiver &&
        ch->transfer_to->receiver != t)
        return -E_BUSY;
    if (flags & (IPC_SEND | IPC_REPLY)) {
        struct channel *via = ch->linked, *dst;
        if (!via)
            return -E_CLOSED;
        if ((err = check_send(t, ch)) < 0)
            return err;
        dst = via->transfer_to;
        struct task *r = dst->receiver;
        if (flags & IPC_REPLY) {
            if (!r || !r->awaiting_reply || r->call_via != via)
                return -E_NOCALL;
        } else if (r && r->awaiting_reply) {
            r = NULL;           /* it waits for a reply, not for this */
        }
        if (r) {
            if ((err = deliver(t, r, via)) < 0)
                return err;
            ipc_cancel(r);
            r->ipc_result = 0;
            woken = r;
        } else {
            if (flags & IPC_NOBLOCK)
                return -E_WOULDBLOCK;
            t->send_to = dst;
            t->send_via = via;
            t->ipc_flags = flags;
            t->call_via = (flags & IPC_RECV) ? ch : NULL;
            if (dst->senders_tail)
                dst->senders_tail->next_sender = t;
            else
                dst->senders = t;
            dst->senders_tail = t;
            sched_block(TASK_STATE_BLOCKED_SEND);
            return t->ipc_result;
        }
    }

    if (flags & IPC_RECV) {
        struct channel *src = ch->transfer_to;
        if (flags & IPC_SEND) {
            t->awaiting_reply = true;
            t->call_via = ch;
        } else {
            err = take_pending(t, src);
            if (err != 0) {
                err = err > 0 ? 0 : err;
                goto out;
            }
            if (flags & IPC_NOBLOCK) {
                err = -E_WOULDBLOCK;
                goto out;
            }
        }
        wait_on(t, src);
        if (woken)
            sched_switch_to(woken, TASK_STATE_BLOCKED_RECV);
        else
            sched_block(TASK_STATE_BLOCKED_RECV);
        return t->ipc_result;
    }
    err = 0;
out:
    if (woken)
        sched_wake(woken, 0);
    return err;
}

/* Header and len bytes of m to d, a machine word at a time (both are
 * 8-aligned message buffers). */
static inline void copy_msg(struct nagi_msg *d, const struct nagi_msg *m) {
    uintptr_t *dw = (uintptr_t *)(void *)d;
    const uintptr_t *sw = (const uintptr_t *)(const void *)m;
    unsigned bytes = MSG_HEADER_SIZE + (unsigned)m->len;
    unsigned words = bytes / sizeof(uintptr_t);
    for (unsigned i = 0; i < words; i++)
        dw[i] = sw[i];
    for (unsigned i = words * (unsigned)sizeof(uintptr_t); i < bytes; i++)
        ((uint8_t *)d)[i] = ((const uint8_t *)m)[i];
}

/* The fastpath: an inline-only CALL, or REPLY|RECV, whose peer is already
 * waiting, and nothing else pending. Anything else returns 1: take the
 * slow path. Same semantics, fewer checks and no queue handling. */
static long ipc_fastpath(struct task *t, long cid, unsigned flags) {
    struct nagi_msg *m = t->msgbuf;
    struct channel *ch, *via, *dst, *src;
    struct task *r;

    if ((flags != IPC_CALL && flags != (IPC_REPLY | IPC_RECV)) ||
        m->flags || m->len > MSG_INLINE_MAX || m->label >= KERNEL_LABEL_FIRST || cid < 0 ||
        cid >= CONFIG_TASK_CHANNELS || !(ch = t->channels[cid]) ||
        !(via = ch->linked))
        return 1;
    dst = via->transfer_to;
    r = dst->receiver;
    src = ch->transfer_to;
    if (!r || r->ipc_buf != r->msgbuf || (src->receiver && src->receiver != t))
        return 1;
    if (unlikely(src->irq_masked))
        return 1;
    if (flags == IPC_CALL) {
        if (r->awaiting_reply)
            return 1;
        t->awaiting_reply = true;
        t->call_via = ch;
    } else {
        if (!r->awaiting_reply || r->call_via != via || src->notifications ||
            src->senders)
            return 1;
    }
    struct nagi_msg *d = r->msgbuf;
    copy_msg(d, m);
    d->from = via->cid;
    d->page = 0;
    dst->receiver = NULL;
    r->recv_on = NULL;
    r->awaiting_reply = false;
    r->call_via = NULL;
    r->ipc_result = 0;
    src->receiver = t;
    t->recv_on = src;
    ipc_counts.fastpath++;
    sched_switch_to(r, TASK_STATE_BLOCKED_RECV);
    return t->ipc_result;
}

long sys_ipc(long cid, long flags) {
    if ((flags & ~IPC_FLAGS_ALL) || !(flags & (IPC_SEND | IPC_RECV | IPC_REPLY)) ||
        ((flags & IPC_SEND) && (flags & IPC_REPLY)))
        return -E_INVAL;
    long fast = ipc_fastpath(current, cid, (unsigned)flags);
    if (fast <= 0)
        return fast;
    if (cid == KERNEL_CID)
        return kserver_call(current, (unsigned)flags);
    struct channel *ch = channel_get(current, cid);
    if (!ch)
        return -E_BADCH;
    return ipc(current, ch, (unsigned)flags);
}

/* Set bits on target; hand them over at once if its owner waits there
 * (and is not in the middle of a call). Never blocks. */
long ipc_notify(struct channel *target, uint64_t bits) {
    struct task *r = target->receiver;

    target->notifications |= bits;
    if (r && !r->awaiting_reply) {
        deliver_notification(r, target);
        ipc_cancel(r);
        sched_wake(r, 0);
    }
    return 0;
}

long sys_notify(long cid, uint64_t bits) {
    struct channel *ch = channel_get(current, cid);
    if (!ch)
        return -E_BADCH;
    if (!bits)
        return -E_INVAL;
    if (!ch->linked)
        return -E_CLOSED;
    return ipc_notify(ch->linked->transfer_to, bits);
}
