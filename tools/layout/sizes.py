"""layout/sizes.py - how much stack and heap each program gets:
userland/tasks.toml ([default] for the programs it does not name), or the
contract's figures without the file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .memory import LayoutError

DEFAULT_SIZES = {"default": {"stack": 2048, "heap": 0}, "shell": {"stack": 4096, "heap": 8192}}


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
