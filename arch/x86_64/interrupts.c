/*
 * interrupts.c (x86_64) - who delivers device interrupts and the tick:
 * the IO-APIC and the local APIC timer when ACPI's MADT describes them,
 * else (no ACPI, no MADT, no usable IO-APIC, no PIT to calibrate with,
 * CONFIG_X86_LEGACY_IRQ, or `irq=pic` on the kernel's command line) the
 * 8259 PICs and the 8254 PIT as before (devices.c).
 *
 * The kernel's IRQ numbers stay the ISA/PIC line numbers either way
 * (0 tick, 1 PS/2, 4 COM1, PCI lines as the BIOS wrote them into the
 * devices' Interrupt Line registers, 10/11 on QEMU's q35), and so do
 * the vectors (IRQ_BASE + n). With the IO-APIC, ISA IRQ n arrives at the
 * GSI and with the polarity and trigger mode the MADT's interrupt source
 * overrides say (QEMU: IRQ 0 -> GSI 2; 5, 9, 10, 11 level, active high);
 * the tick is the local APIC timer on vector IRQ_BASE + IRQ_PIT,
 * calibrated against the first reference clock that counts: the PIT's
 * channel 2, else the ACPI PM timer (the FADT says where; recent PCs may
 * have no PIT), else the crystal frequency CPUID leaf 0x15 reports on
 * Intel CPUs (the local APIC timer runs from that crystal). Under
 * -icount the PIT and the PM timer count virtual time as the local APIC
 * does, so the figure is the same on every run.
 *
 * The 8259 path (no usable MADT, `irq=pic`) ticks with the PIT; a PC with
 * no PIT ticks there with the local APIC timer too, calibrated the same
 * way, the PICs reaching the CPU through LINT0. With no clock to
 * calibrate against, or no local APIC, there is no tick: the kernel
 * panics saying so rather than boot a system whose timers never fire.
 *
 * Masking: the kernel masks a line from its interrupt until the driver
 * waits again (kernel/irq.c). A masked IO-APIC pin forgets edges, so
 * edge-triggered lines are masked here in software only: an interrupt
 * on such a line is noted and replayed (a self-IPI) when it is unmasked.
 * Level-triggered lines are masked at the IO-APIC before the EOI, so a
 * line still asserted cannot interrupt again before its driver ran.
 */
#include "x86.h"
#include "acpi.h"

/* Local APIC registers (SDM vol. 3A, 11.4.1), offsets from its base */
#define LAPIC_ID        0x020
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ICR_LOW   0x300
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define SVR_ENABLE      0x100
#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define LVT_EXTINT      (7u << 8)    /* delivery mode: the 8259's vector */
#define LVT_NMI         (4u << 8)
#define MSR_APIC_BASE   0x1b
#define APIC_BASE_ENABLE (1u << 11)  /* the local APIC globally enabled */
#define APIC_BASE_ADDR  0xffffff000ull
#define TIMER_DIV_16    0x3
#define ICR_SELF        (1u << 18)   /* destination shorthand: self */
#define ICR_ASSERT      (1u << 14)
#define ICR_PENDING     (1u << 12)
#define CPUID_VENDOR    0
#define CPUID_FEATURES  1
#define CPUID_EDX_APIC  (1u << 9)
#define CPUID_TSC_CRYSTAL 0x15       /* ECX: the core crystal's Hz, or 0 */

/* IO-APIC (82093AA): an index and a window register */
#define IOAPIC_REGSEL   0x00
#define IOAPIC_WIN      0x10
#define IOAPIC_VER      0x01         /* bits 23..16: last redirection entry */
#define IOAPIC_REDIR(n) (0x10 + 2 * (n))
#define REDIR_LOW_ACTIVE (1u << 13)
#define REDIR_LEVEL     (1u << 15)
#define REDIR_MASKED    (1u << 16)

