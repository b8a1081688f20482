"""flashers/pyocd_flasher.py - the `pyocd` flash method: program nagi.hex through a
CMSIS-DAP or ST-Link probe, read back and compare what it programmed (the
HEX's segments: the gaps between them are not written, and pyocd leaves
sectors it does not touch as they were), reset.

The board's [[flash]] entry with method = "pyocd" names the pyocd target
(`stm32l475xg` is built into pyocd 0.46). Probes are chosen by unique id:
one attached probe is used; several need --probe UID. Every call into
pyocd goes through PyocdApi, which the tests replace; whatever pyocd or
libusb raises becomes one ToolError line (pyocd missing, no permission on
the USB device, no probe)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolError
from . import NoProbe, flash_entry, flash_region, progress_bar

# What to plug in, per pyocd target, for the "no probe" message.
CONNECT_HINTS = {
    "stm32l475xg": "connect the board's ST-LINK USB port (CN7)",
}
DEFAULT_HINT = "connect the board's debug probe (CMSIS-DAP or ST-LINK) over USB"


@dataclass(frozen=True)
class Probe:
    uid: str
    description: str


def _usb_problem(e: Exception) -> str:
    text = f"{type(e).__name__}: {e}"
    if isinstance(e, PermissionError) or "Errno 13" in text or "Access denied" in text \
            or "LIBUSB_ERROR_ACCESS" in text:
        return ("no permission to open the USB debug probe: install pyocd's udev rules "
                "(https://github.com/pyocd/pyOCD/tree/main/udev) or run as root")
    return f"pyocd: {text.splitlines()[0] if text else type(e).__name__}"


class PyocdApi:
    """The pyocd calls the flasher makes, one method each (tests replace it)."""

    def _import(self):
        try:
            from pyocd.core.helpers import ConnectHelper
            from pyocd.flash.file_programmer import FileProgrammer
        except Exception as e:      # ImportError, or a broken dependency
            raise ToolError(f"pyocd is not importable ({type(e).__name__}: {e}); "
                            f"run `python3 flash.py --help` to set up .venv") from None
        return ConnectHelper, FileProgrammer

    def list_probes(self) -> list[Probe]:
        helper, _ = self._import()
        try:
            probes = helper.get_all_connected_probes(blocking=False) or []
        except Exception as e:
            raise ToolError(_usb_problem(e)) from None
        return [Probe(str(p.unique_id), str(getattr(p, "description", "") or
                                            getattr(p, "product_name", "") or "probe"))
                for p in probes]

    def open_session(self, uid: str, target: str):
        helper, _ = self._import()
        try:
            session = helper.session_with_chosen_probe(unique_id=uid, target_override=target,
                                                       blocking=False)
            if session is None:
                raise ToolError(f"debug probe {uid} is gone")
            session.open()
        except ToolError:
            raise
        except Exception as e:
            raise ToolError(_usb_problem(e)) from None
        return session

    def program(self, session, path: Path, progress) -> None:
        _, programmer = self._import()
        programmer(session, progress=progress, chip_erase="sector", trust_crc=False
                   ).program(str(path))

    def read(self, session, addr: int, size: int) -> bytes:
        return bytes(session.target.read_memory_block8(addr, size))

    def reset(self, session) -> None:
        session.target.reset()

    def close(self, session) -> None:
        session.close()


def hex_segments(hex_path: Path, board: str) -> list[tuple[int, bytes]]:
    """(address, bytes) of each contiguous run of data in an Intel HEX file."""
    from intelhex import IntelHex, IntelHexError
    if not hex_path.is_file():
        raise ToolError(f"no image at {hex_path}; run `python3 flash.py build --board "
                        f"{board}` first")
    try:
        ih = IntelHex(str(hex_path))
    except (OSError, IntelHexError) as e:
        raise ToolError(f"{hex_path}: {e}") from None
    segments = [(lo, ih.tobinstr(start=lo, end=hi - 1)) for lo, hi in ih.segments()]
    if not segments:
        raise ToolError(f"{hex_path} holds no data")
    return segments


class PyocdFlasher:
    """Program one board through pyocd."""

    def __init__(self, board, api: PyocdApi | None = None, out=print):
        entry = flash_entry(board, "pyocd")
        if entry is None:
            raise ToolError(f"board '{board.name}' has no pyocd flash method in board.toml")
        self.board, self.api, self.out = board, api or PyocdApi(), out
        self.target = str(entry.get("target", "cortex_m"))
        self.hint = entry.get("connect") or CONNECT_HINTS.get(self.target, DEFAULT_HINT)

    def choose_probe(self, uid: str | None) -> Probe:
        """The probe to use: `uid` if given (it must be attached), else the
        only one attached. NoProbe if none is attached."""
        probes = self.api.list_probes()
        if uid is not None:
            for p in probes:
                if p.uid == uid:
                    return p
            attached = ", ".join(p.uid for p in probes) or "none"
            raise ToolError(f"debug probe {uid} is not attached (attached: {attached})")
        if not probes:
            raise NoProbe(f"no debug probe found: {self.hint} or pass --probe UID")
        if len(probes) > 1:
            raise ToolError(f"{len(probes)} debug probes attached; pick one with --probe UID: "
                            + ", ".join(f"{p.uid} ({p.description})" for p in probes))
        return probes[0]

    def flash(self, probe: Probe, hex_path: Path) -> None:
        """Program hex_path, read each of its segments back and compare, reset."""
        segments = hex_segments(hex_path, self.board.name)
        base, size = flash_region(self.board)
        for addr, data in segments:
            if not (base <= addr and addr + len(data) <= base + size):
                raise ToolError(f"{hex_path.name}: {len(data)} bytes at 0x{addr:08x} are outside "
                                f"the flash (0x{base:08x}+0x{size:x})")
        self.out(f"pyocd: programming {hex_path.name} on {probe.uid} ({probe.description}), "
                 f"target {self.target}")
        with self.session(probe) as session:
            bar = progress_bar(f"flash {hex_path.name}")
            try:
                self.api.program(session, hex_path, bar.update_to)
            finally:
                bar.close()
            for addr, data in segments:
                got = self.api.read(session, addr, len(data))
                if got != data:
                    bad = next((i for i, (a, b) in enumerate(zip(got, data)) if a != b),
                               min(len(got), len(data)))
                    raise ToolError(f"verify failed: flash differs from {hex_path.name} at "
                                    f"0x{addr + bad:08x}")
            total = sum(len(d) for _, d in segments)
            self.out(f"pyocd: verified {total} bytes in {len(segments)} segment(s)")
            self.api.reset(session)
            self.out("pyocd: reset; the board runs the new image")

    def reset(self, probe: Probe) -> None:
        """Reset the target through the probe (the core runs on)."""
        with self.session(probe) as session:
            self.api.reset(session)

    @contextmanager
    def session(self, probe: Probe):
        """A pyocd session on probe; whatever pyocd or libusb raises inside
        becomes one ToolError line, and the session is always closed."""
        session = self.api.open_session(probe.uid, self.target)
        try:
            yield session
        except ToolError:
            raise
        except Exception as e:
            raise ToolError(_usb_problem(e)) from None
        finally:
            try:
                self.api.close(session)
            except Exception:
                pass
