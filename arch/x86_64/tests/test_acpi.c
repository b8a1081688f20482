/*
 * test_acpi.c - the RSDP check and scan, the RSDT/XSDT walk and the MADT
 * reader (arch/x86_64/acpi.c) on tables built here in a fake physical
 * memory: QEMU q35's layout, then bad checksums, truncated tables and
 * entries, pointers out of reach.
 */
#include <stdlib.h>
#include <string.h>
#include "acpi.h"
#include "test.h"

#define MEM_SIZE 0x100000             /* fake physical memory: the first MiB */
static uint8_t mem[MEM_SIZE];

static const void *phys(uint64_t pa, size_t len) {
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return NULL;
    return mem + pa;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void fix_sum(uint8_t *p, size_t len, size_t at) {
    uint8_t s = 0;
    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        s += p[i];
    p[at] = (uint8_t)-s;
}

static void header(uint8_t *t, const char *sig, uint32_t len) {
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = 1;
    fix_sum(t, len, 9);
}

#define RSDP_AT 0xf5a00
#define RSDT_AT 0x20000
#define XSDT_AT 0x21000
#define FACP_AT 0x22000
#define MADT_AT 0x23000

/* The MADT QEMU builds for q35 with one CPU: a local APIC, the IO-APIC at
 * 0xfec00000, overrides IRQ0->GSI2 and 5, 9, 10, 11 level/high. */
static uint32_t build_madt(void) {
    uint8_t *t = mem + MADT_AT;
    uint32_t n = 44;
    put32(t + 36, 0xfee00000);
    put32(t + 40, 1);
    t[n] = 0, t[n + 1] = 8, t[n + 2] = 0, t[n + 3] = 0, put32(t + n + 4, 1);
    n += 8;
    t[n] = 1, t[n + 1] = 12, t[n + 2] = 0, put32(t + n + 4, 0xfec00000), put32(t + n + 8, 0);
    n += 12;
    t[n] = 2, t[n + 1] = 10, t[n + 2] = 0, t[n + 3] = 0, put32(t + n + 4, 2), put16(t + n + 8, 0);
    n += 10;
    static const uint8_t level[] = {5, 9, 10, 11};
    for (unsigned i = 0; i < 4; i++, n += 10) {
        t[n] = 2, t[n + 1] = 10, t[n + 2] = 0, t[n + 3] = level[i];
        put32(t + n + 4, level[i]);
        put16(t + n + 8, 0xd);        /* level, active high */
    }
    t[n] = 4, t[n + 1] = 6, t[n + 2] = 0xff, put16(t + n + 3, 0), t[n + 5] = 1;
    n += 6;
    header(t, "APIC", n);
    return n;
}

/* FADTs as firmware writes them: QEMU q35's (ACPI 2.0+, 244 bytes, the
 * timer at I/O 0x608 in both fields, 32 bits wide), an ACPI 1.0 one (116
 * bytes, PM_TMR_BLK only, 24 bits), one whose X_PM_TMR_BLK is in memory,
 * and a hardware-reduced one (no PM timer). Returns the length. */
enum fadt_kind { FADT_Q35, FADT_V1, FADT_MMIO, FADT_HW_REDUCED };

static uint32_t build_fadt(enum fadt_kind kind) {
    uint8_t *t = mem + FACP_AT;
    uint32_t len = kind == FADT_V1 ? 116 : 244;
    memset(t, 0, 244);
    put32(t + 76, 0x608);
    t[91] = 4;
    put32(t + 112, kind == FADT_V1 ? 0 : kind == FADT_HW_REDUCED ? (1u << 20) : (1u << 8));
    if (kind != FADT_V1) {
        uint8_t *gas = t + 208;
        gas[0] = kind == FADT_MMIO ? 0 : 1, gas[1] = 32, gas[3] = 3;
        put64(gas + 4, kind == FADT_MMIO ? 0xfed000f0ull : 0x608);
    }
    header(t, "FACP", len);
    return len;
}

/* RSDP (revision rev) -> RSDT and XSDT -> FACP, APIC. */
static void build_acpi(int rev) {
    memset(mem, 0, sizeof(mem));
    build_madt();
    build_fadt(FADT_Q35);
    uint8_t *rsdt = mem + RSDT_AT;
    put32(rsdt + 36, FACP_AT);
    put32(rsdt + 40, MADT_AT);
    header(rsdt, "RSDT", 44);
    uint8_t *xsdt = mem + XSDT_AT;
    put64(xsdt + 36, FACP_AT);
    put64(xsdt + 44, MADT_AT);
    header(xsdt, "XSDT", 52);
    uint8_t *r = mem + RSDP_AT;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "BOCHS ", 6);
    r[15] = (uint8_t)rev;
    put32(r + 16, RSDT_AT);
    if (rev >= 2) {
        put32(r + 20, 36);
        put64(r + 24, XSDT_AT);
    }
    fix_sum(r, 20, 8);
    if (rev >= 2)
        fix_sum(r, 36, 32);
}

