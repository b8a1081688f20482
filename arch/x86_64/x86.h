/*
 * x86.h - private to arch/x86_64: instructions, registers, port I/O and
 * the pieces the files of this port share. The kernel never sees it.
 */
#ifndef X86_H
#define X86_H

/*
 * Everything up to the C part is assembler-safe (boot.S includes it).
 * Sources: Intel SDM vol. 3A (system programming), AMD APM vol. 2.
 */

/* ---- Segments: GDT selectors (index * 8 | RPL) and descriptors ------------
 * A code/data descriptor (64-bit mode ignores base and limit):
 *   63..56 base | 55 G | 54 D/B | 53 L | 52 AVL | 51..48 limit | 47 P |
 *   46..45 DPL | 44 S | 43..40 type | 39..16 base | 15..0 limit */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS   0x1b   /* GDT entry 3, RPL 3 */
#define USER_CS   0x23   /* GDT entry 4, RPL 3 */
#define TSS_SEL   0x28   /* GDT entries 5-6: a 16-byte system descriptor */
#define SEL_RPL   0x3    /* requested privilege level bits of a selector */
#define RPL_USER  0x3

#define GDT_KERNEL_CODE 0x00af9a000000ffff  /* G L P DPL0 code exec/read */
#define GDT_KERNEL_DATA 0x00cf92000000ffff  /* G D/B P DPL0 data read/write */
#define GDT_USER_DATA   0x00cff2000000ffff  /* as kernel data, DPL 3 */
#define GDT_USER_CODE   0x00affa000000ffff  /* as kernel code, DPL 3 */
#define GDT_TSS_TYPE    0x89                /* access byte: P, 64-bit TSS available */
#define GDT_TSS_TYPE_SHIFT 40

/* The STAR MSR: SYSCALL loads CS = KERNEL_CS, SS = KERNEL_CS + 8 (bits
 * 47..32); SYSRET loads SS = base + 8, CS = base + 16, RPL 3 (bits
 * 63..48): base 0x10 gives USER_DS (0x1b) and USER_CS (0x23). */
#define STAR_SYSCALL_SHIFT 32
#define STAR_SYSRET_SHIFT  48
#define STAR_SYSRET_BASE   0x10

/* ---- Interrupt descriptor table -------------------------------------------- */
#define IDT_EXCEPTIONS  22   /* vectors 0..21 (divide error .. control protection) */
#define IRQ_BASE        32   /* PIC interrupts start at vector 32 */
#define IDT_VECTORS     64   /* exceptions, the 16 IRQs, VEC_SPURIOUS */
#define VEC_SPURIOUS    63   /* the local APIC's spurious vector (low bits 1111) */
#define IDT_GATE_INTR   0x8e /* P, DPL 0, 64-bit interrupt gate (IF cleared) */

#define IO_PORTS        65536   /* I/O port space (one TSS bitmap bit each) */

#define VEC_NM           7   /* #NM, device not available (CR0.TS set) */
#define VEC_PAGE_FAULT  14

/* Page-fault error code (pushed by the CPU with VEC_PAGE_FAULT) */
#define PF_P     0x01   /* protection violation (else: page not present) */
#define PF_W     0x02   /* write access */
#define PF_U     0x04   /* from user mode */
#define PF_RSVD  0x08   /* reserved bit set in an entry */
#define PF_I     0x10   /* instruction fetch */

/* ---- RFLAGS ------------------------------------------------------------------ */
#define RFLAGS_FIXED 0x00002   /* bit 1: always one */
#define RFLAGS_TF    0x00100   /* trap (single step) */
#define RFLAGS_IF    0x00200   /* interrupts enabled */
#define RFLAGS_DF    0x00400   /* direction */
#define RFLAGS_IOPL  0x03000   /* I/O privilege level (two bits) */
#define RFLAGS_NT    0x04000   /* nested task */
#define RFLAGS_AC    0x40000   /* alignment check */

/* ---- Control registers ------------------------------------------------------- */
#define CR0_PE   0x00000001    /* protected mode */
#define CR0_WP   0x00010000    /* supervisor writes honour read-only pages */
#define CR0_NW   0x20000000    /* not write-through */
#define CR0_CD   0x40000000    /* cache disable */
#define CR0_PG   0x80000000    /* paging */
#define CR4_PAE  0x00000020    /* physical address extension (long mode needs it) */
/* ... and the bits the FPU set-up uses (SDM vol. 3A, 2.5; fpu.c) */
#define CR0_MP   0x00000002    /* WAIT/FWAIT honours TS too */
#define CR0_EM   0x00000004    /* x87 emulation: must be clear for SSE */
#define CR0_TS   0x00000008    /* task switched: any FP instruction -> #NM */
#define CR0_NE   0x00000020    /* x87 errors as #MF, not the legacy IRQ 13 */
#define CR4_OSFXSR     0x00000200   /* FXSAVE/FXRSTOR and SSE enabled */
#define CR4_OSXMMEXCPT 0x00000400   /* unmasked SSE exceptions -> #XM */

