/*
 * host.c - the arch contract implemented on a Linux host, so the portable
 * kernel runs inside ordinary test programs (kernel/tests/) under ASan and
 * UBSan. Nothing here switches stacks or touches hardware:
 *   - pages come from one posix_memalign'ed pool; "physical" = host address;
 *   - address spaces are real x86_64 4-level tables, built from
 *     kernel_page_alloc by the x86_64 port's own walker, and real arm-m
 *     MPU regions, encoded by the arm-m port's own regions.c;
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
#include "../x86_64/pagetable.h"

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

char host_screen[4096];
size_t host_screen_len;

void arch_screen_putc(char c) {
    if (host_screen_len + 1 < sizeof(host_screen)) {
        host_screen[host_screen_len++] = c;
        host_screen[host_screen_len] = '\0';
    }
}

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

/* Paged spaces: the x86_64 walker (arch/x86_64/pagetable.c) on tables
 * from the kernel's page allocator, counted in host_table_pages. */
uintptr_t pt_table_alloc(void) {
    uintptr_t p = kernel_page_alloc();
    if (p)
        host_table_pages++;
    return p;
}

void pt_table_free(uintptr_t paddr) {
    host_table_pages--;
    kernel_page_free(paddr);
}

uint64_t *pt_table_ptr(uintptr_t paddr) {
    return arch_phys_to_virt(paddr);
}

/* MPU spaces: arm-m's regions.c, compiled for the host with its arch_vm_*
 * functions renamed mpu_vm_* (kernel/tests/Makefile); arm_mpu_loaded is
 * the MPU's state it keeps current (always "not loaded" here). */
struct arch_vm *arm_mpu_loaded;

/* The host "CPU" has execute-disable on (x86_vm_init's EFER.NXE case);
 * a test may clear pt_nx after this to see the other case. */
int arch_vm_init(struct arch_vm *vm) {
    static bool nx_set;
    if (!nx_set) {
        pt_nx = PTE_NX;
        nx_set = true;
    }
    mpu_vm_init(vm);
    uintptr_t p = pt_table_alloc();
    if (!p)
        return -E_NOMEM;
    vm->pml4 = pt_table_ptr(p);
    return 0;
}

void arch_vm_destroy(struct arch_vm *vm, void (*free_page)(uintptr_t paddr)) {
    mpu_vm_destroy(vm, free_page);
    if (!vm->pml4)
        return;
    pt_free_user(vm->pml4, free_page);
    pt_table_free((uintptr_t)vm->pml4);
    vm->pml4 = NULL;
}

int arch_vm_map(struct arch_vm *vm, uintptr_t vaddr, uintptr_t paddr,
                unsigned attrs) {
    return pt_map(vm->pml4, vaddr, paddr, attrs);
}

uintptr_t arch_vm_unmap(struct arch_vm *vm, uintptr_t vaddr) {
    return pt_unmap(vm->pml4, vaddr);
}

/* The MPU's flash and RAM regions (none in a paged space), then the page
 * tables (empty in an MPU space): each port's own answer either way. */
int arch_vm_lookup(struct arch_vm *vm, uintptr_t vaddr, uintptr_t *paddr,
                   unsigned *attrs) {
    if (mpu_vm_lookup(vm, vaddr, paddr, attrs) == 0)
        return 0;
    return pt_lookup(vm->pml4, vaddr, paddr, attrs);
}

int arch_vm_add_region(struct arch_vm *vm, uintptr_t base, size_t size,
                       unsigned attrs) {
    return mpu_vm_add_region(vm, base, size, attrs);
}

int arch_mmio_grant(struct arch_vm *vm, uintptr_t base, size_t size) {
    return mpu_mmio_grant(vm, base, size);
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
