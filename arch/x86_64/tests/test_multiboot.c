/*
 * test_multiboot.c - the multiboot v1 and Multiboot2 information parsers
 * and the RAM range clipping (arch/x86_64/multiboot.c), on structures
 * built here as a loader would, and hostile ones: truncated, tags whose
 * size runs past the end, zero-sized entries, overlapping ranges.
 */
#include <stdlib.h>
#include <string.h>
#include "bootinfo.h"
#include "test.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static struct boot_info fresh(void) {
    return (struct boot_info){ .ram_floor = 2 * MIB, .ram_ceiling = 4 * GIB };
}

/* A Multiboot2 information builder. */
struct mb2 { uint8_t b[1024]; size_t n; };

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t *mb2_tag(struct mb2 *m, uint32_t type, uint32_t size) {
    uint8_t *t = m->b + m->n;
    put32(t, type);
    put32(t + 4, size);
    m->n += (size + 7) & ~7u;
    return t;
}

static void mb2_begin(struct mb2 *m) { memset(m, 0, sizeof(*m)); m->n = 8; }
static size_t mb2_end(struct mb2 *m) {
    mb2_tag(m, 0, 8);
    put32(m->b, (uint32_t)m->n);
    return m->n;
}

static void mb2_mmap(struct mb2 *m, const uint64_t (*e)[3], unsigned n) {
    uint8_t *t = mb2_tag(m, 6, 16 + 24 * n);
    put32(t + 8, 24);
    for (unsigned i = 0; i < n; i++) {
        put64(t + 16 + 24 * i, e[i][0]);
        put64(t + 24 + 24 * i, e[i][1]);
        put32(t + 32 + 24 * i, (uint32_t)e[i][2]);
    }
}

/* QEMU's q35 map with 256 MiB, as GRUB reports it. */
static const uint64_t q35_map[][3] = {
    {0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xf0000, 0x10000, 2},
    {0x100000, 0xfee0000, 1}, {0xffe0000, 0x20000, 2}, {0xb0000000, 0x10000000, 2},
};

TEST(mb2_memory_map_keeps_ram_above_the_floor) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    mb2_mmap(&m, q35_map, 6);
    CHECK_EQ(mb2_parse(&bi, m.b, mb2_end(&m)), 0);
    CHECK(bi.problem == NULL);
    CHECK_EQ(bi.loader, 2);
    CHECK(bi.ram_from_map);
    REQUIRE(bi.nram == 1);
    CHECK_EQ(bi.ram[0].base, 2 * MIB);
    CHECK_EQ(bi.ram[0].base + bi.ram[0].len, 0xffe0000);
}

TEST(mb2_framebuffer_and_rsdp_tags) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    uint8_t *fb = mb2_tag(&m, 8, 38);
    put64(fb + 8, 0x80000000);
    put32(fb + 16, 1280 * 4);
    put32(fb + 20, 1280);
    put32(fb + 24, 800);
    fb[28] = 32, fb[29] = 1;
    fb[32] = 16, fb[33] = 8, fb[34] = 8, fb[35] = 8, fb[36] = 0, fb[37] = 8;
    uint8_t *r = mb2_tag(&m, 14, 8 + 20);
    memcpy(r + 8, "RSD PTR ", 8);
    mb2_mmap(&m, q35_map, 6);
    CHECK_EQ(mb2_parse(&bi, m.b, mb2_end(&m)), 0);
    CHECK_EQ(bi.fb.kind, FB_RGB);
    CHECK_EQ(bi.fb.addr, 0x80000000);
    CHECK_EQ(bi.fb.width, 1280);
    CHECK_EQ(bi.fb.height, 800);
    CHECK_EQ(bi.fb.pitch, 5120);
    CHECK_EQ(bi.fb.bpp, 32);
    CHECK_EQ(bi.fb.red_pos, 16);
    CHECK_EQ(bi.fb.green_pos, 8);
    CHECK_EQ(bi.fb.blue_pos, 0);
    CHECK_EQ(bi.fb.blue_size, 8);
    CHECK_EQ(bi.rsdp_len, 20);
    CHECK(memcmp(bi.rsdp, "RSD PTR ", 8) == 0);
}

