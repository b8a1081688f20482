/*
 * x86.h - private to arch/x86_64: instructions, registers, port I/O and
 * the pieces the files of this port share. The kernel never sees it.
 */
#ifndef X86_H
#define X86_H

#include <kernel.h>

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS   0x1b   /* GDT entry 3, RPL 3 */
#define USER_CS   0x23   /* GDT entry 4, RPL 3 */
#define TSS_SEL   0x28

#define IRQ_BASE 32      /* PIC interrupts start at vector 32 */
#define VEC_NM   7       /* #NM, device not available (CR0.TS set) */

/* CR0 and CR4 bits the FPU set-up uses (Intel SDM vol. 3A, 2.5). */
#define CR0_MP (1ul << 1)          /* WAIT/FWAIT honours TS too */
#define CR0_EM (1ul << 2)          /* x87 emulation: must be clear for SSE */
#define CR0_TS (1ul << 3)          /* task switched: any FP instruction -> #NM */
#define CR0_NE (1ul << 5)          /* x87 errors as #MF, not the legacy IRQ 13 */
#define CR4_OSFXSR (1ul << 9)      /* FXSAVE/FXRSTOR and SSE enabled */
#define CR4_OSXMMEXCPT (1ul << 10) /* unmasked SSE exceptions -> #XM */

/* The FXSAVE image (Intel SDM vol. 1, 10.5.1): 512 bytes, 16-aligned. */
#define FXSAVE_SIZE 512
#define FCW_DEFAULT 0x037f         /* after FNINIT: all x87 exceptions masked */
#define MXCSR_DEFAULT 0x1f80       /* after reset: all SSE exceptions masked */

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
void x86_pit_init(unsigned hz);

/* vm.c */
void x86_vm_init(void);
extern uint64_t boot_pml4[];

/* boot.c */
void x86_boot_memory(uint32_t magic, uint32_t info);

#endif
