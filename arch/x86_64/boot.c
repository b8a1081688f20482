/*
 * boot.c (x86_64) - arch_boot, reached from boot.S in long mode: copy
 * what the multiboot (v1) or Multiboot2 loader told us (multiboot.c),
 * bring up the consoles (serial, then the screen), hand over to
 * kernel_main. arch_init then sets up the CPU and the interrupts.
 */
#include "x86.h"
#include "bootinfo.h"

#define IDENTITY_MAP_END 0x100000000ull /* boot.S maps the low 4 GiB */

struct boot_info x86_boot_info;

/* The loader's structures, read through the identity map. */
const void *x86_phys(uint64_t paddr, size_t len) {
    if (paddr >= IDENTITY_MAP_END || len > IDENTITY_MAP_END - paddr)
        return NULL;
    return (const void *)(uintptr_t)paddr;
}

/* Called once from arch_boot, before any memory is handed out (the
 * loader's information may lie in RAM the page allocator will take). */
static void read_boot_info(uint32_t magic, uint32_t info_addr) {
    struct boot_info *bi = &x86_boot_info;

    /* usable RAM: above the kernel image (and so above the first MiB),
     * below 4 GiB (what boot.S maps) */
    bi->ram_floor = ALIGN_UP((uint64_t)(uintptr_t)__kernel_end, ARCH_PAGE_SIZE);
    bi->ram_ceiling = IDENTITY_MAP_END;
    if (magic == MB1_BOOT_MAGIC) {
        mb1_parse(bi, info_addr, x86_phys);
    } else if (magic == MB2_BOOT_MAGIC) {
        const uint8_t *info = x86_phys(info_addr, 8);
        uint32_t total = info ? *(const uint32_t *)info : 0;
        if (total > MB2_INFO_MAX)
            total = MB2_INFO_MAX;
        mb2_parse(bi, x86_phys(info_addr, total), total);
    } else {
        panic("not started by a multiboot or Multiboot2 loader (eax %x); "
              "boot nagi.img with QEMU -kernel or GRUB's multiboot/multiboot2",
              magic);
    }
}

void arch_memory_ranges(void (*add)(uintptr_t base, size_t len)) {
    for (unsigned i = 0; i < x86_boot_info.nram; i++)
        add(x86_boot_info.ram[i].base, x86_boot_info.ram[i].len);
}

void arch_early_init(void) {
    x86_serial_init();
}

void arch_init(void) {
    const struct boot_info *bi = &x86_boot_info;

    printk("nagi: booted by %s, %u RAM range%s%s\n",
           bi->loader == 2 ? "Multiboot2" : "multiboot", bi->nram,
           bi->nram == 1 ? "" : "s", bi->ram_from_map ? " (memory map)" : "");
    if (bi->problem)
        printk("nagi: boot information: %s\n", bi->problem);
    if (bi->cmdline[0])
        printk("nagi: command line: %s\n", bi->cmdline);
    x86_screen_report(bi);
    x86_cpu_init();
    x86_vm_init();
    x86_interrupts_init(&x86_boot_info);
}

void arch_boot(uint32_t magic, uint32_t info) {
    arch_early_init();
    read_boot_info(magic, info);
    x86_screen_init(&x86_boot_info);
    if (x86_boot_info.nram == 0)
        panic("the boot loader reported no usable RAM above the kernel (%s)",
              x86_boot_info.problem ? x86_boot_info.problem : "no RAM listed");
    kernel_main();
}
