/*
 * test_fault.c - user faults (kernel/fault.c): fatal ones kill the task
 * and say why; heap faults are served by the kernel (no pager) or become
 * a LABEL_PAGE_FAULT call to the pager.
 */
#include "kt.h"

static struct task *victim;

static void fault_as(struct task *t, bool mem, uintptr_t addr, unsigned flags,
                     const char *reason) {
    kt_run(t);
    kernel_user_fault(mem, addr, flags, reason);
}

static void expect_killed(const char *why) {
    CHECK_EQ(victim->state, TASK_STATE_KILLED);
    CHECK(current != victim);
    CHECK(host_console_contains(why));
    CHECK(victim->msgbuf == NULL);
    CHECK_EQ(victim->pages, 0);
}

TEST(fault_at_a_kernel_address_kills_the_task) {
    kt_boot();
    size_t free0 = page_free_count();
    victim = kt_task("v", 3, 0);
    fault_as(victim, true, 0xffffffff80001234ull, FAULT_WRITE, NULL);
    expect_killed("task 1 (v) killed: touched kernel memory at 0xffffffff80001234");
    CHECK_EQ(page_free_count(), free0);
}

TEST(fault_below_the_user_range_kills_the_task) {
    kt_boot();
    victim = kt_task("v", 3, 0);
    fault_as(victim, true, 0x100000, 0, NULL);
    expect_killed("touched kernel memory at 0x0000000000100000");
}

TEST(fault_at_a_null_address_kills_the_task) {
    kt_boot();
    victim = kt_task("v", 3, 0);
    fault_as(victim, true, 8, 0, NULL);
    expect_killed("null pointer access at 0x0000000000000008");
}

TEST(fault_on_a_present_page_kills_the_task) {
    kt_boot();
    victim = kt_task("v", 3, 0);
    fault_as(victim, true, ARCH_IMAGE_BASE + 0x10, FAULT_WRITE | FAULT_PRESENT, NULL);
    expect_killed("write to a read-only page");
}

TEST(fault_that_is_not_a_memory_access_kills_with_its_reason) {
    kt_boot();
    victim = kt_task("v", 3, 0);
    fault_as(victim, false, ARCH_IMAGE_BASE + 0x42, 0, "invalid opcode");
    expect_killed("invalid opcode at 0x0000008000000042");
}

TEST(fault_in_the_heap_without_a_pager_maps_a_page) {
    kt_boot();
    victim = kt_task("v", 3, 0);
    uint64_t pages = victim->pages;
    uintptr_t addr = ARCH_HEAP_BASE + 3 * PAGE_SIZE + 0x123;
    fault_as(victim, true, addr, FAULT_WRITE, NULL);
    CHECK_EQ(victim->state, TASK_STATE_RUNNABLE);
    CHECK(current == victim);
    CHECK_EQ(victim->pages, pages + 1);
    uintptr_t pa;
    unsigned attrs;
    REQUIRE(arch_vm_lookup(&victim->vm, addr, &pa, &attrs) == 0);
    CHECK_EQ(attrs & (VM_USER | VM_WRITE), VM_USER | VM_WRITE);
    CHECK_EQ(host_console_len, 0);
}

TEST(fault_outside_the_heap_without_a_pager_kills_the_task) {
    kt_boot();
    victim = kt_task("v", 3, 0);
    fault_as(victim, true, ARCH_HEAP_BASE + ARCH_HEAP_SIZE, 0, NULL);
    expect_killed("page fault outside the heap");
}

/* ---- with a pager ---------------------------------------------------------- */

static struct task *pager;
static long pc, vc;
static uintptr_t fault_page;
static bool pager_gives_page, pager_ran;

static void pager_setup(void) {
    kt_boot();
    pager = kt_task("pager", 1, CAP_MEMORY);
    victim = kt_task("v", 3, 0);
    kt_connect(pager, &pc, victim, &vc);
    victim->pager = kt_ch(victim, vc);
    kt_ipc(pager, pc, IPC_RECV);
}

