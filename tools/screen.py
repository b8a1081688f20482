"""screen.py - reading the PC twin's screen the way a person would see it,
without OCR: the VGA text buffer (0xB8000, character and attribute per
cell) read through QEMU's monitor (`xp`), and a QMP screendump (PPM) of a
framebuffer compared cell by cell with the glyphs of the kernel's own
built-in font (tools/fontgen.py). Pure functions; tools/qemu.py does the
I/O."""

from __future__ import annotations

import re

VGA_TEXT_ADDR = 0xB8000
VGA_COLS, VGA_ROWS = 80, 25
FONT_W, FONT_H = 8, 16

_XP_LINE = re.compile(r"^[0-9a-fA-F]+:\s*(.*)$")


def xp_command(cols: int = VGA_COLS, rows: int = VGA_ROWS) -> str:
    """The monitor command that dumps the text buffer as halfwords."""
    return f"xp /{cols * rows}hx {VGA_TEXT_ADDR:#x}"


def parse_xp_halfwords(text: str) -> list[int]:
    """The values of an `xp /Nhx` dump, in address order."""
    out: list[int] = []
    for line in text.splitlines():
        m = _XP_LINE.match(line.strip())
        if m:
            out += [int(v, 16) for v in m.group(1).split()]
    return out


def text_rows(cells: list[int], cols: int = VGA_COLS) -> list[str]:
    """The text of each row (characters only, trailing blanks removed);
    bytes outside printable ASCII show as '?'."""
    rows = []
    for r in range(0, len(cells) - cols + 1, cols):
        chars = [c & 0xFF for c in cells[r:r + cols]]
        rows.append("".join(chr(c) if 0x20 <= c < 0x7F else "?" for c in chars).rstrip())
    return rows


def read_ppm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and RGB bytes of a binary PPM (P6, maxval 255)."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError("not a P6 PPM of maxval 255")
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + w * h * 3]
    if len(pixels) != w * h * 3:
        raise ValueError("PPM cut short")
    return w, h, pixels


def framebuffer_rows(ppm: bytes, glyphs: list[bytes]) -> list[str]:
    """The text a framebuffer console shows: each 8x16 cell of the
    screendump matched exactly (lit pixel = not black) against the
    glyphs of printable ASCII; a cell that matches none is '?'."""
    w, h, px = read_ppm(ppm)
    by_shape = {bytes(g): chr(c) for c, g in reversed(list(enumerate(glyphs)))
                if 0x20 <= c < 0x7F}
    rows = []
    for cy in range(h // FONT_H):
        line = []
        for cx in range(w // FONT_W):
            shape = bytearray(FONT_H)
            for r in range(FONT_H):
                base = ((cy * FONT_H + r) * w + cx * FONT_W) * 3
                bits = 0
                for b in range(FONT_W):
                    p = base + b * 3
                    if px[p] or px[p + 1] or px[p + 2]:
                        bits |= 0x80 >> b
                shape[r] = bits
            line.append(by_shape.get(bytes(shape), "?"))
        rows.append("".join(line).rstrip())
    return rows
