/*
 * test_pagetable.c - the x86_64 page-table walker (arch/x86_64/pagetable.c),
 * the same code the pc kernel runs, through the arch_vm_* calls the host
 * port makes of it: map, look up, unmap, the permission bits in the
 * entries, refusal of addresses outside the user half, running out of
 * pages, and freeing every table. Entries are read back to check their
 * bits against the format (pagetable.h): AMD faults on reserved bits
 * that QEMU's TCG ignores, so the tests must look.
 */
#include "kt.h"
#include "x86_64/pagetable.h"

#define VA   (ARCH_HEAP_BASE + 7 * PAGE_SIZE)
#define ENTRY_ADDR(e) ((e) & PTE_ADDR)

/* The four entries on the way to vaddr, PML4 entry first. */
static void path(struct arch_vm *vm, uintptr_t vaddr, uint64_t e[4]) {
    uint64_t *table = vm->pml4;
    for (int level = 3; level >= 0; level--) {
        e[3 - level] = table[(vaddr >> (12 + 9 * level)) & 511];
        if (level && (e[3 - level] & PTE_P))
            table = (uint64_t *)(uintptr_t)ENTRY_ADDR(e[3 - level]);
        else if (level)
            return;
    }
}

static uintptr_t page(void) {
    uintptr_t p = kernel_page_alloc();
    REQUIRE(p != 0);
    return p;
}

static unsigned freed;
static void count_free(uintptr_t paddr) {
    freed++;
    kernel_page_free(paddr);
}

TEST(pagetable_map_then_lookup_and_the_entries_it_wrote) {
    kt_boot();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    uintptr_t pa = page();
    CHECK_EQ(arch_vm_map(&vm, VA, pa, VM_USER | VM_WRITE), 0);
    uintptr_t got;
    unsigned attrs;
    CHECK_EQ(arch_vm_lookup(&vm, VA + 0x123, &got, &attrs), 0);
    CHECK_EQ(got, pa + 0x123);
    CHECK_EQ(attrs, VM_USER | VM_WRITE);
    uint64_t e[4];
    path(&vm, VA, e);
    for (int i = 0; i < 3; i++) {
        /* a table entry: P W U and an address, nothing else (no G, PS,
         * NX or reserved bits: AMD faults on G in non-leaf entries) */
        CHECK_EQ(e[i] & ~PTE_ADDR, PTE_P | PTE_W | PTE_U);
        CHECK(!(e[i] & (PTE_G | PTE_PS | PTE_NX)));
        CHECK(ENTRY_ADDR(e[i]) != 0);
    }
    CHECK_EQ(e[3], pa | PTE_P | PTE_U | PTE_W | PTE_NX);
    CHECK_EQ(host_table_pages, 4);      /* PML4, PDPT, PD, PT */
    arch_vm_destroy(&vm, count_free);
}

TEST(pagetable_permission_bits) {
    kt_boot();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    static const struct { unsigned attrs; uint64_t bits; } cases[] = {
        { VM_USER, PTE_U | PTE_NX },
        { VM_USER | VM_WRITE, PTE_U | PTE_W | PTE_NX },
        { VM_USER | VM_EXEC, PTE_U },
        { VM_USER | VM_WRITE | VM_EXEC, PTE_U | PTE_W },
        { VM_WRITE, PTE_W | PTE_NX },         /* supervisor only */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        uintptr_t va = VA + i * PAGE_SIZE, pa = page(), got;
        unsigned attrs;
        REQUIRE(arch_vm_map(&vm, va, pa, cases[i].attrs) == 0);
        uint64_t e[4];
        path(&vm, va, e);
        CHECK_EQ(e[3], pa | PTE_P | cases[i].bits);
        REQUIRE(arch_vm_lookup(&vm, va, &got, &attrs) == 0);
        CHECK_EQ(attrs, cases[i].attrs);
    }
    arch_vm_destroy(&vm, count_free);
}