static const uint8_t *madt_via(size_t rsdp_len, uint32_t *len, const char **problem) {
    return acpi_find_table(mem + RSDP_AT, rsdp_len, "APIC", phys, len, problem);
}

TEST(acpi_rsdp_scan_finds_it_in_the_bios_area) {
    build_acpi(0);
    CHECK_EQ(acpi_rsdp_scan(phys), RSDP_AT);
    mem[RSDP_AT + 10] ^= 1;                /* checksum broken */
    CHECK_EQ(acpi_rsdp_scan(phys), 0);
}

TEST(acpi_rsdp_scan_prefers_the_ebda) {
    build_acpi(0);
    memcpy(mem + 0x9fc00, mem + RSDP_AT, 20);
    put16(mem + 0x40e, 0x9fc0);
    CHECK_EQ(acpi_rsdp_scan(phys), 0x9fc00);
}

TEST(acpi_madt_through_the_rsdt_as_qemu_builds_it) {
    build_acpi(0);
    uint32_t len = 0;
    const char *problem = NULL;
    const uint8_t *t = madt_via(20, &len, &problem);
    REQUIRE(t == mem + MADT_AT);
    struct madt_info m;
    CHECK_EQ(madt_parse(t, len, &m, &problem), 0);
    CHECK_EQ(m.lapic_addr, 0xfee00000);
    CHECK(m.pcat_compat);
    CHECK_EQ(m.ncpus, 1);
    REQUIRE(m.nioapic == 1);
    CHECK_EQ(m.ioapic[0].addr, 0xfec00000);
    CHECK_EQ(m.ioapic[0].gsi_base, 0);
    CHECK_EQ(m.noverrides, 5);
    CHECK_EQ(m.isa_gsi[0], 2);
    CHECK_EQ(m.isa_gsi[1], 1);
    CHECK_EQ(m.isa_gsi[4], 4);
    CHECK_EQ(m.isa_flags[4], 0);
    CHECK_EQ(m.isa_flags[11] & MPS_TRIGGER_MASK, MPS_TRIGGER_LEVEL);
    CHECK((m.isa_flags[11] & MPS_POLARITY_MASK) != MPS_POLARITY_LOW);
}

TEST(acpi_revision_2_walks_the_xsdt) {
    build_acpi(2);
    memset(mem + RSDT_AT, 0, 44);          /* an RSDT that is not there */
    uint32_t len;
    const char *problem = NULL;
    CHECK(madt_via(36, &len, &problem) == mem + MADT_AT);
    CHECK(problem == NULL);
    /* the loader's copy of only the first 20 bytes: the RSDT is used */
    CHECK(madt_via(20, &len, &problem) == NULL);
    CHECK(problem != NULL);
}

