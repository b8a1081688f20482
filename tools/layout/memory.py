"""layout/memory.py - the board's memory map (`McuMemory`, from the Kconfig
values), the one error type of the layout (`LayoutError`), and the
alignment arithmetic every other part uses."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ToolError


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
