/*
 * test_kserver.c - the kernel server (kernel/kserver.c): IPC_CALL on
 * KERNEL_CID from a task, answered at once with .arg = result or -error.
 */
#include "kt.h"

static uint8_t elf[4096];

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* KS_CREATE_TASK request data; returns its length. */
static uint16_t create_req(uint8_t *d, uint32_t caps, uint32_t prio, uint64_t arg,
                           const char *name) {
    put_u32(d, caps);
    put_u32(d + 4, prio);
    put_u64(d + 8, arg);
    size_t n = strlen(name);
    memcpy(d + 16, name, n);
    return (uint16_t)(16 + n);
}

static void initfs_with_prog(void) {
    size_t n = kt_elf_simple(elf, sizeof(elf));
    struct kt_file f[] = { { "prog", elf, n }, { "other", "xx", 2 } };
    kt_initfs(f, 2);
}

TEST(ks_uptime_reports_milliseconds) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    CHECK_EQ(kt_kcall(t, KS_UPTIME, NULL, 0), 0);
    ticks = 37;
    CHECK_EQ(kt_kcall(t, KS_UPTIME, NULL, 0), 370);
    CHECK_EQ(t->msgbuf->len, 0);
    CHECK_EQ(t->msgbuf->flags, 0);
    CHECK_EQ(t->msgbuf->from, KERNEL_CID);
}

TEST(ks_task_info_iterates_and_ends_with_e_noent) {
    kt_boot();
    struct task *a = kt_task("alpha", 2, 0), *b = kt_task("beta", 6, 0);
    channel_open(b);
    channel_open(b);
    b->state = TASK_STATE_BLOCKED_RECV;
    uint32_t idx = 0;
    CHECK_EQ(kt_kcall(a, KS_TASK_INFO, &idx, 4), 0);
    struct ks_task_info info;
    CHECK_EQ(a->msgbuf->len, sizeof(info));
    memcpy(&info, a->msgbuf->data, sizeof(info));
    CHECK_EQ(info.tid, a->tid);
    CHECK_EQ(info.state, TASK_STATE_RUNNABLE);
    CHECK_EQ(info.prio, 2);
    CHECK_EQ(info.channels, 0);
    CHECK_EQ(info.pages, 1 + ARCH_STACK_SIZE / PAGE_SIZE);   /* msgbuf + stack */
    CHECK_STR(info.name, "alpha");

    idx = 1;
    CHECK_EQ(kt_kcall(a, KS_TASK_INFO, &idx, 4), 0);
    memcpy(&info, a->msgbuf->data, sizeof(info));
    CHECK_EQ(info.tid, b->tid);
    CHECK_EQ(info.state, TASK_STATE_BLOCKED_RECV);
    CHECK_EQ(info.prio, 6);
    CHECK_EQ(info.channels, 2);
    CHECK_STR(info.name, "beta");

    idx = 2;
    CHECK_EQ(kt_kcall(a, KS_TASK_INFO, &idx, 4), -E_NOENT);
    CHECK_EQ(a->msgbuf->len, 0);
    idx = 0xffffffff;
    CHECK_EQ(kt_kcall(a, KS_TASK_INFO, &idx, 4), -E_NOENT);
    CHECK_EQ(kt_kcall(a, KS_TASK_INFO, &idx, 3), -E_INVAL);
    CHECK_EQ(kt_kcall(a, KS_TASK_INFO, NULL, 0), -E_INVAL);
}

TEST(ks_task_info_skips_free_slots) {
    kt_boot();
    struct task *a = kt_task("a", 2, 0), *b = kt_task("b", 2, 0),
                *c = kt_task("c", 2, 0);
    task_kill(b, TASK_STATE_KILLED, NULL);
    b->state = 0;                                   /* slot freed */
    uint32_t idx = 1;
    CHECK_EQ(kt_kcall(a, KS_TASK_INFO, &idx, 4), 0);
    struct ks_task_info info;
    memcpy(&info, a->msgbuf->data, sizeof(info));
    CHECK_EQ(info.tid, c->tid);
}

