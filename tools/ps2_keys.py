"""ps2_keys.py - typing on the pc twin's PS/2 keyboard through QMP.

QEMU's `input-send-event` with `key` events (a QKeyCode name, down or up)
reaches the i8042 keyboard, which the guest's ps2kbd driver reads
(docs/protocols.md, "console server", CONSOLE_INPUT). This module maps
characters to key codes (US layout, Shift where needed) and sends the
events; it knows nothing of QEMU's process: it is handed the function
that runs one QMP command (QemuTwin._qmp_command), so the host tests give
it a fake.

    keys = Ps2Keys(twin._qmp_command)
    keys.type_text("echo hi\\n")       # "\\n" and "\\r" are Enter
    keys.tap("ctrl", "c")               # a chord: down in order, up reversed
    keys.press("shift"); keys.release("shift")

A real PC's keyboard cannot be driven from here (it needs a key injector
on the rack: not written); tools/pytest_plugin.py's `keys` fixture skips
there."""

from __future__ import annotations

import string
import time

from .errors import ToolError

# Unshifted characters and their QKeyCode (qapi/ui.json) on a US keyboard.
PLAIN = {c: c for c in string.ascii_lowercase + string.digits}
PLAIN.update({
    " ": "spc", "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right",
    "\\": "backslash", ";": "semicolon", "'": "apostrophe", "`": "grave_accent",
    ",": "comma", ".": "dot", "/": "slash",
    "\n": "ret", "\r": "ret", "\t": "tab", "\b": "backspace", "\x7f": "backspace",
    "\x1b": "esc",
})
# Characters typed with Shift: the key they share with an unshifted one.
SHIFTED = {c.upper(): c for c in string.ascii_lowercase}
SHIFTED.update(dict(zip('!@#$%^&*()_+{}|:"~<>?', "1234567890-=[]\\;'`,./")))
SHIFTED = {c: PLAIN[base] for c, base in SHIFTED.items()}

# Every key code this module may send (the ones above plus modifiers and
# the keys a test may press by name): a typo fails here, not in QEMU.
QCODES = frozenset(PLAIN.values()) | {
    "shift", "shift_r", "ctrl", "ctrl_r", "alt", "alt_r", "caps_lock",
    "up", "down", "left", "right", "home", "end", "delete", "insert",
    "pgup", "pgdn", "kp_enter", "kp_divide", "kp_multiply", "kp_subtract", "kp_add",
} | {f"f{i}" for i in range(1, 13)}

# Seconds between two characters: each is a few scan codes, read by the
# guest on an interrupt each; QEMU's keyboard queue is finite.
CHAR_DELAY = 0.02


def qcodes_for(ch: str) -> tuple[str, ...]:
    """The keys that type `ch`: ("a",), ("shift", "a") for "A"; ToolError
    for a character a US keyboard does not have."""
    if ch in PLAIN:
        return (PLAIN[ch],)
    if ch in SHIFTED:
        return ("shift", SHIFTED[ch])
    raise ToolError(f"cannot type {ch!r} on the PS/2 keyboard (US layout, ASCII only)")


def key_event(qcode: str, down: bool) -> dict:
    """One InputEvent of `input-send-event`."""
    if qcode not in QCODES:
        raise ToolError(f"unknown key code {qcode!r} (QEMU QKeyCode names, e.g. 'a', 'shift', 'ret')")
    return {"type": "key", "data": {"down": bool(down), "key": {"type": "qcode", "data": qcode}}}


def chord_events(qcodes: tuple[str, ...] | list[str]) -> list[dict]:
    """Press the keys in order, release them in reverse (Shift+a: shift
    down, a down, a up, shift up)."""
    return [key_event(q, True) for q in qcodes] + [key_event(q, False) for q in reversed(qcodes)]


class Ps2Keys:
    """Key presses on a QEMU twin's PS/2 keyboard; `qmp_command(name,
    **args)` runs one QMP command."""

    def __init__(self, qmp_command, char_delay: float = CHAR_DELAY, sleep=time.sleep):
        self._qmp, self.char_delay, self._sleep = qmp_command, char_delay, sleep

    def send(self, events: list[dict]) -> None:
        self._qmp("input-send-event", events=events)

    def press(self, qcode: str) -> None:
        self.send([key_event(qcode, True)])

    def release(self, qcode: str) -> None:
        self.send([key_event(qcode, False)])

    def tap(self, *qcodes: str) -> None:
        """One chord: `tap("a")`, `tap("shift", "a")`, `tap("ctrl", "c")`."""
        self.send(chord_events(qcodes))

    def type_text(self, text: str) -> None:
        """Type `text`, one character (one QMP command) at a time; every
        character is checked before any key goes down."""
        chords = [qcodes_for(ch) for ch in text]
        for i, chord in enumerate(chords):
            if i:
                self._sleep(self.char_delay)
            self.tap(*chord)