/* PIT channel 2, gated through port 0x61 (it also drives the speaker) */
#define PIT_CH2         0x42
#define PIT_SEL_CH2     0x80
#define PIT_MODE_ONESHOT 0x00        /* mode 0: counts down, wraps at zero */
#define PIT_LATCH       0x00         /* with a channel: latch its count */
#define PORT_B          0x61
#define PORT_B_GATE2    0x01
#define PORT_B_SPEAKER  0x02
#define CALIBRATE_MS    10
#define CALIBRATE_RUNS  5            /* the median of these counts wins */
#define CALIBRATE_SPIN  1000000      /* a clock that stopped: give up after
                                        this many polls */
#define CALIBRATE_PAUSES 256         /* between two polls */
#define PROBE_READS     100000       /* a clock that never changes in this
                                        many reads is not there (an absent
                                        device reads all ones) */

static bool apic_mode;
static bool lapic_tick;              /* the 8259 path with the local APIC's tick */
static volatile uint32_t *lapic;
static struct irq_pin {
    volatile uint32_t *ioapic;       /* NULL: the line cannot be routed */
    uint8_t pin;
    bool level;
    bool soft_masked, pending;       /* edge lines (see above) */
} pins[ARCH_IRQ_MAX];

static uint32_t lapic_read(unsigned reg) { return lapic[reg / 4]; }
static void lapic_write(unsigned reg, uint32_t v) { lapic[reg / 4] = v; }

static uint32_t ioapic_read(volatile uint32_t *io, unsigned reg) {
    io[IOAPIC_REGSEL / 4] = reg;
    return io[IOAPIC_WIN / 4];
}

static void ioapic_write(volatile uint32_t *io, unsigned reg, uint32_t v) {
    io[IOAPIC_REGSEL / 4] = reg;
    io[IOAPIC_WIN / 4] = v;
}

static void pin_mask(struct irq_pin *p, bool masked) {
    uint32_t low = ioapic_read(p->ioapic, IOAPIC_REDIR(p->pin));
    low = masked ? low | REDIR_MASKED : low & ~REDIR_MASKED;
    ioapic_write(p->ioapic, IOAPIC_REDIR(p->pin), low);
}

/* A clock to calibrate the local APIC timer against: hz, a free-running
 * counter of mask's width read by read(), counting down or up. */
struct refclock {
    const char *name;
    uint32_t hz, mask;
    bool down;
    uint32_t (*read)(void);
};

/* PIT channel 2's current count (latched). */
static uint32_t pit2_read(void) {
    outb(PIT_CMD, PIT_SEL_CH2 | PIT_LATCH);
    uint8_t lo = inb(PIT_CH2);
    return (uint32_t)(lo | inb(PIT_CH2) << 8);
}

static const struct refclock pit_clock = { "PIT", PIT_HZ, 0xffff, true, pit2_read };

/* Channel 2 counting down freely from 0xffff (mode 0 wraps at zero),
 * gated on through port B with the speaker off; pit2_stop undoes it. */
static uint8_t pit2_start(void) {
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (b & ~PORT_B_SPEAKER) | PORT_B_GATE2);
    outb(PIT_CMD, PIT_SEL_CH2 | PIT_LOBYTE_HIBYTE | PIT_MODE_ONESHOT);
    outb(PIT_CH2, 0xff);
    outb(PIT_CH2, 0xff);
    return b;
}

static void pit2_stop(uint8_t b) {
    outb(PORT_B, b & ~PORT_B_GATE2);
}

static struct acpi_pm_timer pm;
static volatile uint32_t *pm_mmio;

static uint32_t pm_read(void) {
    return (pm_mmio ? *pm_mmio : inl((uint16_t)pm.addr)) & pm.mask;
}

static struct refclock pm_clock = { "ACPI PM timer", PM_TIMER_HZ, 0, false, pm_read };

static uint32_t ref_elapsed(const struct refclock *rc, uint32_t from, uint32_t to) {
    return (rc->down ? from - to : to - from) & rc->mask;
}

