"""layout - the static memory layout of an MCU (arm-m) image.

docs/mcu-port.md ("The task table", "RAM region layout", "Linking a user
program for a board") is the contract. One module per concern, each usable
alone; everything callers use is re-exported here (`from tools import
layout as lay; lay.link_programs(...)`):

  memory.py   `McuMemory.from_config` (the board's memory map from Kconfig),
              `LayoutError`, alignment arithmetic
  sizes.py    `load_task_sizes`: stack/heap of each program (userland/tasks.toml)
  regions.py  `measure`, `flash_region_size` / `ram_region_size` / `place`
              (powers of two, MPU rule; naturally aligned, largest first,
              first fit), `compute_layout` -> `Layout` of `TaskRegion`s
  writers.py  `ld_script` ($NAGI_LAYOUT_DIR/<program>.ld), `task_table` /
              `parse_task_table` (the table's bytes)
  link.py     `link_programs`: the two-pass link (measure, place, relink, check)
  kernel.py   `kernel_usage` / `check_kernel` / `kernel_link_error`
  image.py    `merge_image`: kernel.elf + table + programs -> nagi.elf/.bin/.hex
  report.py   `memory_map` / `memory_map_lines` / `memory_map_json`
  cli.py      `python3 -m tools.layout map build/<b>` | `table build/<b>/nagi.elf`
"""

from .cli import main
from .image import ImageFiles, image_pieces, merge_image
from .kernel import KernelUsage, check_kernel, kernel_link_error, kernel_usage
from .link import _state, check_program, link_programs
from .memory import LayoutError, McuMemory, align_up, is_pow2, pow2_at_least
from .regions import (MIN_FLASH_REGION, MIN_RAM_REGION, MSGBUF_BYTES, Layout, Measure,
                      TaskRegion, compute_layout, flash_region_size, measure, measuring_region,
                      place, ram_need, ram_region_size)
from .report import memory_map, memory_map_json, memory_map_lines
from .sizes import DEFAULT_SIZES, TaskSizes, load_task_sizes
from .writers import (ENTRY_FIELDS, TABLE_MAGIC, ld_script, parse_task_table, table_entry,
                      table_size, task_table)

__all__ = ['main', 'ImageFiles', 'image_pieces', 'merge_image', 'KernelUsage', 'check_kernel',
           'kernel_link_error', 'kernel_usage', '_state', 'check_program', 'link_programs',
           'LayoutError', 'McuMemory', 'align_up', 'is_pow2', 'pow2_at_least',
           'MIN_FLASH_REGION', 'MIN_RAM_REGION', 'MSGBUF_BYTES', 'Layout', 'Measure',
           'TaskRegion', 'compute_layout', 'flash_region_size', 'measure', 'measuring_region',
           'place', 'ram_need', 'ram_region_size', 'memory_map', 'memory_map_json',
           'memory_map_lines', 'DEFAULT_SIZES', 'TaskSizes', 'load_task_sizes', 'ENTRY_FIELDS',
           'TABLE_MAGIC', 'ld_script', 'parse_task_table', 'table_entry', 'table_size',
           'task_table']
