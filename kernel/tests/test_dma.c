/*
 * test_dma.c - the DMA pool (kernel/dma.c) and KS_DMA_ALLOC: contiguous
 * runs, the bounds, and the pages going back when the task dies.
 */
#include "kt.h"
#include "dma.h"

struct dma_req { uint64_t vaddr; uint32_t pages, flags; };

static long dma_call(struct task *t, uint64_t vaddr, uint32_t pages) {
    struct dma_req q = { vaddr, pages, 0 };
    return kt_kcall(t, KS_DMA_ALLOC, &q, sizeof(q));
}

#define DMA_VA (ARCH_HEAP_BASE + ARCH_HEAP_SIZE + (16ul << 20))

TEST(dma_pool_is_carved_once_from_a_big_range) {
    kt_boot();
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES);
    CHECK_EQ(page_total_count(), host_pool_pages);   /* counted with the rest */
    kt_boot();                                        /* the range again */
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES);
}

TEST(dma_alloc_gives_contiguous_zeroed_runs_first_fit) {
    kt_boot();
    uintptr_t a = dma_alloc(3), b = dma_alloc(5);
    REQUIRE(a && b);
    CHECK_EQ(b, a + 3 * PAGE_SIZE);
    CHECK(dma_owns(a) && dma_owns(b + 4 * PAGE_SIZE));
    CHECK(!dma_owns(a - PAGE_SIZE));
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES - 8);
    memset((void *)a, 0x5a, 3 * PAGE_SIZE);
    /* Free the middle page of a's run: a run of 2 does not fit there... */
    page_free(a + PAGE_SIZE);
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES - 7);
    uintptr_t c = dma_alloc(2);
    CHECK_EQ(c, b + 5 * PAGE_SIZE);
    /* ...a run of 1 does, zeroed again. */
    uintptr_t d = dma_alloc(1);
    CHECK_EQ(d, a + PAGE_SIZE);
    CHECK_EQ(((uint8_t *)d)[0], 0);
    CHECK_EQ(((uint8_t *)d)[PAGE_SIZE - 1], 0);
    CHECK_EQ(dma_alloc(0), 0);
    CHECK_EQ(dma_alloc(DMA_POOL_PAGES), 0);                 /* not that much free */
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES - 10);
    CHECK(HALTS(dma_free_page(c + PAGE_SIZE * 2)));         /* never handed out */
}

TEST(ks_dma_alloc_maps_contiguous_pages_and_answers_their_address) {
    kt_boot();
    struct task *t = kt_task("drv", 3, CAP_IO);
    uint64_t pages = t->pages;
    long pa = dma_call(t, DMA_VA, 4);
    REQUIRE(pa > 0);
    CHECK(dma_owns((uintptr_t)pa));
    for (int i = 0; i < 4; i++) {
        uint8_t *p = kt_uptr(t, DMA_VA + i * PAGE_SIZE);
        REQUIRE(p != NULL);
        CHECK_EQ((uintptr_t)p, (uintptr_t)pa + i * PAGE_SIZE);   /* host: phys = virt */
        CHECK_EQ(p[7], 0);
    }
    CHECK_EQ(t->pages, pages + 4);
    CHECK_EQ(t->dma_pages, 4);
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES - 4);
}

