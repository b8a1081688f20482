/*
 * test_page.c - the physical page allocator (kernel/page.c).
 */
#include <stdlib.h>
#include "kt.h"

static uint8_t *pool(size_t pages) {
    void *p = NULL;
    REQUIRE(posix_memalign(&p, PAGE_SIZE, pages * PAGE_SIZE) == 0);
    memset(p, 0xa5, pages * PAGE_SIZE);
    return p;
}

TEST(page_add_range_counts_whole_pages) {
    uint8_t *p = pool(8);
    /* Start 100 bytes in: the first partial page and the tail are dropped. */
    page_add_range((uintptr_t)p + 100, 5 * PAGE_SIZE);
    CHECK_EQ(page_total_count(), 4);
    CHECK_EQ(page_free_count(), 4);
    page_add_range((uintptr_t)p + 6 * PAGE_SIZE, 2 * PAGE_SIZE);
    CHECK_EQ(page_total_count(), 6);
    CHECK_EQ(page_free_count(), 6);
}

TEST(page_alloc_returns_zeroed_aligned_pages_in_range) {
    uint8_t *p = pool(4);
    page_add_range((uintptr_t)p, 4 * PAGE_SIZE);
    for (int i = 0; i < 4; i++) {
        uintptr_t a = page_alloc();
        REQUIRE(a != 0);
        CHECK(IS_ALIGNED(a, PAGE_SIZE));
        CHECK(a >= (uintptr_t)p && a < (uintptr_t)p + 4 * PAGE_SIZE);
        const uint8_t *b = arch_phys_to_virt(a);
        size_t nonzero = 0;
        for (size_t j = 0; j < PAGE_SIZE; j++)
            nonzero += b[j] != 0;
        CHECK_EQ(nonzero, 0);
        CHECK_EQ(page_free_count(), 3 - i);
    }
    CHECK_EQ(page_total_count(), 4);
}

TEST(page_exhaustion_returns_zero) {
    uint8_t *p = pool(2);
    page_add_range((uintptr_t)p, 2 * PAGE_SIZE);
    uintptr_t a = page_alloc(), b = page_alloc();
    CHECK(a && b && a != b);
    CHECK_EQ(page_alloc(), 0);
    CHECK_EQ(page_alloc(), 0);
    CHECK_EQ(page_free_count(), 0);
}

TEST(page_alloc_with_no_memory_returns_zero) {
    CHECK_EQ(page_alloc(), 0);
    CHECK_EQ(page_total_count(), 0);
}

TEST(page_free_then_realloc_reuses_and_rezeroes) {
    uint8_t *p = pool(2);
    page_add_range((uintptr_t)p, 2 * PAGE_SIZE);
    uintptr_t a = page_alloc(), b = page_alloc();
    memset(arch_phys_to_virt(a), 0x77, PAGE_SIZE);
    page_free(a);
    CHECK_EQ(page_free_count(), 1);
    CHECK_EQ(page_total_count(), 2);
    uintptr_t c = page_alloc();
    CHECK_EQ(c, a);
    const uint8_t *bytes = arch_phys_to_virt(c);
    CHECK_EQ(bytes[0], 0);
    CHECK_EQ(bytes[8], 0);          /* where the free-list link was */
    CHECK_EQ(bytes[PAGE_SIZE - 1], 0);
    page_free(b);
    page_free(c);
    CHECK_EQ(page_free_count(), 2);
}

TEST(page_free_of_unaligned_address_panics) {
    uint8_t *p = pool(1);
    CHECK(HALTS(page_free((uintptr_t)p + 8)));
    CHECK(host_console_contains("PANIC: assertion failed"));
    CHECK(HALTS(page_free(0)));
}

TEST(kernel_page_alloc_is_the_page_allocator) {
    uint8_t *p = pool(1);
    page_add_range((uintptr_t)p, PAGE_SIZE);
    uintptr_t a = kernel_page_alloc();
    CHECK_EQ(a, (uintptr_t)p);
    CHECK_EQ(page_free_count(), 0);
    kernel_page_free(a);
    CHECK_EQ(page_free_count(), 1);
}
