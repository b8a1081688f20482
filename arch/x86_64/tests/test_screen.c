/*
 * test_screen.c - the screen console (arch/x86_64/screen.c): the VGA text
 * grid (writing, wrapping, scrolling, escape sequences dropped) and the
 * framebuffer rendering of the built-in font into fake framebuffers of
 * 32, 24 and 16 bpp, checked pixel by pixel against the font's glyphs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bootinfo.h"
#include "screen.h"
#include "test.h"

static struct screen s;
static uint16_t vga[80 * 25];

static void puts_(const char *t) {
    while (*t)
        screen_putc(&s, *t++);
}

/* Row y of the VGA buffer as text (trailing blanks removed). */
static const char *row(unsigned y) {
    static char line[81];
    for (unsigned x = 0; x < 80; x++) {
        line[x] = (char)(vga[y * 80 + x] & 0xff);
        CHECK_EQ(vga[y * 80 + x] >> 8, VGA_ATTR);
    }
    line[80] = '\0';
    for (int x = 79; x >= 0 && line[x] == ' '; x--)
        line[x] = '\0';
    return line;
}

TEST(screen_text_clears_and_writes) {
    memset(vga, 0xab, sizeof(vga));
    screen_init_text(&s, vga, 80, 25);
    CHECK_STR(row(0), "");
    CHECK_STR(row(24), "");
    puts_("nagi: hello\r\nnagi> ");
    CHECK_STR(row(0), "nagi: hello");
    CHECK_STR(row(1), "nagi>");
    CHECK_EQ(s.x, 6);
    CHECK_EQ(vga[80 + 5] & 0xff, ' ');
}

TEST(screen_text_scrolls_at_the_bottom) {
    char line[32];
    screen_init_text(&s, vga, 80, 25);
    for (int i = 0; i < 30; i++) {
        snprintf(line, sizeof(line), "line %d\n", i);
        puts_(line);
    }
    CHECK_STR(row(0), "line 6");
    CHECK_STR(row(23), "line 29");
    CHECK_STR(row(24), "");
    CHECK_EQ(s.y, 24);
}

TEST(screen_text_wraps_long_lines_and_handles_controls) {
    screen_init_text(&s, vga, 80, 25);
    for (int i = 0; i < 85; i++)
        screen_putc(&s, (char)('a' + i % 26));
    CHECK_EQ(strlen(row(0)), 80);
    CHECK_STR(row(1), "cdefg");           /* 80 = 3 * 26 + 2 */
    puts_("\nab\bc\tX\x01\xff");
    CHECK_STR(row(2), "ac      X??");
}

TEST(screen_text_drops_escape_sequences) {
    screen_init_text(&s, vga, 80, 25);
    puts_("\x1b[2K\x1b[1;31mred\x1b[0m plain\x1b" "c!");
    CHECK_STR(row(0), "red plain!");
}

/* A fake framebuffer with a border of guard bytes (pitch > width). */
static uint8_t *fake_fb(struct boot_fb *fb, unsigned w, unsigned h, unsigned bpp) {
    *fb = (struct boot_fb){ .kind = FB_RGB, .width = w, .height = h, .bpp = (uint8_t)bpp,
                            .pitch = w * (bpp / 8) + 12 };
    if (bpp == 16)
        fb->red_pos = 11, fb->red_size = 5, fb->green_pos = 5, fb->green_size = 6,
        fb->blue_pos = 0, fb->blue_size = 5;
    else
        fb->red_pos = 16, fb->red_size = 8, fb->green_pos = 8, fb->green_size = 8,
        fb->blue_pos = 0, fb->blue_size = 8;
    uint8_t *p = malloc((size_t)fb->pitch * h);
    memset(p, 0x5a, (size_t)fb->pitch * h);
    return p;
}

static uint32_t pixel(const uint8_t *p, const struct boot_fb *fb, unsigned x, unsigned y) {
    uint32_t v = 0;
    for (unsigned i = 0; i < fb->bpp / 8u; i++)
        v |= (uint32_t)p[(size_t)y * fb->pitch + x * (fb->bpp / 8u) + i] << (8 * i);
    return v;
}

/* Whether the cell (cx, cy) shows character c: every pixel fg or bg as
 * the glyph's bit says. */