TEST(ks_unknown_label_is_e_nosys) {
    kt_boot();
    struct task *t = kt_task("t", 3, CAP_ALL);
    uint16_t labels[] = { 0, 1, 0x0100, KS_FIRST + KS_OP_COUNT, 0x0200, 0xf001, 0xffff };
    for (unsigned i = 0; i < ARRAY_SIZE(labels); i++) {
        CHECK_EQ(kt_kcall(t, labels[i], "abc", 3), -E_NOSYS);
        CHECK_EQ(t->msgbuf->len, 0);
    }
}

TEST(ks_alloc_page_needs_cap_memory) {
    kt_boot();
    struct task *t = kt_task("t", 3, CAP_ALL & ~CAP_MEMORY);
    uint64_t va = ARCH_HEAP_BASE;
    size_t before = page_free_count();
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 8), -E_PERM);
    CHECK(kt_uptr(t, va) == NULL);
    CHECK_EQ(page_free_count(), before);
}

TEST(ks_alloc_page_maps_a_zeroed_page_and_checks_its_argument) {
    kt_boot();
    struct task *t = kt_task("t", 3, CAP_MEMORY);
    uint64_t va = ARCH_HEAP_BASE + 5 * PAGE_SIZE;
    uint64_t pages = t->pages;
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 8), 0);
    uint8_t *p = kt_uptr(t, va);
    REQUIRE(p != NULL);
    CHECK_EQ(p[0], 0);
    CHECK_EQ(t->pages, pages + 1);
    size_t before = page_free_count();
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 8), -E_BUSY);   /* mapped */
    CHECK_EQ(page_free_count(), before);                      /* no leak */
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 7), -E_INVAL);
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, NULL, 0), -E_INVAL);
    va = ARCH_HEAP_BASE + 12;
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 8), -E_INVAL);
    va = 0x1000;
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 8), -E_FAULT);
    va = ARCH_USER_END;
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 8), -E_FAULT);
    va = 0xffff800000000000ull;
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 8), -E_FAULT);
}

TEST(ks_create_task_of_a_missing_file_is_e_noent_without_leaks) {
    kt_boot();
    initfs_with_prog();
    struct task *t = kt_task("init", 1, CAP_ALL);
    uint8_t d[64];
    size_t free_before = page_free_count();
    uint16_t n = create_req(d, 0, 3, 0, "nosuchfile");
    CHECK_EQ(kt_kcall(t, KS_CREATE_TASK, d, n), -E_NOENT);
    CHECK_EQ(page_free_count(), free_before);
    CHECK(task_lookup(2) == NULL);                  /* the slot is free again */
    n = create_req(d, 0, 3, 0, "pro");              /* a prefix is not a match */
    CHECK_EQ(kt_kcall(t, KS_CREATE_TASK, d, n), -E_NOENT);
    n = create_req(d, 0, 3, 0, "other");            /* not an ELF file */
    CHECK_EQ(kt_kcall(t, KS_CREATE_TASK, d, n), -E_INVAL);
    CHECK_EQ(page_free_count(), free_before);
}

TEST(ks_create_task_checks_caps_and_lengths) {
    kt_boot();
    initfs_with_prog();
    struct task *t = kt_task("t", 1, CAP_TASK | CAP_IRQ);
    uint8_t d[80];
    uint16_t n = create_req(d, CAP_IRQ | CAP_MEMORY, 3, 0, "prog");
    CHECK_EQ(kt_kcall(t, KS_CREATE_TASK, d, n), -E_PERM);   /* more than ours */
    struct task *u = kt_task("u", 1, CAP_ALL & ~CAP_TASK);
    n = create_req(d, 0, 3, 0, "prog");
    CHECK_EQ(kt_kcall(u, KS_CREATE_TASK, d, n), -E_PERM);
    CHECK_EQ(kt_kcall(t, KS_CREATE_TASK, d, 16), -E_INVAL);  /* no name */
    CHECK_EQ(kt_kcall(t, KS_CREATE_TASK, d, 12), -E_INVAL);
    CHECK_EQ(kt_kcall(t, KS_CREATE_TASK, NULL, 0), -E_INVAL);
    n = create_req(d, 0, 3, 0, "0123456789abcdef0123456789abcdef"); /* 32 */
    CHECK_EQ(kt_kcall(t, KS_CREATE_TASK, d, n), -E_INVAL);
    n = create_req(d, 0, 3, 0, "prog");
    t->msgbuf->flags = 0;
    kt_msg(t, KS_CREATE_TASK, d, n);
    t->msgbuf->flags = MSG_CHANNEL;
    t->msgbuf->channel = 9;                          /* not open */
    CHECK_EQ(kt_ipc(t, KERNEL_CID, IPC_CALL), 0);
    CHECK_EQ((long)t->msgbuf->arg, -E_BADCH);
}

