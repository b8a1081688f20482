/*
 * devices.c (x86_64) - the few devices the kernel itself drives: the
 * console's 16550 (kernel console output, console.c; the board's
 * CONFIG_CONSOLE_BASE and CONFIG_CONSOLE_BAUD, from its board.toml: COM1
 * at 115200 on pc), the 8259 PICs and the 8254 PIT (the legacy interrupt
 * path; interrupts.c chooses). Everything else, including console input,
 * belongs to user drivers.
 */
#include "x86.h"

#define UART_CLOCK_DIV 115200u   /* the 16550's 1.8432 MHz clock / 16 */
#define UART_DIVISOR (UART_CLOCK_DIV / CONFIG_CONSOLE_BAUD)

void x86_serial_init(void) {
    outb(COM1 + UART_IER, 0);     /* no interrupts until the console server asks */
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, UART_DIVISOR & 0xff);
    outb(COM1 + UART_DLM, UART_DIVISOR >> 8);
    outb(COM1 + UART_LCR, LCR_8N1);
    outb(COM1 + UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX | FCR_TRIGGER_14);
    outb(COM1 + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

static uint16_t pic_mask = 0xffff;

static void pic_write_mask(void) {
    outb(PIC1 + PIC_DATA, pic_mask & 0xff);
    outb(PIC2 + PIC_DATA, pic_mask >> 8);
}

void x86_pic_init(void) {
    outb(PIC1, ICW1_INIT | ICW1_ICW4);
    outb(PIC2, ICW1_INIT | ICW1_ICW4);
    outb(PIC1 + PIC_DATA, IRQ_BASE);               /* ICW2: vector base */
    outb(PIC2 + PIC_DATA, IRQ_BASE + 8);
    outb(PIC1 + PIC_DATA, ICW3_MASTER_SLAVE_ON_IRQ2);
    outb(PIC2 + PIC_DATA, ICW3_SLAVE_ID);
    outb(PIC1 + PIC_DATA, ICW4_8086);
    outb(PIC2 + PIC_DATA, ICW4_8086);
    pic_mask = 0xffff & ~(1u << IRQ_CASCADE);
    pic_write_mask();
}

void x86_pic_eoi(unsigned irq) {
    if (irq >= 8)
        outb(PIC2, OCW2_EOI);
    outb(PIC1, OCW2_EOI);
}

void x86_pic_unmask(unsigned irq) {
    pic_mask &= ~(1u << irq);
    pic_write_mask();
}

void x86_pic_mask(unsigned irq) {
    pic_mask |= 1u << irq;
    pic_write_mask();
}

/* The IO-APIC takes over: no line of the 8259s reaches the CPU. */
void x86_pic_mask_all(void) {
    pic_mask = 0xffff;
    pic_write_mask();
}

void x86_pit_init(unsigned hz) {
    unsigned divisor = PIT_HZ / hz;
    outb(PIT_CMD, PIT_SEL_CH0 | PIT_LOBYTE_HIBYTE | PIT_MODE_RATE);
    outb(PIT_CH0, divisor & 0xff);
    outb(PIT_CH0, divisor >> 8);
}
