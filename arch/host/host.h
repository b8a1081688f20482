/*
 * host.h - what the host port exposes to the unit tests beyond the arch
 * contract: the console transcript, a way to catch arch_halt (panics), a
 * hook run inside arch_switch, and records of the calls the kernel made.
 */
#ifndef NAGI_HOST_H
#define NAGI_HOST_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct task;

/* Everything arch_console_putc printed; NUL-terminated. Echoed to stdout
 * when host_console_echo is set. */
extern char host_console[65536];
extern size_t host_console_len;
extern int host_console_echo;
void host_console_clear(void);
/* What arch_screen_putc was given (the screen-only mirror). */
extern char host_screen[4096];
extern size_t host_screen_len;
int host_console_contains(const char *s);

/* arch_halt longjmps here when host_halt_armed is set; otherwise it
 * aborts the test process. Use HOST_EXPECT_HALT(stmt) from tests. */
extern jmp_buf host_halt_jmp;
extern int host_halt_armed;
extern unsigned host_halt_count;

/* arch_switch does no switching: it counts, records the pair and calls
 * host_switch_hook (if set) so a test can play the task switched to while
 * the switched-away task's kernel path is still "suspended" on the C stack.
 * The hook is cleared before it runs (set it again to run it again). */
extern unsigned host_switch_count;
extern struct task *host_switch_prev, *host_switch_next;
extern void (*host_switch_hook)(struct task *prev, struct task *next);

/* Device side: enabled IRQ lines, cycles. */
extern uint32_t host_irq_enabled;   /* bit n: line n unmasked */
extern uint64_t host_cycles;
extern unsigned host_idle_count;   /* arch_idle calls (each halts) */

/* The memory handed to the kernel by arch_memory_ranges (allocated on the
 * first call, host_pool_pages pages). */
extern size_t host_pool_pages;
extern uintptr_t host_pool_base;

/* Pages currently used as page tables by an address space. */
extern long host_table_pages;

/* arch/arm-m/regions.c as the host links it: its arch_vm_* functions are
 * renamed mpu_vm_* (kernel/tests/Makefile), and host.c calls them for the
 * MPU half of an address space. The memory map it checks regions against
 * is kernel/tests/mcu_memory.h. */
struct arch_vm;
int mpu_vm_init(struct arch_vm *vm);
void mpu_vm_destroy(struct arch_vm *vm, void (*free_page)(uintptr_t paddr));
int mpu_vm_add_region(struct arch_vm *vm, uintptr_t base, size_t size,
                      unsigned attrs);
int mpu_mmio_grant(struct arch_vm *vm, uintptr_t base, size_t size);
int mpu_vm_lookup(struct arch_vm *vm, uintptr_t vaddr, uintptr_t *paddr,
                  unsigned *attrs);
bool arm_vm_ram(struct arch_vm *vm, uint32_t *base, uint32_t *size);

#endif
