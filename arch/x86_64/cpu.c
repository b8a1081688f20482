/*
 * cpu.c (x86_64) - descriptor tables, the TSS and its I/O bitmap, the
 * syscall MSRs, trap dispatch, and task contexts (creation, switch, idle).
 */
#include "x86.h"
#include <task.h>

struct tss {
    uint32_t reserved0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
    uint8_t iomap[IO_PORTS / 8 + 1];   /* one bit per port; 1 = denied; the
                                          last byte ends the map (all ones) */
} __attribute__((packed, aligned(16)));

struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

static struct tss tss;
static uint64_t gdt[7];
static struct idt_entry idt[IDT_VECTORS];
extern const uint64_t vector_table[];
extern char syscall_entry[], user_first_entry[], kthread_first_entry[];
extern char spurious_entry[];
void x86_switch_stack(uint64_t *prev_rsp, uint64_t next_rsp);

uint64_t cpu_kstack_top;            /* used by syscall_entry */
uint64_t cpu_user_rsp;              /* scratch for syscall_entry */
struct int_frame *x86_last_frame;   /* for panic's register dump */

static void load_tables(void) {
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gp, ip;
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

    gdt[KERNEL_CS / 8] = GDT_KERNEL_CODE;
    gdt[KERNEL_DS / 8] = GDT_KERNEL_DATA;
    gdt[USER_DS / 8] = GDT_USER_DATA;
    gdt[USER_CS / 8] = GDT_USER_CODE;
    gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
             ((uint64_t)GDT_TSS_TYPE << GDT_TSS_TYPE_SHIFT) |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[6] = base >> 32;
    gp.limit = sizeof(gdt) - 1;
    gp.base = (uint64_t)gdt;
    __asm__ volatile("lgdt %0" ::"m"(gp));
    __asm__ volatile("ltr %w0" ::"r"(TSS_SEL));

    /* vector_table: the IDT_EXCEPTIONS exception stubs, then the 16 IRQs
     * (entry.S); VEC_SPURIOUS has a stub of its own; the other vectors
     * stay empty. */
    for (unsigned i = 0; i < IDT_VECTORS; i++) {
        uint64_t off;
        if (i < IDT_EXCEPTIONS)
            off = vector_table[i];
        else if (i >= IRQ_BASE && i < IRQ_BASE + 16)
            off = vector_table[i - (IRQ_BASE - IDT_EXCEPTIONS)];
        else if (i == VEC_SPURIOUS)
            off = (uint64_t)spurious_entry;
        else
            continue;
        idt[i] = (struct idt_entry){
            .off_lo = off & 0xffff, .sel = KERNEL_CS, .ist = 0,
            .type = IDT_GATE_INTR, .off_mid = (off >> 16) & 0xffff, .off_hi = off >> 32,
        };
    }
    ip.limit = sizeof(idt) - 1;
    ip.base = (uint64_t)idt;
    __asm__ volatile("lidt %0" ::"m"(ip));
}

/* Called once by arch_init. */
void x86_cpu_init(void) {
    uint32_t eax, ebx, ecx, edx;

    tss.iomap_base = __builtin_offsetof(struct tss, iomap);
    memset(tss.iomap, 0xff, sizeof(tss.iomap));
    load_tables();

    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
                     : "a"(CPUID_EXT_FEATURES));
    uint64_t efer = rdmsr(MSR_EFER) | EFER_SCE;
    if (edx & CPUID_EXT_EDX_NX)
        efer |= EFER_NXE;
    wrmsr(MSR_EFER, efer);
    wrmsr(MSR_STAR, ((uint64_t)STAR_SYSRET_BASE << STAR_SYSRET_SHIFT) |
                    ((uint64_t)KERNEL_CS << STAR_SYSCALL_SHIFT));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_SFMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC |
                      RFLAGS_NT | RFLAGS_IOPL);
    x86_fpu_init();
}

void x86_set_kernel_stack(uint64_t top) {
    tss.rsp0 = top;
    cpu_kstack_top = top;
}

void x86_set_io_range(unsigned base, unsigned count, bool allow) {
    for (unsigned p = base; p < base + count && p < IO_PORTS; p++) {
        if (allow)
            tss.iomap[p / 8] &= ~(1u << (p % 8));
        else
            tss.iomap[p / 8] |= 1u << (p % 8);
    }
}

int arch_ioport_grant(struct task *t, unsigned base, unsigned count) {
    if (count == 0 || count > 64 || base + count > IO_PORTS)
        return -E_INVAL;
    if (t->arch.io_count && t == current)
        x86_set_io_range(t->arch.io_base, t->arch.io_count, false);
    t->arch.io_base = base;
    t->arch.io_count = count;
    t->arch.switch_work |= X86_WORK_IO;
    if (t == current)
        x86_set_io_range(base, count, true);
    return 0;
}

static const char *exception_name(unsigned v) {
    static const char *names[] = {
        "divide error", "debug", "NMI", "breakpoint", "overflow",
        "bound range", "invalid opcode", "device not available",
        "double fault", "coprocessor overrun", "invalid TSS",
        "segment not present", "stack fault", "general protection",
        "page fault", "reserved", "x87 error", "alignment check",
        "machine check", "SIMD error", "virtualization", "control protection",
    };
    return v < ARRAY_SIZE(names) ? names[v] : "unknown";
}

