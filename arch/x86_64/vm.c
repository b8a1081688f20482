/*
 * vm.c (x86_64) - 4-level page tables. The kernel's identity map of the
 * low 4 GiB (built by boot.S, supervisor only) is PML4 entry 0 of every
 * address space; user mappings live in entries 1..255.
 */
#include "x86.h"

#define PTE_P   0x1ull
#define PTE_W   0x2ull
#define PTE_U   0x4ull
#define PTE_PS  0x80ull
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

static uint64_t nx_bit;

void x86_vm_init(void) {
    if (rdmsr(0xc0000080) & (1u << 11))
        nx_bit = PTE_NX;
}

void *arch_phys_to_virt(uintptr_t paddr) {
    return (void *)paddr;
}

int arch_vm_init(struct arch_vm *vm) {
    uintptr_t page = kernel_page_alloc();
    if (!page)
        return -E_NOMEM;
    vm->pml4 = (uint64_t *)page;
    vm->pml4[0] = boot_pml4[0];
    return 0;
}

static unsigned index_of(uintptr_t vaddr, int level) {
    return (vaddr >> (12 + 9 * level)) & 511;
}

/* The level-0 entry for vaddr, allocating tables on the way if create. */
static uint64_t *walk(struct arch_vm *vm, uintptr_t vaddr, bool create) {
    uint64_t *table = vm->pml4;

    for (int level = 3; level > 0; level--) {
        uint64_t *e = &table[index_of(vaddr, level)];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            uintptr_t page = kernel_page_alloc();
            if (!page)
                return NULL;
            *e = page | PTE_P | PTE_W | PTE_U;
        }
        table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
    }
    return &table[index_of(vaddr, 0)];
}

static bool user_page(uintptr_t vaddr) {
    return vaddr >= ARCH_USER_BASE && vaddr < ARCH_USER_END &&
           IS_ALIGNED(vaddr, ARCH_PAGE_SIZE);
}

int arch_vm_map(struct arch_vm *vm, uintptr_t vaddr, uintptr_t paddr,
                unsigned attrs) {
    if (!user_page(vaddr))
        return -E_FAULT;
    uint64_t *pte = walk(vm, vaddr, true);
    if (!pte)
        return -E_NOMEM;
    if (*pte & PTE_P)
        return -E_BUSY;
    *pte = paddr | PTE_P | ((attrs & VM_USER) ? PTE_U : 0) |
           ((attrs & VM_WRITE) ? PTE_W : 0) | ((attrs & VM_EXEC) ? 0 : nx_bit);
    return 0;
}

uintptr_t arch_vm_unmap(struct arch_vm *vm, uintptr_t vaddr) {
    if (!user_page(vaddr))
        return 0;
    uint64_t *pte = walk(vm, vaddr, false);
    if (!pte || !(*pte & PTE_P))
        return 0;
    uintptr_t paddr = *pte & PTE_ADDR;
    *pte = 0;
    if (read_cr3() == (uint64_t)vm->pml4)
        __asm__ volatile("invlpg (%0)" ::"r"(vaddr) : "memory");
    return paddr;
}

int arch_vm_lookup(struct arch_vm *vm, uintptr_t vaddr, uintptr_t *paddr,
                   unsigned *attrs) {
    if (vaddr < ARCH_USER_BASE || vaddr >= ARCH_USER_END)
        return -E_FAULT;
    uint64_t *pte = walk(vm, ALIGN_DOWN(vaddr, ARCH_PAGE_SIZE), false);
    if (!pte || !(*pte & PTE_P))
        return -E_FAULT;
    *paddr = (*pte & PTE_ADDR) | (vaddr & (ARCH_PAGE_SIZE - 1));
    *attrs = ((*pte & PTE_U) ? VM_USER : 0) | ((*pte & PTE_W) ? VM_WRITE : 0) |
             ((*pte & nx_bit) && nx_bit ? 0 : VM_EXEC);
    return 0;
}

static void free_table(uint64_t *table, int level,
                       void (*free_page)(uintptr_t)) {
    for (unsigned i = 0; i < 512; i++) {
        if (!(table[i] & PTE_P))
            continue;
        uintptr_t next = table[i] & PTE_ADDR;
        if (level == 0)
            free_page(next);
        else
            free_table((uint64_t *)next, level - 1, free_page);
    }
    kernel_page_free((uintptr_t)table);
}

void arch_vm_destroy(struct arch_vm *vm, void (*free_page)(uintptr_t paddr)) {
    if (!vm->pml4)
        return;
    if (read_cr3() == (uint64_t)vm->pml4)
        write_cr3((uint64_t)boot_pml4);
    for (unsigned i = 1; i < 256; i++) {
        if (vm->pml4[i] & PTE_P)
            free_table((uint64_t *)(uintptr_t)(vm->pml4[i] & PTE_ADDR), 2,
                       free_page);
    }
    kernel_page_free((uintptr_t)vm->pml4);
    vm->pml4 = NULL;
}

/* Paging ports load programs page by page; device registers are reached
 * through I/O ports (KS_IOPORT). */
int arch_vm_add_region(struct arch_vm *vm UNUSED, uintptr_t base UNUSED,
                       size_t size UNUSED, unsigned attrs UNUSED) {
    return -E_NOTSUP;
}

int arch_mmio_grant(struct arch_vm *vm UNUSED, uintptr_t base UNUSED,
                    size_t size UNUSED) {
    return -E_NOTSUP;
}
