/*
 * arch.h - the whole contract between the portable kernel and an
 * architecture port. The kernel includes this header and nothing else from
 * arch/. A port implements every function declared here and, in its own
 * arch_impl.h (included at the bottom), defines the types and constants
 * named in the "provided by arch_impl.h" block.
 *
 * Calling context: unless a comment says otherwise, the kernel calls these
 * with interrupts disabled on the only CPU.
 */
#ifndef NAGI_ARCH_H
#define NAGI_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct task;
struct arch_vm;

/*
 * Provided by arch_impl.h:
 *   struct arch_task    per-task CPU state (saved kernel stack pointer, ...)
 *   struct arch_vm      one address space (page tables or MPU regions)
 *   ARCH_NAME           "x86_64", ...
 *   ARCH_PAGE_SIZE      unit of mapping and of page payloads
 *   ARCH_HAS_PAGING     1 if page payloads and demand paging are available
 *   ARCH_USER_BASE, ARCH_USER_END  the range user pointers must lie in
 *   ARCH_IMAGE_BASE, ARCH_HEAP_BASE, ARCH_HEAP_SIZE, ARCH_STACK_TOP,
 *   ARCH_STACK_SIZE, ARCH_MSGBUF_ADDR, ARCH_PAGE_RECV_BASE,
 *   ARCH_PAGE_RECV_END                                      user layout
 *   ARCH_KSTACK_SIZE    size of the kernel stacks the kernel holds itself
 *                       (the idle thread's; every task's where the image
 *                       loader does not provide them, see image_load_*)
 *   ARCH_ELF_MACHINE    e_machine of user programs
 *   ARCH_IRQ_MAX        number of device interrupt lines
 *   ARCH_TASK_TABLE     address of the static task table (MPU images), or 0
 *   ARCH_RAM_BYTES      RAM size reported by KS_MEM_INFO without paging
 *   __kernel_start..__kernel_end: the kernel image (paging) or its RAM
 */

/* ---- Boot --------------------------------------------------------------- */

/* First call from the boot code: bring up the console so printk works. */
void arch_early_init(void);

/* CPU tables, interrupt controller, timer (ticking at CONFIG_TICK_HZ but
 * delivered only once interrupts are enabled by the first switch to a task
 * or by arch_idle). */
void arch_init(void);

/* Report each range of free physical memory (not holding the kernel, the
 * initfs or firmware data) by calling add(base, len). */
void arch_memory_ranges(void (*add)(uintptr_t base, size_t len));

/* ---- Console and diagnostics --------------------------------------------- */

/* Write one character to the kernel console, polling (x86_64: the serial
 * port and, mirrored, the screen when there is one). */
void arch_console_putc(char c);

/* Show one character on the screen console only, if the port has one:
 * for output the caller has written to the console UART itself (the
 * console server's, through SYS_DEBUG_WRITE with DEBUG_WRITE_SCREEN).
 * A port without a screen does nothing. */
void arch_screen_putc(char c);

/* Print the registers of the context that trapped most recently and a
 * frame-pointer backtrace from the caller. Used by panic. */
void arch_dump_state(void);

/* The kernel image's bounds, defined by the port's linker script. */
extern char __kernel_start[], __kernel_end[];

/* Stop the machine for good (interrupts off). */
_Noreturn void arch_halt(void);

/* A free-running counter (TSC on x86); for statistics only. */
uint64_t arch_cycles(void);

/* ---- Tasks -------------------------------------------------------------- */

/* Prepare t so that the first arch_switch() to it enters user mode at
 * entry with the first argument register = arg and the second = msgbuf,
 * on the user stack stack_top. t->kstack (ARCH_KSTACK_SIZE bytes) is set.
 * t may be a reused slot: it starts with no FP state of its own, and when
 * it first uses the FPU it finds the registers clear (zero, default
 * control/status), never values of another task. */
void arch_task_init(struct task *t, uintptr_t entry, uint64_t arg,
                    uintptr_t msgbuf, uintptr_t stack_top);

/* Prepare t as a kernel thread (the idle thread): its address space and
 * whatever else it needs to be switched to. Its first context is the boot
 * context, saved by the first arch_switch away from it (sched_start); a
 * port may also prepare fn() as its entry, but must not write t->kstack
 * (the boot context may be running on it). */
void arch_kthread_init(struct task *t, void (*fn)(void));