/* The FXSAVE image (SDM vol. 1, 10.5.1): 512 bytes, 16-aligned. */
#define FXSAVE_SIZE   512
#define FCW_DEFAULT   0x037f   /* after FNINIT: all x87 exceptions masked */
#define MXCSR_DEFAULT 0x1f80   /* after reset: all SSE exceptions masked */

/* ---- Model-specific registers (SDM vol. 4, APM vol. 2 appendix A) ------------ */
#define MSR_EFER   0xc0000080   /* extended feature enable */
#define MSR_STAR   0xc0000081   /* SYSCALL/SYSRET segments */
#define MSR_LSTAR  0xc0000082   /* SYSCALL entry point in 64-bit mode */
#define MSR_SFMASK 0xc0000084   /* RFLAGS bits SYSCALL clears */

#define EFER_SCE   0x001        /* SYSCALL/SYSRET enable */
#define EFER_LME   0x100        /* long mode enable */
#define EFER_NXE   0x800        /* no-execute bit in page entries */

/* CPUID leaf 0x80000001 (extended features): EDX bit 20 = NX available. */
#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_EXT_EDX_NX   (1u << 20)

/* ---- Legacy devices the kernel drives (devices.c) ----------------------------- */
/* 8259A PICs: command port, data port = command + 1 */
#define PIC1        0x20
#define PIC2        0xa0
#define PIC_DATA    1
#define ICW1_INIT   0x10    /* start initialisation */
#define ICW1_ICW4   0x01    /* ICW4 follows */
#define ICW3_MASTER_SLAVE_ON_IRQ2 0x04   /* master: a slave on line 2 */
#define ICW3_SLAVE_ID 2                  /* slave: its cascade identity */
#define ICW4_8086   0x01
#define OCW2_EOI    0x20    /* non-specific end of interrupt */
#define IRQ_PIT     0       /* the kernel's tick */
#define IRQ_CASCADE 2       /* the slave PIC */

/* 8254 PIT: channel 0 data port and the mode/command port */
#define PIT_CH0       0x40
#define PIT_CMD       0x43
#define PIT_HZ        1193182   /* input clock */
/* command byte: 7..6 channel | 5..4 access | 3..1 mode | 0 BCD */
#define PIT_SEL_CH0   0x00
#define PIT_LOBYTE_HIBYTE 0x30
#define PIT_MODE_RATE 0x04      /* mode 2: rate generator */

/* 16550 UART: registers at COM1 + offset */
#define COM1      CONFIG_CONSOLE_BASE   /* the board's console port (board.toml) */
#define UART_THR  0     /* transmit holding (DLAB=0), divisor low (DLAB=1) */
#define UART_IER  1     /* interrupt enable (DLAB=0), divisor high (DLAB=1) */
#define UART_DLL  0
#define UART_DLM  1
#define UART_FCR  2     /* FIFO control */
#define UART_LCR  3     /* line control */
#define UART_MCR  4     /* modem control */
#define UART_LSR  5     /* line status */
#define LCR_8N1   0x03  /* 8 data bits, no parity, 1 stop bit */
#define LCR_DLAB  0x80  /* divisor latch access */
#define FCR_ENABLE     0x01
#define FCR_CLEAR_RX   0x02
#define FCR_CLEAR_TX   0x04
#define FCR_TRIGGER_14 0xc0
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT2  0x08  /* gates the UART's interrupt line to the PIC */
#define LSR_THRE  0x20  /* transmit holding register empty */

#ifndef __ASSEMBLER__
#include <kernel.h>

/* Registers saved by trap_common, lowest address first. */
struct int_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

static inline void outb(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port) {
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t read_cr2(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_cr3(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline void write_cr3(uint64_t v) {
    __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
static inline uint64_t read_cr0(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static inline void write_cr0(uint64_t v) {
    __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}
static inline uint64_t read_cr4(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static inline void write_cr4(uint64_t v) {
    __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

/* cpu.c */
void x86_cpu_init(void);
void x86_set_kernel_stack(uint64_t top);
void x86_set_io_range(unsigned base, unsigned count, bool allow);
extern struct int_frame *x86_last_frame;

/* fpu.c */
void x86_fpu_init(void);
void x86_fpu_switch(struct task *prev, struct task *next);
bool x86_fpu_first_use(void);

/* devices.c */
void x86_serial_init(void);
void x86_pic_init(void);
void x86_pic_eoi(unsigned irq);
void x86_pic_mask(unsigned irq);
void x86_pic_unmask(unsigned irq);
void x86_pic_mask_all(void);
void x86_pit_init(unsigned hz);

/* interrupts.c */
struct boot_info;
void x86_interrupts_init(const struct boot_info *bi);
bool x86_irq_ack(unsigned irq);

/* console.c */
void x86_screen_init(const struct boot_info *bi);
void x86_screen_report(const struct boot_info *bi);

/* vm.c */
void x86_vm_init(void);
extern uint64_t boot_pml4[];

/* boot.c */
const void *x86_phys(uint64_t paddr, size_t len);   /* a boot_phys_fn */

#endif /* !__ASSEMBLER__ */
#endif
