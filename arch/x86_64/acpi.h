/*
 * acpi.h (x86_64) - just enough ACPI to route interrupts: find the RSDP,
 * walk the RSDT/XSDT to a table, read the MADT (ACPI 6.5, 5.2.12) and
 * find the PM timer in the FADT (5.2.9), the clock a PC with no PIT
 * calibrates its local APIC timer against.
 * Pure: tables are reached through a boot_phys_fn, so the host unit tests
 * (arch/x86_64/tests/test_acpi.c) feed the same code tables they build.
 * Every length and checksum is checked before a table is believed.
 */
#ifndef NAGI_X86_64_ACPI_H
#define NAGI_X86_64_ACPI_H

#include "bootinfo.h"

#define ACPI_TABLE_MAX  (1u << 20)   /* a longer table is refused */
#define MADT_IOAPIC_MAX 8
#define ISA_IRQS        16

/* MPS INTI flags of an interrupt source override (MADT type 2) */
#define MPS_POLARITY_MASK 0x3
#define MPS_POLARITY_LOW  0x3        /* 0: as the bus (ISA: high), 1: high */
#define MPS_TRIGGER_MASK  0xc
#define MPS_TRIGGER_LEVEL 0xc        /* 0: as the bus (ISA: edge), 4: edge */

struct madt_ioapic {
    uint8_t id;
    uint32_t addr, gsi_base;
};

struct madt_info {
    uint64_t lapic_addr;
    bool pcat_compat;                /* 8259s present (must be masked) */
    unsigned ncpus;                  /* enabled local APICs */
    unsigned nioapic;
    struct madt_ioapic ioapic[MADT_IOAPIC_MAX];
    /* ISA IRQ n arrives at isa_gsi[n] with isa_flags[n] (identity and 0
     * unless an interrupt source override says otherwise) */
    uint32_t isa_gsi[ISA_IRQS];
    uint16_t isa_flags[ISA_IRQS];
    unsigned noverrides;
};

/* The ACPI power-management timer (ACPI 6.5, 4.8.3.3): a free-running
 * counter at PM_TIMER_HZ, 24 bits wide (mask 0xffffff) or 32 with the
 * FADT's TMR_VAL_EXT, read as one 32-bit word at addr in I/O space or,
 * when mmio, in memory. */
#define PM_TIMER_HZ 3579545
struct acpi_pm_timer {
    uint64_t addr;
    bool mmio;
    uint32_t mask;
};

/* Whether len bytes at p are a valid RSDP (signature, checksum; the
 * extended checksum for revision 2 when len covers it). */
bool acpi_rsdp_valid(const uint8_t *p, size_t len);

/* Look for the RSDP where BIOSes put it: the first KiB of the EBDA, then
 * 0xE0000..0xFFFFF, on 16-byte boundaries. Its physical address, or 0. */
uint64_t acpi_rsdp_scan(boot_phys_fn phys);

/* The table with signature sig through the XSDT (revision >= 2) or the
 * RSDT: a pointer to it and *len, or NULL with *problem set when the
 * root tables are bad (NULL and no problem: simply not there). */
const uint8_t *acpi_find_table(const uint8_t *rsdp, size_t rsdp_len,
                               const char sig[4], boot_phys_fn phys,
                               uint32_t *len, const char **problem);

/* Read a MADT of len bytes (already found valid by acpi_find_table).
 * 0, or -1 with *problem set (what was read before the problem is kept). */
int madt_parse(const uint8_t *madt, uint32_t len, struct madt_info *out,
               const char **problem);

/* Find the PM timer in a FADT ("FACP") of len bytes: X_PM_TMR_BLK when
 * the table is long enough and it is set, else PM_TMR_BLK. 0, or -1 with
 * *problem set (a hardware-reduced ACPI platform has no PM timer). */
int fadt_pm_timer(const uint8_t *fadt, uint32_t len, struct acpi_pm_timer *out,
                  const char **problem);

#endif