TEST(mb2_ega_text_framebuffer) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    uint8_t *fb = mb2_tag(&m, 8, 32);
    put64(fb + 8, 0xb8000);
    put32(fb + 16, 160);
    put32(fb + 20, 80);
    put32(fb + 24, 25);
    fb[28] = 16, fb[29] = 2;
    mb2_mmap(&m, q35_map, 6);
    CHECK_EQ(mb2_parse(&bi, m.b, mb2_end(&m)), 0);
    CHECK_EQ(bi.fb.kind, FB_EGA_TEXT);
    CHECK_EQ(bi.fb.width, 80);
    CHECK_EQ(bi.fb.height, 25);
}

TEST(mb2_new_rsdp_wins_over_old_and_is_capped) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    uint8_t *n = mb2_tag(&m, 15, 8 + 64);     /* longer than an RSDP */
    memset(n + 8, 0xaa, 64);
    uint8_t *o = mb2_tag(&m, 14, 8 + 20);
    memset(o + 8, 0x55, 20);
    mb2_mmap(&m, q35_map, 6);
    mb2_parse(&bi, m.b, mb2_end(&m));
    CHECK_EQ(bi.rsdp_len, BOOT_RSDP_MAX);
    CHECK_EQ(bi.rsdp[0], 0xaa);
}

TEST(mb2_tag_running_past_the_end_is_not_followed) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    mb2_mmap(&m, q35_map, 6);
    uint8_t *bad = mb2_tag(&m, 8, 8);
    size_t n = mb2_end(&m);
    put32(bad + 4, 4096);                     /* far beyond total_size */
    CHECK_EQ(mb2_parse(&bi, m.b, n), -1);
    CHECK(bi.problem && strstr(bi.problem, "past the end"));
    CHECK_EQ(bi.fb.kind, FB_NONE);
    CHECK_EQ(bi.nram, 1);                     /* what came before is kept */
}

TEST(mb2_tag_of_size_zero_stops_the_walk) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    uint8_t *bad = mb2_tag(&m, 6, 8);
    size_t n = mb2_end(&m);
    put32(bad + 4, 0);                        /* would loop forever */
    CHECK_EQ(mb2_parse(&bi, m.b, n), -1);
    CHECK(bi.problem != NULL);
    CHECK_EQ(bi.nram, 0);
}

TEST(mb2_total_size_beyond_readable_is_cut) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    mb2_mmap(&m, q35_map, 6);
    size_t n = mb2_end(&m);
    put32(m.b, 1u << 30);                     /* claims 1 GiB */
    CHECK_EQ(mb2_parse(&bi, m.b, n), -1);
    CHECK(bi.problem && strstr(bi.problem, "cut"));
    CHECK_EQ(bi.nram, 1);
}

TEST(mb2_truncated_everywhere_never_reads_outside) {
    /* every prefix of a valid structure, copied into a buffer of exactly
     * that size (ASan catches a read past it) */
    struct mb2 m;
    mb2_begin(&m);
    uint8_t *fb = mb2_tag(&m, 8, 38);
    put32(fb + 16, 4096), put32(fb + 20, 1024), put32(fb + 24, 768);
    fb[28] = 32, fb[29] = 1;
    mb2_mmap(&m, q35_map, 6);
    mb2_tag(&m, 15, 8 + 36);
    size_t n = mb2_end(&m);
    for (size_t cut = 0; cut <= n; cut++) {
        struct boot_info bi = fresh();
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, m.b, cut);
        mb2_parse(&bi, copy, cut);
        CHECK(cut == n || bi.problem != NULL);
        free(copy);
    }
}

