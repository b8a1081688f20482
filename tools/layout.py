"""layout.py - the static memory layout of an MCU (arm-m) image.

docs/mcu-port.md ("The task table", "RAM region layout", "Linking a user
program for a board") is the contract. The pieces, each usable alone:

- `McuMemory.from_config`: the board's memory map from the Kconfig values.
- `load_task_sizes`: stack/heap of each program (userland/tasks.toml).
- `flash_region_size` / `ram_region_size` / `place`: region sizes (powers of
  two, MPU rule) and placement (naturally aligned, largest first, first fit).
- `compute_layout`: programs' measured sizes -> `Layout` (or a one-line
  `LayoutError` naming the task and the shortfall).
- `ld_script`: the per-program `$NAGI_LAYOUT_DIR/<program>.ld`.
- `link_programs`: the two-pass link (measure, place, relink, verify).
- `task_table` / `parse_task_table`: the table's bytes.
- `merge_image`: kernel.elf + table + programs -> nagi.elf, nagi.bin, nagi.hex.
- `memory_map_lines` / `memory_map_json`: what the build prints and writes.
"""

from __future__ import annotations

import json
import struct
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .elfimage import (EM_ARM, PF_R, PF_X, SHF_ALLOC, SHT_NOBITS, Elf32, ElfError,
                       LoadPiece, flat_binary, intel_hex, read_elf, write_elf)
from .abigen import msgbuf_bytes
from .errors import ToolError
from .paths import write_if_changed

MSGBUF_BYTES = msgbuf_bytes()   # message buffer + bootinfo (kernel/abi.toml), 8-aligned
MIN_RAM_REGION = 4096       # kernel stack (R/8) must be at least 512 bytes
MIN_FLASH_REGION = 32       # the MPU's smallest region
TABLE_MAGIC = b"NAGITASK"
TABLE_HEADER = struct.Struct("<8sII")
TABLE_ENTRY = struct.Struct("<32s14I")
NAME_MAX = 32
ENTRY_FIELDS = ("flash_base", "flash_size", "ram_base", "ram_size", "entry", "data_load",
                "data_start", "data_size", "bss_start", "bss_size", "stack_top", "msgbuf",
                "heap_base", "heap_size")
PROGRAM_SYMBOLS = ("__data_load", "__data_start", "__data_end", "__bss_start", "__bss_end",
                   "__flash_end")
DEFAULT_SIZES = {"default": {"stack": 2048, "heap": 0}, "shell": {"stack": 4096, "heap": 8192}}


class LayoutError(ToolError):
    """A layout that cannot be built; the message is one line `layout: ...`."""


def align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def pow2_at_least(n: int, minimum: int) -> int:
    size = minimum
    while size < n:
        size *= 2
    return size


def is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


# -- the board's memory map ---------------------------------------------------

@dataclass(frozen=True)
class McuMemory:
    flash_base: int
    flash_size: int
    ram_base: int
    ram_size: int
    kernel_flash_size: int
    kernel_ram_size: int
    task_table_addr: int

    @classmethod
    def from_config(cls, config: dict[str, str]) -> "McuMemory":
        def num(name):
            value = config.get(name, "")
            if not value:
                raise LayoutError(f"layout: CONFIG_{name} is not set (is this an arm-m board?)")
            return int(value, 0)
        mem = cls(num("FLASH_BASE"), num("FLASH_SIZE"), num("RAM_BASE"), num("RAM_SIZE"),
                  num("KERNEL_FLASH_SIZE"), num("KERNEL_RAM_SIZE"), num("TASK_TABLE_ADDR"))
        if mem.task_table_addr != mem.flash_base + mem.kernel_flash_size:
            raise LayoutError(f"layout: CONFIG_TASK_TABLE_ADDR 0x{mem.task_table_addr:x} is not "
                              f"FLASH_BASE + KERNEL_FLASH_SIZE "
                              f"(0x{mem.flash_base + mem.kernel_flash_size:x})")
        return mem

    @property
    def flash_end(self) -> int:
        return self.flash_base + self.flash_size

    @property
    def ram_end(self) -> int:
        return self.ram_base + self.ram_size

    def in_flash(self, addr: int) -> bool:
        return self.flash_base <= addr < self.flash_end

    def in_ram(self, addr: int) -> bool:
        return self.ram_base <= addr < self.ram_end


