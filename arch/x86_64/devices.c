/*
 * devices.c (x86_64) - the few devices the kernel itself drives: the
 * console's 16550 (kernel console output; the board's CONFIG_CONSOLE_BASE
 * and CONFIG_CONSOLE_BAUD, from its board.toml: COM1 at 115200 on pc), the
 * 8259 PICs and the 8254 PIT. Everything else, including console input,
 * belongs to user drivers.
 */
#include "x86.h"

#define COM1 CONFIG_CONSOLE_BASE
#define UART_CLOCK_DIV 115200u   /* the 16550's 1.8432 MHz clock / 16 */
#define PIC1 0x20
#define PIC2 0xa0

void x86_serial_init(void) {
    outb(COM1 + 1, 0x00);    /* no interrupts until the console server asks */
    outb(COM1 + 3, 0x80);    /* DLAB */
    outb(COM1 + 0, (UART_CLOCK_DIV / CONFIG_CONSOLE_BAUD) & 0xff);  /* divisor */
    outb(COM1 + 1, (UART_CLOCK_DIV / CONFIG_CONSOLE_BAUD) >> 8);
    outb(COM1 + 3, 0x03);    /* 8N1 */
    outb(COM1 + 2, 0xc7);    /* FIFO on, cleared */
    outb(COM1 + 4, 0x0b);    /* DTR, RTS, OUT2 (IRQ line enabled) */
}

void arch_console_putc(char c) {
    if (c == '\n')
        arch_console_putc('\r');
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        ;
    outb(COM1, (uint8_t)c);
}

static uint16_t pic_mask = 0xffff;

static void pic_write_mask(void) {
    outb(PIC1 + 1, pic_mask & 0xff);
    outb(PIC2 + 1, pic_mask >> 8);
}

void x86_pic_init(void) {
    outb(PIC1, 0x11); outb(PIC2, 0x11);            /* ICW1: init, ICW4 */
    outb(PIC1 + 1, IRQ_BASE); outb(PIC2 + 1, IRQ_BASE + 8);
    outb(PIC1 + 1, 4); outb(PIC2 + 1, 2);          /* cascade on IRQ 2 */
    outb(PIC1 + 1, 1); outb(PIC2 + 1, 1);          /* 8086 mode */
    pic_mask = 0xffff & ~(1u << 2);
    pic_write_mask();
}

void x86_pic_eoi(unsigned irq) {
    if (irq >= 8)
        outb(PIC2, 0x20);
    outb(PIC1, 0x20);
}

void arch_irq_enable(unsigned irq) {
    if (irq < ARCH_IRQ_MAX) {
        pic_mask &= ~(1u << irq);
        pic_write_mask();
    }
}

void arch_irq_disable(unsigned irq) {
    if (irq < ARCH_IRQ_MAX && irq != 2) {
        pic_mask |= 1u << irq;
        pic_write_mask();
    }
}

void x86_pit_init(unsigned hz) {
    unsigned divisor = 1193182 / hz;
    outb(0x43, 0x34);                              /* channel 0, mode 2 */
    outb(0x40, divisor & 0xff);
    outb(0x40, divisor >> 8);
}

/* IRQ 0 is the PIT (the kernel's tick), IRQ 2 the cascade to the slave PIC. */
bool arch_irq_valid(unsigned irq) {
    return irq < ARCH_IRQ_MAX && irq != 0 && irq != 2;
}