TEST(ks_dma_alloc_checks_its_caller_and_arguments) {
    kt_boot();
    struct task *t = kt_task("drv", 3, CAP_IO), *u = kt_task("u", 3, CAP_ALL & ~CAP_IO);
    CHECK_EQ(dma_call(u, DMA_VA, 1), -E_PERM);
    CHECK_EQ(dma_call(t, DMA_VA, 0), -E_INVAL);
    CHECK_EQ(dma_call(t, DMA_VA, DMA_ALLOC_MAX_PAGES + 1), -E_INVAL);
    CHECK_EQ(dma_call(t, DMA_VA + 8, 1), -E_INVAL);
    struct dma_req q = { DMA_VA, 1, 1 };
    CHECK_EQ(kt_kcall(t, KS_DMA_ALLOC, &q, sizeof(q)), -E_INVAL);   /* flags */
    CHECK_EQ(kt_kcall(t, KS_DMA_ALLOC, &q, 8), -E_INVAL);           /* short */
    CHECK_EQ(dma_call(t, 0x1000, 1), -E_FAULT);                     /* the kernel's */
    CHECK_EQ(dma_call(t, ARCH_USER_END - PAGE_SIZE, 2), -E_FAULT);  /* runs past the end */
    CHECK_EQ(dma_call(t, ARCH_MSGBUF_ADDR, 1), -E_BUSY);            /* mapped */
    CHECK_EQ(dma_call(t, ARCH_MSGBUF_ADDR - PAGE_SIZE, 2), -E_BUSY);
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES);                     /* nothing taken */
    /* The per-task bound: DMA_TASK_MAX_PAGES, however they are asked for. */
    uint64_t va = DMA_VA;
    for (unsigned got = 0; got < DMA_TASK_MAX_PAGES; got += DMA_ALLOC_MAX_PAGES) {
        CHECK(dma_call(t, va, DMA_ALLOC_MAX_PAGES) > 0);
        va += DMA_ALLOC_MAX_PAGES * PAGE_SIZE;
    }
    CHECK_EQ(dma_call(t, va, 1), -E_NOMEM);
    CHECK_EQ(t->dma_pages, DMA_TASK_MAX_PAGES);
    /* A page given back makes room for one more. */
    uint64_t back = DMA_VA;
    CHECK_EQ(kt_kcall(t, KS_FREE_PAGE, &back, 8), 0);
    CHECK_EQ(t->dma_pages, DMA_TASK_MAX_PAGES - 1);
    CHECK(dma_call(t, va, 1) > 0);
    CHECK_EQ(dma_call(t, va + PAGE_SIZE, 1), -E_NOMEM);
}

TEST(ks_dma_alloc_runs_out_of_pool_cleanly) {
    kt_boot();
    unsigned ntasks = DMA_POOL_PAGES / DMA_TASK_MAX_PAGES;
    for (unsigned i = 0; i < ntasks; i++) {
        struct task *t = kt_task("drv", 3, CAP_IO);
        CHECK(dma_call(t, DMA_VA, DMA_ALLOC_MAX_PAGES) > 0);
        CHECK(dma_call(t, DMA_VA + DMA_ALLOC_MAX_PAGES * PAGE_SIZE, DMA_ALLOC_MAX_PAGES) > 0);
    }
    CHECK_EQ(dma_free_count(), 0);
    struct task *t = kt_task("late", 3, CAP_IO);
    size_t before = page_free_count();
    CHECK_EQ(dma_call(t, DMA_VA, 1), -E_NOMEM);
    CHECK_EQ(page_free_count(), before);
    CHECK_EQ(t->dma_pages, 0);
}

TEST(dma_pages_go_back_when_the_task_dies) {
    kt_boot();
    size_t free0 = page_free_count();
    struct task *k = kt_task("killer", 1, CAP_TASK);
    struct task *t = kt_task("drv", 3, CAP_IO);
    CHECK(dma_call(t, DMA_VA, 7) > 0);
    CHECK(dma_call(t, DMA_VA + 64 * PAGE_SIZE, DMA_ALLOC_MAX_PAGES) > 0);
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES - 7 - DMA_ALLOC_MAX_PAGES);
    uint32_t tid = (uint32_t)t->tid;
    CHECK_EQ(kt_kcall(k, KS_KILL, &tid, 4), 0);
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES);   /* every DMA page back */
    CHECK_EQ(t->dma_pages, 0);
    /* A new task of the slot gets a whole pool and a clean count. */
    struct task *n = kt_task("drv", 3, CAP_IO);
    CHECK(dma_call(n, DMA_VA, DMA_ALLOC_MAX_PAGES) > 0);
    CHECK_EQ(n->dma_pages, DMA_ALLOC_MAX_PAGES);
    task_destroy(n);
    task_destroy(k);
    CHECK_EQ(dma_free_count(), DMA_POOL_PAGES);
    CHECK(page_free_count() >= free0 - 1);  /* killed t's slot keeps no memory */
}

/* Device registers mapped into a task (x86_64 KS_MMIO) are not its memory:
 * KS_FREE_PAGE refuses them and its death does not free them. */
TEST(device_pages_are_not_freed_as_memory) {
    kt_boot();
    struct task *t = kt_task("drv", 3, CAP_IO);
    uint64_t va = DMA_VA;
    uintptr_t dev = 0xfeb80000;   /* never dereferenced */
    REQUIRE(arch_vm_map(&t->vm, va, dev, VM_USER | VM_WRITE | VM_DEVICE) == 0);
    size_t before = page_free_count();
    CHECK_EQ(kt_kcall(t, KS_FREE_PAGE, &va, 8), -E_FAULT);
    CHECK_EQ(dma_call(t, va, 1), -E_BUSY);
    task_destroy(t);              /* freeing it would write into 0xfeb80000 */
    CHECK(page_free_count() > before);
}