TEST(pagetable_without_nx_every_page_is_executable) {
    kt_boot();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    pt_nx = 0;                         /* a CPU without EFER.NXE */
    uintptr_t pa = page(), got;
    unsigned attrs;
    REQUIRE(arch_vm_map(&vm, VA, pa, VM_USER) == 0);
    uint64_t e[4];
    path(&vm, VA, e);
    CHECK_EQ(e[3], pa | PTE_P | PTE_U);   /* NX is reserved there */
    REQUIRE(arch_vm_lookup(&vm, VA, &got, &attrs) == 0);
    CHECK_EQ(attrs, VM_USER | VM_EXEC);
    arch_vm_destroy(&vm, count_free);
}

TEST(pagetable_busy_unmap_and_unmap_again) {
    kt_boot();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    uintptr_t pa = page(), other = page(), got;
    unsigned attrs;
    REQUIRE(arch_vm_map(&vm, VA, pa, VM_USER) == 0);
    CHECK_EQ(arch_vm_map(&vm, VA, other, VM_USER), -E_BUSY);
    CHECK_EQ(arch_vm_lookup(&vm, VA, &got, &attrs), 0);
    CHECK_EQ(got, pa);
    CHECK_EQ(arch_vm_unmap(&vm, VA), pa);
    CHECK_EQ(arch_vm_lookup(&vm, VA, &got, &attrs), -E_FAULT);
    CHECK_EQ(arch_vm_unmap(&vm, VA), 0);
    CHECK_EQ(arch_vm_unmap(&vm, VA + PAGE_SIZE), 0);      /* never mapped */
    CHECK_EQ(arch_vm_unmap(&vm, ARCH_STACK_TOP), 0);      /* no tables there */
    CHECK_EQ(arch_vm_map(&vm, VA, other, VM_USER), 0);    /* free again */
    kernel_page_free(pa);
    arch_vm_destroy(&vm, count_free);
}

TEST(pagetable_first_and_last_user_page) {
    kt_boot();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    uintptr_t got;
    unsigned attrs;
    CHECK_EQ(arch_vm_map(&vm, ARCH_USER_BASE, page(), VM_USER), 0);
    CHECK_EQ(arch_vm_map(&vm, ARCH_USER_END - PAGE_SIZE, page(), VM_USER), 0);
    CHECK_EQ(arch_vm_lookup(&vm, ARCH_USER_BASE, &got, &attrs), 0);
    CHECK_EQ(arch_vm_lookup(&vm, ARCH_USER_END - 1, &got, &attrs), 0);
    CHECK(vm.pml4[1] & PTE_P);
    CHECK(vm.pml4[255] & PTE_P);
    CHECK_EQ(vm.pml4[0], 0);            /* the kernel's entry: untouched */
    CHECK_EQ(vm.pml4[256], 0);
    arch_vm_destroy(&vm, count_free);
}

TEST(pagetable_refuses_kernel_non_canonical_and_misaligned_addresses) {
    kt_boot();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    uintptr_t pa = page(), got;
    unsigned attrs;
    static const uintptr_t bad_va[] = {
        0, 0x1000, 0x100000, ARCH_USER_BASE - PAGE_SIZE,    /* the kernel's map */
        ARCH_USER_END, 0x0000fffffffff000ull,               /* kernel half entries */
        0x0001000000000000ull, 0x8000000000000000ull,       /* non-canonical */
        0xffff800000000000ull, 0xfffffffffffff000ull,       /* the upper half */
        VA + 8,                                             /* not page aligned */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bad_va); i++) {
        CHECK_EQ(arch_vm_map(&vm, bad_va[i], pa, VM_USER | VM_WRITE), -E_FAULT);
        CHECK_EQ(arch_vm_unmap(&vm, bad_va[i]), 0);
        if (bad_va[i] != VA + 8)
            CHECK_EQ(arch_vm_lookup(&vm, bad_va[i], &got, &attrs), -E_FAULT);
    }
    /* physical addresses: not page-aligned, or setting bits above the
     * address field (NX, reserved or ignored bits must never be set by
     * a caller's paddr) */
    CHECK_EQ(arch_vm_map(&vm, VA, pa + 4, VM_USER), -E_FAULT);
    CHECK_EQ(arch_vm_map(&vm, VA, pa | (1ull << 52), VM_USER), -E_FAULT);
    CHECK_EQ(arch_vm_map(&vm, VA, pa | PTE_NX, VM_USER), -E_FAULT);
    CHECK_EQ(host_table_pages, 1);      /* nothing allocated on the way */
    for (unsigned i = 1; i < 512; i++)
        CHECK_EQ(vm.pml4[i], 0);
    arch_vm_destroy(&vm, count_free);
    CHECK_EQ(host_table_pages, 0);
}

