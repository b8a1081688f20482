/*
 * screen.c (x86_64) - the text grid and its two kinds of display
 * (screen.h). Pure: the kernel and the host unit tests compile it.
 */
#include "screen.h"
#include "bootinfo.h"

#define ESC 0x1b
#define TAB 8

static uint32_t channel(uint8_t pos, uint8_t size) {
    return size >= 32 ? 0xffffffffu << pos : ((1u << size) - 1) << pos;
}

/* Draw the cell at (x, y) from s->cells. */
static void draw(struct screen *s, unsigned x, unsigned y) {
    uint8_t c = s->cells[y * s->cols + x];

    if (!s->fb) {
        s->text[y * s->cols + x] = (uint16_t)(VGA_ATTR << 8 | c);
        return;
    }
    const uint8_t *glyph = screen_font[c & 0x7f];
    volatile uint8_t *row = s->pixels + (size_t)y * FONT_H * s->pitch +
                            (size_t)x * FONT_W * s->bytespp;
    for (unsigned r = 0; r < FONT_H; r++, row += s->pitch) {
        for (unsigned b = 0; b < FONT_W; b++) {
            uint32_t px = (glyph[r] & (0x80 >> b)) ? s->fg : s->bg;
            volatile uint8_t *p = row + b * s->bytespp;
            if (s->bytespp == 4) {
                *(volatile uint32_t *)p = px;
            } else {
                for (unsigned i = 0; i < s->bytespp; i++)
                    p[i] = (uint8_t)(px >> (8 * i));
            }
        }
    }
}

/* Set a cell, drawing it only when it changes. */
static void set(struct screen *s, unsigned x, unsigned y, uint8_t c) {
    uint8_t *cell = &s->cells[y * s->cols + x];
    if (*cell != c) {
        *cell = c;
        draw(s, x, y);
    }
}

/* Blank every cell and draw it (whatever the device held before). */
static void clear(struct screen *s) {
    for (unsigned y = 0; y < s->rows; y++)
        for (unsigned x = 0; x < s->cols; x++) {
            s->cells[y * s->cols + x] = ' ';
            draw(s, x, y);
        }
    s->x = s->y = 0;
    s->esc = 0;
}

/* Move every line up by one; the last one becomes blank. */
static void scroll(struct screen *s) {
    for (unsigned y = 0; y + 1 < s->rows; y++)
        for (unsigned x = 0; x < s->cols; x++)
            set(s, x, y, s->cells[(y + 1) * s->cols + x]);
    for (unsigned x = 0; x < s->cols; x++)
        set(s, x, s->rows - 1, ' ');
}

static void newline(struct screen *s) {
    s->x = 0;
    if (s->y + 1 < s->rows)
        s->y++;
    else
        scroll(s);
}

void screen_init_text(struct screen *s, volatile uint16_t *cells,
                      unsigned cols, unsigned rows) {
    *s = (struct screen){0};
    s->text = cells;
    s->cols = cols < SCREEN_COLS_MAX ? cols : SCREEN_COLS_MAX;
    s->rows = rows < SCREEN_ROWS_MAX ? rows : SCREEN_ROWS_MAX;
    clear(s);
}

int screen_init_fb(struct screen *s, volatile uint8_t *pixels,
                   const struct boot_fb *fb) {
    unsigned bytespp = fb->bpp / 8;

    if (fb->kind != FB_RGB || (fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32) ||
        fb->width < FONT_W || fb->height < FONT_H ||
        fb->pitch < (uint64_t)fb->width * bytespp)
        return -1;
    *s = (struct screen){0};
    s->fb = true;
    s->pixels = pixels;
    s->pitch = fb->pitch;
    s->bytespp = bytespp;
    s->fg = channel(fb->red_pos, fb->red_size) |
            channel(fb->green_pos, fb->green_size) |
            channel(fb->blue_pos, fb->blue_size);
    s->bg = 0;
    s->cols = fb->width / FONT_W < SCREEN_COLS_MAX ? fb->width / FONT_W : SCREEN_COLS_MAX;
    s->rows = fb->height / FONT_H < SCREEN_ROWS_MAX ? fb->height / FONT_H : SCREEN_ROWS_MAX;
    clear(s);
    return 0;
}

void screen_putc(struct screen *s, char ch) {
    uint8_t c = (uint8_t)ch;

    if (s->cols == 0)
        return;
    if (s->esc == 1) {                  /* after ESC: '[' starts a CSI */
        s->esc = c == '[' ? 2 : 0;
        return;
    }
    if (s->esc == 2) {                  /* parameters until a final byte */
        if (c >= 0x40 && c <= 0x7e)
            s->esc = 0;
        return;
    }
    switch (c) {
    case ESC:
        s->esc = 1;
        return;
    case '\n':
        newline(s);
        return;
    case '\r':
        s->x = 0;
        return;
    case '\b':
        if (s->x > 0)
            s->x--;
        return;
    case '\t':
        do
            screen_putc(s, ' ');
        while (s->x % TAB);
        return;
    default:
        break;
    }
    if (c < 0x20 || c > 0x7e)
        c = '?';
    if (s->x >= s->cols)
        newline(s);
    set(s, s->x, s->y, c);
    s->x++;
}
