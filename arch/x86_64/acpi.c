/*
 * acpi.c (x86_64) - RSDP, RSDT/XSDT and MADT (acpi.h). Pure: the kernel
 * (interrupts.c) and the host unit tests compile this file.
 *
 *   RSDP ("RSD PTR ", 20 bytes; 36 from revision 2)
 *     +16 RSDT address (u32)  --> RSDT: header, then u32 table addresses
 *     +24 XSDT address (u64)  --> XSDT: header, then u64 table addresses
 *   every table: a 36-byte header (+0 signature, +4 length, +9 checksum:
 *   all length bytes sum to 0 mod 256), then its body.
 *   MADT body: +36 local APIC address (u32), +40 flags, +44 entries:
 *     +0 type u8, +1 length u8 (itself included), ...
 *   FADT ("FACP") body, the fields read here: +76 PM_TMR_BLK (u32 I/O
 *     port), +91 PM_TMR_LEN (u8, 4), +112 flags (u32), and from ACPI 2.0
 *     +208 X_PM_TMR_BLK, a generic address: +0 space (0 memory, 1 I/O),
 *     +1 bit width, +2 bit offset, +3 access size, +4 address (u64).
 */
#include "acpi.h"

#define HDR_LEN          36
#define RSDP_V1_LEN      20
#define RSDP_V2_LEN      36
#define EBDA_SEG_PTR     0x40e       /* BIOS data area: the EBDA's segment */
#define EBDA_SCAN_LEN    1024
#define BIOS_AREA        0xe0000
#define BIOS_AREA_LEN    0x20000

#define MADT_PCAT_COMPAT 0x1
#define MADT_LAPIC       0           /* processor local APIC */
#define MADT_IOAPIC      1
#define MADT_OVERRIDE    2           /* interrupt source override */
#define MADT_LAPIC_ADDR  5           /* 64-bit local APIC address */
#define LAPIC_ENABLED    0x1

#define FADT_PM_TMR_BLK   76
#define FADT_PM_TMR_LEN   91
#define FADT_FLAGS        112
#define FADT_X_PM_TMR_BLK 208
#define GAS_LEN           12
#define FADT_TMR_VAL_EXT  (1u << 8)
#define FADT_HW_REDUCED   (1u << 20)
#define GAS_MEMORY        0
#define GAS_IO            1

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) {
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static bool sums_to_zero(const uint8_t *p, size_t len) {
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

static bool same_sig(const uint8_t *p, const char *sig, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)sig[i])
            return false;
    return true;
}

bool acpi_rsdp_valid(const uint8_t *p, size_t len) {
    if (!p || len < RSDP_V1_LEN || !same_sig(p, "RSD PTR ", 8) ||
        !sums_to_zero(p, RSDP_V1_LEN))
        return false;
    if (p[15] >= 2 && len >= RSDP_V2_LEN) {
        uint32_t xlen = rd32(p + 20);
        return xlen >= RSDP_V2_LEN && xlen <= len && sums_to_zero(p, xlen);
    }
    return true;
}

static uint64_t scan(boot_phys_fn phys, uint64_t base, size_t len) {
    const uint8_t *p = phys(base, len);
    if (!p)
        return 0;
    for (size_t off = 0; off + RSDP_V1_LEN <= len; off += 16) {
        size_t room = len - off < RSDP_V2_LEN ? len - off : RSDP_V2_LEN;
        if (acpi_rsdp_valid(p + off, room))
            return base + off;
    }
    return 0;
}

uint64_t acpi_rsdp_scan(boot_phys_fn phys) {
    const uint8_t *bda = phys(EBDA_SEG_PTR, 2);
    uint64_t found = 0;
    if (bda) {
        uint64_t ebda = (uint64_t)(bda[0] | bda[1] << 8) << 4;
        if (ebda >= 0x80000 && ebda < 0xa0000)   /* a plausible EBDA */
            found = scan(phys, ebda, EBDA_SCAN_LEN);
    }
    return found ? found : scan(phys, BIOS_AREA, BIOS_AREA_LEN);
}

/* The table at paddr, checked: its length is sane and reachable and its
 * checksum holds. NULL otherwise. */
static const uint8_t *table_at(uint64_t paddr, boot_phys_fn phys, uint32_t *len) {
    const uint8_t *h = phys(paddr, HDR_LEN);
    if (!h)
        return NULL;
    uint32_t n = rd32(h + 4);
    if (n < HDR_LEN || n > ACPI_TABLE_MAX)
        return NULL;
    const uint8_t *t = phys(paddr, n);
    if (!t || !sums_to_zero(t, n))
        return NULL;
    *len = n;
    return t;
}