TEST(pagetable_destroy_frees_every_table_and_mapped_page) {
    kt_boot();
    size_t before = page_free_count();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    /* pages under three PML4 entries, two PDs, several PTs */
    static const uintptr_t vas[] = {
        ARCH_IMAGE_BASE, ARCH_IMAGE_BASE + PAGE_SIZE, ARCH_IMAGE_BASE + (2ul << 20),
        ARCH_HEAP_BASE, ARCH_HEAP_BASE + (1ul << 30), ARCH_STACK_TOP - PAGE_SIZE,
        ARCH_MSGBUF_ADDR,
    };
    for (unsigned i = 0; i < ARRAY_SIZE(vas); i++)
        REQUIRE(arch_vm_map(&vm, vas[i], page(), VM_USER | VM_WRITE) == 0);
    CHECK(host_table_pages > 4);
    CHECK_EQ(arch_vm_unmap(&vm, ARCH_IMAGE_BASE + PAGE_SIZE) != 0, 1);
    freed = 0;
    arch_vm_destroy(&vm, count_free);
    CHECK_EQ(freed, ARRAY_SIZE(vas) - 1);   /* the unmapped one is the caller's */
    CHECK_EQ(host_table_pages, 0);
    CHECK(vm.pml4 == NULL);
    CHECK_EQ(page_free_count(), before - 1);
    arch_vm_destroy(&vm, count_free);      /* twice: left alone */
    CHECK_EQ(page_free_count(), before - 1);
}

TEST(pagetable_out_of_pages_is_e_nomem_and_leaks_nothing) {
    host_pool_pages = 3;                   /* PML4 + PDPT + PD: no PT */
    kt_boot();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    uintptr_t pa = 0x1000;                 /* never dereferenced */
    CHECK_EQ(arch_vm_map(&vm, VA, pa, VM_USER), -E_NOMEM);
    CHECK_EQ(page_free_count(), 0);
    uintptr_t got;
    unsigned attrs;
    CHECK_EQ(arch_vm_lookup(&vm, VA, &got, &attrs), -E_FAULT);
    arch_vm_destroy(&vm, count_free);
    CHECK_EQ(host_table_pages, 0);
    CHECK_EQ(page_free_count(), 3);
}

/* KS_MMIO's device pages (VM_DEVICE): uncached (PCD|PWT), marked, reported
 * by lookup, and never handed to free_page when the space goes. */
TEST(pagetable_device_pages_are_uncached_and_never_freed) {
    kt_boot();
    struct arch_vm vm = {0};
    REQUIRE(arch_vm_init(&vm) == 0);
    uintptr_t dev = 0xfeb80000, ram = page();
    REQUIRE(arch_vm_map(&vm, VA, dev, VM_USER | VM_WRITE | VM_DEVICE) == 0);
    REQUIRE(arch_vm_map(&vm, VA + PAGE_SIZE, ram, VM_USER | VM_WRITE) == 0);
    uint64_t e[4];
    path(&vm, VA, e);
    CHECK_EQ(e[3] & (PTE_PCD | PTE_PWT | PTE_DEVICE), PTE_PCD | PTE_PWT | PTE_DEVICE);
    path(&vm, VA + PAGE_SIZE, e);
    CHECK_EQ(e[3] & (PTE_PCD | PTE_PWT | PTE_DEVICE), 0);
    uintptr_t got;
    unsigned attrs;
    CHECK_EQ(arch_vm_lookup(&vm, VA + 8, &got, &attrs), 0);
    CHECK_EQ(got, dev + 8);
    CHECK(attrs & VM_DEVICE);
    CHECK_EQ(arch_vm_lookup(&vm, VA + PAGE_SIZE, &got, &attrs), 0);
    CHECK(!(attrs & VM_DEVICE));
    freed = 0;
    arch_vm_destroy(&vm, count_free);
    CHECK_EQ(freed, 1);                    /* the RAM page only */
    CHECK_EQ(host_table_pages, 0);
}