def table_size(count: int) -> int:
    return TABLE_HEADER.size + TABLE_ENTRY.size * count


# -- per-program sizes -----------------------------------------------------------

@dataclass(frozen=True)
class TaskSizes:
    stack: int
    heap: int


def load_task_sizes(path: Path, programs: list[str]) -> dict[str, TaskSizes]:
    """Stack and heap of each program from userland/tasks.toml ([default]
    for the programs it does not name). Without the file, the contract's
    figures (default 2048/0, shell 4096/8192)."""
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise LayoutError(f"layout: {path}: {e}") from None
    else:
        data = DEFAULT_SIZES
    default = data.get("default", {})
    out = {}
    for name in programs:
        entry = {**default, **data.get(name, {})}
        try:
            stack, heap = int(entry["stack"]), int(entry.get("heap", 0))
        except (KeyError, TypeError, ValueError):
            raise LayoutError(f"layout: {path.name}: no stack size for '{name}' "
                              f"(and none in [default])") from None
        if stack <= 0 or stack % 8 or heap < 0 or heap % 8:
            raise LayoutError(f"layout: {path.name}: '{name}' stack {stack} / heap {heap} must "
                              f"be multiples of 8 (stack > 0)")
        out[name] = TaskSizes(stack, heap)
    return out


# -- measuring a linked program ----------------------------------------------------

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


# -- region sizes and placement ---------------------------------------------------

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


# -- the layout ---------------------------------------------------------------

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


def ld_script(t: TaskRegion, note: str) -> str:
    return (f"/* {t.name}.ld - generated by tools/layout.py ({note}). Do not edit. */\n"
            f"TASK_FLASH_BASE = 0x{t.flash_base:08x};\n"
            f"TASK_FLASH_SIZE = 0x{t.flash_size:x};\n"
            f"TASK_RAM_BASE = 0x{t.ram_base:08x};\n"
            f"TASK_RAM_SIZE = 0x{t.ram_size:x};\n"
            f"TASK_DATA_START = 0x{t.data_start:08x}; /* after kernel stack, stack, msgbuf */\n")


# -- checking a relinked program --------------------------------------------------

def check_program(elf: Elf32, t: TaskRegion) -> None:
    """The ELF really lies in its regions; LayoutError otherwise."""
    def fail(msg):
        raise LayoutError(f"layout: task '{t.name}': {msg}")
    if elf.machine != EM_ARM:
        fail(f"{elf.path} is not an ARM ELF (e_machine {elf.machine})")
    fl, fh = t.flash_base, t.flash_base + t.flash_size
    rl, rh = t.ram_base, t.ram_base + t.ram_size
    if not elf.entry & 1:
        fail(f"entry 0x{elf.entry:08x} has no Thumb bit")
    if not fl <= (elf.entry & ~1) < fh:
        fail(f"entry 0x{elf.entry:08x} is outside its flash region 0x{fl:08x}+0x{t.flash_size:x}")
    for seg in elf.loads:
        if seg.filesz and not (fl <= seg.paddr and seg.paddr + seg.filesz <= fh):
            fail(f"segment at LMA 0x{seg.paddr:08x} (+{seg.filesz}) is outside its flash "
                 f"region 0x{fl:08x}+0x{t.flash_size:x}")
        if seg.memsz and not ((fl <= seg.vaddr and seg.vaddr + seg.memsz <= fh) or
                              (rl <= seg.vaddr and seg.vaddr + seg.memsz <= rh)):
            fail(f"segment at 0x{seg.vaddr:08x} (+{seg.memsz}) is outside its regions")
    s = elf.symbols
    if s["__flash_end"] > fh:
        fail(f"__flash_end 0x{s['__flash_end']:08x} is past its flash region end 0x{fh:08x}")
    if s["__data_start"] < t.data_start:
        fail(f"__data_start 0x{s['__data_start']:08x} is below TASK_DATA_START "
             f"0x{t.data_start:08x} (does userland/user-arm.ld use the layout file?)")
    if align_up(s["__bss_end"], 8) + t.heap > rh:
        fail(f"bss and heap end at 0x{align_up(s['__bss_end'], 8) + t.heap:08x}, past its RAM "
             f"region end 0x{rh:08x}")