TEST(ks_create_set_pager_start_task) {
    kt_boot();
    initfs_with_prog();
    struct task *t = kt_task("init", 1, CAP_ALL);
    long boot_ch = channel_open(t), pager_ch = channel_open(t);
    struct channel *bch = kt_ch(t, boot_ch), *pch = kt_ch(t, pager_ch);
    uint8_t d[64];
    uint16_t n = create_req(d, CAP_IRQ, NUM_PRIORITIES, 0x1234, "prog");
    kt_msg(t, KS_CREATE_TASK, d, n);
    CHECK_EQ(kt_ipc(t, KERNEL_CID, IPC_CALL), 0);
    CHECK_EQ((long)t->msgbuf->arg, -E_INVAL);        /* a priority past the last */
    n = create_req(d, CAP_IRQ, NUM_PRIORITIES - 1, 0x1234, "prog");
    kt_msg(t, KS_CREATE_TASK, d, n);
    t->msgbuf->flags = MSG_CHANNEL;
    t->msgbuf->channel = (int32_t)boot_ch;
    CHECK_EQ(kt_ipc(t, KERNEL_CID, IPC_CALL), 0);
    long tid = (long)t->msgbuf->arg;
    CHECK_EQ(tid, 2);
    struct task *c = task_lookup((int)tid);
    REQUIRE(c != NULL);
    CHECK_EQ(c->state, TASK_STATE_STOPPED);
    CHECK_EQ(c->prio, NUM_PRIORITIES - 1);
    CHECK_EQ(c->caps, CAP_IRQ);
    CHECK_STR(c->name, "prog");
    CHECK_EQ(c->arch.entry, KT_ENTRY);
    CHECK_EQ(c->arch.arg, 0x1234);
    CHECK_EQ(c->arch.msgbuf, ARCH_MSGBUF_ADDR);
    CHECK_EQ(c->arch.stack_top, ARCH_STACK_TOP);
    CHECK(channel_get(c, BOOTSTRAP_CID) == bch);     /* the bootstrap channel */
    CHECK(channel_get(t, boot_ch) == NULL);
    struct nagi_bootinfo *bi =
        (struct nagi_bootinfo *)((uint8_t *)c->msgbuf + BOOTINFO_OFFSET);
    CHECK_EQ(bi->tid, 2);
    CHECK_EQ(bi->heap_base, ARCH_HEAP_BASE);
    CHECK_EQ(bi->stack_top, ARCH_STACK_TOP);
    CHECK_STR(bi->name, "prog");

    uint32_t ctid = (uint32_t)tid;
    kt_msg(t, KS_SET_PAGER, &ctid, 4);
    t->msgbuf->flags = MSG_CHANNEL;
    t->msgbuf->channel = (int32_t)pager_ch;
    CHECK_EQ(kt_ipc(t, KERNEL_CID, IPC_CALL), 0);
    CHECK_EQ((long)t->msgbuf->arg, 0);
    CHECK(c->pager == pch);
    CHECK(pch->owner == c);

    CHECK_EQ(kt_kcall(t, KS_START_TASK, &ctid, 4), 0);
    CHECK_EQ(c->state, TASK_STATE_RUNNABLE);
    CHECK(c->on_runqueue);
    CHECK_EQ(kt_kcall(t, KS_START_TASK, &ctid, 4), -E_NOENT);  /* not stopped */
    CHECK_EQ(kt_kcall(t, KS_SET_PAGER, &ctid, 4), -E_NOENT);
    ctid = 30;
    CHECK_EQ(kt_kcall(t, KS_START_TASK, &ctid, 4), -E_NOENT);
}

