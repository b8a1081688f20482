/*
 * timer.c - the tick: uptime, time slices and the one-shot timers tasks
 * set with KS_TIMER (a notification when they expire).
 */
#include "channel.h"

volatile uint64_t ticks;
static unsigned active_timers;

uint64_t uptime_ms(void) {
    return ticks * 1000 / CONFIG_TICK_HZ;
}

/* Arm (ms > 0) or cancel (ms == 0) ch's timer. */
void timer_set(struct channel *ch, uint32_t ms) {
    if (ch->timer_deadline)
        active_timers--;
    ch->timer_deadline = 0;
    if (ms) {
        uint64_t delta = ((uint64_t)ms * CONFIG_TICK_HZ + 999) / 1000;
        if (delta > 0x7fffffff)          /* deadlines compare mod 2^32 */
            delta = 0x7fffffff;
        uint32_t when = (uint32_t)(ticks + (delta ? delta : 1));
        ch->timer_deadline = when ? when : 1;
        active_timers++;
    }
}

static void expire_timers(void) {
    for (unsigned i = 0; i < CONFIG_MAX_CHANNELS && active_timers; i++) {
        struct channel *ch = &channels[i];
        if (ch->used && ch->timer_deadline &&
            (int32_t)((uint32_t)ticks - ch->timer_deadline) >= 0) {
            timer_set(ch, 0);
            ipc_notify(ch->transfer_to, NOTIFY_TIMER);
        }
    }
}

/* Called by the port on every timer interrupt. */
void kernel_timer_tick(void) {
    ticks++;
    if (active_timers)
        expire_timers();
    sched_tick();
    sched_preempt_check();
}
