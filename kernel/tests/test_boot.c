/*
 * test_boot.c - kernel_main from the first printk to the first switch
 * (kernel/main.c). On the host arch_switch returns, so sched_start goes on
 * as the idle loop at once, whose arch_idle halts on the host.
 */
#include <stdio.h>
#include "kt.h"

static uint8_t elf[4096];

TEST(boot_creates_and_starts_init) {
    size_t n = kt_elf_simple(elf, sizeof(elf));
    struct kt_file f = { "init", elf, n };
    kt_initfs(&f, 1);
    CHECK(HALTS(kernel_main()));
    CHECK(host_console_contains("nagi: kernel booting on board host (host)"));
    char line[80];
    snprintf(line, sizeof(line), "nagi: %lu KiB of free memory, tick 100 Hz",
             (unsigned long)host_pool_pages * 4);
    CHECK(host_console_contains(line));
    struct task *init = task_lookup(1);
    REQUIRE(init != NULL);
    CHECK_STR(init->name, "init");
    CHECK_EQ(init->caps, CAP_ALL);
    CHECK_EQ(init->prio, 1);
    CHECK_EQ(init->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(init->arch.entry, KT_ENTRY);
    CHECK_EQ(init->arch.arg, 0);
    CHECK(current == init);
    CHECK(host_switch_next == init);
    CHECK(host_idle_count > 0);    /* the boot context went on as idle */
}

TEST(boot_without_init_panics) {
    struct kt_file f = { "notinit", "x", 1 };
    kt_initfs(&f, 1);
    CHECK(HALTS(kernel_main()));
    CHECK(host_console_contains("PANIC: cannot load init from the initfs (error 13)"));
}