def table_entry(elf: Elf32, t: TaskRegion) -> dict[str, int]:
    s = elf.symbols
    heap_base = align_up(s["__bss_end"], 8)
    return dict(flash_base=t.flash_base, flash_size=t.flash_size, ram_base=t.ram_base,
                ram_size=t.ram_size, entry=elf.entry, data_load=s["__data_load"],
                data_start=s["__data_start"], data_size=s["__data_end"] - s["__data_start"],
                bss_start=s["__bss_start"], bss_size=s["__bss_end"] - s["__bss_start"],
                stack_top=t.stack_top, msgbuf=t.msgbuf, heap_base=heap_base,
                heap_size=t.heap)


# -- the two-pass link ------------------------------------------------------------

def _state(layout: Layout) -> list:
    return [[t.name, *t.regions(), t.stack, t.heap] for t in layout.tasks]


def link_programs(mem: McuMemory, programs: list[str], all_programs: list[str],
                  sizes: dict[str, TaskSizes], layout_dir: Path, elf_dir: Path,
                  cargo: Callable[[Path, bool], None],
                  log: Callable[[str], None] = lambda s: None
                  ) -> tuple[Layout, dict[str, Elf32]]:
    """Link the user programs into their final regions.

    `cargo(layout_dir, tentative)` builds every program of the workspace
    with NAGI_LAYOUT_DIR=layout_dir (raising ToolError on failure, quietly
    when `tentative`: a failure there is retried from pass 1); the ELFs
    land in elf_dir. When a previous final layout exists it is tried first: if
    the programs still measure the same, that one cargo run (a no-op when
    nothing changed) is all. Otherwise pass 1 links with generous measuring
    regions, the regions are computed, the final .ld files written and the
    programs relinked (cargo relinks only: bin_build.rs reruns on the
    layout files) and checked."""
    state_file = layout_dir / "layout.json"
    measuring = {n: measuring_region(mem, sizes[n].stack if n in sizes else 2048)
                 for n in all_programs}
    for n in all_programs:
        measuring[n].name = n

    def write_scripts(final: Layout | None) -> None:
        for n in all_programs:
            t = final.task(n) if final and n in programs else measuring[n]
            write_if_changed(layout_dir / f"{n}.ld",
                              ld_script(t, "final" if final and n in programs else
                                        "measuring layout"))

    def measure_all(where: dict[str, TaskRegion]) -> tuple[dict[str, Measure], dict]:
        elfs, ms = {}, {}
        for n in programs:
            path = elf_dir / n
            try:
                elfs[n] = read_elf(path)
                ms[n] = measure(elfs[n], where[n].flash_base)
            except (OSError, ElfError) as e:
                raise LayoutError(f"layout: {e}") from None
        return ms, elfs

    previous = None
    try:
        previous = json.loads(state_file.read_text())
    except (OSError, ValueError):
        pass
    layout = None
    if previous and all((layout_dir / f"{n}.ld").is_file() for n in all_programs):
        prev_layout = _layout_from_state(mem, previous)
        if [t.name for t in prev_layout.tasks] == programs:
            try:
                cargo(layout_dir, True)
                ms, elfs = measure_all({t.name: t for t in prev_layout.tasks})
            except ToolError as e:
                log(f"layout: the previous layout no longer links ({e}); measuring again")
            else:
                # These ELFs linked, so their sizes are good measurements:
                # a layout error here is final, and a changed layout needs
                # only pass 2.
                layout = compute_layout(mem, programs, sizes, ms)
                if _state(layout) == previous:
                    for t in layout.tasks:
                        check_program(elfs[t.name], t)
                    return layout, elfs
                log("layout: sizes changed, relinking")
    if layout is None:
        # pass 1: measure
        write_scripts(None)
        state_file.unlink(missing_ok=True)
        cargo(layout_dir, False)
        ms, _ = measure_all(measuring)
        layout = compute_layout(mem, programs, sizes, ms)
    # pass 2: final regions; relink; check (sizes must not move)
    for _ in range(3):
        write_scripts(layout)
        cargo(layout_dir, False)
        ms, elfs = measure_all({t.name: t for t in layout.tasks})
        again = compute_layout(mem, programs, sizes, ms)
        if _state(again) == _state(layout):
            break
        layout = again
    else:
        raise LayoutError("layout: the program sizes keep changing between links")
    for t in again.tasks:
        check_program(elfs[t.name], t)
    write_if_changed(state_file, json.dumps(_state(again)))
    return again, elfs


