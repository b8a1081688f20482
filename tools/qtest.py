"""qtest.py - a small client of QEMU's qtest protocol, for pin control.

QEMU started with `-qtest unix:PATH,server=on,wait=off -accel tcg` accepts
text commands on that socket while the guest runs. Each command gets one
answer line, `OK [value]` or `FAIL <reason>`; after `irq_intercept_out
<device>` QEMU also writes `IRQ raise N` / `IRQ lower N` lines whenever the
guest changes output N of that device. They can arrive at any time, also
between a command and its answer, so every line is read by one method that
sorts answers from events.

A qtest command naming a device path or pin QEMU does not know aborts
QEMU, so callers validate names first: PinMap (bottom of this file)
resolves pin names against the board's [gpio] table in board.toml. All socket I/O goes through _recv/_send, which tests replace."""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass

from .errors import ToolError

IRQ_RX = re.compile(r"^IRQ (raise|lower) (\d+)$")


class QtestError(ToolError):
    """QEMU answered FAIL, or the socket closed or timed out."""


@dataclass(frozen=True)
class IrqEvent:
    """One change of an intercepted output: level 1 (raise) or 0 (lower)."""
    line: int
    level: int
    at: float          # the client's clock when the line was read


class QtestClient:
    def __init__(self, sock, clock=time.monotonic, timeout: float = 5.0):
        self.sock = sock
        self.clock = clock
        self.timeout = timeout
        self.events: list[IrqEvent] = []
        self.log: list[str] = []           # every line sent (">") and received ("<")
        self._buf = b""

    @classmethod
    def connect(cls, path: str, **kw) -> "QtestClient":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            raise
        s.settimeout(0.05)
        return cls(s, **kw)

    # -- commands ------------------------------------------------------------
    def command(self, line: str, timeout: float | None = None) -> str:
        """Send one command; return what follows `OK` (may be "");
        QtestError on `FAIL` or when no answer comes in time."""
        if "\n" in line:
            raise ValueError("a qtest command is one line")
        self.log.append("> " + line)
        self._send((line + "\n").encode())
        deadline = self.clock() + (self.timeout if timeout is None else timeout)
        while True:
            answer = self._next_line(deadline)
            if answer is None:
                raise QtestError(f"qtest: no answer to {line!r}")
            if answer == "OK" or answer.startswith("OK "):
                return answer[3:]
            if answer.startswith("FAIL"):
                raise QtestError(f"qtest: {line!r} failed: {answer}")
            # any other line (QEMU prints nothing else today) is logged only

    def set_irq_in(self, device: str, name: str, line: int, level: int) -> None:
        self.command(f"set_irq_in {device} {name} {line} {int(level)}")

    def irq_intercept_out(self, device: str) -> None:
        self.command(f"irq_intercept_out {device}")

    def readl(self, addr: int) -> int:
        return int(self.command(f"readl {addr:#x}"), 16)

    def writel(self, addr: int, value: int) -> None:
        self.command(f"writel {addr:#x} {value:#x}")

    # -- asynchronous IRQ lines ----------------------------------------------
    def poll(self, wait: float = 0.0) -> list[IrqEvent]:
        """Read whatever arrived (waiting up to `wait` s); all events so far."""
        deadline = self.clock() + wait
        while self._next_line(deadline) is not None:
            pass
        return list(self.events)

    def mark(self) -> int:
        """An index into `events` to wait from (wait_irq(since=...))."""
        self.poll()
        return len(self.events)

    def wait_irq(self, line: int, level: int, timeout: float = 5.0,
                 since: int = 0) -> IrqEvent:
        """The first event of output `line` going to `level` at index >= since."""
        deadline = self.clock() + timeout
        while True:
            for ev in self.events[since:]:
                if ev.line == line and ev.level == int(level):
                    return ev
            if self.clock() >= deadline:
                seen = [f"{'raise' if e.level else 'lower'} {e.line}" for e in self.events[since:]]
                raise QtestError(f"qtest: no 'IRQ {'raise' if level else 'lower'} {line}' "
                                 f"within {timeout:g} s (seen: {seen or 'nothing'})")
            self._next_line(min(deadline, self.clock() + 0.1))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- line reader ---------------------------------------------------------
    def _next_line(self, deadline: float) -> str | None:
        """The next line that is not an IRQ event (events are recorded);
        None when the deadline passes first."""
        while True:
            while b"\n" in self._buf:
                raw, self._buf = self._buf.split(b"\n", 1)
                text = raw.decode("utf-8", "replace").rstrip("\r")
                self.log.append("< " + text)
                m = IRQ_RX.match(text)
                if m:
                    self.events.append(IrqEvent(int(m.group(2)),
                                                1 if m.group(1) == "raise" else 0, self.clock()))
                    continue
                return text
            if self.clock() >= deadline:
                return None
            data = self._recv()
            if data is None:
                continue
            if data == b"":
                raise QtestError("qtest: QEMU closed the connection (did it abort?)")
            self._buf += data

    # -- I/O: replaced in tests ------------------------------------------------
    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise QtestError(f"qtest: cannot send: {e}") from None

    def _recv(self) -> bytes | None:
        """Bytes read, b"" at end of stream, None if nothing came (timeout)."""
        try:
            return self.sock.recv(4096)
        except socket.timeout:
            return None
        except BlockingIOError:
            return None
        except OSError as e:
            raise QtestError(f"qtest: cannot read: {e}") from None


