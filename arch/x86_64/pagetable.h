/*
 * pagetable.h (x86_64) - the 4-level page-table format (Intel SDM vol. 3A
 * 4.5, AMD APM vol. 2 5.3) and the one walker over it, pagetable.c. The
 * x86_64 kernel (vm.c) and the host port used by the kernel unit tests
 * (arch/host/host.c) both compile pagetable.c, so the tests run the
 * walker that ships. Assembler-safe up to the C declarations (boot.S
 * builds the first tables with these bits).
 *
 * A virtual address picks one entry per level with 9 bits each:
 *
 *   63       48 47     39 38     30 29     21 20     12 11         0
 *  +-----------+---------+---------+---------+---------+------------+
 *  | = bit 47  | PML4    | PDPT    | PD      | PT      | page offset|
 *  +-----------+---------+---------+---------+---------+------------+
 *    (canonical)  level 3   level 2   level 1   level 0
 *
 * An entry:
 *
 *   63 | 62 .. 52 | 51 ........... 12 | 11..9 | 8 | 7  | 6 | 5 | 4   | 3   | 2 | 1 | 0
 *   NX | ignored  | physical address  | avail | G | PS | D | A | PCD | PWT | U | W | P
 *
 * Non-leaf entries here are P|W|U and nothing else: the leaf decides the
 * access. G is reserved in non-leaf entries and PS in PML4 entries on AMD
 * (a #PF with the RSVD bit), although TCG ignores both.
 */
#ifndef NAGI_X86_64_PAGETABLE_H
#define NAGI_X86_64_PAGETABLE_H

#define PTE_P    0x001      /* present */
#define PTE_W    0x002      /* writable */
#define PTE_U    0x004      /* user accessible */
#define PTE_PWT  0x008      /* write-through */
#define PTE_PCD  0x010      /* cache disabled */
#define PTE_PS   0x080      /* in a PDPT or PD entry: a 1 GiB or 2 MiB page */
#define PTE_G    0x100      /* global (leaf entries only) */
#define PTE_DEVICE 0x200    /* available bit 9: a device page (VM_DEVICE), not RAM */
#define PTE_TABLE (PTE_P | PTE_W | PTE_U)   /* every non-leaf entry */

#define PT_ENTRIES    512   /* entries per table (9 index bits) */
#define PT_INDEX_BITS 9
#define PT_PAGE_SHIFT 12

#ifndef __ASSEMBLER__
#include <kernel.h>

#define PTE_NX   (1ull << 63)                /* no execute (EFER.NXE on) */
#define PTE_ADDR 0x000ffffffffff000ull       /* physical address bits */

/* PTE_NX when the CPU has execute-disable turned on (EFER.NXE), else 0:
 * set once by the port before the first mapping. */
extern uint64_t pt_nx;

/* Whether vaddr is a page-aligned user address (ARCH_USER_BASE ..
 * ARCH_USER_END: canonical, below the kernel's half, above its map). */
bool pt_user_page(uintptr_t vaddr);

/* arch_vm_map, arch_vm_unmap and arch_vm_lookup (arch.h) on the tables
 * under pml4 (a kernel pointer). Map refuses non-user addresses and
 * physical addresses that are not page-aligned or set reserved bits
 * (-E_FAULT). Neither unmap nor map touches the TLB: that is the port's. */
int pt_map(uint64_t *pml4, uintptr_t vaddr, uintptr_t paddr, unsigned attrs);
uintptr_t pt_unmap(uint64_t *pml4, uintptr_t vaddr);
int pt_lookup(uint64_t *pml4, uintptr_t vaddr, uintptr_t *paddr,
              unsigned *attrs);

/* Free every table below pml4's user entries (1..255) and call free_page
 * for every page still mapped there; the entries are cleared. The PML4
 * page itself and entry 0 (the kernel's) are left to the port. */
void pt_free_user(uint64_t *pml4, void (*free_page)(uintptr_t paddr));

/* Supplied by the port that links pagetable.c (vm.c in the kernel, the
 * host port in the unit tests): a zeroed page for a table (0 when memory
 * is exhausted), its release, and the kernel pointer through which the
 * table at a physical address is read and written. */
uintptr_t pt_table_alloc(void);
void pt_table_free(uintptr_t paddr);
uint64_t *pt_table_ptr(uintptr_t paddr);
#endif

#endif
