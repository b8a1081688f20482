/*
 * pagetable.c (x86_64) - the one walker over 4-level page tables: map,
 * unmap and look up a user page, free a space's user tables. The kernel
 * (vm.c adds the TLB and CR3 handling) and the host port of the unit
 * tests (arch/host/) both compile this file; it reaches tables only
 * through pt_table_ptr/pt_table_alloc/pt_table_free (pagetable.h).
 */
#include "pagetable.h"

uint64_t pt_nx;

/* The index of vaddr's entry in a table of level 3 (PML4) .. 0 (PT). */
static unsigned index_of(uintptr_t vaddr, int level) {
    return (vaddr >> (PT_PAGE_SHIFT + PT_INDEX_BITS * level)) & (PT_ENTRIES - 1);
}

bool pt_user_page(uintptr_t vaddr) {
    return vaddr >= ARCH_USER_BASE && vaddr < ARCH_USER_END &&
           IS_ALIGNED(vaddr, ARCH_PAGE_SIZE);
}

/* The PT entry for user address vaddr, or NULL when a table on the way is
 * missing and create is false (or no page is left for it). New tables get
 * PTE_TABLE entries. User addresses only: the kernel's PML4 entry 0 maps
 * large pages, which this walk does not follow. */
static uint64_t *walk(uint64_t *pml4, uintptr_t vaddr, bool create) {
    uint64_t *table = pml4;

    for (int level = 3; level > 0; level--) {
        uint64_t *e = &table[index_of(vaddr, level)];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            uintptr_t page = pt_table_alloc();
            if (!page)
                return NULL;
            *e = page | PTE_TABLE;
        }
        table = pt_table_ptr(*e & PTE_ADDR);
    }
    return &table[index_of(vaddr, 0)];
}

int pt_map(uint64_t *pml4, uintptr_t vaddr, uintptr_t paddr, unsigned attrs) {
    if (!pt_user_page(vaddr) || (paddr & ~PTE_ADDR))
        return -E_FAULT;
    uint64_t *pte = walk(pml4, vaddr, true);
    if (!pte)
        return -E_NOMEM;
    if (*pte & PTE_P)
        return -E_BUSY;
    *pte = paddr | PTE_P | ((attrs & VM_USER) ? PTE_U : 0) |
           ((attrs & VM_WRITE) ? PTE_W : 0) | ((attrs & VM_EXEC) ? 0 : pt_nx) |
           ((attrs & VM_DEVICE) ? PTE_DEVICE | PTE_PCD | PTE_PWT : 0);
    return 0;
}

uintptr_t pt_unmap(uint64_t *pml4, uintptr_t vaddr) {
    if (!pt_user_page(vaddr))
        return 0;
    uint64_t *pte = walk(pml4, vaddr, false);
    if (!pte || !(*pte & PTE_P))
        return 0;
    uintptr_t paddr = *pte & PTE_ADDR;
    *pte = 0;
    return paddr;
}

int pt_lookup(uint64_t *pml4, uintptr_t vaddr, uintptr_t *paddr,
              unsigned *attrs) {
    if (vaddr < ARCH_USER_BASE || vaddr >= ARCH_USER_END)
        return -E_FAULT;
    uint64_t *pte = walk(pml4, ALIGN_DOWN(vaddr, ARCH_PAGE_SIZE), false);
    if (!pte || !(*pte & PTE_P))
        return -E_FAULT;
    *paddr = (*pte & PTE_ADDR) | (vaddr & (ARCH_PAGE_SIZE - 1));
    *attrs = ((*pte & PTE_U) ? VM_USER : 0) | ((*pte & PTE_W) ? VM_WRITE : 0) |
             ((*pte & PTE_NX) ? 0 : VM_EXEC) | ((*pte & PTE_DEVICE) ? VM_DEVICE : 0);
    return 0;
}

/* Free the table at paddr of the given level and everything below it. */
static void free_table(uintptr_t paddr, int level, void (*free_page)(uintptr_t)) {
    uint64_t *table = pt_table_ptr(paddr);

    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        if (!(table[i] & PTE_P))
            continue;
        uintptr_t next = table[i] & PTE_ADDR;
        if (level == 0) {
            if (!(table[i] & PTE_DEVICE))   /* device registers are no one's memory */
                free_page(next);
        } else
            free_table(next, level - 1, free_page);
    }
    pt_table_free(paddr);
}

void pt_free_user(uint64_t *pml4, void (*free_page)(uintptr_t paddr)) {
    for (unsigned i = index_of(ARCH_USER_BASE, 3);
         i <= index_of(ARCH_USER_END - 1, 3); i++) {
        if (pml4[i] & PTE_P)
            free_table(pml4[i] & PTE_ADDR, 2, free_page);
        pml4[i] = 0;
    }
}
