"""layout/regions.py - MPU regions: what a linked program needs
(`measure`), the power-of-two region sizes, placement (naturally aligned,
largest first, first fit), the resulting `Layout` of `TaskRegion`s with
the RAM split of docs/mcu-port.md ("RAM region layout"), and the generous
measuring region of pass 1."""

from __future__ import annotations

from dataclasses import dataclass

from ..abigen import msgbuf_bytes
from ..elfimage import Elf32, ElfError
from .memory import LayoutError, McuMemory, align_up, is_pow2, pow2_at_least
from .sizes import TaskSizes
from .writers import table_size

MSGBUF_BYTES = msgbuf_bytes()   # message buffer + bootinfo (kernel/abi.toml), 8-aligned
MIN_RAM_REGION = 4096       # kernel stack (R/8) must be at least 512 bytes
MIN_FLASH_REGION = 32       # the MPU's smallest region
PROGRAM_SYMBOLS = ("__data_load", "__data_start", "__data_end", "__bss_start", "__bss_end",
                   "__flash_end")


@dataclass(frozen=True)
class Measure:
    """What a linked program needs, independent of where it was linked."""
    flash: int          # __flash_end - TASK_FLASH_BASE: code, rodata, .data image
    data: int           # .data bytes
    bss: int            # .bss bytes
    span: int           # __bss_end - __data_start, 8-aligned (data + bss + gaps)


def measure(elf: Elf32, flash_base: int) -> Measure:
    for sym in PROGRAM_SYMBOLS:
        elf.symbol(sym)          # raises ElfError naming the missing one
    s = elf.symbols
    flash = s["__flash_end"] - flash_base
    data = s["__data_end"] - s["__data_start"]
    bss = s["__bss_end"] - s["__bss_start"]
    span = align_up(max(s["__bss_end"], s["__data_end"]) - s["__data_start"], 8)
    if flash <= 0 or data < 0 or bss < 0 or span < data + bss:
        raise ElfError(f"{elf.path}: inconsistent layout symbols "
                       f"(__flash_end 0x{s['__flash_end']:x}, data {data}, bss {bss})")
    return Measure(flash=flash, data=data, bss=bss, span=span)


def flash_region_size(flash_bytes: int) -> int:
    """Smallest power of two >= 32 holding the program's flash bytes."""
    return pow2_at_least(flash_bytes, MIN_FLASH_REGION)


def ram_need(sizes: TaskSizes, m: Measure) -> int:
    """Bytes above the kernel-stack subregion: stack, msgbuf, data+bss, heap."""
    return sizes.stack + MSGBUF_BYTES + m.span + sizes.heap


def ram_region_size(need: int) -> int:
    """Smallest power of two R >= 4096 with R - R/8 >= need."""
    size = MIN_RAM_REGION
    while size - size // 8 < need:
        size *= 2
    return size


def place(regions: list[tuple[str, int]], start: int, end: int, what: str) -> dict[str, int]:
    """Place (name, size) regions in [start, end), each aligned to its
    (power-of-two) size. Largest first (ties: the given order); each at the
    lowest aligned address >= start that overlaps nothing placed before,
    so smaller regions fill the gaps the larger ones' alignment leaves.
    A region that does not fit raises LayoutError with the shortfall."""
    order = sorted(range(len(regions)), key=lambda i: -regions[i][1])
    taken: list[tuple[int, int]] = []
    bases: dict[str, int] = {}
    for i in order:
        name, size = regions[i]
        assert is_pow2(size), size
        addr = align_up(start, size)
        for lo, hi in sorted(taken):
            if addr + size <= lo:
                break
            if addr < hi:
                addr = align_up(hi, size)
        if addr + size > end:
            top = max([start] + [hi for _, hi in taken])
            at = align_up(top, size)
            left = max(0, end - at)
            raise LayoutError(f"layout: task '{name}' does not fit: needs {size} B of {what} "
                              f"at 0x{at:08x}, {left} B left (short by {size - left} B)")
        taken.append((addr, addr + size))
        bases[name] = addr
    return bases


@dataclass
class TaskRegion:
    name: str
    flash_base: int
    flash_size: int
    ram_base: int
    ram_size: int
    stack: int
    heap: int
    flash_used: int = 0
    data: int = 0
    bss: int = 0
    span: int = 0

    @property
    def kernel_stack(self) -> int:
        return self.ram_size // 8

    @property
    def stack_top(self) -> int:
        return self.ram_base + self.kernel_stack + self.stack

    @property
    def msgbuf(self) -> int:
        return self.stack_top

    @property
    def data_start(self) -> int:
        return self.msgbuf + MSGBUF_BYTES

    @property
    def ram_used(self) -> int:
        return self.kernel_stack + self.stack + MSGBUF_BYTES + self.data + self.bss + self.heap

    def regions(self) -> tuple[int, int, int, int]:
        return (self.flash_base, self.flash_size, self.ram_base, self.ram_size)


@dataclass
class Layout:
    memory: McuMemory
    tasks: list[TaskRegion]

    def task(self, name: str) -> TaskRegion:
        return next(t for t in self.tasks if t.name == name)


def compute_layout(mem: McuMemory, programs: list[str], sizes: dict[str, TaskSizes],
                   measures: dict[str, Measure]) -> Layout:
    """Regions for `programs` (in table order) from their measured sizes."""
    flash_sizes = [(n, flash_region_size(measures[n].flash)) for n in programs]
    ram_sizes = [(n, ram_region_size(ram_need(sizes[n], measures[n]))) for n in programs]
    flash_start = mem.task_table_addr + table_size(len(programs))
    flash_bases = place(flash_sizes, flash_start, mem.flash_end, "flash")
    ram_bases = place(ram_sizes, mem.ram_base + mem.kernel_ram_size, mem.ram_end, "RAM")
    tasks = []
    for (name, fsize), (_, rsize) in zip(flash_sizes, ram_sizes):
        m = measures[name]
        tasks.append(TaskRegion(name=name, flash_base=flash_bases[name], flash_size=fsize,
                                ram_base=ram_bases[name], ram_size=rsize,
                                stack=sizes[name].stack, heap=sizes[name].heap,
                                flash_used=m.flash, data=m.data, bss=m.bss, span=m.span))
    return Layout(memory=mem, tasks=tasks)


def measuring_region(mem: McuMemory, stack: int) -> TaskRegion:
    """The generous layout of pass 1: the upper half of flash and the
    largest power-of-two RAM window at RAM_BASE (possibly past the real
    RAM: these ELFs are only measured, never run)."""
    fsize = 1 << ((mem.flash_size // 2).bit_length() - 1)
    fbase = (mem.flash_end - fsize) // fsize * fsize
    rsize = 1 << (mem.ram_size.bit_length() - 1)
    while rsize - rsize // 8 < stack + MSGBUF_BYTES + 64 * 1024:
        rsize *= 2
    rbase = align_up(mem.ram_base, rsize)
    return TaskRegion(name="(measure)", flash_base=fbase, flash_size=fsize, ram_base=rbase,
                      ram_size=rsize, stack=stack, heap=0)
