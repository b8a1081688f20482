/*
 * dma.h - the DMA page pool (dma.c): physically contiguous runs for
 * KS_DMA_ALLOC, freed page by page through page_free.
 */
#ifndef NAGI_DMA_H
#define NAGI_DMA_H

#define DMA_POOL_PAGES 256   /* 1 MiB, carved once at boot */

void dma_pool_carve(uintptr_t *base, size_t *len);
bool dma_owns(uintptr_t paddr);
uintptr_t dma_alloc(size_t n);
void dma_free_page(uintptr_t paddr);
size_t dma_free_count(void);
size_t dma_pool_pages(void);   /* DMA_POOL_PAGES once carved, else 0 */

#endif
