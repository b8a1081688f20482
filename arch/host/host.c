/*
 * host.c - the arch contract implemented on a Linux host, so the portable
 * kernel runs inside ordinary test programs (kernel/tests/) under ASan and
 * UBSan. Nothing here switches stacks or touches hardware:
 *   - pages come from one posix_memalign'ed pool; "physical" = host address;
 *   - address spaces are real 4-level tables built from kernel_page_alloc;
 *   - the console is a buffer the tests read;
 *   - arch_switch only records the switch (and runs a test hook), so a task
 *     that blocks in ipc() returns to the test at once;
 *   - arch_halt longjmps back into the test that expected a panic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "task.h"
#include "host.h"

char host_console[65536];
size_t host_console_len;
int host_console_echo;
jmp_buf host_halt_jmp;
int host_halt_armed;
unsigned host_halt_count;
unsigned host_switch_count;
struct task *host_switch_prev, *host_switch_next;
void (*host_switch_hook)(struct task *prev, struct task *next);
uint32_t host_irq_enabled;
uint64_t host_cycles;
size_t host_pool_pages = 4096;          /* 16 MiB */
uintptr_t host_pool_base;
long host_table_pages;

/* ---- Boot --------------------------------------------------------------- */

void arch_early_init(void) {}
void arch_init(void) {}

void arch_memory_ranges(void (*add)(uintptr_t base, size_t len)) {
    if (!host_pool_base) {
        void *p = NULL;
        if (posix_memalign(&p, ARCH_PAGE_SIZE, host_pool_pages * ARCH_PAGE_SIZE)) {
            fprintf(stderr, "host: out of memory for the page pool\n");
            abort();
        }
        host_pool_base = (uintptr_t)p;
    }
    add(host_pool_base, host_pool_pages * ARCH_PAGE_SIZE);
}

/* ---- Console and diagnostics --------------------------------------------- */

void arch_console_putc(char c) {
    if (host_console_len + 1 < sizeof(host_console)) {
        host_console[host_console_len++] = c;
        host_console[host_console_len] = '\0';
    }
    if (host_console_echo)
        fputc(c, stdout);
}

void host_console_clear(void) {
    host_console_len = 0;
    host_console[0] = '\0';
}

int host_console_contains(const char *s) {
    return strstr(host_console, s) != NULL;
}

void arch_dump_state(void) {
    printk("(host: no register state)\n");
}

_Noreturn void arch_halt(void) {
    host_halt_count++;
    if (host_halt_armed) {
        host_halt_armed = 0;
        longjmp(host_halt_jmp, 1);
    }
    fprintf(stderr, "host: arch_halt outside HOST_EXPECT_HALT; console:\n%s\n",
            host_console);
    abort();
}

uint64_t arch_cycles(void) { return ++host_cycles; }

/* ---- Tasks -------------------------------------------------------------- */

void arch_task_init(struct task *t, uintptr_t entry, uint64_t arg,
                    uintptr_t msgbuf, uintptr_t stack_top) {
    t->arch.entry = entry;
    t->arch.arg = arg;
    t->arch.msgbuf = msgbuf;
    t->arch.stack_top = stack_top;
    t->arch.inits++;
}

void arch_kthread_init(struct task *t, void (*fn)(void)) {
    t->arch.kthread = fn;
}

void arch_switch(struct task *prev, struct task *next) {
    host_switch_count++;
    host_switch_prev = prev;
    host_switch_next = next;
    if (host_switch_hook) {
        void (*hook)(struct task *, struct task *) = host_switch_hook;
        host_switch_hook = NULL;
        hook(prev, next);
    }
}

/* The idle loop never ends on its own: on the host, reaching it ends the
 * test's kernel run like a halt (see test_boot.c). */
unsigned host_idle_count;
void arch_idle(void) {
    host_idle_count++;
    arch_halt();
}

/* ---- Address spaces ------------------------------------------------------ */

#define PTE_P    0x1ull
#define PTE_W    0x2ull
#define PTE_U    0x4ull
#define PTE_X    0x200ull      /* a software bit: executable */
#define PTE_ADDR 0x000ffffffffff000ull

static uintptr_t table_alloc(void) {
    uintptr_t p = kernel_page_alloc();
    if (p)
        host_table_pages++;
    return p;
}

static void table_free(uintptr_t p) {
    host_table_pages--;
    kernel_page_free(p);
}

int arch_vm_init(struct arch_vm *vm) {
    uintptr_t p = table_alloc();
    if (!p)
        return -E_NOMEM;
    vm->pml4 = arch_phys_to_virt(p);
    return 0;
}

static unsigned index_of(uintptr_t vaddr, int level) {
    return (vaddr >> (12 + 9 * level)) & 511;
}

static uint64_t *walk(struct arch_vm *vm, uintptr_t vaddr, bool create) {
    uint64_t *table = vm->pml4;
    for (int level = 3; level > 0; level--) {
        uint64_t *e = &table[index_of(vaddr, level)];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            uintptr_t p = table_alloc();
            if (!p)
                return NULL;
            *e = p | PTE_P | PTE_W | PTE_U;
        }
        table = arch_phys_to_virt(*e & PTE_ADDR);
    }
    return &table[index_of(vaddr, 0)];
}

