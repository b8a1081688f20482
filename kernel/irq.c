/*
 * irq.c - interrupt routing: a device interrupt becomes a NOTIFY_IRQ
 * notification on the channel of the task that listens to it. The line
 * stays masked from the interrupt until the listener waits for messages
 * again (it has served the device by then), so a level-triggered device
 * cannot storm the CPU before its driver runs.
 */
#include "channel.h"

/* listeners[irq]: index + 1 into channels[], 0 = nobody */
#if CONFIG_MAX_CHANNELS < 255
typedef uint8_t listener_t;
#else
typedef uint16_t listener_t;
#endif
static listener_t listeners[ARCH_IRQ_MAX];

static struct channel *listener(unsigned irq) {
    return listeners[irq] ? &channels[listeners[irq] - 1] : NULL;
}

long irq_listen(unsigned irq, struct channel *ch) {
    if (!arch_irq_valid(irq) || irq >= ARCH_IRQ_MAX)
        return -E_INVAL;
    if (listeners[irq] && listener(irq) != ch)
        return -E_BUSY;
    listeners[irq] = (listener_t)(ch - channels + 1);
    arch_irq_enable(irq);
    return 0;
}

/* ch is going away: stop routing interrupts to it. */
void irq_forget(struct channel *ch) {
    for (unsigned irq = 0; irq < ARCH_IRQ_MAX; irq++) {
        if (listener(irq) == ch) {
            listeners[irq] = 0;
            arch_irq_disable(irq);
        }
    }
}

/* Someone waits on target again: unmask the lines masked for it. */
void irq_rearm(struct channel *target) {
    target->irq_masked = false;
    for (unsigned irq = 0; irq < ARCH_IRQ_MAX; irq++) {
        struct channel *l = listener(irq);
        if (l && l->transfer_to == target)
            arch_irq_enable(irq);
    }
}

/* Called by the port for every device interrupt (already acknowledged
 * at the interrupt controller). */
void kernel_irq(unsigned irq) {
    struct channel *l = irq < ARCH_IRQ_MAX ? listener(irq) : NULL;
    if (l) {
        arch_irq_disable(irq);
        l->transfer_to->irq_masked = true;
        ipc_notify(l->transfer_to, NOTIFY_IRQ);
    }
    sched_preempt_check();
}
