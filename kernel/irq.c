/*
 * irq.c - interrupt routing: a device interrupt becomes a NOTIFY_IRQ
 * notification on the channel of the task that listens to it.
 */
#include "channel.h"

static struct channel *listeners[ARCH_IRQ_MAX];

long irq_listen(unsigned irq, struct channel *ch) {
    if (irq == 0 || irq == 2 || irq >= ARCH_IRQ_MAX)
        return -E_INVAL;
    if (listeners[irq] && listeners[irq] != ch)
        return -E_BUSY;
    listeners[irq] = ch;
    arch_irq_enable(irq);
    return 0;
}

/* ch is going away: stop routing interrupts to it. */
void irq_forget(struct channel *ch) {
    for (unsigned irq = 0; irq < ARCH_IRQ_MAX; irq++) {
        if (listeners[irq] == ch) {
            listeners[irq] = NULL;
            arch_irq_disable(irq);
        }
    }
}

/* Called by the port for every device interrupt (already acknowledged). */
void kernel_irq(unsigned irq) {
    if (irq < ARCH_IRQ_MAX && listeners[irq])
        ipc_notify(listeners[irq]->transfer_to, NOTIFY_IRQ);
    sched_preempt_check();
}