TEST(mb2_mmap_entries_too_small_are_refused) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    uint8_t *t = mb2_tag(&m, 6, 16 + 24);
    put32(t + 8, 0);                          /* entry_size 0 */
    mb2_end(&m);
    CHECK_EQ(mb2_parse(&bi, m.b, m.n), -1);
    CHECK_EQ(bi.nram, 0);
}

/* multiboot v1: a fake physical memory of two pieces. */
static uint8_t v1_info[128], v1_map[256];
static const void *v1_phys(uint64_t pa, size_t len) {
    if (pa == 0x9000 && len <= sizeof(v1_info)) return v1_info;
    if (pa == 0xa000 && len <= sizeof(v1_map)) return v1_map;
    return NULL;
}

static size_t v1_entry(size_t off, uint32_t size, uint64_t base, uint64_t len, uint32_t type) {
    put32(v1_map + off, size);
    put64(v1_map + off + 4, base);
    put64(v1_map + off + 12, len);
    put32(v1_map + off + 20, type);
    return off + 4 + size;
}

TEST(mb1_memory_map_as_qemu_gives_it) {
    struct boot_info bi = fresh();
    memset(v1_info, 0, sizeof(v1_info));
    size_t n = v1_entry(0, 20, 0, 0x9fc00, 1);
    n = v1_entry(n, 20, 0x100000, 0xfee0000, 1);
    n = v1_entry(n, 20, 0xfffc0000, 0x40000, 2);
    put32(v1_info, (1u << 6) | 1);
    put32(v1_info + 44, (uint32_t)n);
    put32(v1_info + 48, 0xa000);
    CHECK_EQ(mb1_parse(&bi, 0x9000, v1_phys), 0);
    CHECK_EQ(bi.loader, 1);
    REQUIRE(bi.nram == 1);
    CHECK_EQ(bi.ram[0].base, 2 * MIB);
    CHECK_EQ(bi.ram[0].base + bi.ram[0].len, 0xffe0000);
    CHECK_EQ(bi.fb.kind, FB_NONE);
}

TEST(mb1_bad_entry_size_stops_the_walk) {
    struct boot_info bi = fresh();
    memset(v1_info, 0, sizeof(v1_info));
    size_t n = v1_entry(0, 20, 0x100000, 0x1000000, 1);
    n = v1_entry(n, 200, 0x2000000, 0x1000000, 1);   /* runs past mmap_length */
    put32(v1_info, 1u << 6);
    put32(v1_info + 44, 48);
    put32(v1_info + 48, 0xa000);
    CHECK_EQ(mb1_parse(&bi, 0x9000, v1_phys), -1);
    CHECK_EQ(bi.nram, 1);
}

TEST(mb1_mem_upper_without_a_map_and_the_framebuffer_fields) {
    struct boot_info bi = fresh();
    memset(v1_info, 0, sizeof(v1_info));
    put32(v1_info, 1u | (1u << 12));
    put32(v1_info + 8, 63 * 1024);            /* KiB above 1 MiB */
    put64(v1_info + 88, 0xfd000000);
    put32(v1_info + 96, 800 * 4), put32(v1_info + 100, 800), put32(v1_info + 104, 600);
    v1_info[108] = 32, v1_info[109] = 1;
    v1_info[110] = 16, v1_info[111] = 8, v1_info[112] = 8, v1_info[113] = 8;
    v1_info[114] = 0, v1_info[115] = 8;
    CHECK_EQ(mb1_parse(&bi, 0x9000, v1_phys), 0);
    REQUIRE(bi.nram == 1);
    CHECK_EQ(bi.ram[0].base + bi.ram[0].len, 64 * MIB);
    CHECK_EQ(bi.fb.kind, FB_RGB);
    CHECK_EQ(bi.fb.addr, 0xfd000000);
    CHECK_EQ(bi.fb.red_pos, 16);
    CHECK_EQ(bi.fb.blue_size, 8);
}