def _layout_from_state(mem: McuMemory, state: list) -> Layout:
    tasks = [TaskRegion(name=n, flash_base=fb, flash_size=fs, ram_base=rb, ram_size=rs,
                        stack=st, heap=hp) for n, fb, fs, rb, rs, st, hp in state]
    return Layout(memory=mem, tasks=tasks)


# -- the task table -------------------------------------------------------------

def task_table(entries: list[tuple[str, dict[str, int]]]) -> bytes:
    """Header + one 88-byte entry per (name, fields) pair, little-endian."""
    out = bytearray(TABLE_HEADER.pack(TABLE_MAGIC, len(entries), TABLE_HEADER.size))
    for name, f in entries:
        raw = name.encode()
        if not raw or len(raw) >= NAME_MAX or b"\0" in raw:
            raise LayoutError(f"layout: bad task name '{name}' (1..{NAME_MAX - 1} bytes)")
        out += TABLE_ENTRY.pack(raw, *(f[k] & 0xFFFF_FFFF for k in ENTRY_FIELDS))
    return bytes(out)


def parse_task_table(blob: bytes) -> list[tuple[str, dict[str, int]]]:
    magic, count, header = TABLE_HEADER.unpack_from(blob, 0)
    if magic != TABLE_MAGIC or header != TABLE_HEADER.size:
        raise ValueError(f"task table: bad magic {magic!r} or header size {header}")
    out = []
    for i in range(count):
        raw, *values = TABLE_ENTRY.unpack_from(blob, header + i * TABLE_ENTRY.size)
        out.append((raw.split(b"\0", 1)[0].decode(), dict(zip(ENTRY_FIELDS, values))))
    return out


# -- the kernel -------------------------------------------------------------------

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
    import re
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


# -- merging the image ------------------------------------------------------------

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


# -- the memory map ---------------------------------------------------------------

def memory_map(board: str, mem: McuMemory, kernel: KernelUsage, layout: Layout) -> dict:
    """The figures of the map (also memory-map.json)."""
    tsize = table_size(len(layout.tasks))
    flash = [dict(name="kernel", base=mem.flash_base, size=mem.kernel_flash_size,
                  used=kernel.flash_bytes),
             dict(name="task table", base=mem.task_table_addr, size=tsize, used=tsize)]
    ram = [dict(name="kernel", base=mem.ram_base, size=mem.kernel_ram_size,
                used=kernel.ram_bytes, data=kernel.ram_data, bss=kernel.ram_bss)]
    tasks = []
    for t in layout.tasks:
        flash.append(dict(name=t.name, base=t.flash_base, size=t.flash_size, used=t.flash_used))
        ram.append(dict(name=t.name, base=t.ram_base, size=t.ram_size, used=t.ram_used,
                        kernel_stack=t.kernel_stack, stack=t.stack, msgbuf=MSGBUF_BYTES,
                        data=t.data, bss=t.bss, heap=t.heap))
        tasks.append(dict(name=t.name, flash_base=t.flash_base, flash_size=t.flash_size,
                          flash_used=t.flash_used, ram_base=t.ram_base, ram_size=t.ram_size,
                          ram_used=t.ram_used, kernel_stack=t.kernel_stack, stack=t.stack,
                          msgbuf=MSGBUF_BYTES, data=t.data, bss=t.bss, heap=t.heap,
                          stack_top=t.stack_top, data_start=t.data_start))

    def totals(regions, base, size):
        regions.sort(key=lambda r: r["base"])
        end = max(r["base"] + r["size"] for r in regions)
        used = sum(r["used"] for r in regions)
        return dict(base=base, size=size, used=used, padding=(end - base) - used,
                    free=base + size - end, regions=regions)
    return dict(board=board, kernel_flash_bytes=kernel.flash_bytes,
                kernel_ram_bytes=kernel.ram_bytes, kernel_flash_size=mem.kernel_flash_size,
                kernel_ram_size=mem.kernel_ram_size, task_table_addr=mem.task_table_addr,
                flash=totals(flash, mem.flash_base, mem.flash_size),
                ram=totals(ram, mem.ram_base, mem.ram_size), tasks=tasks)