/* Whether the clock is there: it changes within PROBE_READS reads. */
static bool ref_counts(const struct refclock *rc) {
    uint32_t first = rc->read();
    for (unsigned i = 0; i < PROBE_READS; i++)
        if (rc->read() != first)
            return true;
    return false;
}

/* Local APIC timer ticks (divided by 16) in CALIBRATE_MS, measured
 * against rc: both counters are read together at the start and at the
 * end of a window of at least CALIBRATE_MS, so a delay in noticing the
 * end (an SMI on a real PC, a descheduled vCPU under TCG) does not
 * count. 0 if rc stops counting. */
static uint32_t lapic_ticks_per_calibration(const struct refclock *rc) {
    uint32_t window = rc->hz / (1000 / CALIBRATE_MS);

    lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | (IRQ_BASE + IRQ_PIT));
    lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
    uint32_t r0 = rc->read();
    uint32_t a0 = lapic_read(LAPIC_TIMER_CUR);
    uint32_t r1 = r0, a1 = a0;
    unsigned spin = 0;
    while (ref_elapsed(rc, r0, r1) < window && ++spin < CALIBRATE_SPIN) {
        for (unsigned k = 0; k < CALIBRATE_PAUSES; k++)
            __asm__ volatile("" ::: "memory");   /* fewer port reads (slow in an
                                                    emulator; so is PAUSE) */
        r1 = rc->read();
        a1 = lapic_read(LAPIC_TIMER_CUR);
    }
    lapic_write(LAPIC_TIMER_INIT, 0);
    uint32_t elapsed = ref_elapsed(rc, r0, r1);
    if (spin == CALIBRATE_SPIN || elapsed == 0)
        return 0;
    return (uint32_t)((uint64_t)(a0 - a1) * window / elapsed);
}

/* The median of a few calibrations: one disturbed between its paired
 * reads does not count either. 0 if any failed. */
static uint32_t calibrate(const struct refclock *rc) {
    uint32_t runs[CALIBRATE_RUNS];
    for (unsigned i = 0; i < CALIBRATE_RUNS; i++) {
        uint32_t v = lapic_ticks_per_calibration(rc);
        unsigned j = i;
        for (; j > 0 && runs[j - 1] > v; j--)
            runs[j] = runs[j - 1];
        runs[j] = v;
    }
    return runs[0] ? runs[CALIBRATE_RUNS / 2] : 0;
}

/* Whether there is a PIT: probed once (a missing one costs PROBE_READS
 * port reads), then remembered for the 8259 path. */
static bool pit_counts(void) {
    static int counts = -1;
    if (counts < 0) {
        uint8_t b = pit2_start();
        counts = ref_counts(&pit_clock);
        pit2_stop(b);
    }
    return counts;
}

/* The local APIC timer from the core crystal's frequency (CPUID 0x15
 * ECX, Intel only; it is 0 where the CPU does not say, and QEMU's TCG
 * does not). Ticks per CALIBRATE_MS divided by 16, or 0. */
static uint32_t crystal_ticks_per_calibration(void) {
    uint32_t max, vb, vc, vd, a, b, hz, d;
    __asm__ volatile("cpuid" : "=a"(max), "=b"(vb), "=c"(vc), "=d"(vd) : "a"(CPUID_VENDOR));
    if (max < CPUID_TSC_CRYSTAL || vb != 0x756e6547 || vd != 0x49656e69 || vc != 0x6c65746e)
        return 0;                         /* not "GenuineIntel" with leaf 0x15 */
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(hz), "=d"(d) : "a"(CPUID_TSC_CRYSTAL), "c"(0));
    return hz / 16 / (1000 / CALIBRATE_MS);
}

/* The local APIC software-enabled, and its timer's ticks (/16) per
 * CALIBRATE_MS from the first clock there is, its name in *source; 0
 * with none (the local APIC disabled again), with why. */