TEST(ks_kill_checks_and_kills) {
    kt_boot();
    struct task *t = kt_task("t", 1, CAP_TASK), *v = kt_task("v", 3, 0),
                *w = kt_task("w", 3, 0);
    uint32_t tid = (uint32_t)v->tid;
    CHECK_EQ(kt_kcall(w, KS_KILL, &tid, 4), -E_PERM);
    tid = (uint32_t)t->tid;
    CHECK_EQ(kt_kcall(t, KS_KILL, &tid, 4), -E_INVAL);      /* itself */
    size_t before = page_free_count();
    tid = (uint32_t)v->tid;
    CHECK_EQ(kt_kcall(t, KS_KILL, &tid, 4), 0);
    CHECK_EQ(v->state, TASK_STATE_KILLED);
    CHECK(page_free_count() > before);                      /* memory back */
    CHECK(host_console_contains("killed on request"));
    CHECK_EQ(kt_kcall(t, KS_KILL, &tid, 4), -E_NOENT);
    tid = 0;
    CHECK_EQ(kt_kcall(t, KS_KILL, &tid, 4), -E_NOENT);
}

TEST(ks_exit_ends_the_task_and_frees_its_memory) {
    kt_boot();
    size_t before = page_free_count();
    struct task *t = kt_task("t", 3, 0);
    int32_t code = 0;
    kt_msg(t, KS_EXIT, &code, 4);
    kt_ipc(t, KERNEL_CID, IPC_CALL);
    CHECK_EQ(t->state, TASK_STATE_EXITED);
    CHECK(current != t);
    CHECK_EQ(page_free_count(), before);
    CHECK_EQ(host_table_pages, 0);
}

/* The supervisor hears of every death: KS_KILL and KS_EXIT as well as
 * faults (test_fault.c), but not of its own. */
TEST(ks_kill_and_exit_notify_the_supervisor) {
    kt_boot();
    struct task *s = kt_task("init", 1, CAP_TASK), *v = kt_task("v", 3, 0),
                *e = kt_task("e", 3, 0);
    long c = channel_open(s);
    CHECK_EQ(kt_kcall(s, KS_SUPERVISE, &c, 4), 0);
    uint32_t tid = (uint32_t)v->tid;
    CHECK_EQ(kt_kcall(s, KS_KILL, &tid, 4), 0);
    CHECK_EQ(kt_ch(s, c)->notifications, NOTIFY_TASK_DIED);
    kt_ch(s, c)->notifications = 0;
    int32_t code = 0;
    kt_msg(e, KS_EXIT, &code, 4);
    kt_ipc(e, KERNEL_CID, IPC_CALL);
    CHECK_EQ(e->state, TASK_STATE_EXITED);
    CHECK_EQ(kt_ch(s, c)->notifications, NOTIFY_TASK_DIED);
    supervisor = NULL;
}

TEST(ks_halt_prints_the_reason_and_stops) {
    kt_boot();
    struct task *s = kt_task("init", 1, CAP_TASK), *u = kt_task("u", 3, 0);
    const char why[] = "critical task 'memory' died\x01";
    CHECK_EQ(kt_kcall(u, KS_HALT, why, sizeof(why) - 1), -E_PERM);
    CHECK_EQ(host_console_len, 0);
    CHECK(HALTS(kt_kcall(s, KS_HALT, why, sizeof(why) - 1)));
    CHECK(host_console_contains("nagi: system halted by task 1 (init): "
                                "critical task 'memory' died?"));
}

TEST(ks_mem_info_reports_pages) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    CHECK_EQ(kt_kcall(t, KS_MEM_INFO, NULL, 0), 0);
    uint64_t info[4];
    CHECK_EQ(t->msgbuf->len, sizeof(info));
    memcpy(info, t->msgbuf->data, sizeof(info));
    CHECK_EQ(info[0], host_pool_pages);
    CHECK_EQ(info[1], page_free_count());
    CHECK_EQ(info[2], 2);                            /* arch/host/symbols.S */
    CHECK_EQ(info[3], PAGE_SIZE);
}

