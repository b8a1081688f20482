/*
 * console.c (x86_64) - the kernel console: the serial port (devices.c)
 * and, mirrored, the screen (screen.c) when there is one: the
 * framebuffer the loader set up (Multiboot2 tag 8 or v1 framebuffer
 * fields), its EGA text mode, or, booted by a multiboot v1 loader that
 * told nothing (QEMU -kernel, GRUB on a BIOS), the VGA text buffer at
 * 0xB8000. A Multiboot2 boot without a framebuffer tag (UEFI without
 * GOP) or an unusable one: serial only.
 */
#include "x86.h"
#include "bootinfo.h"
#include "screen.h"

#define VGA_TEXT_ADDR 0xb8000
#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_CRTC_INDEX 0x3d4
#define VGA_CRTC_DATA  0x3d5
#define CRTC_CURSOR_START 0x0a
#define CURSOR_DISABLE 0x20

static struct screen screen;
static bool screen_on;
static const char *screen_none_why;

static void vga_cursor_off(void) {
    outb(VGA_CRTC_INDEX, CRTC_CURSOR_START);
    outb(VGA_CRTC_DATA, CURSOR_DISABLE);
}

/* Called once by arch_boot, after the boot information is read. */
void x86_screen_init(const struct boot_info *bi) {
    const struct boot_fb *fb = &bi->fb;
    const char *why = NULL;

    if (fb->kind == FB_RGB) {
        uint64_t size = (uint64_t)fb->pitch * fb->height;
        void *p = (void *)x86_phys(fb->addr, size);
        if (!p)
            why = "framebuffer above 4 GiB (not mapped)";
        else if (screen_init_fb(&screen, p, fb) < 0)
            why = "framebuffer format not supported";
        else
            screen_on = true;
    } else if (fb->kind == FB_EGA_TEXT) {
        void *p = (void *)x86_phys(fb->addr, (uint64_t)fb->pitch * fb->height);
        if (p && fb->pitch >= fb->width * 2) {
            screen_init_text(&screen, p, fb->pitch / 2, fb->height);
            screen_on = true;
            vga_cursor_off();
        }
    } else if (bi->loader == 1) {
        screen_init_text(&screen, (volatile uint16_t *)VGA_TEXT_ADDR, VGA_COLS, VGA_ROWS);
        screen_on = true;
        vga_cursor_off();
    }
    screen_none_why = why ? why : "the loader gave no framebuffer";
}

/* Called by arch_init, after the kernel's banner: what the screen is. */
void x86_screen_report(const struct boot_info *bi) {
    const struct boot_fb *fb = &bi->fb;

    if (screen_on && screen.fb)
        printk("nagi: screen: framebuffer %ux%u, %u bpp at %lx, %u x %u characters\n",
               fb->width, fb->height, fb->bpp, (unsigned long)fb->addr,
               screen.cols, screen.rows);
    else if (screen_on)
        printk("nagi: screen: text mode %u x %u\n", screen.cols, screen.rows);
    else
        printk("nagi: screen: none (%s): serial console only\n",
               screen_none_why);
}

void arch_console_putc(char c) {
    if (c == '\n')
        arch_console_putc('\r');
    for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
        ;
    outb(COM1 + UART_THR, (uint8_t)c);
    if (screen_on)
        screen_putc(&screen, c);
}

void arch_screen_putc(char c) {
    if (screen_on)
        screen_putc(&screen, c);
}
