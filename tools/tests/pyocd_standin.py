"""A stand-in for the pyocd calls tools/flashers/pyocd_flasher.py makes,
held to the real pyocd installed in .venv:

- every call is bound to the real function's signature
  (inspect.signature(...).bind), so a wrong, missing or renamed argument
  is a TypeError, as it would be against pyocd;
- an argument pyocd documents as deprecated ("@param x Deprecated") is
  refused, and session options must be ones pyocd knows (OPTIONS_INFO);
- the probes carry the attributes pyocd's DebugProbe has;
- the target's flash behaves as pyocd programs an STM32L4 with sector
  erase: sectors the HEX touches are erased (2 KiB) and its bytes written;
  bytes of those sectors it does not cover read 0xff unless keep_unwritten
  (pyocd's option, off by default); every other sector keeps its old
  contents (the fake starts with old contents, not 0xff).

Install with `PyocdStandin(...).install(monkeypatch)`; the real
PyocdApi then runs against it."""

from __future__ import annotations

import inspect
import re

from pyocd.core.helpers import ConnectHelper
from pyocd.core.options import OPTIONS_INFO
from pyocd.core.session import Session
from pyocd.core.soc_target import SoCTarget
from pyocd.flash.file_programmer import FileProgrammer
from pyocd.probe.debug_probe import DebugProbe

SECTOR = 2048                       # STM32L4 flash page (pyocd's sector)
# the real functions, taken before install() replaces the first two
REAL_GET_PROBES = ConnectHelper.get_all_connected_probes
REAL_SESSION_WITH_CHOSEN_PROBE = ConnectHelper.session_with_chosen_probe
REAL_FILE_PROGRAMMER = FileProgrammer


def bind(real, *args, **kwargs) -> dict:
    """The arguments of a call as the real function would take them."""
    bound = inspect.signature(real).bind(*args, **kwargs)
    deprecated = set(re.findall(r"@param (\w+) Deprecated", inspect.getdoc(real) or ""))
    if deprecated & set(bound.arguments):
        raise TypeError(f"{real.__qualname__}: deprecated argument "
                        f"{', '.join(sorted(deprecated & set(bound.arguments)))}")
    return {k: v for k, v in bound.arguments.items() if k != "self"}


class StandinProbe:
    def __init__(self, unique_id: str, description: str):
        for attr in ("unique_id", "description"):
            assert hasattr(DebugProbe, attr), f"pyocd's DebugProbe has no {attr}"
        self.unique_id, self.description = unique_id, description


class PyocdStandin:
    def __init__(self, probes=(("066DFF", "STLINK-V2-1"),), base=0x0800_0000,
                 size=64 * 1024, old=b"OLD!", corrupt_at: int | None = None):
        self.probes = [StandinProbe(u, d) for u, d in probes]
        self.base = base
        self.flash = bytearray((old * (size // len(old) + 1))[:size])
        self.corrupt_at = corrupt_at        # an address the programming gets wrong
        self.calls: list[tuple] = []
        self.progress: list[float] = []

    def install(self, monkeypatch) -> "PyocdStandin":
        import pyocd.flash.file_programmer as fp
        standin = self

        class Helper:
            @staticmethod
            def get_all_connected_probes(*args, **kwargs):
                standin.calls.append(("get_all_connected_probes",
                                      bind(REAL_GET_PROBES,
                                           *args, **kwargs)))
                return list(standin.probes)

            @staticmethod
            def session_with_chosen_probe(*args, **kwargs):
                a = bind(REAL_SESSION_WITH_CHOSEN_PROBE, *args, **kwargs)
                unknown = set(a.get("kwargs", {})) - set(OPTIONS_INFO)
                if unknown:
                    raise TypeError(f"not pyocd session options: {sorted(unknown)}")
                standin.calls.append(("session_with_chosen_probe", a))
                ids = [p.unique_id for p in standin.probes]
                return StandinSession(standin) if a.get("unique_id") in ids else None

        class Programmer:
            def __init__(self, *args, **kwargs):
                self.a = bind(REAL_FILE_PROGRAMMER.__init__, None, *args, **kwargs)
                standin.calls.append(("FileProgrammer", {k: v for k, v in self.a.items()
                                                         if k not in ("session", "progress")}))

            def program(self, *args, **kwargs):
                a = bind(REAL_FILE_PROGRAMMER.program, self, *args, **kwargs)
                standin.calls.append(("program", a))
                standin._program(a["file_or_path"], self.a)

        monkeypatch.setattr(ConnectHelper, "get_all_connected_probes",
                            Helper.get_all_connected_probes)
        monkeypatch.setattr(ConnectHelper, "session_with_chosen_probe",
                            Helper.session_with_chosen_probe)
        monkeypatch.setattr(fp, "FileProgrammer", Programmer)
        return self

    def _program(self, path: str, options: dict) -> None:
        from intelhex import IntelHex
        ih = IntelHex(path)
        progress = options.get("progress")
        keep = options.get("keep_unwritten")
        keep = OPTIONS_INFO["keep_unwritten"].default if keep is None else keep
        if options.get("chip_erase") == "chip":
            self.flash[:] = b"\xff" * len(self.flash)
        written = set(ih.addresses())
        sectors = sorted({(a - self.base) // SECTOR for a in written})
        for n, sector in enumerate(sectors):
            lo = sector * SECTOR
            if not keep:
                self.flash[lo:lo + SECTOR] = b"\xff" * SECTOR
            for off in range(lo, lo + SECTOR):
                if off + self.base in written:
                    self.flash[off] = ih[off + self.base]
            if progress:
                progress((n + 1) / len(sectors))
                self.progress.append((n + 1) / len(sectors))
        if self.corrupt_at is not None:
            self.flash[self.corrupt_at - self.base] ^= 0x5A

    def read(self, addr: int, size: int) -> list[int]:
        off = addr - self.base
        if off < 0 or off + size > len(self.flash):
            raise RuntimeError(f"TransferFaultError: 0x{addr:08x}+{size} is not memory")
        return list(self.flash[off:off + size])


class StandinSession:
    def __init__(self, standin: PyocdStandin):
        self.standin = standin
        self.target = StandinTarget(standin)

    def open(self, *args, **kwargs):
        self.standin.calls.append(("open", bind(Session.open, self, *args, **kwargs)))

    def close(self, *args, **kwargs):
        self.standin.calls.append(("close", bind(Session.close, self, *args, **kwargs)))


class StandinTarget:
    def __init__(self, standin: PyocdStandin):
        self.standin = standin

    def read_memory_block8(self, *args, **kwargs):
        a = bind(SoCTarget.read_memory_block8, self, *args, **kwargs)
        self.standin.calls.append(("read_memory_block8", a))
        return self.standin.read(a["addr"], a["size"])

    def reset(self, *args, **kwargs):
        self.standin.calls.append(("reset", bind(SoCTarget.reset, self, *args, **kwargs)))
