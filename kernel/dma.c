/*
 * dma.c - memory a device reaches by DMA (KS_DMA_ALLOC): a pool of
 * DMA_POOL_PAGES physically contiguous pages carved out of the first RAM
 * range big enough when the page allocator is given memory, handed out
 * as contiguous runs (first fit over a bitmap). A run's pages are mapped
 * into a task as ordinary user pages, so they go back to the pool one by
 * one through page_free: when the task dies (arch_vm_destroy) or gives a
 * page back (KS_FREE_PAGE). Paging ports only.
 */
#include "kernel.h"
#include "dma.h"

#if ARCH_HAS_PAGING

static uintptr_t pool_base;          /* 0: no pool (yet) */
static uint8_t used[DMA_POOL_PAGES / 8];
static size_t nfree;

static bool is_used(size_t i) { return used[i / 8] & (1u << (i % 8)); }
static void set_used(size_t i, bool on) {
    if (on)
        used[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        used[i / 8] &= (uint8_t)~(1u << (i % 8));
}

/* page_add_range's hook: take the pool from [*base, *base + *len) if it
 * is the first range that holds it with as much again to spare; the
 * range is shrunk past it. */
void dma_pool_carve(uintptr_t *base, size_t *len) {
    uintptr_t p = ALIGN_UP(*base, PAGE_SIZE);
    size_t bytes = DMA_POOL_PAGES * PAGE_SIZE;
    if (pool_base || *base + *len < p ||
        *base + *len - p < 2 * bytes)
        return;
    pool_base = p;
    nfree = DMA_POOL_PAGES;
    memset(used, 0, sizeof(used));
    *len -= p + bytes - *base;
    *base = p + bytes;
}

bool dma_owns(uintptr_t paddr) {
    return pool_base && paddr >= pool_base &&
           paddr < pool_base + DMA_POOL_PAGES * PAGE_SIZE;
}

/* n contiguous zeroed pages (first fit), or 0. */
uintptr_t dma_alloc(size_t n) {
    if (!pool_base || n == 0 || n > nfree)
        return 0;
    for (size_t start = 0; start + n <= DMA_POOL_PAGES; start++) {
        size_t run = 0;
        while (run < n && !is_used(start + run))
            run++;
        if (run < n) {
            start += run;   /* skip past the used page */
            continue;
        }
        for (size_t i = 0; i < n; i++)
            set_used(start + i, true);
        nfree -= n;
        uintptr_t p = pool_base + start * PAGE_SIZE;
        memset(arch_phys_to_virt(p), 0, n * PAGE_SIZE);
        return p;
    }
    return 0;
}

void dma_free_page(uintptr_t paddr) {
    size_t i = (paddr - pool_base) / PAGE_SIZE;
    ASSERT(dma_owns(paddr) && IS_ALIGNED(paddr, PAGE_SIZE) && is_used(i));
    set_used(i, false);
    nfree++;
}

size_t dma_free_count(void) { return nfree; }
size_t dma_pool_pages(void) { return pool_base ? DMA_POOL_PAGES : 0; }

#else   /* no paging (MPU ports): no pool; KS_DMA_ALLOC is -E_NOTSUP */

void dma_pool_carve(uintptr_t *base UNUSED, size_t *len UNUSED) {}
bool dma_owns(uintptr_t paddr UNUSED) { return false; }
uintptr_t dma_alloc(size_t n UNUSED) { return 0; }
void dma_free_page(uintptr_t paddr UNUSED) {}
size_t dma_free_count(void) { return 0; }
size_t dma_pool_pages(void) { return 0; }

#endif
