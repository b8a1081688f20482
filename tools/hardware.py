"""hardware.py - the real-board back-end of the HIL kit: one physical board.

The console is a pyserial port (`serial.serial_for_url(url, baudrate=board.toml
[console] baud)`): a device path such as /dev/ttyACM0, or an rfc2217:// or
socket:// URL, read through the same Console class as the twins. Reset (and
flashing, unless told not to) goes through pyocd on the probe chosen by
unique id, with the probe-selection code of tools/flashers/pyocd_flasher.py.

start() chooses the probe (no probe: the flasher's one-line NoProbe error),
finds the console port (--port, else the USB VID:PID of board.toml
[console] usb_serial through serial.tools.list_ports; none: one line saying
what to connect or pass), opens the console, flashes the image (program,
verify, reset; the console output of those boots is drained) and resets
the board once more, so the session sees one whole fresh boot from its
first byte. reset() is `session.target.reset()`
on a short pyocd session. Pin control needs an actuator (dut.HardwarePins).

Every pyserial / pyocd call goes through the small methods at the bottom or
the PyocdApi object, which the tests replace."""

from __future__ import annotations

from pathlib import Path

from .console import Console
from .errors import ToolError

CONSOLE_TIMEOUT = 0.05        # pyserial read timeout: Console polls with it
URL_SCHEMES = ("rfc2217://", "socket://", "loop://", "spy://", "alt://", "hwgrep://")


def parse_usb_id(text: str) -> tuple[int, int]:
    """'0483:374b' -> (0x0483, 0x374b)."""
    try:
        vid, pid = str(text).split(":")
        return int(vid, 16), int(pid, 16)
    except ValueError:
        raise ToolError(f"board.toml [console] usb_serial = {text!r}: expected 'VID:PID' "
                        f"in hex, e.g. '0483:374b'") from None


def usb_serial_ids(board) -> list[tuple[int, int]]:
    """The USB serial devices (VID, PID) that carry the board's console:
    board.toml [console] usb_serial, one 'VID:PID' or a list of them."""
    value = board.console.get("usb_serial")
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [parse_usb_id(v) for v in values]


def find_console_port(board, probe_uid: str | None = None, comports=None,
                      hint: str = "connect the board's USB debug port") -> str:
    """The console's device path, found by the USB ids of [console]
    usb_serial. With several matches, the one whose USB serial number is
    the probe's unique id (the ST-LINK's VCP and its debug interface are one
    USB device) wins; otherwise the choice is the user's (--port)."""
    ids = usb_serial_ids(board)
    if not ids:
        raise ToolError(f"board '{board.name}': no console port known (board.toml [console] "
                        f"has no usb_serial); pass --port /dev/ttyACM0 (or an rfc2217:// URL)")
    if comports is None:
        comports = _comports
    found = [p for p in comports() if (getattr(p, "vid", None), getattr(p, "pid", None)) in ids]
    wanted = ", ".join(f"{v:04x}:{p:04x}" for v, p in ids)
    if board.console.get("usb_cdc"):
        # The keyboard's own device (CONFIG_TWIN=n): its console is the
        # CDC-ACM function at interface CDC_CONSOLE_INTERFACE; a port whose
        # location names another interface is not it (one that names none
        # is kept: not every platform says).
        from .usb_keyboard import CDC_CONSOLE_INTERFACE, _interface_number
        found = [p for p in found if _interface_number(p) in (None, CDC_CONSOLE_INTERFACE)]
    if not found:
        raise ToolError(f"no serial console found (USB {wanted}): {hint}, "
                        f"or pass --port /dev/ttyACM0")
    if len(found) > 1 and probe_uid:
        same = [p for p in found if str(getattr(p, "serial_number", "") or "") == probe_uid]
        if len(same) == 1:
            found = same
    if len(found) > 1:
        raise ToolError(f"{len(found)} serial consoles (USB {wanted}) attached; pick one with "
                        f"--port: " + ", ".join(
                            f"{p.device} (serial {getattr(p, 'serial_number', None) or '?'})"
                            for p in found))
    return found[0].device


def _comports():
    try:
        from serial.tools.list_ports import comports
    except Exception as e:
        raise ToolError(f"pyserial is not importable ({type(e).__name__}: {e}); "
                        f"run `python3 flash.py --help` to set up .venv") from None
    return comports()


class HardwareBoard:
    """start / reset / stop one physical board (the Dut's backend)."""

    SETTLE = 0.5      # s of console silence that ends the boots of programming

    def __init__(self, board, build: Path, probe: str | None = None, port: str | None = None,
                 flash: bool = True, api=None, out=print, comports=None):
        from .flashers.pyocd_flasher import PyocdFlasher
        self.board, self.build = board, Path(build)
        self.probe_uid, self.port, self.want_flash = probe, port, flash
        self.flasher = PyocdFlasher(board, api, out=out)   # no pyocd method: one line
        self.out, self.comports = out, comports
        self.baud = int(board.console.get("baud", 115200))
        self.probe = None
        self.console: Console | None = None
        self.flashed = False

    def preflight(self) -> tuple[str, str]:
        """Choose the probe and the console port without opening either:
        (probe uid, port). Each missing piece is one ToolError line."""
        self.probe = self.flasher.choose_probe(self.probe_uid)
        if not self.port:
            self.port = find_console_port(self.board, self.probe.uid, self.comports,
                                          self.flasher.hint)
        return self.probe.uid, self.port

    def start(self) -> Console:
        if self.probe is None or not self.port:
            self.preflight()
        # Open before the reset, so no line of the boot is lost.
        self.console = Console(self._open_serial(self.port),
                               tx_delay=self.board.console.get("tx_delay_us", 0) / 1e6)
        try:
            if self.want_flash and not self.flashed:
                self.flasher.flash(self.probe, self.build / "nagi.hex")
                self.flashed = True
                # Programming resets the core (pyocd's programmer, then the
                # flasher): swallow those boots, so that the one below is the
                # session's first and only boot.
                self.console.drain(self.SETTLE)
            self.reset()
        except BaseException:
            self.stop()
            raise
        return self.console

    def reset(self) -> None:
        """session.target.reset() on the chosen probe (the core runs on)."""
        self.flasher.reset(self.probe)

    def stop(self) -> None:
        if self.console is not None:
            self.console.close()
            self.console = None

    def describe(self) -> str:
        uid = self.probe.uid if self.probe else "?"
        return f"hardware: probe {uid}, console {self.port} at {self.baud} baud"

    # -- I/O: replaced in tests ------------------------------------------
    def _open_serial(self, url: str):
        try:
            import serial
        except Exception as e:
            raise ToolError(f"pyserial is not importable ({type(e).__name__}: {e})") from None
        try:
            return serial.serial_for_url(url, baudrate=self.baud, timeout=CONSOLE_TIMEOUT)
        except (serial.SerialException, OSError, ValueError) as e:
            text = str(e).splitlines()[0] if str(e) else type(e).__name__
            if "Permission denied" in text or "Errno 13" in text:
                text += " (add yourself to the 'dialout' group, or run as root)"
            raise ToolError(f"cannot open the console {url}: {text}") from None