static uint32_t lapic_calibrate(const uint8_t *rsdp, size_t rsdp_len, const char **source,
                                const char **why) {
    uint32_t per_cal = 0;
    const char *problem = NULL;

    lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
    lapic_write(LAPIC_TPR, 0);
    if (pit_counts()) {
        uint8_t b = pit2_start();
        per_cal = calibrate(&pit_clock);
        pit2_stop(b);
        if (per_cal) {
            *source = pit_clock.name;
            return per_cal;
        }
    }
    uint32_t len;
    const uint8_t *fadt = acpi_find_table(rsdp, rsdp_len, "FACP", x86_phys, &len, &problem);
    if (fadt && fadt_pm_timer(fadt, len, &pm, &problem) == 0) {
        pm_clock.mask = pm.mask;
        pm_mmio = pm.mmio ? (volatile uint32_t *)x86_phys(pm.addr, 4) : NULL;
        if ((!pm.mmio || pm_mmio) && ref_counts(&pm_clock) && (per_cal = calibrate(&pm_clock))) {
            *source = pm_clock.name;
            return per_cal;
        }
    }
    if ((per_cal = crystal_ticks_per_calibration())) {
        *source = "CPUID 0x15 crystal";
        return per_cal;
    }
    lapic_write(LAPIC_SVR, VEC_SPURIOUS);   /* software-disabled again */
    *why = "no PIT, no ACPI PM timer and no CPUID 0x15 crystal frequency: "
           "nothing to calibrate the local APIC timer against";
    return 0;
}

static volatile uint32_t *ioapic_for(const struct madt_info *m, uint32_t gsi,
                                     unsigned *pin) {
    for (unsigned i = 0; i < m->nioapic; i++) {
        volatile uint32_t *io = (volatile uint32_t *)x86_phys(m->ioapic[i].addr, 0x20);
        if (!io)
            continue;
        unsigned last = (ioapic_read(io, IOAPIC_VER) >> 16) & 0xff;
        if (gsi >= m->ioapic[i].gsi_base && gsi <= m->ioapic[i].gsi_base + last) {
            *pin = gsi - m->ioapic[i].gsi_base;
            return io;
        }
    }
    return NULL;
}

/* Mask every IO-APIC pin, then program (masked) the ISA lines the kernel
 * numbers, as the overrides say. */
static unsigned route_isa_irqs(const struct madt_info *m) {
    uint32_t dest = lapic_read(LAPIC_ID) >> 24;
    unsigned routed = 0;

    for (unsigned i = 0; i < m->nioapic; i++) {
        volatile uint32_t *io = (volatile uint32_t *)x86_phys(m->ioapic[i].addr, 0x20);
        if (!io)
            continue;
        unsigned last = (ioapic_read(io, IOAPIC_VER) >> 16) & 0xff;
        for (unsigned pin = 0; pin <= last; pin++)
            ioapic_write(io, IOAPIC_REDIR(pin), REDIR_MASKED);
    }
    for (unsigned irq = 0; irq < ARCH_IRQ_MAX; irq++) {
        unsigned pin;
        uint16_t f = m->isa_flags[irq];
        if (irq == IRQ_PIT || irq == IRQ_CASCADE)
            continue;                   /* the tick is the local APIC's */
        volatile uint32_t *io = ioapic_for(m, m->isa_gsi[irq], &pin);
        if (!io)
            continue;
        bool level = (f & MPS_TRIGGER_MASK) == MPS_TRIGGER_LEVEL;
        bool low = (f & MPS_POLARITY_MASK) == MPS_POLARITY_LOW;
        pins[irq] = (struct irq_pin){ .ioapic = io, .pin = (uint8_t)pin,
                                      .level = level, .soft_masked = true };
        ioapic_write(io, IOAPIC_REDIR(pin) + 1, dest << 24);
        ioapic_write(io, IOAPIC_REDIR(pin),
                     (IRQ_BASE + irq) | (low ? REDIR_LOW_ACTIVE : 0) |
                     (level ? REDIR_LEVEL : 0) | REDIR_MASKED);
        routed++;
    }
    return routed;
}

