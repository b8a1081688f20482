/*
 * test.h - a tiny test framework: TEST(name) { ... } registers a test,
 * CHECK*() record failures and go on, REQUIRE() ends the test at once.
 * Every test runs in its own forked process (see runner.c), so it starts
 * from the kernel's pristine global state and a crash fails only itself.
 */
#ifndef NAGI_TEST_H
#define NAGI_TEST_H

#include "host.h"

void test_register(const char *name, const char *file, void (*fn)(void));
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn void test_abort(void);

#define TEST(name)                                                          \
    static void test_##name(void);                                          \
    __attribute__((constructor)) static void register_##name(void) {        \
        test_register(#name, __FILE__, test_##name);                        \
    }                                                                       \
    static void test_##name(void)

#define CHECK(c)                                                            \
    do {                                                                    \
        if (!(c))                                                           \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #c);                 \
    } while (0)

#define CHECK_EQ(a, b)                                                      \
    do {                                                                    \
        long long a_ = (long long)(a), b_ = (long long)(b);                 \
        if (a_ != b_)                                                       \
            test_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %lld != %lld", \
                      #a, #b, a_, b_);                                      \
    } while (0)

#define CHECK_STR(a, b)                                                     \
    do {                                                                    \
        const char *a_ = (a), *b_ = (b);                                    \
        if (strcmp(a_, b_) != 0)                                            \
            test_fail(__FILE__, __LINE__, "CHECK_STR(%s, %s): \"%s\" != \"%s\"", \
                      #a, #b, a_, b_);                                      \
    } while (0)

#define REQUIRE(c)                                                          \
    do {                                                                    \
        if (!(c)) {                                                         \
            test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #c);               \
            test_abort();                                                   \
        }                                                                   \
    } while (0)

/* Run stmt; 1 if it ended in arch_halt (a panic), 0 if it returned. */
#define HALTS(stmt)                                                         \
    ({                                                                      \
        volatile int halted_ = 1;                                                  \
        host_halt_armed = 1;                                                \
        if (setjmp(host_halt_jmp) == 0) {                                   \
            stmt;                                                           \
            halted_ = 0;                                                    \
        }                                                                   \
        host_halt_armed = 0;                                                \
        halted_;                                                            \
    })

#endif
