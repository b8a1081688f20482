"""tools/keyboard.py: the HID trace lines the twin's `hid` writes are
parsed exactly (and anything else is an error naming the line); the
Keyboard drives the right pins at the right levels and reads reports per
kind; the Layout answers what the tests expect of a keymap."""

from types import SimpleNamespace

import pytest

from tools.errors import ToolError
from tools.keyboard import (EMPTY, Keyboard, Layout, TraceFile, expected, make_report,
                            parse_trace, parse_trace_line, report_kinds)
from tools.keymap import Action

BOOT_A = "HID boot 0000040000000000 1000 1100"


def nkro_line(usages, mods=0, stamp=5, now=9):
    data = bytearray(29)
    data[0] = mods
    for u in usages:
        data[1 + u // 8] |= 1 << (u % 8)
    return f"HID nkro {data.hex()} {stamp} {now}"


def test_boot_line():
    t = parse_trace_line(BOOT_A)
    assert (t.kind, t.report, t.stamp, t.now) == ("boot", make_report(0, 0x04), 1000, 1100)
    assert t.latency_cycles == 100


def test_nkro_line_and_modifiers():
    t = parse_trace_line(nkro_line([0x04, 0x2C], mods=0x02))
    assert t.report == make_report(0x02, 0x04, 0x2C)


def test_latency_wraps_and_is_none_without_a_stamp():
    assert parse_trace_line(f"HID boot {'00' * 8} {2**32 - 10} 5").latency_cycles == 15
    assert parse_trace_line(f"HID boot {'00' * 8} 0 5").latency_cycles is None


@pytest.mark.parametrize("line", [
    "HID boot 00000400000000 1 2",            # 7 bytes
    "HID usb 0000040000000000 1 2",
    "HID boot 0000040000000000 1",
    "hid: something else",
    "HID boot 000004000000000g 1 2",
])
def test_bad_lines_are_refused(line):
    with pytest.raises(ValueError):
        parse_trace_line(line)


def test_trace_leaves_a_partial_last_line_and_names_a_bad_line():
    text = BOOT_A + "\n" + "HID boot 00"
    assert len(parse_trace(text)) == 1
    with pytest.raises(ToolError, match="line 2"):
        parse_trace(BOOT_A + "\ngarbage\n")


def test_trace_file_grows(tmp_path):
    f = TraceFile(tmp_path / "t.txt")
    assert f.lines() == []
    (tmp_path / "t.txt").write_text(BOOT_A + "\n")
    assert [t.kind for t in f.lines()] == ["boot"]


class FakeSource:
    def __init__(self):
        self.items = []

    def lines(self):
        return list(self.items)


def test_keyboard_drives_pins_active_low_and_reads_per_kind():
    levels = []
    src = FakeSource()
    kb = Keyboard({"a": "PC5", "b": "PD2"}, lambda pin, lvl: levels.append((pin, lvl)), src,
                  ("boot", "nkro"))
    kb.press("a")
    kb.release("b")
    assert levels == [("PC5", 0), ("PD2", 1)]
    with pytest.raises(ToolError, match="no key 'z'"):
        kb.press("z")
    src.items += [parse_trace_line(BOOT_A), parse_trace_line(nkro_line([4]))]
    assert kb.reports() == [make_report(0, 4)]
    assert kb.reports(kind="nkro") == [make_report(0, 4)]
    assert kb.mark("boot") == 1 and kb.state() == make_report(0, 4)
    with pytest.raises(AssertionError, match="wanted 2"):
        kb.wait_reports(2, timeout=0.1)
    only_boot = Keyboard({}, None, src, ("boot",))
    with pytest.raises(ToolError, match="not nkro"):
        only_boot.reports(kind="nkro")


def test_report_kinds_from_kconfig():
    assert report_kinds({"KEYBOARD_REPORT_BOOT": "y"}) == ("boot",)
    assert report_kinds({"KEYBOARD_REPORT_NKRO": "y"}) == ("nkro",)
    assert report_kinds({"KEYBOARD_REPORT_BOTH": "y"}) == ("boot", "nkro")


def test_layout_and_expected_reports():
    base = [Action("Key", 0x04), Action("Key", 0xE1), Action("Mo", 1), Action("Mt", 0x2C, 0x02)]
    fn = [Action("Key", 0x1E), Action("Trans"), Action("Trans"), Action("No")]
    lay = Layout(["a", "shift", "fn", "space"], [("base", base), ("fn", fn)], 200)
    assert lay.usage_keys() == ["a"] and lay.modifier_keys() == ["shift"]
    assert lay.one("Mo") == "fn"
    with pytest.raises(AssertionError, match="no Tg key"):
        lay.one("Tg")
    assert lay.resolved("shift", [0, 1]) == Action("Key", 0xE1)
    assert expected(lay.action("shift")) == make_report(0x02)
    assert expected(lay.action("space")) == make_report(0x02)
    assert expected(lay.action("a", 1)) == make_report(0, 0x1E)
    assert EMPTY == make_report()
