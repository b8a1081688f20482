"""tools/screen.py (reading the twin's screen) and tools/fontgen.py (the
kernel's font): an `xp` dump as QEMU's monitor prints it, and a
screendump of a framebuffer drawn with the font, read back as text."""

import pytest

from tools import fontgen, screen

XP = """\
00000000000b8000: 0x076e 0x0761 0x0767 0x0769 0x073e 0x0720 0x0720 0x0720
00000000000b8010: 0x0720 0x0720 0x0720 0x0720 0x0720 0x0720 0x0720 0x0720
"""


def test_xp_dump_to_rows():
    cells = screen.parse_xp_halfwords(XP)
    assert len(cells) == 16
    assert screen.text_rows(cells, cols=8) == ["nagi>", ""]
    assert screen.xp_command() == "xp /2000hx 0xb8000"


def test_text_rows_mark_unprintable_cells():
    assert screen.text_rows([0x0741, 0x0700, 0x07ff, 0x0720], cols=4) == ["A??"]


def _font():
    try:
        return fontgen.load_ascii()
    except Exception as e:       # ToolError: the package is missing
        pytest.skip(str(e))


def _ppm(text_rows, glyphs, cols, fg=(255, 255, 255)):
    w, h = cols * 8, len(text_rows) * 16
    px = bytearray(w * h * 3)
    for cy, line in enumerate(text_rows):
        for cx, ch in enumerate(line):
            for r, bits in enumerate(glyphs[ord(ch)]):
                for b in range(8):
                    if bits & (0x80 >> b):
                        p = ((cy * 16 + r) * w + cx * 8 + b) * 3
                        px[p:p + 3] = bytes(fg)
    return b"P6\n# nagi\n%d %d\n255\n" % (w, h) + bytes(px)


def test_framebuffer_screendump_reads_back_as_text():
    glyphs = _font()
    ppm = _ppm(["nagi: booted", "nagi> echo hi"], glyphs, cols=16)
    assert screen.framebuffer_rows(ppm, glyphs) == ["nagi: booted", "nagi> echo hi"]


def test_a_glyph_off_by_one_pixel_is_not_read_as_text():
    glyphs = _font()
    ppm = bytearray(_ppm(["n"], glyphs, cols=1))
    ppm[-3:] = b"\xff\xff\xff"             # one stray lit pixel, bottom right
    assert screen.framebuffer_rows(bytes(ppm), glyphs) == ["?"]


def test_font_glyphs_are_distinct_for_printable_ascii():
    glyphs = _font()
    printable = [glyphs[c] for c in range(0x21, 0x7f)]
    assert len(set(printable)) == len(printable)
    assert glyphs[0x20] == bytes(16)


def test_fontgen_writes_a_c_table(tmp_path):
    _font()
    out = tmp_path / "font.c"
    assert fontgen.main(["--out", str(out)]) == 0
    text = out.read_text()
    assert "const uint8_t screen_font[128][16]" in text
    assert text.count("},  /*") == 128


def test_fontgen_refuses_what_is_not_a_psf(tmp_path):
    bad = tmp_path / "x.psf"
    bad.write_bytes(b"not a font at all")
    with pytest.raises(fontgen.ToolError):
        fontgen.load_ascii(bad)
