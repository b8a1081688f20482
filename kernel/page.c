/*
 * page.c - the physical page allocator: a free list threaded through the
 * free pages themselves (reached through arch_phys_to_virt).
 */
#include "kernel.h"

static uintptr_t free_list;
static size_t nfree, ntotal;

void page_add_range(uintptr_t base, size_t len) {
    uintptr_t p = (base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    for (; p + PAGE_SIZE <= base + len; p += PAGE_SIZE) {
        page_free(p);
        ntotal++;
    }
}

uintptr_t page_alloc(void) {
    uintptr_t p = free_list;
    if (!p)
        return 0;
    free_list = *(uintptr_t *)arch_phys_to_virt(p);
    nfree--;
    memset(arch_phys_to_virt(p), 0, PAGE_SIZE);
    return p;
}

void page_free(uintptr_t paddr) {
    ASSERT(paddr && IS_ALIGNED(paddr, PAGE_SIZE));
    *(uintptr_t *)arch_phys_to_virt(paddr) = free_list;
    free_list = paddr;
    nfree++;
}

size_t page_free_count(void) { return nfree; }
size_t page_total_count(void) { return ntotal; }

uintptr_t kernel_page_alloc(void) { return page_alloc(); }
void kernel_page_free(uintptr_t paddr) { page_free(paddr); }
