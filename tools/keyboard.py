"""keyboard.py - the HIL kit's hands and eyes on a keyboard board.

Hands: `press(key)`, `release(key)`, `tap(*keys)`, `chord(*keys)` by the
key names of board.toml [[keyboard.key]]. On the QEMU twin every key is a
pin of its own (design.md, "The keyboard": the host cannot play a matrix),
pulled up and active low, driven through qtest (tools/dut.py QtestPins):
pressed = 0, released = 1. On real hardware pressing needs an actuator,
which does not exist yet (the fixture skips, as the `gpio` one does).

Eyes: `reports()` - the HID reports the keyboard sent, decoded into
tools.usb_keyboard.Report (modifiers, keys, rollover). On the twin the
`hid` task writes each report it would send to USB as one line on its
trace UART (docs/protocols.md, "keyboard pipeline"):

    HID boot <16 hex digits> <stamp> <now>
    HID nkro <58 hex digits> <stamp> <now>

`stamp` is the SYS_CLOCK count at which `keyscan` began the scan that
first saw the key change behind the report (0 when no key event caused
it: a resync after a restart), `now` the count just before `hid` wrote the
line; their difference is the key-to-report latency (`flash.py bench`).
On a real board the same Reports come from the USB interrupt endpoint
(tools/usb_keyboard.HidReportReader)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ToolError
from .usb_keyboard import Report, ReportError, decode_boot, decode_nkro

TRACE_RX = re.compile(r"^HID (boot|nkro) ([0-9a-f]+) (\d+) (\d+)$")
REPORT_KINDS = ("boot", "nkro")
CLOCK_WRAP = 1 << 32            # SYS_CLOCK counts travel as u32 on the MCU boards


@dataclass(frozen=True)
class TraceLine:
    kind: str                   # "boot" or "nkro"
    report: Report
    stamp: int                  # SYS_CLOCK when the causing scan began (0: none)
    now: int                    # SYS_CLOCK when hid wrote the line

    @property
    def latency_cycles(self) -> int | None:
        """Clock counts from the key's scan to the report (None: no key)."""
        return (self.now - self.stamp) % CLOCK_WRAP if self.stamp else None


def parse_trace_line(line: str) -> TraceLine:
    """One trace line -> TraceLine; ValueError (one line) for anything else."""
    m = TRACE_RX.match(line.strip())
    if not m:
        raise ValueError(f"not a HID trace line: {line.strip()!r}")
    kind, hexdata = m.group(1), m.group(2)
    try:
        data = bytes.fromhex(hexdata)
    except ValueError:
        raise ValueError(f"odd hex in HID trace line: {line.strip()!r}") from None
    decode = decode_boot if kind == "boot" else decode_nkro
    try:
        report = decode(data)
    except ReportError as e:
        raise ValueError(str(e)) from None
    return TraceLine(kind, report, int(m.group(3)), int(m.group(4)))


def parse_trace(text: str) -> list[TraceLine]:
    """Every complete line of a trace (a last line without its newline is
    still being written and is left for the next read)."""
    lines = text.split("\n")[:-1]
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(parse_trace_line(line))
        except ValueError as e:
            raise ToolError(f"HID trace line {n}: {e}") from None
    return out