TEST(ks_panic_panics_in_debug_kernels) {
    kt_boot();
    struct task *t = kt_task("crasher", 3, 0);
    CHECK(HALTS(kt_kcall(t, KS_PANIC, NULL, 0)));
    CHECK(host_console_contains("PANIC: requested by task 1 (crasher)"));
    CHECK(host_console_contains("system halted"));
}

TEST(ks_timer_notifies_the_channel_after_the_delay) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    long c = channel_open(t);
    uint32_t req[2] = { (uint32_t)c, 25 };           /* 25 ms = 3 ticks */
    CHECK_EQ(kt_kcall(t, KS_TIMER, req, 8), 0);
    CHECK_EQ(kt_ch(t, c)->timer_deadline, 3);
    kt_ipc(t, c, IPC_RECV);
    REQUIRE(t->state == TASK_STATE_BLOCKED_RECV);
    kernel_timer_tick();
    kernel_timer_tick();
    CHECK_EQ(t->state, TASK_STATE_BLOCKED_RECV);
    kernel_timer_tick();
    CHECK_EQ(t->msgbuf->label, LABEL_NOTIFICATION);
    CHECK_EQ(t->msgbuf->arg, NOTIFY_TIMER);
    CHECK_EQ(kt_ch(t, c)->timer_deadline, 0);
    /* Cancel: ms = 0. */
    req[1] = 10;
    CHECK_EQ(kt_kcall(t, KS_TIMER, req, 8), 0);
    req[1] = 0;
    CHECK_EQ(kt_kcall(t, KS_TIMER, req, 8), 0);
    CHECK_EQ(kt_ch(t, c)->timer_deadline, 0);
    req[0] = 50;
    CHECK_EQ(kt_kcall(t, KS_TIMER, req, 8), -E_BADCH);
    CHECK_EQ(kt_kcall(t, KS_TIMER, req, 4), -E_INVAL);
}

TEST(ks_listen_irq_routes_interrupts_as_notifications) {
    kt_boot();
    struct task *t = kt_task("drv", 3, CAP_IRQ), *u = kt_task("u", 3, 0);
    long c = channel_open(t), uc = channel_open(u);
    uint32_t req[2] = { 5, (uint32_t)c };
    CHECK_EQ(kt_kcall(t, KS_LISTEN_IRQ, req, 8), 0);
    CHECK(host_irq_enabled & (1u << 5));
    req[1] = (uint32_t)uc;
    CHECK_EQ(kt_kcall(u, KS_LISTEN_IRQ, req, 8), -E_PERM);
    req[1] = (uint32_t)c;
    req[0] = 0;
    CHECK_EQ(kt_kcall(t, KS_LISTEN_IRQ, req, 8), -E_INVAL);
    req[0] = ARCH_IRQ_MAX;
    CHECK_EQ(kt_kcall(t, KS_LISTEN_IRQ, req, 8), -E_INVAL);
    req[0] = 6;
    req[1] = 40;
    CHECK_EQ(kt_kcall(t, KS_LISTEN_IRQ, req, 8), -E_BADCH);

    kernel_irq(5);
    kernel_irq(5);
    CHECK_EQ(kt_ch(t, c)->notifications, NOTIFY_IRQ);
    CHECK_EQ(kt_ipc(t, c, IPC_RECV), 0);
    CHECK_EQ(t->msgbuf->label, LABEL_NOTIFICATION);
    CHECK_EQ(t->msgbuf->arg, NOTIFY_IRQ);
    kernel_irq(7);                                    /* nobody listens */
    CHECK_EQ(channel_close(t, c), 0);
    CHECK(!(host_irq_enabled & (1u << 5)));
}

TEST(ks_ioport_needs_cap_io) {
    kt_boot();
    struct task *t = kt_task("t", 3, CAP_IO), *u = kt_task("u", 3, 0);
    uint32_t v = 0x3f8 | (8u << 16);
    CHECK_EQ(kt_kcall(u, KS_IOPORT, &v, 4), -E_PERM);
    CHECK_EQ(kt_kcall(t, KS_IOPORT, &v, 4), 0);
    CHECK_EQ(t->arch.io_base, 0x3f8);
    CHECK_EQ(t->arch.io_count, 8);
    CHECK_EQ(kt_kcall(t, KS_IOPORT, &v, 2), -E_INVAL);
}

