/*
 * boot.c (x86_64) - arch_boot, reached from boot.S in long mode: read the
 * multiboot memory map, bring up the console, hand over to kernel_main.
 */
#include "x86.h"

#define MB_BOOT_MAGIC 0x2badb002
#define MAX_RANGES 16

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr, syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

static struct { uintptr_t base; size_t len; } ranges[MAX_RANGES];
static unsigned nranges;

/* Keep the usable parts of one RAM range: above the kernel image (and so
 * above the first MiB) and below 4 GiB, the identity-mapped window. */
static void add_ram(uint64_t base, uint64_t len) {
    uint64_t end = base + len, floor = (uint64_t)__kernel_end;

    floor = (floor + ARCH_PAGE_SIZE - 1) & ~(ARCH_PAGE_SIZE - 1);
    if (base < floor)
        base = floor;
    if (end > 0x100000000ull)
        end = 0x100000000ull;
    if (base >= end || nranges == MAX_RANGES)
        return;
    ranges[nranges].base = base;
    ranges[nranges].len = end - base;
    nranges++;
}

void x86_boot_memory(uint32_t magic, uint32_t info_addr) {
    struct mb_info *info = (struct mb_info *)(uintptr_t)info_addr;

    if (magic != MB_BOOT_MAGIC)
        panic("not started by a multiboot loader (magic %x)", magic);
    if (info->flags & (1u << 6)) {
        uintptr_t p = info->mmap_addr, end = p + info->mmap_length;
        while (p < end) {
            struct mb_mmap *m = (struct mb_mmap *)p;
            if (m->type == 1)
                add_ram(m->addr, m->len);
            p += m->size + 4;
        }
    } else if (info->flags & 1) {
        add_ram(0x100000, (uint64_t)info->mem_upper * 1024);
    }
}

void arch_memory_ranges(void (*add)(uintptr_t base, size_t len)) {
    for (unsigned i = 0; i < nranges; i++)
        add(ranges[i].base, ranges[i].len);
}

void arch_early_init(void) {
    x86_serial_init();
}

void arch_init(void) {
    x86_cpu_init();
    x86_vm_init();
    x86_pic_init();
    x86_pit_init(CONFIG_TICK_HZ);
    arch_irq_enable(0);
}

void arch_boot(uint32_t magic, uint32_t info) {
    arch_early_init();
    x86_boot_memory(magic, info);
    kernel_main();
}