const uint8_t *acpi_find_table(const uint8_t *rsdp, size_t rsdp_len,
                               const char sig[4], boot_phys_fn phys,
                               uint32_t *len, const char **problem) {
    if (!acpi_rsdp_valid(rsdp, rsdp_len)) {
        *problem = "ACPI RSDP invalid";
        return NULL;
    }
    bool x = rsdp[15] >= 2 && rsdp_len >= RSDP_V2_LEN && rd64(rsdp + 24);
    uint64_t root_pa = x ? rd64(rsdp + 24) : rd32(rsdp + 16);
    uint32_t root_len;
    const uint8_t *root = table_at(root_pa, phys, &root_len);
    if (!root || !same_sig(root, x ? "XSDT" : "RSDT", 4)) {
        *problem = x ? "ACPI XSDT invalid" : "ACPI RSDT invalid";
        return NULL;
    }
    unsigned step = x ? 8 : 4;
    for (uint32_t off = HDR_LEN; off + step <= root_len; off += step) {
        uint64_t pa = x ? rd64(root + off) : rd32(root + off);
        uint32_t n;
        const uint8_t *t = table_at(pa, phys, &n);
        if (t && same_sig(t, sig, 4)) {
            *len = n;
            return t;
        }
    }
    return NULL;
}

int madt_parse(const uint8_t *madt, uint32_t len, struct madt_info *out,
               const char **problem) {
    *out = (struct madt_info){0};
    for (unsigned i = 0; i < ISA_IRQS; i++)
        out->isa_gsi[i] = i;
    if (len < HDR_LEN + 8) {
        *problem = "MADT too short";
        return -1;
    }
    out->lapic_addr = rd32(madt + 36);
    out->pcat_compat = rd32(madt + 40) & MADT_PCAT_COMPAT;
    for (uint32_t off = HDR_LEN + 8; off + 2 <= len;) {
        const uint8_t *e = madt + off;
        uint8_t type = e[0], n = e[1];
        if (n < 2 || n > len - off) {
            *problem = "MADT entry of a bad length";
            return -1;
        }
        if (type == MADT_LAPIC && n >= 8 && (rd32(e + 4) & LAPIC_ENABLED)) {
            out->ncpus++;
        } else if (type == MADT_IOAPIC && n >= 12) {
            if (out->nioapic < MADT_IOAPIC_MAX)
                out->ioapic[out->nioapic++] = (struct madt_ioapic){
                    .id = e[2], .addr = rd32(e + 4), .gsi_base = rd32(e + 8)};
        } else if (type == MADT_OVERRIDE && n >= 10) {
            if (e[2] == 0 && e[3] < ISA_IRQS) {   /* bus 0: ISA */
                out->isa_gsi[e[3]] = rd32(e + 4);
                out->isa_flags[e[3]] = (uint16_t)(e[8] | e[9] << 8);
                out->noverrides++;
            }
        } else if (type == MADT_LAPIC_ADDR && n >= 12) {
            out->lapic_addr = rd64(e + 4);
        }
        off += n;
    }
    if (out->nioapic == 0) {
        *problem = "MADT lists no IO-APIC";
        return -1;
    }
    return 0;
}

int fadt_pm_timer(const uint8_t *fadt, uint32_t len, struct acpi_pm_timer *out,
                  const char **problem) {
    *out = (struct acpi_pm_timer){0};
    if (len < FADT_FLAGS + 4) {
        *problem = "FADT too short for the PM timer";
        return -1;
    }
    uint32_t flags = rd32(fadt + FADT_FLAGS);
    if (flags & FADT_HW_REDUCED) {
        *problem = "hardware-reduced ACPI: no PM timer";
        return -1;
    }
    out->mask = flags & FADT_TMR_VAL_EXT ? 0xffffffffu : 0xffffffu;
    if (len >= FADT_X_PM_TMR_BLK + GAS_LEN && rd64(fadt + FADT_X_PM_TMR_BLK + 4)) {
        const uint8_t *gas = fadt + FADT_X_PM_TMR_BLK;
        if (gas[0] != GAS_IO && gas[0] != GAS_MEMORY) {
            *problem = "PM timer in an address space other than I/O or memory";
            return -1;
        }
        out->addr = rd64(gas + 4);
        out->mmio = gas[0] == GAS_MEMORY;
        if (!out->mmio && out->addr > 0xfffc) {
            *problem = "PM timer at an I/O port out of range";
            return -1;
        }
        return 0;
    }
    uint32_t port = rd32(fadt + FADT_PM_TMR_BLK);
    if (port == 0 || fadt[FADT_PM_TMR_LEN] != 4) {
        *problem = "FADT lists no PM timer";
        return -1;
    }
    if (port > 0xfffc) {
        *problem = "PM timer at an I/O port out of range";
        return -1;
    }
    out->addr = port;
    return 0;
}
