"""Stand-ins for the arm-m kernel and user programs, assembled with
arm-none-eabi-gcc, for the layout and build tests. The program linker
script follows docs/mcu-port.md ("Linking a user program for a board"):
it INCLUDEs <program>.ld from the layout directory and exports the layout
symbols; the kernel's has the contract's fixed reservations."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

GCC = shutil.which("arm-none-eabi-gcc")
READELF = shutil.which("arm-none-eabi-readelf")
needs_gcc = pytest.mark.skipif(GCC is None, reason="arm-none-eabi-gcc is not installed")

USER_LD = """\
ENTRY(_start)
INCLUDE {program}.ld
SECTIONS
{{
    . = TASK_FLASH_BASE;
    .text : {{ KEEP(*(.text._start)) *(.text .text.*) *(.rodata .rodata.*) . = ALIGN(4); }}
    .data TASK_DATA_START : AT(ADDR(.text) + SIZEOF(.text))
    {{ __data_start = .; *(.data .data.*) . = ALIGN(4); __data_end = .; }}
    __data_load = LOADADDR(.data);
    __flash_end = LOADADDR(.data) + SIZEOF(.data);
    .bss (NOLOAD) : {{ __bss_start = .; *(.bss .bss.*) *(COMMON) . = ALIGN(4); __bss_end = .; }}
    /DISCARD/ : {{ *(.ARM.exidx*) *(.ARM.attributes) *(.comment) }}
    ASSERT(__flash_end <= TASK_FLASH_BASE + TASK_FLASH_SIZE, "task flash region overflowed")
    ASSERT(__bss_end <= TASK_RAM_BASE + TASK_RAM_SIZE, "task RAM region overflowed")
}}
"""

USER_S = """\
    .syntax unified
    .thumb
    .section .text._start, "ax"
    .global _start
    .thumb_func
_start:
    ldr r0, =value
    ldr r1, [r0]
    b _start
    .ltorg
    .section .text.pad, "ax"
    .fill {code}, 1, 0xbf
    .data
value: .word 0x12345678
    .fill {data}, 1, 0x5a
    .bss
    .space {bss}
"""

KERNEL_LD = """\
ENTRY(reset)
MEMORY
{{
    FLASH (rx) : ORIGIN = {flash:#x}, LENGTH = {kflash:#x}
    RAM (rwx)  : ORIGIN = {ram:#x}, LENGTH = {kram:#x}
}}
SECTIONS
{{
    .text : {{ KEEP(*(.vectors)) *(.text .text.*) *(.rodata .rodata.*) . = ALIGN(4); }} > FLASH
    .data : {{ *(.data .data.*) . = ALIGN(4); }} > RAM AT > FLASH
    .bss (NOLOAD) : {{ *(.bss .bss.*) . = ALIGN(8); }} > RAM
    /DISCARD/ : {{ *(.ARM.attributes) *(.comment) }}
}}
"""

KERNEL_S = """\
    .syntax unified
    .thumb
    .section .vectors, "a"
    .word {ram_top:#x}
    .word reset
    .text
    .thumb_func
    .global reset
reset:
    b reset
    .fill {code}, 1, 0xaa
    .data
    .word 1, 2, 3, 4
    .bss
    .space {bss}
"""


def build_program(name: str, layout_dir: Path, out: Path, code=100, data=8, bss=64) -> Path:
    """Assemble and link a stand-in program against layout_dir/<name>.ld."""
    work = out.parent / f".{name}-src"
    work.mkdir(parents=True, exist_ok=True)
    (work / "p.S").write_text(USER_S.format(code=code, data=data, bss=bss))
    (work / "user.ld").write_text(USER_LD.format(program=name))
    # assemble to a fixed object name: a link is then byte-for-byte repeatable
    res = subprocess.run([GCC, "-mcpu=cortex-m4", "-mthumb", "-c", str(work / "p.S"), "-o",
                          str(work / "p.o")], capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(res.stderr)
    cmd = [GCC, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles", "-static",
           "-Wl,--no-warn-rwx-segments", "-Wl,-n", f"-L{layout_dir}", f"-T{work / 'user.ld'}",
           str(work / "p.o"), "-o", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(res.stderr)
    return out


def build_kernel(out: Path, flash=0x0, ram=0x20000000, kflash=0x4000, kram=0x1000,
                 code=2000, bss=1024) -> subprocess.CompletedProcess:
    """Assemble and link a stand-in kernel; returns the completed link (a
    kernel that outgrows its reservation fails like the real one)."""
    work = out.parent / ".kernel-src"
    work.mkdir(parents=True, exist_ok=True)
    (work / "k.S").write_text(KERNEL_S.format(ram_top=ram + kram, code=code, bss=bss))
    (work / "k.ld").write_text(KERNEL_LD.format(flash=flash, ram=ram, kflash=kflash, kram=kram))
    res = subprocess.run([GCC, "-mcpu=cortex-m4", "-mthumb", "-c", str(work / "k.S"), "-o",
                          str(work / "k.o")], capture_output=True, text=True)
    if res.returncode:
        return res
    cmd = [GCC, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles", "-static",
           "-Wl,--no-warn-rwx-segments", "-Wl,-n", f"-T{work / 'k.ld'}", str(work / "k.o"),
           "-o", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True)