static bool cell_shows(const uint8_t *p, const struct boot_fb *fb, unsigned cx,
                       unsigned cy, char c, uint32_t fg) {
    for (unsigned r = 0; r < FONT_H; r++)
        for (unsigned b = 0; b < FONT_W; b++) {
            bool on = screen_font[(unsigned char)c][r] & (0x80 >> b);
            if (pixel(p, fb, cx * FONT_W + b, cy * FONT_H + r) != (on ? fg : 0))
                return false;
        }
    return true;
}

TEST(screen_font_has_ascii_glyphs) {
    int blank = 0;
    for (int c = 0x21; c < 0x7f; c++) {
        int bits = 0;
        for (int r = 0; r < FONT_H; r++)
            bits |= screen_font[c][r];
        blank += bits == 0;
    }
    CHECK_EQ(blank, 0);
    for (int r = 0; r < FONT_H; r++)
        CHECK_EQ(screen_font[' '][r], 0);
    CHECK(memcmp(screen_font['l'], screen_font['I'], FONT_H) != 0);
}

TEST(screen_fb_draws_the_prompt_in_every_depth) {
    static const unsigned depths[] = {32, 24, 16};
    for (unsigned d = 0; d < 3; d++) {
        struct boot_fb fb;
        uint8_t *p = fake_fb(&fb, 100, 50, depths[d]);   /* 12 x 3 cells */
        REQUIRE(screen_init_fb(&s, p, &fb) == 0);
        CHECK_EQ(s.cols, 12);
        CHECK_EQ(s.rows, 3);
        uint32_t fg = depths[d] == 16 ? 0xffff : 0xffffff;
        puts_("x\nnagi> ");
        const char *want = "nagi> ";
        for (unsigned i = 0; i < 6; i++)
            CHECK(cell_shows(p, &fb, i, 1, want[i], fg));
        CHECK(cell_shows(p, &fb, 0, 0, 'x', fg));
        /* nothing written past the grid: the last 4 pixels of each line,
         * the pitch padding, and the two rows below the last cell row */
        CHECK_EQ(pixel(p, &fb, 99, 0), depths[d] == 16 ? 0x5a5a : depths[d] == 24 ? 0x5a5a5a : 0x5a5a5a5a);
        CHECK_EQ(p[fb.pitch - 1], 0x5a);
        CHECK_EQ(p[(size_t)fb.pitch * 49], 0x5a);
        free(p);
    }
}

TEST(screen_fb_scrolls_by_redrawing_cells) {
    struct boot_fb fb;
    uint8_t *p = fake_fb(&fb, 64, 48, 32);                 /* 8 x 3 cells */
    REQUIRE(screen_init_fb(&s, p, &fb) == 0);
    puts_("aaa\nbbb\nccc\nddd");
    CHECK(cell_shows(p, &fb, 0, 0, 'b', 0xffffff));
    CHECK(cell_shows(p, &fb, 2, 1, 'c', 0xffffff));
    CHECK(cell_shows(p, &fb, 0, 2, 'd', 0xffffff));
    CHECK(cell_shows(p, &fb, 1, 2, 'd', 0xffffff));
    CHECK(cell_shows(p, &fb, 3, 2, ' ', 0xffffff));
    free(p);
}

TEST(screen_fb_refuses_what_it_cannot_draw) {
    struct boot_fb fb;
    uint8_t *p = fake_fb(&fb, 64, 48, 32);
    fb.bpp = 8;
    CHECK_EQ(screen_init_fb(&s, p, &fb), -1);
    fb.bpp = 32, fb.pitch = 10;                            /* pitch < width */
    CHECK_EQ(screen_init_fb(&s, p, &fb), -1);
    fb.pitch = 256, fb.height = 8;                         /* no full row */
    CHECK_EQ(screen_init_fb(&s, p, &fb), -1);
    fb.height = 48, fb.kind = FB_EGA_TEXT;
    CHECK_EQ(screen_init_fb(&s, p, &fb), -1);
    free(p);
}

TEST(screen_huge_framebuffer_uses_the_top_left) {
    struct boot_fb fb;
    uint8_t *p = fake_fb(&fb, 3840, 1400, 32);
    REQUIRE(screen_init_fb(&s, p, &fb) == 0);
    CHECK_EQ(s.cols, SCREEN_COLS_MAX);
    CHECK_EQ(s.rows, SCREEN_ROWS_MAX);
    for (int i = 0; i < 300; i++)
        puts_("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
    CHECK(cell_shows(p, &fb, 0, 0, '0', 0xffffff));
    free(p);
}
