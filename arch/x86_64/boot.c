/*
 * boot.c (x86_64) - arch_boot, reached from boot.S in long mode: read the
 * multiboot memory map, bring up the console, hand over to kernel_main.
 */
#include "x86.h"

#define MB_BOOT_MAGIC 0x2badb002   /* eax from a multiboot loader */
#define MB_INFO_MEMORY   (1u << 0)  /* mem_lower, mem_upper valid */
#define MB_INFO_MEM_MAP  (1u << 6)  /* mmap_addr, mmap_length valid */
#define MB_MMAP_RAM      1          /* mb_mmap.type: usable RAM */
#define MB_UPPER_BASE    0x100000ull   /* mem_upper counts KiB from 1 MiB */
#define IDENTITY_MAP_END 0x100000000ull /* boot.S maps the low 4 GiB */
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
    if (end > IDENTITY_MAP_END)
        end = IDENTITY_MAP_END;
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
    if (info->flags & MB_INFO_MEM_MAP) {
        uintptr_t p = info->mmap_addr, end = p + info->mmap_length;
        while (p < end) {
            struct mb_mmap *m = (struct mb_mmap *)p;
            if (m->type == MB_MMAP_RAM)
                add_ram(m->addr, m->len);
            p += m->size + (uint32_t)sizeof(m->size);   /* size excludes itself */
        }
    } else if (info->flags & MB_INFO_MEMORY) {
        add_ram(MB_UPPER_BASE, (uint64_t)info->mem_upper * 1024);
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
    arch_irq_enable(IRQ_PIT);
}

void arch_boot(uint32_t magic, uint32_t info) {
    arch_early_init();
    x86_boot_memory(magic, info);
    kernel_main();
}
