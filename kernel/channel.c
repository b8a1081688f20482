/*
 * channel.c - channel objects and the syscalls that shape them: open,
 * close, link and transfer; and moving a channel to another task (the
 * channel payload of a message).
 */
#include "channel.h"

struct channel channels[CONFIG_MAX_CHANNELS];

/* The channel t owns as cid, or NULL. cid 1 (the kernel server) is not a
 * channel object and is handled by ipc(). */
struct channel *channel_get(struct task *t, long cid) {
    if (cid < 0 || cid >= CONFIG_TASK_CHANNELS)
        return NULL;
    return t->channels[cid];
}

static long install(struct task *t, struct channel *ch) {
    for (int cid = BOOTSTRAP_CID; cid < CONFIG_TASK_CHANNELS; cid++) {
        if (!t->channels[cid]) {
            t->channels[cid] = ch;
            ch->cid = (int16_t)cid;
            ch->owner = t;
            return cid;
        }
    }
    return -E_NOMEM;
}

bool channel_has_free_slot(struct task *t) {
    for (int cid = BOOTSTRAP_CID; cid < CONFIG_TASK_CHANNELS; cid++)
        if (!t->channels[cid])
            return true;
    return false;
}

long channel_open(struct task *t) {
    for (unsigned i = 0; i < ARRAY_SIZE(channels); i++) {
        struct channel *ch = &channels[i];
        if (ch->used)
            continue;
        memset(ch, 0, sizeof(*ch));
        ch->used = true;
        ch->transfer_to = ch;
        long cid = install(t, ch);
        if (cid < 0)
            ch->used = false;
        return cid;
    }
    return -E_NOMEM;
}

/* Wake every task that waits on ch with E_CLOSED and cut its links: the
 * peer's link, transfers into ch, senders queued through or on ch. */
static void detach(struct channel *ch) {
    struct channel *peer = ch->linked;

    if (peer) {
        peer->linked = NULL;
        struct task *w = peer->transfer_to->receiver;
        if (w && w->awaiting_reply && w->call_via == peer)
            ipc_abort(w);
        /* Tell whoever receives on the peer that it is alone now (a
         * server then closes its end of a client that has gone). */
        ipc_notify(peer->transfer_to, NOTIFY_PEER_CLOSED);
    }
    ch->linked = NULL;
    for (unsigned i = 0; i < ARRAY_SIZE(channels); i++) {
        struct channel *other = &channels[i];
        if (!other->used || other == ch)
            continue;
        if (other->transfer_to == ch)
            other->transfer_to = other;
        for (struct task *s = other->senders, *next; s; s = next) {
            next = s->next_sender;
            if (s->send_via == ch)
                ipc_abort(s);
        }
    }
    while (ch->senders)
        ipc_abort(ch->senders);
    if (ch->receiver)
        ipc_abort(ch->receiver);
    timer_set(ch, 0);
    irq_forget(ch);
}

void channel_destroy(struct channel *ch) {
    detach(ch);
    if (ch->owner && ch->owner->channels[ch->cid] == ch)
        ch->owner->channels[ch->cid] = NULL;
    if (ch->owner && ch->owner->pager == ch)
        ch->owner->pager = NULL;
    if (supervisor == ch)
        supervisor = NULL;
    ch->used = false;
}

long channel_close(struct task *t, long cid) {
    struct channel *ch = channel_get(t, cid);
    if (!ch)
        return -E_BADCH;
    channel_destroy(ch);
    return 0;
}

void channel_close_all(struct task *t) {
    for (int cid = 0; cid < CONFIG_TASK_CHANNELS; cid++)
        if (t->channels[cid])
            channel_destroy(t->channels[cid]);
}

/* Link two channels of t: what is sent through one arrives at the other. */
long channel_link(struct task *t, long cid1, long cid2) {
    struct channel *a = channel_get(t, cid1), *b = channel_get(t, cid2);
    if (!a || !b)
        return -E_BADCH;
    if (a == b)
        return -E_LOOP;
    if (a->linked || b->linked)
        return -E_BUSY;
    a->linked = b;
    b->linked = a;
    return 0;
}

/* Messages arriving at src are received on dst from now on. Chains are
 * kept one hop long: src points at dst's own final target, and so does
 * every channel that pointed at src. transfer(src, src) undoes it. */
long channel_transfer(struct task *t, long src_cid, long dst_cid) {
    struct channel *src = channel_get(t, src_cid), *dst = channel_get(t, dst_cid);
    if (!src || !dst)
        return -E_BADCH;
    if (src->receiver)
        return -E_BUSY;
    if (dst == src) {
        src->transfer_to = src;
        return 0;
    }
    struct channel *final = dst->transfer_to;
    if (final == src)
        return -E_LOOP;
    /* Senders already queued on src (a client that called as soon as init
     * answered its lookup, before the server took the new channel) move,
     * in order, to the end of final's queue: they are received there as
     * they would have been after the transfer (the message names the
     * channel it came in by, src, either way). Refusing them made the
     * server close the channel and the client see E_CLOSED. The only task
     * that receives on final is t, which is running. */
    if (src->senders) {
        for (struct task *s = src->senders; s; s = s->next_sender)
            s->send_to = final;
        if (final->senders_tail)
            final->senders_tail->next_sender = src->senders;
        else
            final->senders = src->senders;
        final->senders_tail = src->senders_tail;
        src->senders = src->senders_tail = NULL;
    }
    src->transfer_to = final;
    for (int cid = 0; cid < CONFIG_TASK_CHANNELS; cid++) {
        struct channel *o = t->channels[cid];
        if (o && o != src && o->transfer_to == src)
            o->transfer_to = final;
    }
    return 0;
}

/* Give ch to another task (a channel payload). The caller checked that
 * `to` has a free slot. Transfers into or out of ch do not survive. */
long channel_move(struct channel *ch, struct task *to) {
    struct task *from = ch->owner;
    for (int cid = 0; cid < CONFIG_TASK_CHANNELS; cid++) {
        struct channel *o = from->channels[cid];
        if (o && o->transfer_to == ch)
            o->transfer_to = o;
    }
    ch->transfer_to = ch;
    /* Senders queued elsewhere through ch would name a cid of the wrong
     * task: fail them, as if ch had closed for them. */
    for (unsigned i = 0; i < ARRAY_SIZE(channels); i++) {
        struct channel *o = &channels[i];
        if (!o->used || o == ch)
            continue;
        for (struct task *s = o->senders, *next; s; s = next) {
            next = s->next_sender;
            if (s->send_via == ch)
                ipc_abort(s);
        }
    }
    from->channels[ch->cid] = NULL;
    if (from->pager == ch)
        from->pager = NULL;
    if (supervisor == ch)
        supervisor = NULL;
    return install(to, ch);
}
