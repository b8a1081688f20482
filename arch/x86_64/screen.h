/*
 * screen.h (x86_64) - the kernel's console on the screen: a grid of
 * character cells drawn on a VGA text buffer (0xB8000-style: character
 * and attribute per cell) or on a linear framebuffer with the built-in
 * 8x16 font (generated at build time from a PSF font: tools/fontgen.py).
 * Pure: the buffers are plain memory handed in, so the host unit tests
 * (arch/x86_64/tests/test_screen.c) draw into fake ones. console.c is the
 * kernel's glue (which buffer, from the boot information).
 *
 * The grid keeps its own copy of the cells: scrolling redraws only the
 * cells that change and never reads the device (a framebuffer is slow to
 * read on real hardware). Escape sequences (ESC [ ... final) are dropped.
 */
#ifndef NAGI_X86_64_SCREEN_H
#define NAGI_X86_64_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FONT_W 8
#define FONT_H 16
#define SCREEN_COLS_MAX 240          /* 1920 pixels */
#define SCREEN_ROWS_MAX 80           /* 1280 pixels; a bigger screen uses its top left */
#define VGA_ATTR 0x07                /* light grey on black */

/* The built-in font: glyphs of characters 0..127 (rows top first, bit 7
 * leftmost); characters without a glyph in the source font are blank.
 * Generated (font8x16.c, tools/fontgen.py). */
extern const uint8_t screen_font[128][FONT_H];

struct screen {
    unsigned cols, rows, x, y;
    uint8_t esc;                     /* 0; 1 after ESC; 2 inside ESC [ */
    bool fb;                         /* a framebuffer (else VGA text) */
    volatile uint16_t *text;         /* VGA text cells */
    volatile uint8_t *pixels;        /* framebuffer */
    uint32_t pitch, bytespp, fg, bg;
    uint8_t cells[SCREEN_COLS_MAX * SCREEN_ROWS_MAX];
};

/* A VGA text buffer of cols x rows cells (cleared). */
void screen_init_text(struct screen *s, volatile uint16_t *cells,
                      unsigned cols, unsigned rows);

/* A framebuffer of width x height pixels, pitch bytes per line, bpp 16,
 * 24 or 32, colour channels at the given bit positions and sizes (as the
 * multiboot framebuffer info says). 0 (cleared), or -1 if unusable. */
struct boot_fb;
int screen_init_fb(struct screen *s, volatile uint8_t *pixels,
                   const struct boot_fb *fb);

/* Write one character: printable ASCII, \n, \r, \b, \t; others as '?'. */
void screen_putc(struct screen *s, char c);

#endif
