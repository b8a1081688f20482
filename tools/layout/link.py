"""layout/link.py - the two-pass link of the user programs: measure with
generous regions, place, write the final linker scripts, relink, check
that every ELF lies in its regions; and the shortcut when the previous
layout (build/<b>/layout/layout.json) still measures the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from ..elfimage import EM_ARM, Elf32, ElfError, read_elf
from ..errors import ToolError
from ..paths import write_if_changed
from .memory import LayoutError, McuMemory, align_up
from .regions import (Layout, Measure, TaskRegion, compute_layout, measure,
                      measuring_region)
from .sizes import TaskSizes
from .writers import ld_script


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
