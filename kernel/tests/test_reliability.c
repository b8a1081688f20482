/*
 * test_reliability.c - what keeps one task from fooling the kernel about
 * another (issue "reliability and security"): task ids with a generation,
 * tasks created and never started reclaimed with their creator, the
 * kernel's mark on page-fault messages, giving pages back, and one
 * supervisor at a time.
 */
#include "kt.h"

static uint8_t elf[4096];

static void initfs_with_prog(void) {
    size_t n = kt_elf_simple(elf, sizeof(elf));
    struct kt_file f[] = { { "prog", elf, n } };
    kt_initfs(f, 1);
}

/* KS_CREATE_TASK "prog" as t, stopped; its tid or -error. */
static long create(struct task *t) {
    uint8_t d[32] = { 0 };
    uint32_t prio = 3;
    memcpy(d + 4, &prio, 4);
    memcpy(d + 16, "prog", 4);
    return kt_kcall(t, KS_CREATE_TASK, d, 20);
}

static long tid_call(struct task *t, uint16_t label, long tid) {
    uint32_t v = (uint32_t)tid;
    return kt_kcall(t, label, &v, 4);
}

TEST(a_dead_tasks_tid_never_names_the_next_task_of_its_slot) {
    kt_boot();
    initfs_with_prog();
    struct task *t = kt_task("init", 1, CAP_ALL);
    long old = create(t);
    REQUIRE(old > 0);
    CHECK_EQ(tid_call(t, KS_KILL, old), 0);
    /* Fill the free slots until old's (dead) slot is the one handed out. */
    long now = 0;
    for (int i = 0; i < CONFIG_MAX_TASKS && (now & TID_SLOT_MASK) != (old & TID_SLOT_MASK); i++) {
        now = create(t);
        REQUIRE(now > 0);
    }
    CHECK_EQ(now & TID_SLOT_MASK, old & TID_SLOT_MASK);
    CHECK(now != old);
    CHECK(task_lookup((int)old) == NULL);
    CHECK_EQ(tid_call(t, KS_KILL, old), -E_NOENT);
    CHECK_EQ(tid_call(t, KS_START_TASK, old), -E_NOENT);
    struct task *c = task_lookup((int)now);
    REQUIRE(c != NULL);
    CHECK_EQ(c->state, TASK_STATE_STOPPED);  /* untouched by the stale calls */
    CHECK_EQ(tid_call(t, KS_START_TASK, now), 0);
    /* Ids that name no slot at all. */
    CHECK(task_lookup(0) == NULL);
    CHECK(task_lookup(-1) == NULL);
    CHECK(task_lookup(TID_SLOT_MASK) == NULL);
    CHECK(task_lookup((int)(now | (1 << 29))) == NULL);
}

TEST(tasks_created_and_never_started_die_with_their_creator) {
    kt_boot();
    initfs_with_prog();
    size_t before = page_free_count();
    struct task *creator = kt_task("creator", 2, CAP_TASK);
    long never = create(creator), started = create(creator);
    REQUIRE(never > 0 && started > 0);
    CHECK_EQ(tid_call(creator, KS_START_TASK, started), 0);
    struct task *n = task_lookup((int)never), *s = task_lookup((int)started);
    REQUIRE(n && s);
    int32_t code = 0;
    kt_msg(creator, KS_EXIT, &code, 4);
    kt_ipc(creator, KERNEL_CID, IPC_CALL);
    CHECK_EQ(n->state, 0);                   /* slot free again */
    CHECK(task_lookup((int)never) == NULL);
    CHECK_EQ(s->state, TASK_STATE_RUNNABLE); /* a started child lives on */
    task_kill(s, TASK_STATE_KILLED, NULL);
    CHECK_EQ(page_free_count(), before);     /* nothing of either left */
}

TEST(a_task_cannot_forge_the_kernels_mark) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0), *b = kt_task("b", 3, 0);
    long ca, cb;
    kt_connect(a, &ca, b, &cb);
    uint64_t fake[3] = { (uint64_t)b->tid, ARCH_HEAP_BASE, 0 };
    kt_msg(a, LABEL_PAGE_FAULT, fake, sizeof(fake));
    a->msgbuf->flags = MSG_KERNEL;
    CHECK_EQ(kt_ipc(a, ca, IPC_SEND | IPC_NOBLOCK), -E_INVAL);
    a->msgbuf->flags = MSG_KERNEL | MSG_PAGE;
    CHECK_EQ(kt_ipc(a, ca, IPC_CALL), -E_INVAL);
}

TEST(a_task_cannot_send_a_kernel_label) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0), *b = kt_task("b", 3, 0);
    long ca, cb;
    kt_connect(a, &ca, b, &cb);
    const uint16_t forged[] = { LABEL_NOTIFICATION, LABEL_PAGE_FAULT, KERNEL_LABEL_FIRST, 0xffff };
    for (unsigned i = 0; i < ARRAY_SIZE(forged); i++) {
        kt_msg(a, forged[i], NULL, 0);
        CHECK_EQ(kt_ipc(a, ca, IPC_SEND | IPC_NOBLOCK), -E_INVAL);
        kt_msg(a, forged[i], NULL, 0);
        CHECK_EQ(kt_ipc(a, ca, IPC_CALL), -E_INVAL);       /* the fastpath too */
    }
    kt_msg(a, LABEL_PAGE_FAULT_REPLY, NULL, 0);           /* a pager's answer is fine */
    CHECK_EQ(kt_ipc(a, ca, IPC_SEND | IPC_NOBLOCK), -E_WOULDBLOCK);
    kt_msg(a, KERNEL_LABEL_FIRST - 1, NULL, 0);
    CHECK_EQ(kt_ipc(a, ca, IPC_SEND | IPC_NOBLOCK), -E_WOULDBLOCK);
}

