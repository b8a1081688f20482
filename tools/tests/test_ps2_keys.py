"""Typing on the pc twin's PS/2 keyboard (tools/ps2_keys.py): characters
to QEMU key codes (US layout, Shift where needed), the QMP
`input-send-event` messages, and the way QemuTwin and Dut offer it."""

import string

import pytest

from tools.console import Console
from tools.dut import Dut
from tools.errors import ToolError
from tools.ps2_keys import QCODES, Ps2Keys, chord_events, key_event, qcodes_for


class FakeQmp:
    """Records QMP commands as (name, args)."""

    def __init__(self):
        self.sent = []

    def __call__(self, name, **args):
        self.sent.append((name, args))


def keys_of(sent):
    """[(qcode, down), ...] of every input-send-event sent."""
    out = []
    for name, args in sent:
        assert name == "input-send-event" and set(args) == {"events"}
        out += [(e["data"]["key"]["data"], e["data"]["down"]) for e in args["events"]]
    return out


def test_plain_and_shifted_characters():
    assert qcodes_for("a") == ("a",) and qcodes_for("7") == ("7",)
    assert qcodes_for("A") == ("shift", "a")
    assert qcodes_for(" ") == ("spc",)
    assert qcodes_for("\n") == qcodes_for("\r") == ("ret",)
    assert qcodes_for("\b") == ("backspace",)
    assert qcodes_for("_") == ("shift", "minus")
    assert qcodes_for('"') == ("shift", "apostrophe")
    assert qcodes_for("~") == ("shift", "grave_accent")
    assert qcodes_for("|") == ("shift", "backslash")
    assert qcodes_for("?") == ("shift", "slash")


def test_every_printable_ascii_character_can_be_typed():
    typable = [c for c in string.printable if c not in "\x0b\x0c"]
    for ch in typable:
        codes = qcodes_for(ch)
        assert all(c in QCODES for c in codes), (ch, codes)
        assert len(codes) == 1 or codes[0] == "shift"
    shifted = {c for c in typable if qcodes_for(c)[0] == "shift"}
    assert shifted == set(string.ascii_uppercase) | set('!@#$%^&*()_+{}|:"~<>?')


@pytest.mark.parametrize("ch", ["é", "\x00", "\x0b", "€"])
def test_characters_without_a_key_are_refused(ch):
    with pytest.raises(ToolError, match="cannot type"):
        qcodes_for(ch)


def test_qmp_message_shape():
    assert key_event("a", True) == {"type": "key",
                                    "data": {"down": True, "key": {"type": "qcode", "data": "a"}}}
    assert [(e["data"]["key"]["data"], e["data"]["down"]) for e in chord_events(("ctrl", "c"))] == \
        [("ctrl", True), ("c", True), ("c", False), ("ctrl", False)]
    with pytest.raises(ToolError, match="unknown key code 'enter'"):
        key_event("enter", True)


def test_type_text_is_one_command_per_character_paced():
    qmp, slept = FakeQmp(), []
    Ps2Keys(qmp, char_delay=0.01, sleep=slept.append).type_text("hI!\n")
    assert len(qmp.sent) == 4 and slept == [0.01] * 3
    assert keys_of(qmp.sent) == [
        ("h", True), ("h", False),
        ("shift", True), ("i", True), ("i", False), ("shift", False),
        ("shift", True), ("1", True), ("1", False), ("shift", False),
        ("ret", True), ("ret", False)]


def test_nothing_is_sent_for_a_string_with_an_untypable_character():
    qmp = FakeQmp()
    with pytest.raises(ToolError):
        Ps2Keys(qmp, sleep=lambda s: None).type_text("ab\u00e9")
    assert qmp.sent == []


def test_press_release_tap():
    qmp = FakeQmp()
    keys = Ps2Keys(qmp)
    keys.press("shift")
    keys.tap("a")
    keys.release("shift")
    keys.tap("ctrl", "c")
    assert keys_of(qmp.sent) == [("shift", True), ("a", True), ("a", False), ("shift", False),
                                 ("ctrl", True), ("c", True), ("c", False), ("ctrl", False)]


def test_dut_types_through_its_backend(fake_port, fake_clock):
    class Backend:
        keys = Ps2Keys(FakeQmp(), sleep=lambda s: None)

    backend = Backend()
    dut = Dut(Console(fake_port(), clock=fake_clock), backend)
    dut.key_down("shift")
    dut.key_up("shift")
    dut.tap_keys("caps_lock")
    dut.type_text("x")
    assert keys_of(backend.keys._qmp.sent) == [("shift", True), ("shift", False),
                                               ("caps_lock", True), ("caps_lock", False),
                                               ("x", True), ("x", False)]


def test_dut_without_a_keyboard_says_so(fake_port, fake_clock):
    with pytest.raises(ToolError, match="no key injection"):
        Dut(Console(fake_port(), clock=fake_clock), object()).type_text("a")


def test_the_pc_twin_gets_keys_an_mcu_twin_does_not(tmp_path):
    from tools.accel import Accel
    from tools.boards import load_board
    from tools.tests.test_qemu import RecordingTwin
    image = tmp_path / "nagi.img"
    image.write_bytes(b"x")
    twin = RecordingTwin(load_board("pc"), image, Accel("tcg", "test"))
    twin.start()
    twin.keys.tap("a")
    assert twin.calls[-1] == ("qmp-cmd", "input-send-event")
    mcu = RecordingTwin(load_board("mps2-an386"), image, Accel("tcg", "test"))
    mcu.start()
    assert mcu.keys is None