class TraceFile:
    """The twin's trace UART output file, read as it grows."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def lines(self) -> list[TraceLine]:
        try:
            text = self.path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return parse_trace(text)


class Keyboard:
    """Keys by name, and the reports they produced.

    `set_level(pin, level)` drives a twin pin ("PC5"); `source.lines()`
    returns every TraceLine so far. Reports are read per kind; `kind`
    defaults to the first of boot/nkro the image sends."""

    def __init__(self, keys: dict[str, str], set_level, source, kinds: tuple[str, ...]):
        self.keys = dict(keys)          # name -> twin pin, in index order
        self._set = set_level
        self.source = source
        self.kinds = tuple(kinds)
        if not self.kinds or any(k not in REPORT_KINDS for k in self.kinds):
            raise ToolError(f"report kinds {kinds!r}: want 'boot' and/or 'nkro'")

    @property
    def names(self) -> list[str]:
        return list(self.keys)

    def _pin(self, key: str) -> str:
        try:
            return self.keys[key]
        except KeyError:
            raise ToolError(f"no key '{key}' on this board (keys: {', '.join(self.keys)})") from None

    # -- hands ---------------------------------------------------------------
    def press(self, key: str) -> None:
        self._set(self._pin(key), 0)

    def release(self, key: str) -> None:
        self._set(self._pin(key), 1)

    def release_all(self) -> None:
        for key in self.keys:
            self.release(key)

    def tap(self, *keys: str, hold: float = 0.05, gap: float = 0.05) -> None:
        """Each key pressed and released in turn."""
        for key in keys:
            self.press(key)
            time.sleep(hold)
            self.release(key)
            time.sleep(gap)

    def chord(self, *keys: str, hold: float = 0.1) -> None:
        """All keys pressed in order, held, released in reverse order."""
        for key in keys:
            self.press(key)
            time.sleep(0.02)
        time.sleep(hold)
        for key in reversed(keys):
            self.release(key)
            time.sleep(0.02)

    # -- eyes ----------------------------------------------------------------
    def _kind(self, kind: str | None) -> str:
        kind = kind or self.kinds[0]
        if kind not in self.kinds:
            raise ToolError(f"this image sends {'/'.join(self.kinds)} reports, not {kind}")
        return kind

    def trace(self, kind: str | None = None) -> list[TraceLine]:
        kind = self._kind(kind)
        return [t for t in self.source.lines() if t.kind == kind]

    def mark(self, kind: str | None = None) -> int:
        """A position in the report stream: reports(since=mark())."""
        return len(self.trace(kind))

    def reports(self, since: int = 0, kind: str | None = None) -> list[Report]:
        return [t.report for t in self.trace(kind)[since:]]

    def wait_reports(self, count: int, since: int = 0, kind: str | None = None,
                     timeout: float = 10.0) -> list[Report]:
        """At least `count` reports after `since`, then whatever follows
        within a short quiet time (so a test sees a burst whole)."""
        deadline = time.monotonic() + timeout
        got = self.reports(since, kind)
        while len(got) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"wanted {count} HID report(s), got {len(got)}: {got}")
            time.sleep(0.02)
            got = self.reports(since, kind)
        return self.settle(since, kind)

    def settle(self, since: int = 0, kind: str | None = None, quiet: float = 0.3,
               timeout: float = 10.0) -> list[Report]:
        """The reports after `since` once none has arrived for `quiet` s."""
        deadline = time.monotonic() + timeout
        got = self.reports(since, kind)
        last_change = time.monotonic()
        while time.monotonic() - last_change < quiet and time.monotonic() < deadline:
            time.sleep(0.03)
            now = self.reports(since, kind)
            if len(now) != len(got):
                got, last_change = now, time.monotonic()
        return got

    def state(self, kind: str | None = None) -> Report | None:
        """The last report sent (what the host believes is held)."""
        reports = self.reports(0, kind)
        return reports[-1] if reports else None


def report_kinds(kconfig: dict[str, str]) -> tuple[str, ...]:
    """Which reports an image sends, from its .config (Kconfig menu
    'Keyboard': CONFIG_KEYBOARD_REPORT_BOOT / _NKRO / _BOTH)."""
    if kconfig.get("KEYBOARD_REPORT_BOOT") == "y":
        return ("boot",)
    if kconfig.get("KEYBOARD_REPORT_NKRO") == "y":
        return ("nkro",)
    return ("boot", "nkro")


def twin_keys(board) -> dict[str, str]:
    """Key name -> the twin pin wired to it (board.toml [[keyboard.key]])."""
    kb = getattr(board, "keyboard", None)
    if kb is None:
        return {}
    return {k.name: k.sim_pin for k in kb.keys}


MODIFIER_BASE = 0xE0            # usage 0xE0 + n is bit n of the modifier byte


class Layout:
    """A board's keys and keymap as the tests reason about them: key names
    in index order and each layer's tools.keymap.Action per key."""

    def __init__(self, names: list[str], layers: list[tuple[str, list]], tapping_term_ms: int):
        self.names, self.layers, self.tapping_term_ms = list(names), list(layers), tapping_term_ms

    def action(self, key: str, layer: int = 0):
        return self.layers[layer][1][self.names.index(key)]

    def resolved(self, key: str, active: list[int]):
        """The action a key has with `active` layers on (highest first wins;
        Trans falls through), as the firmware's keymap looks it up."""
        for layer in sorted(active, reverse=True):
            a = self.action(key, layer)
            if a.kind != "Trans":
                return a
        return None

    def keys_of(self, kind: str, layer: int = 0) -> list[str]:
        return [n for n in self.names if self.action(n, layer).kind == kind]

    def usage_keys(self, layer: int = 0) -> list[str]:
        """Keys that send a non-modifier usage on `layer`."""
        return [n for n in self.keys_of("Key", layer) if self.action(n, layer).arg < MODIFIER_BASE]

    def modifier_keys(self, layer: int = 0) -> list[str]:
        return [n for n in self.keys_of("Key", layer) if self.action(n, layer).arg >= MODIFIER_BASE]

    def one(self, kind: str, layer: int = 0) -> str:
        keys = self.keys_of(kind, layer)
        if not keys:
            raise AssertionError(f"the keymap has no {kind} key on layer {layer}: the keyboard "
                                 f"tests need one (board/<board>/keymap.toml)")
        return keys[0]


def expected(action) -> Report:
    """The report a single held key with `action` (Key or the held side of
    Mt) produces alone."""
    if action.kind == "Mt":
        return make_report(action.mods)
    u = action.arg
    if u >= MODIFIER_BASE:
        return make_report(1 << (u - MODIFIER_BASE))
    return make_report(0, u)


def make_report(modifiers: int = 0, *usages: int) -> Report:
    return Report(modifiers=modifiers, keys=frozenset(usages), rollover=False)


EMPTY = make_report()


def load_layout(board) -> Layout:
    """The board's keys (board.toml) and keymap (keymap.toml), checked as
    the build checks them (tools/keymap.py)."""
    from . import keymap
    if getattr(board, "keyboard", None) is None:
        raise ToolError(f"board '{board.name}' has no [keyboard] in its board.toml")
    names = [k.name for k in board.keyboard.keys]
    km = keymap.load(board.directory / "keymap.toml", names)
    return Layout(names, km.layers, km.tapping_term_ms)