# -- pin names -> qtest device paths, checked against board.toml ---------------
PIN_RX = re.compile(r"^P([A-Z])(\d{1,2})$")


class PinMap:
    """Which qtest device paths exist on a board, and what pin names mean.

    From the board's [gpio] table (board.toml, as tools/boards.py loaded it):
        [[gpio.inputs]]  name = "button", pin = "PC13",
                         qtest_device = "/machine/soc/gpioc"
        [[gpio.outputs]] name = "led", pin = "PA5", qtest_device = ...
    The qtest line is the pin's number (`qtest_pin` overrides it).
    A pin is named by its `name` or its `pin`; another pin of a listed
    device ("PC12") is line 12 of the device whose path ends in "gpioc".
    The outputs watched (irq_intercept_out) are those of the first output's
    device: QEMU intercepts one device per instance."""

    def __init__(self, devices, pins=None, watch: str | None = None,
                 input_name: str = "unnamed-gpio-in"):
        self.devices = set(devices)
        self.pins = dict(pins or {})          # lower-case name or pin -> (device, line)
        self.input_name = input_name
        self.watch = watch

    @classmethod
    def from_board(cls, board) -> "PinMap":
        table = board.gpio
        devices, pins, watch = set(), {}, None
        for kind in ("inputs", "outputs"):
            for entry in table.get(kind, ()) or ():
                if not isinstance(entry, dict) or "qtest_device" not in entry:
                    continue
                dev = str(entry["qtest_device"])
                devices.add(dev)
                if kind == "outputs" and watch is None:
                    watch = dev
                line = entry.get("qtest_pin")
                if line is None and PIN_RX.match(str(entry.get("pin", "")).upper()):
                    line = int(PIN_RX.match(str(entry["pin"]).upper()).group(2))
                if line is None:
                    continue
                for key in (entry.get("name"), entry.get("pin")):
                    if key:
                        pins[str(key).lower()] = (dev, int(line))
        # The keyboard's keys are pins of the same GPIO family on the twin
        # (board.toml [[keyboard.key]] pin / twin_pin): their ports' devices
        # sit beside the listed ones (/machine/soc/gpioc -> .../gpiod).
        kb = getattr(board, "keyboard", None)
        if kb is not None and devices:
            parent = sorted(devices)[0].rsplit("/", 1)[0]
            for key in kb.keys:
                m = PIN_RX.match(str(key.sim_pin).upper())
                if m:
                    devices.add(f"{parent}/gpio{m.group(1).lower()}")
        return cls(devices, pins, watch, str(table.get("qtest_input_name", "unnamed-gpio-in")))

    def resolve(self, pin: str) -> tuple[str, int]:
        """'PC13' or 'button' -> ('/machine/soc/gpioc', 13); ToolError when
        board.toml does not describe that device (QEMU would abort)."""
        if pin.lower() in self.pins:
            return self.pins[pin.lower()]
        m = PIN_RX.match(pin.upper())
        if not m or int(m.group(2)) > 15:
            named = sorted(k for k in self.pins if not PIN_RX.match(k.upper()))
            raise ToolError(f"unknown pin '{pin}' (use a name like PC13"
                            + (f" or one of {', '.join(named)})" if named else ")"))
        suffix = "gpio" + m.group(1).lower()
        for dev in sorted(self.devices):
            if dev.rsplit("/", 1)[-1] == suffix:
                return dev, int(m.group(2))
        raise ToolError(f"pin {pin.upper()}: board.toml [gpio] names no qtest device "
                        f".../{suffix} (known: {', '.join(sorted(self.devices)) or 'none'})")
