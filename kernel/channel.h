/*
 * channel.h - channels: the endpoints tasks talk through. A channel is
 * owned by one task (found there by its cid), may be linked to a peer
 * channel (what is sent through it arrives at the peer) and may transfer
 * what arrives at it to another channel of the same owner.
 */
#ifndef NAGI_CHANNEL_H
#define NAGI_CHANNEL_H

#include "task.h"

struct channel {
    bool used;
    bool irq_masked;              /* an IRQ routed here waits for irq_rearm */
    int16_t cid;                  /* index in owner->channels */
    uint32_t timer_deadline;      /* tick (mod 2^32) of a pending KS_TIMER, 0 = none */
    struct task *owner;
    struct channel *linked;       /* peer, or NULL */
    struct channel *transfer_to;  /* receive target; itself by default */
    struct task *receiver;        /* task blocked receiving here */
    struct task *senders;         /* queue of tasks blocked sending here */
    struct task *senders_tail;
    uint64_t notifications;       /* pending notification bits */
};

struct channel *channel_get(struct task *t, long cid);
long channel_open(struct task *t);
long channel_close(struct task *t, long cid);
void channel_destroy(struct channel *ch);
long channel_link(struct task *t, long cid1, long cid2);
long channel_transfer(struct task *t, long src, long dst);
long channel_move(struct channel *ch, struct task *to);
bool channel_has_free_slot(struct task *t);
void channel_close_all(struct task *t);
extern struct channel channels[CONFIG_MAX_CHANNELS];

/* ipc.c */
long ipc(struct task *t, struct channel *ch, unsigned flags);
long ipc_notify(struct channel *target, uint64_t bits);
long sys_ipc(long cid, long flags);
long sys_notify(long cid, uint64_t bits);
void ipc_abort(struct task *t);
void ipc_forget(struct task *t);
/* Counts since boot (KS_IPC_INFO), in machine words (one add on the
 * fastpath of a 32-bit MCU too; they wrap at 2^32 there): `messages`
 * counts the slow path only; the reply adds `fastpath` to it. */
struct ipc_counts {
    unsigned long messages, fastpath, notifications, kernel_calls;
};
extern struct ipc_counts ipc_counts;

/* kserver.c */
long kserver_call(struct task *t, unsigned flags);

/* One kernel-server label: the capabilities the caller needs (all of
 * them), the shortest request data accepted, KS_* flags of kserver.c and
 * the handler. ks_ops is indexed by label - KS_FIRST; tests walk it. */
struct request;
struct ks_op {
    uint8_t cap;
    uint8_t min_len;
    uint8_t flags;
    long (*fn)(struct request *r);
};
#define KS_NEEDS_PAGING 0x1   /* -E_NOTSUP without paging */
#define KS_REPLY_DATA   0x2   /* a successful reply keeps its data */
#define KS_NO_REPLY     0x4   /* the caller is gone: leave its memory alone */
#define KS_FIRST    KS_CREATE_TASK
#define KS_OP_COUNT (KS_IPC_INFO - KS_CREATE_TASK + 1)
extern const struct ks_op ks_ops[KS_OP_COUNT];
const struct ks_op *kserver_op(unsigned label);

/* irq.c and timer.c */
void irq_forget(struct channel *ch);
void irq_rearm(struct channel *target);
long irq_listen(unsigned irq, struct channel *ch);
void timer_set(struct channel *ch, uint32_t ms);

#endif
