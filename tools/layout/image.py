"""layout/image.py - the merged image: kernel.elf's flash segments, the
task table and the programs' flash segments, each at its physical
address, written as nagi.elf, nagi.bin (flat from FLASH_BASE, gaps 0xff)
and nagi.hex (each only when changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..elfimage import PF_R, PF_X, Elf32, ElfError, LoadPiece, flat_binary, intel_hex, write_elf
from ..paths import write_if_changed
from .memory import LayoutError, McuMemory
from .regions import Layout
from .writers import table_entry, task_table


def _flags(seg) -> int:
    """Flash is not writable: a .data image piece is plain R."""
    return PF_R | (seg.flags & PF_X)


def image_pieces(kernel: Elf32, mem: McuMemory, table: bytes,
                 programs: list[tuple[str, Elf32]]) -> list[LoadPiece]:
    """One piece per kernel PT_LOAD with flash bytes, the table, and one per
    program PT_LOAD with flash bytes, each at its physical address."""
    pieces = []
    for i, s in enumerate(s for s in kernel.loads if s.filesz):
        pieces.append(LoadPiece(f".kernel.{i}", s.paddr, s.data, _flags(s)))
    pieces.append(LoadPiece(".tasktable", mem.task_table_addr, table, PF_R))
    for name, elf in programs:
        for i, s in enumerate(s for s in elf.loads if s.filesz):
            if not mem.in_flash(s.paddr):
                raise LayoutError(f"layout: task '{name}': segment with file contents at LMA "
                                  f"0x{s.paddr:08x} is outside flash")
            pieces.append(LoadPiece(f".task.{name}.{i}", s.paddr, s.data, _flags(s)))
    return pieces


@dataclass
class ImageFiles:
    elf: Path
    bin: Path
    hex: Path
    changed: list[Path] = field(default_factory=list)


def merge_image(kernel: Elf32, mem: McuMemory, layout: Layout, elfs: dict[str, Elf32],
                out_dir: Path) -> ImageFiles:
    """Write nagi.elf, nagi.bin (flat from FLASH_BASE) and nagi.hex."""
    entries = [(t.name, table_entry(elfs[t.name], t)) for t in layout.tasks]
    table = task_table(entries)
    pieces = image_pieces(kernel, mem, table, [(t.name, elfs[t.name]) for t in layout.tasks])
    try:
        elf_bytes = write_elf(pieces, entry=kernel.entry)
    except ElfError as e:
        raise LayoutError(f"layout: {e}") from None
    files = ImageFiles(out_dir / "nagi.elf", out_dir / "nagi.bin", out_dir / "nagi.hex")
    for path, data in ((files.elf, elf_bytes), (files.bin, flat_binary(pieces, mem.flash_base)),
                       (files.hex, intel_hex(pieces, start=kernel.entry).encode())):
        if write_if_changed(path, data):
            files.changed.append(path)
    return files