/* Called by trap_common for every vector, interrupts off. */
void x86_trap(struct int_frame *f) {
    bool from_user = (f->cs & SEL_RPL) == RPL_USER;

    if (f->vector >= IRQ_BASE) {
        unsigned irq = f->vector - IRQ_BASE;
        if (!x86_irq_ack(irq))
            return;
        if (irq == IRQ_PIT)
            kernel_timer_tick();
        else
            kernel_irq(irq);
        return;
    }
    if (!from_user) {
        x86_last_frame = f;
        if (f->vector == VEC_PAGE_FAULT)
            panic("page fault in kernel at %p (error %lx)",
                  (void *)read_cr2(), f->error);
        panic("%s in kernel (error %lx)", exception_name(f->vector), f->error);
    }
    if (f->vector == VEC_NM && x86_fpu_first_use())
        return;
    if (f->vector == VEC_PAGE_FAULT) {
        unsigned flags = 0;
        if (f->error & PF_W) flags |= FAULT_WRITE;
        if (f->error & PF_I) flags |= FAULT_EXEC;
        if (f->error & PF_P) flags |= FAULT_PRESENT;
        kernel_user_fault(true, read_cr2(), flags, "page fault");
    } else {
        kernel_user_fault(false, f->rip, 0, exception_name(f->vector));
    }
}

void arch_task_init(struct task *t, uintptr_t entry, uint64_t arg,
                    uintptr_t msgbuf, uintptr_t stack_top) {
    uint64_t *sp = (uint64_t *)(t->kstack + ARCH_KSTACK_SIZE);

    t->arch.kstack_top = (uint64_t)sp;
    *--sp = USER_DS;                 /* iretq frame */
    *--sp = stack_top;
    *--sp = RFLAGS_IF | RFLAGS_FIXED;
    *--sp = USER_CS;
    *--sp = entry;
    *--sp = (uint64_t)user_first_entry;
    *--sp = 0;                       /* rbp */
    *--sp = 0;                       /* rbx */
    *--sp = arg;                     /* r12 */
    *--sp = msgbuf;                  /* r13 */
    *--sp = 0;                       /* r14 */
    *--sp = 0;                       /* r15 */
    t->arch.rsp = (uint64_t)sp;
    t->arch.io_count = 0;
    t->arch.switch_work = 0;         /* no I/O ports, no FP state (fpu.c) */
}

void arch_kthread_init(struct task *t, void (*fn)(void)) {
    uint64_t *sp = (uint64_t *)(t->kstack + ARCH_KSTACK_SIZE);

    t->arch.kstack_top = (uint64_t)sp;
    *--sp = 0;                       /* keeps the stack 16-byte aligned */
    *--sp = (uint64_t)kthread_first_entry;
    *--sp = 0;
    *--sp = 0;
    *--sp = (uint64_t)fn;            /* r12 */
    *--sp = 0;
    *--sp = 0;
    *--sp = 0;
    t->arch.rsp = (uint64_t)sp;
    t->arch.switch_work = 0;
    t->vm.pml4 = boot_pml4;
}

/* arch_switch's slow path (a task holds I/O ports or has FP state): the
 * extra work, then the stack switch itself. Kept out of line and entered
 * by a tail call, so the common path saves no registers for it. */
static __attribute__((noinline)) void switch_with_work(struct task *prev,
                                                       struct task *next) {
    if (prev->arch.io_count)
        x86_set_io_range(prev->arch.io_base, prev->arch.io_count, false);
    if (next->arch.io_count)
        x86_set_io_range(next->arch.io_base, next->arch.io_count, true);
    if ((prev->arch.switch_work | next->arch.switch_work) & X86_WORK_FPU)
        x86_fpu_switch(prev, next);
    x86_switch_stack(&prev->arch.rsp, next->arch.rsp);
}

void arch_switch(struct task *prev, struct task *next) {
    if (prev->vm.pml4 != next->vm.pml4)
        write_cr3((uint64_t)next->vm.pml4);
    x86_set_kernel_stack(next->arch.kstack_top);
    if (unlikely(prev->arch.switch_work | next->arch.switch_work)) {
        switch_with_work(prev, next);
        return;
    }
    x86_switch_stack(&prev->arch.rsp, next->arch.rsp);
}

void arch_idle(void) {
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

_Noreturn void arch_halt(void) {
    for (;;)
        __asm__ volatile("cli; hlt");
}

uint64_t arch_cycles(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

void arch_dump_state(void) {
    struct int_frame *f = x86_last_frame;
    uint64_t *fp;

    if (f) {
        printk("RIP=%016lx CS=%lx RFLAGS=%lx vector=%lu error=%lx\n",
               f->rip, f->cs, f->rflags, f->vector, f->error);
        printk("RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n",
               f->rax, f->rbx, f->rcx, f->rdx);
        printk("RSI=%016lx RDI=%016lx RBP=%016lx RSP=%016lx\n",
               f->rsi, f->rdi, f->rbp, f->rsp);
        printk("R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx\n",
               f->r8, f->r9, f->r10, f->r11);
        printk("R12=%016lx R13=%016lx R14=%016lx R15=%016lx\n",
               f->r12, f->r13, f->r14, f->r15);
    } else {
        printk("RIP=%p (no trap frame: panic called directly)\n",
               __builtin_return_address(0));
    }
    printk("CR2=%016lx CR3=%016lx\n", read_cr2(), read_cr3());
    printk("backtrace:\n");
    __asm__ volatile("mov %%rbp, %0" : "=r"(fp));
    for (int i = 0; i < 16 && fp && IS_ALIGNED((uintptr_t)fp, 8) &&
                    (uintptr_t)fp < ARCH_USER_BASE; i++) {
        printk("  #%d %016lx\n", i, fp[1]);
        fp = (uint64_t *)fp[0];
    }
}