/* Save the current kernel context into prev, switch address space and
 * kernel stack to next, and resume it. Returns when prev runs again.
 * FP state is per task: next runs with its own FP registers, or clear ones
 * if it has none (the port may save and restore them here, at kernel entry
 * and exit, or on first use). */
void arch_switch(struct task *prev, struct task *next);

/* Enable interrupts, wait for one, disable them again. */
void arch_idle(void);

/* ---- Address spaces ------------------------------------------------------ */

#define VM_WRITE 0x1
#define VM_EXEC  0x2
#define VM_USER  0x4
#define VM_KSTACK_LOW 0x8   /* arch_vm_add_region: the lowest eighth of the
                               region is the task's kernel stack, out of
                               the task's reach */
#define VM_DEVICE 0x10      /* device registers (KS_MMIO): uncached, never
                               freed with the space */

/* Create an empty user address space that also maps the kernel. 0 or -E_NOMEM. */
int arch_vm_init(struct arch_vm *vm);

/* Free the space's page tables; free_page(paddr) is called for every page
 * still mapped at a user address. A space never initialised (all zero) or
 * already destroyed is left alone. */
void arch_vm_destroy(struct arch_vm *vm, void (*free_page)(uintptr_t paddr));

/* Map one page. vaddr and paddr are page-aligned, vaddr is a user address
 * that is not mapped yet. 0, -E_NOMEM or -E_BUSY (already mapped). */
int arch_vm_map(struct arch_vm *vm, uintptr_t vaddr, uintptr_t paddr,
                unsigned attrs);

/* Unmap one page and return its physical address (0 if none). */
uintptr_t arch_vm_unmap(struct arch_vm *vm, uintptr_t vaddr);

/* Translate a user address: 0 and *paddr, *attrs set, or -E_FAULT. */
int arch_vm_lookup(struct arch_vm *vm, uintptr_t vaddr, uintptr_t *paddr,
                   unsigned *attrs);

/* Kernel pointer to physical memory (the kernel maps all of RAM). */
void *arch_phys_to_virt(uintptr_t paddr);

/* Give the space one whole region of memory at base (identity mapped; MPU
 * ports). The port checks the region is one it can express and that the
 * memory may be given to a task (not the kernel's). 0, -E_INVAL (bad or
 * forbidden region), -E_NOMEM (no region slot left) or -E_NOTSUP. */
int arch_vm_add_region(struct arch_vm *vm, uintptr_t base, size_t size,
                       unsigned attrs);

/* Let the space access device registers base..base+size-1 (KS_MMIO).
 * 0, -E_INVAL, -E_NOMEM, -E_PERM (not device memory) or -E_NOTSUP. */
int arch_mmio_grant(struct arch_vm *vm, uintptr_t base, size_t size);

/* ---- Interrupts and I/O --------------------------------------------------- */

/* Whether a task may listen to device interrupt line irq (lines the
 * kernel uses itself, such as a timer or a cascade, are not). */
bool arch_irq_valid(unsigned irq);

/* Unmask or mask a device interrupt line. */
void arch_irq_enable(unsigned irq);
void arch_irq_disable(unsigned irq);

/* Let t use I/O ports base..base+count-1. 0, -E_INVAL or -E_NOTSUP. */
int arch_ioport_grant(struct task *t, unsigned base, unsigned count);

/* ---- Called by the port, implemented by the kernel ------------------------ */

void kernel_main(void);                      /* after arch_early_init */
void kernel_timer_tick(void);                /* every timer interrupt */
void kernel_irq(unsigned irq);               /* a device interrupt; the
                                                kernel masks the line until
                                                the listener waits again */
/* The current task faulted in user mode. For FAULT_* flags see abi.toml.
 * is_memory: a memory access fault at addr; otherwise an illegal
 * instruction or similar, described by reason. */
void kernel_user_fault(bool is_memory, uintptr_t addr, unsigned flags,
                       const char *reason);
/* Entry of every system call: number and five arguments. */
long kernel_syscall(long a0, long a1, long a2, long a3, long a4, long nr);
/* One zeroed physical page for page tables (0 when memory is exhausted),
 * and its release. */
uintptr_t kernel_page_alloc(void);
void kernel_page_free(uintptr_t paddr);

#include <arch_impl.h>

#endif /* NAGI_ARCH_H */
