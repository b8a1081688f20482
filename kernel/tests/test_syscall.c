/*
 * test_syscall.c - the system call table and user pointer checks
 * (kernel/syscall.c).
 */
#include "kt.h"

TEST(syscall_numbers) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    CHECK_EQ(kt_syscall(t, SYS_NOP, 0, 0), 0);
    CHECK_EQ(kt_syscall(t, SYS_MAX + 1, 0, 0), -E_NOSYS);
    CHECK_EQ(kt_syscall(t, -1, 0, 0), -E_NOSYS);
    CHECK_EQ(kt_syscall(t, 1L << 40, 0, 0), -E_NOSYS);
}

TEST(debug_write_prints_user_bytes) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    memcpy(t->msgbuf->data, "hello, console", 14);
    uintptr_t ua = ARCH_MSGBUF_ADDR + offsetof(struct nagi_msg, data);
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)ua, 14), 14);
    CHECK(host_console_contains("hello, console"));
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)ua, 0), 0);
}

TEST(debug_write_to_the_screen_only) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    memcpy(t->msgbuf->data, "nagi> ", 6);
    uintptr_t ua = ARCH_MSGBUF_ADDR + offsetof(struct nagi_msg, data);
    host_console_clear();
    CHECK_EQ(kt_syscall3(t, SYS_DEBUG_WRITE, (long)ua, 6, DEBUG_WRITE_SCREEN), 6);
    CHECK(strstr(host_screen, "nagi> ") != NULL);
    CHECK(!host_console_contains("nagi> "));
    CHECK_EQ(kt_syscall3(t, SYS_DEBUG_WRITE, (long)ua, 6, 2), -E_INVAL);
    CHECK_EQ(kt_syscall3(t, SYS_DEBUG_WRITE, (long)ua, 6, -1), -E_INVAL);
}

TEST(debug_write_across_pages) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    uintptr_t top = ARCH_STACK_TOP - PAGE_SIZE;      /* two stack pages */
    memcpy((char *)kt_uptr(t, top - 3), "abc", 3);
    memcpy((char *)kt_uptr(t, top), "def", 3);
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)(top - 3), 6), 6);
    CHECK(host_console_contains("abcdef"));
}

TEST(debug_write_with_a_bad_pointer_is_e_fault) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    char host_buf[16] = "kernel secret";
    uintptr_t bad[] = {
        0, 0x1000, (uintptr_t)host_buf,              /* kernel memory */
        ARCH_HEAP_BASE,                              /* unmapped user page */
        ARCH_MSGBUF_ADDR + PAGE_SIZE - 4,            /* runs into unmapped */
        ARCH_USER_END - 8, 0xffff800000000000ull,
        ~(uintptr_t)0 - 4,                           /* wraps around */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
        CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)bad[i], 16), -E_FAULT);
    CHECK_EQ(host_console_len, 0);                   /* nothing printed */
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)ARCH_MSGBUF_ADDR, 257), -E_TOOBIG);
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)ARCH_MSGBUF_ADDR, -1), -E_TOOBIG);
}