TEST(mb1_info_out_of_reach) {
    struct boot_info bi = fresh();
    CHECK_EQ(mb1_parse(&bi, 0x12345, v1_phys), -1);
    CHECK(bi.problem != NULL);
}

TEST(ram_ranges_clip_merge_and_sort) {
    struct boot_info bi = fresh();
    boot_add_ram(&bi, 0, 1 * MIB);                  /* below the floor */
    CHECK_EQ(bi.nram, 0);
    boot_add_ram(&bi, 64 * MIB, 64 * MIB);
    boot_add_ram(&bi, 16 * MIB, 16 * MIB);
    boot_add_ram(&bi, 100 * MIB, 100 * MIB);         /* overlaps the first */
    boot_add_ram(&bi, 32 * MIB, 32 * MIB);           /* touches both */
    REQUIRE(bi.nram == 1);
    CHECK_EQ(bi.ram[0].base, 16 * MIB);
    CHECK_EQ(bi.ram[0].len, 184 * MIB);
    boot_add_ram(&bi, 3 * GIB, 2 * GIB);             /* cut at 4 GiB */
    boot_add_ram(&bi, 5 * GIB, 1 * GIB);             /* above: dropped */
    boot_add_ram(&bi, 10 * MIB + 1, 4095);           /* less than a page */
    REQUIRE(bi.nram == 2);
    CHECK_EQ(bi.ram[1].base, 3 * GIB);
    CHECK_EQ(bi.ram[1].len, 1 * GIB);
    boot_add_ram(&bi, 4 * MIB + 100, 8 * MIB);       /* unaligned: inner pages */
    REQUIRE(bi.nram == 3);
    CHECK_EQ(bi.ram[0].base, 4 * MIB + 4096);
    CHECK_EQ(bi.ram[0].len, 8 * MIB - 4096);
    boot_add_ram(&bi, ~0ull - 4096, 8192);           /* wraps */
    CHECK_EQ(bi.nram, 3);
}

TEST(ram_ranges_beyond_the_table_are_dropped_with_a_problem) {
    struct boot_info bi = fresh();
    for (unsigned i = 0; i < BOOT_RAM_MAX + 4; i++)
        boot_add_ram(&bi, 16 * MIB + i * 2 * MIB, MIB);
    CHECK_EQ(bi.nram, BOOT_RAM_MAX);
    CHECK(bi.problem != NULL);
    for (unsigned i = 1; i < bi.nram; i++)
        CHECK(bi.ram[i - 1].base + bi.ram[i - 1].len < bi.ram[i].base);
}

TEST(mb2_command_line_and_its_words) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    uint8_t *t = mb2_tag(&m, 1, 8 + 20);
    memcpy(t + 8, "quiet  irq=pic x=1", 19);
    mb2_mmap(&m, q35_map, 6);
    CHECK_EQ(mb2_parse(&bi, m.b, mb2_end(&m)), 0);
    CHECK_STR(bi.cmdline, "quiet  irq=pic x=1");
    CHECK(boot_cmdline_has(&bi, "irq=pic"));
    CHECK(boot_cmdline_has(&bi, "quiet"));
    CHECK(!boot_cmdline_has(&bi, "irq"));
    CHECK(!boot_cmdline_has(&bi, "irq=pi"));
    CHECK(!boot_cmdline_has(&bi, ""));
}

TEST(mb2_command_line_without_nul_is_cut_to_the_tag) {
    struct mb2 m;
    struct boot_info bi = fresh();
    mb2_begin(&m);
    uint8_t *t = mb2_tag(&m, 1, 8 + 3);
    memcpy(t + 8, "abcdef", 6);               /* runs into the padding */
    mb2_mmap(&m, q35_map, 6);
    mb2_parse(&bi, m.b, mb2_end(&m));
    CHECK_STR(bi.cmdline, "abc");
}