static bool cpu_has_lapic(void) {
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(CPUID_FEATURES));
    return d & CPUID_EDX_APIC;
}

/* The RSDP the loader handed over (Multiboot2), else the one the BIOS
 * left in low memory; NULL with none (e.g. UEFI through multiboot v1). */
static const uint8_t *find_rsdp(const struct boot_info *bi, size_t *len) {
    if (bi->rsdp_len) {
        *len = bi->rsdp_len;
        return bi->rsdp;
    }
    uint64_t pa = acpi_rsdp_scan(x86_phys);
    *len = pa ? 36 : 0;
    return pa ? x86_phys(pa, 36) : NULL;
}

/* The local APIC software-enabled, its timer periodic on the tick's
 * vector; the period (/16) it was given. */
static uint32_t lapic_start_tick(uint32_t per_cal) {
    uint32_t period = (uint32_t)((uint64_t)per_cal * (1000 / CALIBRATE_MS) / CONFIG_TICK_HZ);
    lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | (IRQ_BASE + IRQ_PIT));
    lapic_write(LAPIC_TIMER_INIT, period);
    return period;
}

/* Try the IO-APIC and local APIC timer; false (nothing changed that the
 * legacy path minds) when ACPI does not describe them, with why. */
static bool apic_init(const uint8_t *rsdp, size_t rsdp_len, const char **why) {
    if (!cpu_has_lapic()) {
        *why = "no local APIC (CPUID)";
        return false;
    }
    if (!rsdp) {
        *why = "no ACPI RSDP";
        return false;
    }
    uint32_t len;
    const char *problem = NULL;
    const uint8_t *t = acpi_find_table(rsdp, rsdp_len, "APIC", x86_phys, &len, &problem);
    static struct madt_info m;
    if (!t) {
        *why = problem ? problem : "no MADT in ACPI";
        return false;
    }
    if (madt_parse(t, len, &m, &problem) < 0 && m.nioapic == 0) {
        *why = problem;
        return false;
    }
    lapic = (volatile uint32_t *)x86_phys(m.lapic_addr, 0x400);
    if (!lapic) {
        *why = "local APIC above 4 GiB";
        return false;
    }
    const char *source = NULL;
    uint32_t per_cal = lapic_calibrate(rsdp, rsdp_len, &source, why);
    if (per_cal == 0)
        return false;
    x86_pic_mask_all();
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);   /* the 8259s' virtual wire */
    unsigned routed = route_isa_irqs(&m);
    uint32_t period = lapic_start_tick(per_cal);
    printk("nagi: interrupts: IO-APIC (%u, %u ISA lines routed, %u override%s), "
           "local APIC timer %u/16 per tick (%s)\n", m.nioapic, routed, m.noverrides,
           m.noverrides == 1 ? "" : "s", period, source);
    return true;
}

/* The 8259 path on a PC with no PIT: the PICs reach the CPU through the
 * local APIC's LINT0 (ExtINT, the "virtual wire"), and the tick is the
 * local APIC timer, found through the IA32_APIC_BASE MSR (there may be
 * no MADT). The period, or 0 with why. */
static uint32_t pic_with_lapic_tick(const uint8_t *rsdp, size_t rsdp_len, const char **source,
                                    const char **why) {
    if (!cpu_has_lapic()) {
        *why = "no local APIC";
        return 0;
    }
    uint64_t base = rdmsr(MSR_APIC_BASE);
    wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic = (volatile uint32_t *)x86_phys(base & APIC_BASE_ADDR, 0x400);
    if (!lapic) {
        *why = "the local APIC is above 4 GiB";
        return 0;
    }
    uint32_t per_cal = lapic_calibrate(rsdp, rsdp_len, source, why);
    if (per_cal == 0)
        return 0;
    lapic_write(LAPIC_LVT_LINT0, LVT_EXTINT);
    lapic_write(LAPIC_LVT_LINT1, LVT_NMI);
    lapic_tick = true;
    return lapic_start_tick(per_cal);
}

