/*
 * page.c - the physical page allocator: a free list threaded through the
 * free pages themselves (reached through arch_phys_to_virt).
 */
#include "kernel.h"
#include "dma.h"

static uintptr_t free_list;
static size_t nfree, ntotal;

/* The RAM ranges given (x86_64's KS_MMIO refuses them; MPU ports check
 * their own memory map and keep no table). */
#define RAM_RANGES_MAX (ARCH_HAS_PAGING ? 16 : 0)
#if ARCH_HAS_PAGING
static struct { uintptr_t base; size_t len; } ram[RAM_RANGES_MAX];
#endif
static unsigned nram;

bool page_is_ram(uintptr_t base UNUSED, size_t len UNUSED) {
#if ARCH_HAS_PAGING
    for (unsigned i = 0; i < nram; i++)
        if (base < ram[i].base + ram[i].len && ram[i].base < base + len)
            return true;
#endif
    return nram == RAM_RANGES_MAX && ARCH_HAS_PAGING;   /* lost track: refuse all */
}

void page_add_range(uintptr_t base, size_t len) {
#if ARCH_HAS_PAGING
    if (nram < RAM_RANGES_MAX) {
        ram[nram].base = base;
        ram[nram++].len = len;
    }
#endif
    dma_pool_carve(&base, &len);   /* the DMA pool, from the first big range */
    uintptr_t p = (base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    for (; p + PAGE_SIZE <= base + len; p += PAGE_SIZE) {
        if (dma_owns(p))
            continue;   /* the range given again: the pool keeps its pages */
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
    if (dma_owns(paddr)) {
        dma_free_page(paddr);
        return;
    }
    *(uintptr_t *)arch_phys_to_virt(paddr) = free_list;
    free_list = paddr;
    nfree++;
}

/* Both count the DMA pool's pages too. */
size_t page_free_count(void) { return nfree + dma_free_count(); }
size_t page_total_count(void) { return ntotal + dma_pool_pages(); }

uintptr_t kernel_page_alloc(void) { return page_alloc(); }
void kernel_page_free(uintptr_t paddr) { page_free(paddr); }