TEST(acpi_bad_rsdp_extended_checksum) {
    build_acpi(2);
    mem[RSDP_AT + 33] ^= 0x40;
    CHECK(!acpi_rsdp_valid(mem + RSDP_AT, 36));
    CHECK(acpi_rsdp_valid(mem + RSDP_AT, 20));   /* v1 part still fine */
}

TEST(acpi_table_with_a_bad_checksum_is_skipped) {
    build_acpi(0);
    mem[MADT_AT + 50] ^= 0xff;
    uint32_t len;
    const char *problem = NULL;
    CHECK(madt_via(20, &len, &problem) == NULL);
    CHECK(problem == NULL);                      /* simply not found */
}

TEST(acpi_table_lengths_out_of_reach_or_absurd) {
    build_acpi(0);
    uint32_t len;
    const char *problem = NULL;
    put32(mem + MADT_AT + 4, 0xfffffff0);        /* huge */
    CHECK(madt_via(20, &len, &problem) == NULL);
    put32(mem + MADT_AT + 4, 10);                /* shorter than a header */
    CHECK(madt_via(20, &len, &problem) == NULL);
    build_acpi(0);
    put32(mem + RSDT_AT + 40, 0xfffff000);       /* pointer out of reach */
    header(mem + RSDT_AT, "RSDT", 44);
    CHECK(madt_via(20, &len, &problem) == NULL);
    put32(mem + RSDT_AT + 4, 0x7fffffff);        /* the root itself */
    CHECK(madt_via(20, &len, &problem) == NULL);
    CHECK(problem != NULL);
}

TEST(madt_entry_of_length_zero_or_past_the_end) {
    build_acpi(0);
    uint32_t len = build_madt();
    struct madt_info m;
    const char *problem = NULL;
    uint8_t *t = mem + MADT_AT;
    t[44 + 8 + 1] = 0;                          /* the IO-APIC entry: length 0 */
    CHECK_EQ(madt_parse(t, len, &m, &problem), -1);
    CHECK(problem != NULL);
    len = build_madt();
    t[44 + 8 + 1] = 200;                        /* runs past the table */
    problem = NULL;
    CHECK_EQ(madt_parse(t, len, &m, &problem), -1);
    CHECK_EQ(m.ncpus, 1);                       /* read before the problem */
}

TEST(madt_truncated_at_every_length) {
    build_acpi(0);
    uint32_t len = build_madt();
    for (uint32_t cut = 0; cut <= len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, mem + MADT_AT, cut);
        struct madt_info m;
        const char *problem = NULL;
        int r = madt_parse(copy, cut, &m, &problem);
        CHECK(r == 0 || problem != NULL);
        CHECK(m.nioapic <= 1);
        free(copy);
    }
}

TEST(madt_without_ioapic_is_refused) {
    uint8_t t[44 + 8];
    memset(t, 0, sizeof(t));
    t[44] = 0, t[45] = 8, put32(t + 48, 1);
    struct madt_info m;
    const char *problem = NULL;
    CHECK_EQ(madt_parse(t, sizeof(t), &m, &problem), -1);
    CHECK(problem && strstr(problem, "IO-APIC"));
}

TEST(madt_override_for_a_non_isa_bus_is_ignored_and_lapic_address_override) {
    build_acpi(0);
    uint8_t t[44 + 12 + 10 + 12];
    memset(t, 0, sizeof(t));
    t[44] = 1, t[45] = 12, put32(t + 48, 0xfec00000);
    t[56] = 2, t[57] = 10, t[58] = 1, t[59] = 4, put32(t + 60, 20);   /* bus 1 */
    t[66] = 5, t[67] = 12, put64(t + 70, 0x1fee00000ull);
    struct madt_info m;
    const char *problem = NULL;
    CHECK_EQ(madt_parse(t, sizeof(t), &m, &problem), 0);
    CHECK_EQ(m.isa_gsi[4], 4);
    CHECK_EQ(m.noverrides, 0);
    CHECK_EQ(m.lapic_addr, 0x1fee00000ull);
}

