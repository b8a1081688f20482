/*
 * console.c (arm-m) - the kernel's own polled output on the board's console
 * UART (CONFIG_KCONSOLE_*). Input and interrupts belong to the console task.
 */
#include "armv7m.h"

#if CONFIG_KCONSOLE_STM32_USART + 0
/* STM32L4 USART. USART1 (the B-L475E-IOT01A's ST-LINK virtual COM port)
 * sits on PB6/PB7, alternate function 7; the kernel turns on its clocks
 * and pins so that early output works on a real board too. */
#define RCC          0x40021000u
#define GPIOB        0x48000400u
#define USART_CR1    REG(CONFIG_KCONSOLE_BASE + 0x00)
#define USART_BRR    REG(CONFIG_KCONSOLE_BASE + 0x0c)
#define USART_ISR    REG(CONFIG_KCONSOLE_BASE + 0x1c)
#define USART_TDR    REG(CONFIG_KCONSOLE_BASE + 0x28)

void arm_console_init(void) {
    if (CONFIG_KCONSOLE_BASE == 0x40013800u) {
        REG(RCC + 0x4c) |= 1u << 1;                          /* GPIOB clock */
        REG(RCC + 0x60) |= 1u << 14;                         /* USART1 clock */
        REG(GPIOB + 0x00) = (REG(GPIOB + 0x00) & ~(0xfu << 12)) | (0xau << 12);
        REG(GPIOB + 0x20) = (REG(GPIOB + 0x20) & ~(0xffu << 24)) | (0x77u << 24);
    }
    USART_CR1 = 0;
    USART_BRR = CONFIG_CPU_HZ / 115200;
    USART_CR1 = (1u << 3) | (1u << 2) | 1u;                  /* TE, RE, UE */
}

static void put(char c) {
    for (int i = 0; i < 100000 && !(USART_ISR & (1u << 7)); i++)
        ;
    USART_TDR = (uint8_t)c;
}
#elif CONFIG_KCONSOLE_CMSDK_UART + 0
/* ARM CMSDK APB UART. */
#define UART_DATA    REG(CONFIG_KCONSOLE_BASE + 0x00)
#define UART_STATE   REG(CONFIG_KCONSOLE_BASE + 0x04)
#define UART_CTRL    REG(CONFIG_KCONSOLE_BASE + 0x08)
#define UART_BAUDDIV REG(CONFIG_KCONSOLE_BASE + 0x10)

void arm_console_init(void) {
    UART_BAUDDIV = CONFIG_CPU_HZ / 115200 < 16 ? 16 : CONFIG_CPU_HZ / 115200;
    UART_CTRL |= 1u;                                         /* TX enable */
}

static void put(char c) {
    for (int i = 0; i < 100000 && (UART_STATE & 1u); i++)
        ;
    UART_DATA = (uint8_t)c;
}
#else
#error "no kernel console UART selected (CONFIG_KCONSOLE_*)"
#endif

void arch_console_putc(char c) {
    if (c == '\n')
        put('\r');
    put(c);
}