TEST(ks_free_page_gives_a_page_back) {
    kt_boot();
    struct task *t = kt_task("t", 3, CAP_MEMORY);
    uint64_t va = ARCH_HEAP_BASE + 0x3000;
    CHECK_EQ(kt_kcall(t, KS_ALLOC_PAGE, &va, 8), 0);
    uint64_t pages = t->pages;
    size_t free_then = page_free_count();
    CHECK_EQ(kt_kcall(t, KS_FREE_PAGE, &va, 8), 0);
    CHECK_EQ(t->pages, pages - 1);
    CHECK(kt_uptr(t, va) == NULL);
    CHECK_EQ(page_free_count(), free_then + 1);  /* the page itself is free again */
    CHECK_EQ(kt_kcall(t, KS_FREE_PAGE, &va, 8), -E_FAULT);       /* not mapped now */
    uint64_t odd = va + 8, msgbuf = ARCH_MSGBUF_ADDR, kernel = ARCH_USER_END;
    CHECK_EQ(kt_kcall(t, KS_FREE_PAGE, &odd, 8), -E_INVAL);
    CHECK_EQ(kt_kcall(t, KS_FREE_PAGE, &msgbuf, 8), -E_FAULT);   /* its message buffer */
    CHECK_EQ(kt_kcall(t, KS_FREE_PAGE, &kernel, 8), -E_FAULT);
    CHECK(kt_uptr(t, ARCH_MSGBUF_ADDR) != NULL);
}

TEST(pages_given_back_free_their_receive_slot) {
    /* A server that drops every page payload it gets must not creep up
     * its receive area (each new 2 MiB of it costs a page table). */
    kt_boot();
    struct task *a = kt_task("a", 3, CAP_MEMORY), *b = kt_task("b", 3, 0);
    long ca, cb;
    kt_connect(a, &ca, b, &cb);
    uintptr_t first = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t va = ARCH_HEAP_BASE + 0x1000;
        REQUIRE(kt_kcall(a, KS_ALLOC_PAGE, &va, 8) == 0);
        kt_ipc(b, cb, IPC_RECV);                   /* b waits */
        kt_msg(a, 0x77, NULL, 0);
        a->msgbuf->flags = MSG_PAGE;
        a->msgbuf->page = va;
        REQUIRE(kt_ipc(a, ca, IPC_SEND) == 0);
        uint64_t got = b->msgbuf->page;
        CHECK(got >= ARCH_PAGE_RECV_BASE && got < ARCH_PAGE_RECV_END);
        if (i == 0)
            first = got;
        CHECK_EQ(got, first);                      /* the same slot each time */
        CHECK_EQ(kt_kcall(b, KS_FREE_PAGE, &got, 8), 0);
    }
}

TEST(one_supervisor_at_a_time) {
    kt_boot();
    struct task *init = kt_task("init", 1, CAP_TASK), *other = kt_task("o", 2, CAP_TASK);
    long a = channel_open(init), b = channel_open(other);
    int32_t ca = (int32_t)a, cb = (int32_t)b;
    CHECK_EQ(kt_kcall(init, KS_SUPERVISE, &ca, 4), 0);
    CHECK_EQ(kt_kcall(other, KS_SUPERVISE, &cb, 4), -E_BUSY);
    CHECK(supervisor == kt_ch(init, a));
    CHECK_EQ(kt_kcall(init, KS_SUPERVISE, &ca, 4), 0);           /* the holder may again */
    CHECK_EQ(kt_syscall(init, SYS_CLOSE, a, 0), 0);              /* the role is free again */
    CHECK_EQ(kt_kcall(other, KS_SUPERVISE, &cb, 4), 0);
}

TEST(closing_a_channel_tells_the_peer_it_is_alone) {
    kt_boot();
    struct task *srv = kt_task("srv", 3, 0), *cli = kt_task("cli", 3, 0);
    long cs, cc;
    kt_connect(srv, &cs, cli, &cc);
    CHECK_EQ(kt_syscall(cli, SYS_CLOSE, cc, 0), 0);
    kt_msg(srv, 0, NULL, 0);
    CHECK_EQ(kt_ipc(srv, cs, IPC_RECV | IPC_NOBLOCK), 0);    /* pending notification */
    CHECK_EQ(srv->msgbuf->label, LABEL_NOTIFICATION);
    CHECK(srv->msgbuf->arg & NOTIFY_PEER_CLOSED);
    CHECK_EQ(srv->msgbuf->from, cs);
    CHECK_EQ(kt_ipc(srv, cs, IPC_RECV | IPC_NOBLOCK), -E_WOULDBLOCK);   /* once */
}
