/*
 * main.c - kernel_main: from a console and a CPU to the first task.
 */
#include "task.h"

void kernel_main(void) {
    printk("nagi: kernel booting on board %s (%s)\n", CONFIG_BOARD, ARCH_NAME);
#ifdef CONFIG_KERNEL_UBSAN
    printk("nagi: UBSan enabled\n");
#endif
    arch_init();
    arch_memory_ranges(page_add_range);
    if (ARCH_HAS_PAGING)
        printk("nagi: %u KiB of free memory, tick %d Hz\n",
               (unsigned)(page_free_count() * (PAGE_SIZE / 1024)), CONFIG_TICK_HZ);
    else
        printk("nagi: static task layout, tick %d Hz\n", CONFIG_TICK_HZ);
    sched_init();

    struct task *init = task_create("init", 1, CAP_ALL);
    if (!init)
        panic("cannot create init");
    int err = task_load(init, "init", 0);
    if (err < 0)
        panic("cannot load init from the %s (error %d)",
              ARCH_HAS_PAGING ? "initfs" : "task table", -err);
    task_start(init);
    sched_start();
}
