"""dut.py - the device under test as the HIL tests see it.

One object with the console (expect, send_line, run a shell command),
reset, the full transcript, pin control (set_pin / press / pin_events /
wait_pin) and the PS/2 keyboard (key_down / key_up / tap_keys / type_text),
whatever the back-end (QEMU twin here; a real board through the
same Console: tools/hardware.py). Pins are driven by qtest on the twin
(QtestPins); on real hardware they need an actuator that is not written
yet (HardwarePins raises NotImplementedError). Keys are typed over the
pc twin's QMP (tools/ps2_keys.py); a back-end without `keys` says so."""

from __future__ import annotations

import re

import time

from .console import Console, ConsoleTimeout
from .errors import ToolError

PROMPT = "nagi> "
PROMPT_RX = r"nagi> "
KERNEL_LOG_PREFIX = "nagi: "   # the kernel's own console lines (printk)
# Lines that arrive whenever something happens, not as a command's output:
# the kernel's printk lines and init's (supervision reports: a task was
# killed, a program died, was restarted or given up on).
# Lines that arrive whenever they are printed: the kernel's, init's, and
# the network servers' (their address, the NIC coming and going).
ASYNC_LINE_RX = re.compile(r"^(?:nagi: |init: |net: |httpd: )")
#: An asynchronous line printed (whole, by the kernel) into the middle of
#: a line the shell was writing through the console server: "kill: o" +
#: "init: e1000 (task 8) died; ...\n" + "k\n". Taken for one when it
#: starts right after a non-blank character.
SPLICED_LINE_RX = re.compile(r"(?<=[^\s])((?:nagi|init|net|httpd): [^\n]*)\n")
#: A pattern for a whole asynchronous line: `^` and one of its prefixes.
ASYNC_ANCHOR_RX = re.compile(r"\^(?=(?:nagi|init|net|httpd): )")


def async_anchored(pattern: str) -> str:
    """`pattern` where a leading `^` before an asynchronous line's prefix
    also matches where such a line was spliced into another (as
    SPLICED_LINE_RX takes it): "kill: ok" + "nagi: system halted ...",
    when the halt leaves the shell's newline unwritten for good."""
    return ASYNC_ANCHOR_RX.sub(r"(?:^|(?<=[^\\s]))", pattern, count=1) if pattern.startswith("^") else pattern


def unsplice(text: str) -> str:
    """`text` with each asynchronous line that landed inside another line
    moved out in front of it, so that both read whole again."""
    while True:
        m = SPLICED_LINE_RX.search(text)
        if m is None:
            return text
        line_start = text.rfind("\n", 0, m.start()) + 1
        text = (text[:line_start] + m.group(1) + "\n" + text[line_start:m.start()]
                + text[m.end():])


class QtestPins:
    """Pins of the twin through qtest: inputs driven with set_irq_in, the
    outputs of one device (PinMap.watch) intercepted at attach time, since
    QEMU intercepts one device per instance."""

    def __init__(self, client, pinmap):
        self.client, self.map = client, pinmap
        if pinmap.watch:
            client.irq_intercept_out(pinmap.watch)

    def set(self, name: str, level: int) -> None:
        device, line = self.map.resolve(name)       # checked first: QEMU aborts on bad paths
        self.client.set_irq_in(device, self.map.input_name, line, 1 if level else 0)

    def _watched(self, name: str) -> int:
        device, line = self.map.resolve(name)
        if device != self.map.watch:
            raise ToolError(f"pin {name}: only the outputs of {self.map.watch or '(no device)'} "
                            f"are watched on this twin (QEMU intercepts one device)")
        return line

    def _name(self, line: int) -> str:
        return "P" + self.map.watch.rsplit("/", 1)[-1][len("gpio"):].upper() + str(line)

    def mark(self) -> int:
        return self.client.mark()

    def events(self, since: int = 0) -> list[tuple[str, int]]:
        return [(self._name(e.line), e.level) for e in self.client.poll()[since:]]

    def wait(self, name: str, level: int, timeout: float, since: int) -> None:
        self.client.wait_irq(self._watched(name), level, timeout, since)


PIN_CONTROL_ON_HARDWARE = "pin control needs an actuator; not available on hardware"


class HardwarePins:
    """Real boards: pins need an actuator (a rack's relay or GPIO adapter),
    which is not written yet; every call says so. The plugin's `gpio`
    fixture skips with PIN_CONTROL_ON_HARDWARE before a test gets here."""

    def _no(self, *_a, **_k):
        raise NotImplementedError(f"{PIN_CONTROL_ON_HARDWARE} (pin control on real hardware "
                                  f"is not implemented yet: it needs an actuator described "
                                  f"in a rack file)")

    set = mark = events = wait = _no