/* Called once by arch_init, after the IDT is loaded. */
void x86_interrupts_init(const struct boot_info *bi) {
    const char *why = "CONFIG_X86_LEGACY_IRQ", *source = NULL, *no_tick = NULL;
    size_t rsdp_len;
    const uint8_t *rsdp = find_rsdp(bi, &rsdp_len);

    x86_pic_init();                       /* remapped (and masked) either way */
#ifndef CONFIG_X86_LEGACY_IRQ
    why = "irq=pic on the command line";
    if (!boot_cmdline_has(bi, "irq=pic") && apic_init(rsdp, rsdp_len, &why)) {
        apic_mode = true;
        return;
    }
#endif
    if (pit_counts()) {
        printk("nagi: interrupts: 8259 PIC and PIT (%s)\n", why);
        x86_pit_init(CONFIG_TICK_HZ);
        x86_pic_unmask(IRQ_PIT);
        return;
    }
    uint32_t period = pic_with_lapic_tick(rsdp, rsdp_len, &source, &no_tick);
    if (period == 0)
        panic("no timer: the 8259 PIC path was taken (%s), no PIT answers, and %s", why, no_tick);
    printk("nagi: interrupts: 8259 PIC (%s), no PIT: local APIC timer %u/16 per tick (%s)\n",
           why, period, source);
}

/* Called by x86_trap for every interrupt vector, before the kernel sees
 * it. Whether the kernel should see it (false: noted for later). */
bool x86_irq_ack(unsigned irq) {
    if (!apic_mode) {
        if (irq == IRQ_PIT && lapic_tick)
            lapic_write(LAPIC_EOI, 0);
        else
            x86_pic_eoi(irq);
        return true;
    }
    struct irq_pin *p = &pins[irq];
    bool deliver = true;
    if (irq != IRQ_PIT && p->ioapic) {
        if (p->level) {
            pin_mask(p, true);
        } else if (p->soft_masked) {
            p->pending = true;
            deliver = false;
        }
    }
    lapic_write(LAPIC_EOI, 0);
    return deliver;
}

void arch_irq_enable(unsigned irq) {
    if (irq >= ARCH_IRQ_MAX)
        return;
    if (!apic_mode) {
        x86_pic_unmask(irq);
        return;
    }
    struct irq_pin *p = &pins[irq];
    if (!p->ioapic)
        return;
    if (p->level) {
        pin_mask(p, false);
        return;
    }
    if (p->soft_masked) {
        p->soft_masked = false;
        pin_mask(p, false);
        if (p->pending) {                 /* replay the edge it missed */
            p->pending = false;
            while (lapic_read(LAPIC_ICR_LOW) & ICR_PENDING)
                ;
            lapic_write(LAPIC_ICR_LOW, ICR_SELF | ICR_ASSERT | (IRQ_BASE + irq));
        }
    }
}

void arch_irq_disable(unsigned irq) {
    if (irq >= ARCH_IRQ_MAX || irq == IRQ_CASCADE)
        return;
    if (!apic_mode) {
        x86_pic_mask(irq);
        return;
    }
    struct irq_pin *p = &pins[irq];
    if (!p->ioapic)
        return;
    if (p->level)
        pin_mask(p, true);
    else
        p->soft_masked = true;
}

/* IRQ 0 is the tick, IRQ 2 the cascade to the slave PIC (in both modes,
 * so drivers' numbers do not depend on the interrupt controller). */
bool arch_irq_valid(unsigned irq) {
    return irq < ARCH_IRQ_MAX && irq != IRQ_PIT && irq != IRQ_CASCADE;
}