/* The pager, run inside the switch away from the faulting task. */
static void pager_serves(struct task *prev, struct task *next) {
    pager_ran = true;
    CHECK(prev == victim);
    CHECK(next == pager);
    CHECK_EQ(victim->state, TASK_STATE_BLOCKED_RECV);
    struct nagi_msg *m = pager->msgbuf;
    CHECK_EQ(m->label, LABEL_PAGE_FAULT);
    CHECK_EQ(m->flags, MSG_KERNEL);              /* the kernel's mark: a task cannot forge it */
    CHECK_EQ(m->from, pc);
    CHECK_EQ(m->len, 24);
    uint64_t d[3];
    memcpy(d, m->data, sizeof(d));
    CHECK_EQ(d[0], victim->tid);
    CHECK_EQ(d[1], fault_page);
    CHECK_EQ(d[2], FAULT_WRITE);
    kt_msg(pager, LABEL_PAGE_FAULT_REPLY, NULL, 0);
    if (pager_gives_page) {
        uintptr_t va = ARCH_HEAP_BASE;
        REQUIRE(task_map_new_page(pager, va, VM_WRITE) == 0);
        ((uint8_t *)kt_uptr(pager, va))[7] = 0x99;
        pager->msgbuf->flags = MSG_PAGE;
        pager->msgbuf->page = va;
    }
    CHECK_EQ(kt_ipc(pager, pc, IPC_REPLY), 0);
    kt_run(victim);                  /* back to the faulting task */
}

TEST(fault_with_a_pager_sends_a_page_fault_message_and_maps_the_reply) {
    pager_setup();
    fault_page = ARCH_HEAP_BASE + 7 * PAGE_SIZE;
    pager_gives_page = true;
    host_switch_hook = pager_serves;
    uint64_t pages = victim->pages;
    fault_as(victim, true, fault_page + 0x10, FAULT_WRITE, NULL);
    REQUIRE(pager_ran);
    CHECK_EQ(victim->state, TASK_STATE_RUNNABLE);
    uint8_t *p = kt_uptr(victim, fault_page);
    REQUIRE(p != NULL);
    CHECK_EQ(p[7], 0x99);                    /* the pager's page, moved */
    CHECK(kt_uptr(pager, ARCH_HEAP_BASE) == NULL);
    CHECK_EQ(victim->pages, pages + 1);
    CHECK(victim->ipc_buf == victim->msgbuf);
    CHECK_EQ(victim->fault_addr, 0);
    CHECK_EQ(victim->page_recv_next, ARCH_PAGE_RECV_BASE);   /* not used */
}

TEST(fault_with_a_pager_that_refuses_kills_the_task) {
    pager_setup();
    fault_page = ARCH_HEAP_BASE;
    pager_gives_page = false;
    host_switch_hook = pager_serves;
    fault_as(victim, true, fault_page, FAULT_WRITE, NULL);
    REQUIRE(pager_ran);
    expect_killed("pager refused page fault");
}

TEST(fault_with_a_pager_does_not_touch_the_user_message_buffer) {
    pager_setup();
    fault_page = ARCH_HEAP_BASE;
    pager_gives_page = true;
    host_switch_hook = pager_serves;
    kt_msg(victim, 0x1234, "mine", 4);
    fault_as(victim, true, fault_page, FAULT_WRITE, NULL);
    CHECK_EQ(victim->msgbuf->label, 0x1234);
    CHECK(memcmp(victim->msgbuf->data, "mine", 4) == 0);
}

TEST(fault_with_an_unlinked_pager_kills_the_task) {
    pager_setup();
    channel_close(pager, pc);
    fault_as(victim, true, ARCH_HEAP_BASE, FAULT_WRITE, NULL);
    expect_killed("pager refused page fault");
}
