"""layout/kernel.py - the kernel's share: its flash and static RAM use
from kernel.elf, the check that it fits what Kconfig reserves, and the
linker's region-overflow messages turned into one `layout:` line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..elfimage import SHF_ALLOC, SHT_NOBITS, Elf32
from .memory import LayoutError, McuMemory


@dataclass
class KernelUsage:
    flash_bytes: int     # PT_LOAD file bytes in flash (text + rodata + .data image)
    flash_end: int       # highest flash byte + 1
    ram_bytes: int       # static RAM: allocated sections (.data, .bss, stacks) in RAM
    ram_data: int
    ram_bss: int


def kernel_usage(elf: Elf32, mem: McuMemory) -> KernelUsage:
    flash_segs = [s for s in elf.loads if s.filesz and mem.in_flash(s.paddr)]
    if not flash_segs:
        raise LayoutError(f"layout: {elf.path} has no loadable bytes in flash "
                          f"(0x{mem.flash_base:08x}+0x{mem.flash_size:x})")
    for s in elf.loads:
        if s.filesz and not mem.in_flash(s.paddr):
            raise LayoutError(f"layout: {elf.path}: segment with file contents at LMA "
                              f"0x{s.paddr:08x} is outside flash")
    flash = sum(s.filesz for s in flash_segs)
    flash_end = max(s.paddr + s.filesz for s in flash_segs)
    ram_secs = [s for s in elf.sections if s.flags & SHF_ALLOC and mem.in_ram(s.addr)]
    if ram_secs:
        data = sum(s.size for s in ram_secs if s.type != SHT_NOBITS)
        bss = sum(s.size for s in ram_secs if s.type == SHT_NOBITS)
    else:
        segs = [s for s in elf.loads if mem.in_ram(s.vaddr)]
        data = sum(s.filesz for s in segs)
        bss = sum(s.memsz - s.filesz for s in segs)
    return KernelUsage(flash_bytes=flash, flash_end=flash_end, ram_bytes=data + bss,
                       ram_data=data, ram_bss=bss)


def check_kernel(usage: KernelUsage, mem: McuMemory) -> None:
    need = usage.flash_end - mem.flash_base
    if need > mem.kernel_flash_size:
        raise LayoutError(f"layout: kernel does not fit: needs {need} B of flash at "
                          f"0x{mem.flash_base:08x}, {mem.kernel_flash_size} B reserved "
                          f"(short by {need - mem.kernel_flash_size} B)")
    if usage.ram_bytes > mem.kernel_ram_size:
        raise LayoutError(f"layout: kernel does not fit: needs {usage.ram_bytes} B of RAM at "
                          f"0x{mem.ram_base:08x}, {mem.kernel_ram_size} B reserved "
                          f"(short by {usage.ram_bytes - mem.kernel_ram_size} B)")


def kernel_link_error(output: str, mem: McuMemory) -> str | None:
    """A one-line `layout: kernel does not fit ...` from the linker's
    region-overflow messages (GNU ld and lld), or None."""
    m = re.search(r"region [`']?(\w+)'?:? overflowed by (\d+) bytes", output)
    if not m:
        m2 = re.search(r"section '?([\w.]+)'? will not fit in region [`']?(\w+)'?", output)
        if m2:
            return (f"layout: kernel does not fit: section {m2.group(1)} will not fit in "
                    f"region {m2.group(2)} (FLASH {mem.kernel_flash_size} B / "
                    f"RAM {mem.kernel_ram_size} B reserved)")
        return None
    region, over = m.group(1), int(m.group(2))
    is_ram = "ram" in region.lower()
    reserved = mem.kernel_ram_size if is_ram else mem.kernel_flash_size
    base = mem.ram_base if is_ram else mem.flash_base
    what = "RAM" if is_ram else "flash"
    return (f"layout: kernel does not fit: needs {reserved + over} B of {what} at "
            f"0x{base:08x}, {reserved} B reserved (short by {over} B)")
