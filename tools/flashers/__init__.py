"""flashers - how an image reaches a real board: one class per method.

  pyocd  flashers/pyocd_flasher.py  CMSIS-DAP / ST-Link probe (nagi.hex, verified)
  dfu    flashers/dfu_flasher.py    STM32 system bootloader over USB DFU (nagi.bin)

The methods a board offers, in order of preference, are its board.toml
[[flash]] entries; `qemu` is the twin (tools/qemu.py), not a flasher here.
flash_board() programs a board with one of them; NoProbe says no hardware
is attached, so `flash.py run` can boot the twin instead."""

from __future__ import annotations

from pathlib import Path

from ..errors import ToolError

HARDWARE_METHODS = ("pyocd", "dfu")


class NoProbe(ToolError):
    """No probe / device is attached (the caller may fall back to the twin)."""


def flash_entry(board, method: str) -> dict | None:
    """The board's [[flash]] entry for `method`, or None (from the Board
    tools/boards.py loaded and checked; nothing here reads board.toml)."""
    return board.flash_method(method)


def flash_region(board) -> tuple[int, int]:
    """(base, size) of the board's flash ([[memory]] kind = "flash")."""
    region = board.memory_region("flash")
    if region is None:
        raise ToolError(f"board '{board.name}': board.toml has no [[memory]] of kind 'flash'")
    return int(region["start"]), int(region["size"])


def hardware_methods(board) -> list[str]:
    """The board's flash methods that program real hardware, in board order."""
    return [m for m in board.flash_methods if m in HARDWARE_METHODS]


def resolve_method(board, method: str | None) -> str:
    """`method`, or the board's first hardware method; ToolError when the
    board has none or not that one."""
    methods = hardware_methods(board)
    if not methods:
        raise ToolError(f"board '{board.name}' has no hardware flash method "
                        f"(board.toml lists: {', '.join(board.flash_methods) or 'none'})")
    method = method or methods[0]
    if method not in methods:
        raise ToolError(f"board '{board.name}' has no '{method}' flash method "
                        f"(it has: {', '.join(methods)})", status=2)
    return method


def check_hardware(board, method: str | None = None, probe: str | None = None) -> str:
    """Before any build: is the hardware `method` needs attached? The
    method to use; NoProbe (one line) when no probe or DFU device is
    there, ToolError when the choice is ambiguous or impossible."""
    method = resolve_method(board, method)
    if method == "pyocd":
        from .pyocd_flasher import PyocdFlasher
        PyocdFlasher(board).choose_probe(probe)
    else:
        from .dfu_flasher import DfuFlasher, UsbDfuDevice
        if probe:
            raise ToolError("--probe picks a debug probe; the dfu method has none", status=2)
        f = DfuFlasher(board)
        UsbDfuDevice.find(f.vid, f.pid)
    return method


def flash_board(board, build: Path, method: str | None = None, probe: str | None = None,
                out=print) -> None:
    """Program the board with `method` (default: its first hardware method)."""
    method = resolve_method(board, method)
    if method == "pyocd":
        from .pyocd_flasher import PyocdFlasher
        flasher = PyocdFlasher(board, out=out)
        chosen = flasher.choose_probe(probe)
        flasher.flash(chosen, build / "nagi.hex")
    else:
        from .dfu_flasher import DfuFlasher
        if probe:
            raise ToolError("--probe picks a debug probe; the dfu method has none", status=2)
        DfuFlasher(board, out=out).flash(build / "nagi.bin")


class ProgressBar:
    """A tqdm bar fed with fractions (0.0 .. 1.0); silent without tqdm."""

    def __init__(self, desc: str):
        try:
            from tqdm import tqdm
            self._bar = tqdm(total=100, desc=desc, bar_format="{l_bar}{bar}| {n:.0f}%")
        except ImportError:
            self._bar = None

    def update_to(self, fraction: float) -> None:
        if self._bar is not None:
            self._bar.update(max(0.0, min(100.0, fraction * 100.0)) - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def progress_bar(desc: str) -> ProgressBar:
    return ProgressBar(desc)