TEST(ks_yield_returns_zero) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    CHECK_EQ(kt_kcall(t, KS_YIELD, NULL, 0), 0);
}

/* KS_MMIO runs arm-m's own regions.c on the host (arch/host/host.c): a
 * grant takes one of the three device slots of the MPU (a repeated grant
 * takes none), only device memory of a shape the MPU can express is
 * granted, and the kernel never copies from it. */
static long mmio(struct task *t, uint32_t base, uint32_t size) {
    uint8_t d[8];
    put_u32(d, base);
    put_u32(d + 4, size);
    return kt_kcall(t, KS_MMIO, d, 8);
}

TEST(ks_mmio_grants_device_regions_as_the_mpu_port_does) {
    kt_boot();
    struct task *t = kt_task("t", 3, CAP_IO);
    CHECK_EQ(mmio(t, 0x40013800, 0x400), 0);
    CHECK_EQ(mmio(t, 0x40013800, 0x400), 0);          /* already granted */
    CHECK_EQ(mmio(t, 0x48000000, 0x400), 0);
    CHECK_EQ(mmio(t, 0x48000800, 0x400), 0);
    CHECK_EQ(mmio(t, 0x50000000, 0x1000), -E_NOMEM);  /* 3 device slots */
    CHECK_EQ(mmio(t, 0x40013800, 0x400), 0);          /* still granted */
    CHECK_EQ(t->vm.r[2].rbar & ~0x1fu, 0x40013800);
    CHECK(t->vm.r[2].rasr & (1u << 28));              /* never executable */
    uintptr_t pa;
    unsigned attrs;
    CHECK_EQ(arch_vm_lookup(&t->vm, 0x40013800, &pa, &attrs), -E_FAULT);
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, 0x40013800, 4), -E_FAULT);
    /* the task's paged memory is still reachable beside the grants */
    CHECK(kt_uptr(t, ARCH_MSGBUF_ADDR) != NULL);
}

TEST(ks_mmio_refuses_what_the_mpu_port_refuses) {
    kt_boot();
    struct task *t = kt_task("t", 3, CAP_IO);
    struct task *u = kt_task("u", 3, CAP_ALL & ~CAP_IO);
    CHECK_EQ(mmio(u, 0x40013800, 0x400), -E_PERM);    /* no CAP_IO */
    CHECK_EQ(mmio(t, 0x20000000, 0x400), -E_PERM);    /* RAM, not a device */
    CHECK_EQ(mmio(t, 0x60000000, 0x400), -E_PERM);    /* past the device range */
    CHECK_EQ(mmio(t, 0x40013800, 0x300), -E_INVAL);   /* not a power of two */
    CHECK_EQ(mmio(t, 0x40013900, 0x400), -E_INVAL);   /* misaligned */
    CHECK_EQ(mmio(t, 0x40013800, 16), -E_INVAL);      /* below 32 bytes */
    for (int i = 0; i < ARM_TASK_REGIONS; i++)
        CHECK_EQ(t->vm.r[i].rasr, 0);
}

/* What abi.toml documents for each label: the capability a caller needs
 * and the request struct (its size is the shortest request, except
 * KS_CREATE_TASK's, which needs one byte of name). */