class Dut:
    def __init__(self, console: Console, backend=None, board=None, pins=None):
        self.console = console
        self.backend = backend
        self.board = board
        self.pins = pins
        self.boot_output = ""

    # -- pins (keys, buttons, LEDs) --------------------------------------------
    def _pins(self):
        if self.pins is None:
            name = self.board.name if self.board is not None else "this device"
            raise ToolError(f"{name}: no pin control (board.toml grants no 'gpio' capability, "
                            f"or the twin was started without qtest)")
        return self.pins

    def set_pin(self, name: str, level: int) -> None:
        """Drive input pin `name` ("PC13", or an alias from board.toml [gpio])."""
        self._pins().set(name, level)

    def press(self, name: str = "button", hold: float = 0.1, level: int = 1) -> None:
        """Drive `name` to `level` for `hold` seconds, then back."""
        self.set_pin(name, level)
        time.sleep(hold)
        self.set_pin(name, 0 if level else 1)

    def pin_mark(self) -> int:
        """A position in the pin events, for pin_events(since) / wait_pin(since)."""
        return self._pins().mark()

    def pin_events(self, since: int = 0) -> list[tuple[str, int]]:
        """Output changes seen so far: [("PA5", 1), ("PA5", 0), ...]."""
        return self._pins().events(since)

    def wait_pin(self, name: str, level: int, timeout: float = 5.0, since: int = 0) -> None:
        """Wait until output `name` goes to `level` (an event at index >= since)."""
        self._pins().wait(name, level, timeout, since)

    # -- the PS/2 keyboard (pc twin: QMP input-send-event) ----------------------
    def _keys(self):
        keys = getattr(self.backend, "keys", None)
        if keys is None:
            name = self.board.name if self.board is not None else "this device"
            raise ToolError(f"{name}: no key injection (board.toml has no [ps2] controller, "
                            f"or this back-end cannot press keys: real hardware needs an injector)")
        return keys

    def key_down(self, qcode: str) -> None:
        """Press key `qcode` (QEMU's QKeyCode names: "a", "shift", "ret")."""
        self._keys().press(qcode)

    def key_up(self, qcode: str) -> None:
        self._keys().release(qcode)

    def tap_keys(self, *qcodes: str) -> None:
        """One chord: tap_keys("shift", "a"); tap_keys("ctrl", "c")."""
        self._keys().tap(*qcodes)

    def type_text(self, text: str) -> None:
        """Type `text` on the keyboard (US layout; "\n" is Enter)."""
        self._keys().type_text(text)

    @property
    def transcript(self) -> str:
        return self.console.transcript

    def mark(self) -> int:
        return self.console.mark()

    def expect(self, pattern: str, timeout: float = 10.0, since: int | None = None) -> re.Match:
        return self.console.expect(async_anchored(pattern), timeout, since)

    def send_line(self, line: str) -> None:
        self.console.send_line(line)

    def wait_for_boot(self, timeout: float = 60.0) -> str:
        """Wait for the first prompt; returns the boot output before it."""
        start = self.console._pos
        m = self.expect(PROMPT_RX, timeout)
        self.boot_output = self.console.transcript[start:m.start()]
        return self.boot_output

    def run(self, command: str, timeout: float = 10.0, kernel_lines: bool = False,
            typed: bool = False) -> list[str]:
        """Send a command; return its output lines (without the echoed
        command line) up to the next prompt. The kernel's own lines
        (`nagi: ...`), init's (`init: ...`) and the network servers' (`net: `, `httpd: `) arrive whenever they are printed; they are left out unless
        kernel_lines=True (use expect(..., since=mark) for them). With
        typed=True the command is typed on the keyboard (type_text), not
        sent over the serial line."""
        self.console.drain(0.0)      # forget stray output before the command
        self._finish_stray_line()
        if typed:
            self.type_text(command + "\n")
        else:
            self.send_line(command)
        start = self.console._pos
        m = self.expect(PROMPT_RX, timeout)
        text = unsplice(self.console.transcript[start:m.start()])
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        # The shell's echo of what we typed: the first line that is not
        # an asynchronous one (a server's line may come before it).
        echo = next((i for i, l in enumerate(lines) if not ASYNC_LINE_RX.match(l)), None)
        if echo is not None and lines[echo].strip() == command.strip():
            lines.pop(echo)
        if not kernel_lines:
            lines = [l for l in lines if not ASYNC_LINE_RX.match(l)]
        return lines

    def _finish_stray_line(self, timeout: float = 2.0) -> None:
        """A server's line that was half printed when the command starts
        (httpd's `listening on port 80` right after the prompt on
        mps2-an386) would have its tail taken for the command's output:
        wait until it ends (its newline, at most `timeout`), and forget it."""
        t = self.console.transcript
        tail = t[t.rfind("\n") + 1:]
        if not tail or tail.endswith(PROMPT_RX):
            return
        try:
            self.console.expect(r"\n", timeout)
        except ConsoleTimeout:
            pass
        self.console.drain(0.0)

    def reset(self, timeout: float = 60.0) -> str:
        """Reset the board and wait for the prompt again."""
        self.console.drain(0.0)
        self.backend.reset()
        return self.wait_for_boot(timeout)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.stop()