static int pm_timer(enum fadt_kind kind, struct acpi_pm_timer *pm, const char **problem) {
    build_acpi(2);
    uint32_t len = build_fadt(kind), found = 0;
    REQUIRE(acpi_find_table(mem + RSDP_AT, 36, "FACP", phys, &found, problem) == mem + FACP_AT);
    CHECK_EQ(found, len);
    return fadt_pm_timer(mem + FACP_AT, len, pm, problem);
}

TEST(fadt_pm_timer_as_qemu_q35_describes_it) {
    struct acpi_pm_timer pm;
    const char *problem = NULL;
    CHECK_EQ(pm_timer(FADT_Q35, &pm, &problem), 0);
    CHECK_EQ(pm.addr, 0x608);
    CHECK(!pm.mmio);
    CHECK_EQ(pm.mask, 0xffffffffu);             /* TMR_VAL_EXT */
}

TEST(fadt_pm_timer_acpi_1_is_24_bits_at_pm_tmr_blk) {
    struct acpi_pm_timer pm;
    const char *problem = NULL;
    CHECK_EQ(pm_timer(FADT_V1, &pm, &problem), 0);
    CHECK_EQ(pm.addr, 0x608);
    CHECK_EQ(pm.mask, 0xffffffu);
    /* X_PM_TMR_BLK set but zero address: PM_TMR_BLK still counts */
    build_fadt(FADT_Q35);
    put64(mem + FACP_AT + 208 + 4, 0);
    put32(mem + FACP_AT + 76, 0x408);
    CHECK_EQ(fadt_pm_timer(mem + FACP_AT, 244, &pm, &problem), 0);
    CHECK_EQ(pm.addr, 0x408);
}

TEST(fadt_pm_timer_in_memory) {
    struct acpi_pm_timer pm;
    const char *problem = NULL;
    CHECK_EQ(pm_timer(FADT_MMIO, &pm, &problem), 0);
    CHECK(pm.mmio);
    CHECK_EQ(pm.addr, 0xfed000f0ull);
}

TEST(fadt_without_a_pm_timer_says_why) {
    struct acpi_pm_timer pm;
    const char *problem = NULL;
    CHECK_EQ(pm_timer(FADT_HW_REDUCED, &pm, &problem), -1);
    CHECK(problem && strstr(problem, "hardware-reduced"));
    uint8_t *t = mem + FACP_AT;
    build_fadt(FADT_V1);
    put32(t + 76, 0);                           /* no PM_TMR_BLK */
    problem = NULL;
    CHECK_EQ(fadt_pm_timer(t, 116, &pm, &problem), -1);
    CHECK(problem && strstr(problem, "no PM timer"));
    build_fadt(FADT_V1);
    t[91] = 2;                                  /* PM_TMR_LEN must be 4 */
    CHECK_EQ(fadt_pm_timer(t, 116, &pm, &problem), -1);
    build_fadt(FADT_V1);
    put32(t + 76, 0xfffe);                      /* a dword past port 0xffff */
    CHECK_EQ(fadt_pm_timer(t, 116, &pm, &problem), -1);
    CHECK(problem && strstr(problem, "out of range"));
    build_fadt(FADT_Q35);
    t[208] = 2;                                 /* PCI configuration space */
    problem = NULL;
    CHECK_EQ(fadt_pm_timer(t, 244, &pm, &problem), -1);
    CHECK(problem && strstr(problem, "address space"));
}

TEST(fadt_truncated_at_every_length) {
    uint32_t len = build_fadt(FADT_Q35);
    for (uint32_t cut = 0; cut <= len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, mem + FACP_AT, cut);
        struct acpi_pm_timer pm;
        const char *problem = NULL;
        int r = fadt_pm_timer(copy, cut, &pm, &problem);
        CHECK_EQ(r, cut < 116 ? -1 : 0);
        /* shorter than X_PM_TMR_BLK: PM_TMR_BLK, the same port */
        if (r == 0)
            CHECK_EQ(pm.addr, 0x608);
        free(copy);
    }
}