static bool user_page(uintptr_t vaddr) {
    return vaddr >= ARCH_USER_BASE && vaddr < ARCH_USER_END &&
           IS_ALIGNED(vaddr, ARCH_PAGE_SIZE);
}

int arch_vm_map(struct arch_vm *vm, uintptr_t vaddr, uintptr_t paddr,
                unsigned attrs) {
    if (!user_page(vaddr) || !paddr || !IS_ALIGNED(paddr, ARCH_PAGE_SIZE))
        return -E_FAULT;
    uint64_t *pte = walk(vm, vaddr, true);
    if (!pte)
        return -E_NOMEM;
    if (*pte & PTE_P)
        return -E_BUSY;
    *pte = paddr | PTE_P | ((attrs & VM_USER) ? PTE_U : 0) |
           ((attrs & VM_WRITE) ? PTE_W : 0) | ((attrs & VM_EXEC) ? PTE_X : 0);
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
    return paddr;
}

/* Regions as an MPU port has them: a power of two >= 32, aligned to its
 * size, inside [host_region_min, host_region_max); up to 8 per space. */
uintptr_t host_region_min = 0x08000000, host_region_max = 0x40000000;

static int add_region(struct arch_vm *vm, uintptr_t base, size_t size,
                      unsigned attrs) {
    if (size < 32 || (size & (size - 1)) || (base & (size - 1)))
        return -E_INVAL;
    if (vm->nregions == 8)
        return -E_NOMEM;
    vm->regions[vm->nregions].base = base;
    vm->regions[vm->nregions].size = size;
    vm->regions[vm->nregions].attrs = attrs;
    vm->nregions++;
    return 0;
}

int arch_vm_add_region(struct arch_vm *vm, uintptr_t base, size_t size,
                       unsigned attrs) {
    if (base < host_region_min || base > host_region_max ||
        size > host_region_max - base)
        return -E_INVAL;
    if ((attrs & VM_KSTACK_LOW) && size < 256)
        return -E_INVAL;
    return add_region(vm, base, size, attrs | VM_USER);
}

int arch_mmio_grant(struct arch_vm *vm, uintptr_t base, size_t size) {
    if (base < 0x40000000 || base >= 0x60000000 || size > 0x60000000 - base)
        return -E_PERM;
    return add_region(vm, base, size, VM_WRITE | VM_USER | 0x100);
}

static int region_lookup(struct arch_vm *vm, uintptr_t vaddr, uintptr_t *paddr,
                         unsigned *attrs) {
    for (unsigned i = 0; i < vm->nregions; i++) {
        uintptr_t b = vm->regions[i].base;
        size_t sz = vm->regions[i].size;
        unsigned a = vm->regions[i].attrs;
        if ((a & VM_KSTACK_LOW) && vaddr >= b && vaddr < b + sz / 8)
            return -E_FAULT;
        if (vaddr >= b && vaddr < b + sz && !(a & 0x100)) {
            *paddr = vaddr;
            *attrs = a & (VM_USER | VM_WRITE | VM_EXEC);
            return 0;
        }
    }
    return -E_FAULT;
}

int arch_vm_lookup(struct arch_vm *vm, uintptr_t vaddr, uintptr_t *paddr,
                   unsigned *attrs) {
    if (vm->nregions)
        return region_lookup(vm, vaddr, paddr, attrs);
    if (vaddr < ARCH_USER_BASE || vaddr >= ARCH_USER_END)
        return -E_FAULT;
    uint64_t *pte = walk(vm, ALIGN_DOWN(vaddr, ARCH_PAGE_SIZE), false);
    if (!pte || !(*pte & PTE_P))
        return -E_FAULT;
    *paddr = (*pte & PTE_ADDR) | (vaddr & (ARCH_PAGE_SIZE - 1));
    *attrs = ((*pte & PTE_U) ? VM_USER : 0) | ((*pte & PTE_W) ? VM_WRITE : 0) |
             ((*pte & PTE_X) ? VM_EXEC : 0);
    return 0;
}

static void free_table(uint64_t *table, int level, void (*free_page)(uintptr_t)) {
    for (unsigned i = 0; i < 512; i++) {
        if (!(table[i] & PTE_P))
            continue;
        uintptr_t next = table[i] & PTE_ADDR;
        if (level == 0)
            free_page(next);
        else
            free_table(arch_phys_to_virt(next), level - 1, free_page);
    }
    table_free((uintptr_t)table);
}

void arch_vm_destroy(struct arch_vm *vm, void (*free_page)(uintptr_t paddr)) {
    vm->nregions = 0;
    if (!vm->pml4)
        return;
    free_table(vm->pml4, 3, free_page);
    vm->pml4 = NULL;
}

void *arch_phys_to_virt(uintptr_t paddr) {
    return (void *)paddr;
}

/* ---- Interrupts and I/O --------------------------------------------------- */

bool arch_irq_valid(unsigned irq) {
    return irq < ARCH_IRQ_MAX && irq != 0 && irq != 2;
}

void arch_irq_enable(unsigned irq) { host_irq_enabled |= 1u << irq; }
void arch_irq_disable(unsigned irq) { host_irq_enabled &= ~(1u << irq); }

int arch_ioport_grant(struct task *t, unsigned base, unsigned count) {
    if (count == 0 || base + count > 0x10000)
        return -E_INVAL;
    t->arch.io_base = (uint16_t)base;
    t->arch.io_count = (uint16_t)count;
    return 0;
}