def memory_map_lines(mm: dict) -> list[str]:
    lines = [f"memory map of {mm['board']}:"]
    for key, label in (("flash", "flash"), ("ram", "RAM")):
        area = mm[key]
        lines.append(f"  {label} 0x{area['base']:08x}..0x{area['base'] + area['size']:08x} "
                     f"({area['size']} B)")
        lines.append(f"    {'base':<10}  {'size':>7}  {'used':>7}  {'pad':>6}  what")
        cursor = area["base"]
        for r in area["regions"]:
            if r["base"] > cursor:
                lines.append(f"    0x{cursor:08x}  {r['base'] - cursor:>7}  {'-':>7}  "
                             f"{r['base'] - cursor:>6}  (alignment gap)")
            what = r["name"]
            if key == "ram" and r["name"] == "kernel":
                what += f": data {r['data']}, bss {r['bss']}"
            elif key == "ram":
                what += (f": kernel stack {r['kernel_stack']}, stack {r['stack']}, msgbuf "
                         f"{r['msgbuf']}, data {r['data']}, bss {r['bss']}, heap {r['heap']}")
            elif r["name"] == "kernel":
                what += " (text+rodata+data image)"
            lines.append(f"    0x{r['base']:08x}  {r['size']:>7}  {r['used']:>7}  "
                         f"{r['size'] - r['used']:>6}  {what}")
            cursor = max(cursor, r["base"] + r["size"])
        lines.append(f"    {label}: used {area['used']} B, lost to alignment/padding "
                     f"{area['padding']} B, free {area['free']} B of {area['size']} B")
    lines.append(f"kernel: flash {mm['kernel_flash_bytes']} B / {mm['kernel_flash_size']}, "
                 f"static RAM {mm['kernel_ram_bytes']} B / {mm['kernel_ram_size']}")
    return lines


def memory_map_json(mm: dict) -> str:
    return json.dumps(mm, indent=2) + "\n"



# -- command line (debugging aid) ------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """`python3 -m tools.layout map build/<b>`: print the memory map of the
    last build (from memory-map.json); `python3 -m tools.layout table
    build/<b>/nagi.elf`: print the task table inside an image."""
    import argparse
    from .elfimage import parse_elf
    ap = argparse.ArgumentParser(prog="python3 -m tools.layout")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("map").add_argument("build_dir", type=Path)
    sub.add_parser("table").add_argument("image", type=Path)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "map":
            mm = json.loads((args.build_dir / "memory-map.json").read_text())
            print("\n".join(memory_map_lines(mm)))
            return 0
        elf = parse_elf(args.image.read_bytes(), str(args.image))
        sec = elf.section(".tasktable")
        if sec is None:
            print(f"{args.image}: no .tasktable section", flush=True)
            return 1
        blob = args.image.read_bytes()[sec.offset:sec.offset + sec.size]
        for name, f in parse_task_table(blob):
            print(f"{name:<14} " + " ".join(f"{k}=0x{v:x}" for k, v in f.items()))
        return 0
    except (OSError, ValueError) as e:
        print(f"error: {e}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
