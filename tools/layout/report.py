"""layout/report.py - the memory map every MCU build prints and writes to
build/<b>/memory-map.json: each region's base, size, bytes used and
padding, RAM split per task, totals, the kernel's figures."""

from __future__ import annotations

import json

from .kernel import KernelUsage
from .memory import McuMemory
from .regions import MSGBUF_BYTES, Layout
from .writers import table_size


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