static const struct { uint16_t label; uint8_t cap; uint8_t min_len; } documented[] = {
    { KS_CREATE_TASK, CAP_TASK, offsetof(struct ks_create_task_req, name) + 1 },
    { KS_SET_PAGER, CAP_TASK, sizeof(struct ks_tid_req) },
    { KS_START_TASK, CAP_TASK, sizeof(struct ks_tid_req) },
    { KS_EXIT, 0, 0 },
    { KS_KILL, CAP_TASK, sizeof(struct ks_tid_req) },
    { KS_ALLOC_PAGE, CAP_MEMORY, sizeof(struct ks_alloc_page_req) },
    { KS_LISTEN_IRQ, CAP_IRQ, sizeof(struct ks_listen_irq_req) },
    { KS_IOPORT, CAP_IO, sizeof(struct ks_ioport_req) },
    { KS_TIMER, 0, sizeof(struct ks_timer_req) },
    { KS_UPTIME, 0, 0 },
    { KS_TASK_INFO, 0, sizeof(struct ks_task_info_req) },
    { KS_MEM_INFO, 0, 0 },
    { KS_PANIC, 0, 0 },
    { KS_YIELD, 0, 0 },
    { KS_MMIO, CAP_IO, sizeof(struct ks_mmio_req) },
    { KS_SUPERVISE, CAP_TASK, sizeof(struct ks_supervise_req) },
    { KS_FREE_PAGE, 0, sizeof(struct ks_free_page_req) },
    { KS_HALT, CAP_TASK, 0 },
    { KS_DMA_ALLOC, CAP_IO, sizeof(struct ks_dma_alloc_req) },
    { KS_IPC_INFO, 0, 0 },
};

TEST(ks_table_matches_the_documented_requirements) {
    CHECK_EQ(ARRAY_SIZE(documented), KS_OP_COUNT);
    for (unsigned i = 0; i < ARRAY_SIZE(documented); i++) {
        const struct ks_op *op = kserver_op(documented[i].label);
        REQUIRE(op != NULL);
        CHECK_EQ(op->cap, documented[i].cap);
        CHECK_EQ(op->min_len, documented[i].min_len);
    }
    CHECK(kserver_op(KS_FIRST - 1) == NULL);
    CHECK(kserver_op(KS_FIRST + KS_OP_COUNT) == NULL);
}

TEST(ks_table_enforces_each_capability) {
    kt_boot();
    uint8_t zeros[MSG_INLINE_MAX] = { 0 };
    unsigned checked = 0;
    for (unsigned label = KS_FIRST; label < KS_FIRST + KS_OP_COUNT; label++) {
        const struct ks_op *op = kserver_op(label);
        if (!op || !op->cap)
            continue;
        /* Every other capability, a well-formed length: still refused. */
        struct task *t = kt_task("t", 3, CAP_ALL & ~op->cap);
        CHECK_EQ(kt_kcall(t, (uint16_t)label, zeros, 48), -E_PERM);
        CHECK_EQ(t->msgbuf->len, 0);
        checked++;
    }
    CHECK_EQ(checked, 11);
}

TEST(ks_table_refuses_short_requests_with_e_inval) {
    kt_boot();
    struct task *t = kt_task("t", 3, CAP_ALL);
    uint8_t zeros[MSG_INLINE_MAX] = { 0 };
    unsigned checked = 0;
    for (unsigned label = KS_FIRST; label < KS_FIRST + KS_OP_COUNT; label++) {
        const struct ks_op *op = kserver_op(label);
        if (!op || !op->min_len)
            continue;
        for (unsigned len = 0; len < op->min_len; len++)
            CHECK_EQ(kt_kcall(t, (uint16_t)label, zeros, (uint16_t)len), -E_INVAL);
        checked++;
    }
    CHECK_EQ(checked, 13);
    CHECK_EQ(t->state, TASK_STATE_RUNNABLE);
}

/* The requests that need paging (-E_NOTSUP on MPU ports, whatever the
 * caller holds): pagers, page mapping, and DMA memory. */
TEST(ks_table_marks_the_paging_requests) {
    const uint16_t paging[] = { KS_SET_PAGER, KS_ALLOC_PAGE, KS_FREE_PAGE, KS_DMA_ALLOC };
    unsigned marked = 0;
    for (unsigned label = KS_FIRST; label < KS_FIRST + KS_OP_COUNT; label++) {
        const struct ks_op *op = kserver_op(label);
        if (!op || !(op->flags & KS_NEEDS_PAGING))
            continue;
        marked++;
        bool listed = false;
        for (unsigned i = 0; i < ARRAY_SIZE(paging); i++)
            listed |= paging[i] == label;
        CHECK(listed);
    }
    CHECK_EQ(marked, ARRAY_SIZE(paging));
}
