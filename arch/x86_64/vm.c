/*
 * vm.c (x86_64) - address spaces: the arch_vm_* calls on top of the
 * shared page-table walker (pagetable.c), plus what only the CPU has:
 * the NX switch, TLB shootdown of the current space and CR3. The kernel's
 * identity map of the low 4 GiB (built by boot.S, supervisor only) is PML4
 * entry 0 of every address space; user mappings live in entries 1..255.
 */
#include "x86.h"
#include "pagetable.h"

void x86_vm_init(void) {
    if (rdmsr(MSR_EFER) & EFER_NXE)
        pt_nx = PTE_NX;
}

void *arch_phys_to_virt(uintptr_t paddr) {
    return (void *)paddr;
}

/* pagetable.c's access to tables: kernel pages, reached through the
 * identity map. */
uintptr_t pt_table_alloc(void) { return kernel_page_alloc(); }
void pt_table_free(uintptr_t paddr) { kernel_page_free(paddr); }
uint64_t *pt_table_ptr(uintptr_t paddr) { return arch_phys_to_virt(paddr); }

int arch_vm_init(struct arch_vm *vm) {
    uintptr_t page = kernel_page_alloc();
    if (!page)
        return -E_NOMEM;
    vm->pml4 = (uint64_t *)page;
    vm->pml4[0] = boot_pml4[0];
    return 0;
}

int arch_vm_map(struct arch_vm *vm, uintptr_t vaddr, uintptr_t paddr,
                unsigned attrs) {
    return pt_map(vm->pml4, vaddr, paddr, attrs);
}

uintptr_t arch_vm_unmap(struct arch_vm *vm, uintptr_t vaddr) {
    uintptr_t paddr = pt_unmap(vm->pml4, vaddr);
    if (paddr && read_cr3() == (uint64_t)vm->pml4)
        __asm__ volatile("invlpg (%0)" ::"r"(vaddr) : "memory");
    return paddr;
}

int arch_vm_lookup(struct arch_vm *vm, uintptr_t vaddr, uintptr_t *paddr,
                   unsigned *attrs) {
    return pt_lookup(vm->pml4, vaddr, paddr, attrs);
}

void arch_vm_destroy(struct arch_vm *vm, void (*free_page)(uintptr_t paddr)) {
    if (!vm->pml4)
        return;
    if (read_cr3() == (uint64_t)vm->pml4)
        write_cr3((uint64_t)boot_pml4);
    pt_free_user(vm->pml4, free_page);
    kernel_page_free((uintptr_t)vm->pml4);
    vm->pml4 = NULL;
}

/* Paging ports load programs page by page. */
int arch_vm_add_region(struct arch_vm *vm UNUSED, uintptr_t base UNUSED,
                       size_t size UNUSED, unsigned attrs UNUSED) {
    return -E_NOTSUP;
}

/* Device registers below 4 GiB (PCI BARs), never RAM nor the first MiB
 * (BIOS, VGA, the kernel's own devices), mapped uncached at MMIO_WINDOW +
 * their physical address (ARCH_MMIO_VADDR). Granting a range again is
 * allowed; the pages are not the task's memory (PTE_DEVICE: never freed). */
int arch_mmio_grant(struct arch_vm *vm, uintptr_t base, size_t size) {
    uintptr_t start = ALIGN_DOWN(base, PAGE_SIZE);
    if (size == 0 || size > MMIO_GRANT_MAX || base >= (1ull << 32) ||
        base + size > (1ull << 32))
        return -E_INVAL;
    uintptr_t end = ALIGN_UP(base + size, PAGE_SIZE);
    if (start < 0x100000 || page_is_ram(start, end - start))
        return -E_PERM;
    for (uintptr_t p = start; p < end; p += PAGE_SIZE) {
        uintptr_t pa;
        unsigned attrs;
        if (arch_vm_lookup(vm, MMIO_WINDOW + p, &pa, &attrs) == 0) {
            if (pa == p && (attrs & VM_DEVICE))
                continue;
            return -E_BUSY;
        }
        int err = arch_vm_map(vm, MMIO_WINDOW + p, p, VM_USER | VM_WRITE | VM_DEVICE);
        if (err < 0)
            return err;   /* the pages mapped so far stay granted */
    }
    return 0;
}
