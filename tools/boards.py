"""boards.py - a board description (board/<name>/board.toml) as an object.

Every fact about a board lives in its board.toml; the tools, the QEMU
back-end and the tests' capability marks read it from here."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ToolError
from .paths import BOARD_ROOT


@dataclass(frozen=True)
class QemuTwin:
    """The pieces of the board's QEMU command line (board.toml [qemu])."""
    binary: str
    machine: str
    cpu: str | None           # None: the machine has a fixed CPU (no -cpu)
    memory: str | None        # None: the machine has fixed memory (no -m)
    image: str
    boot: tuple[str, ...]
    kvm_cpu: str | None = None
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Board:
    name: str
    arch: str
    description: str
    directory: Path
    qemu: QemuTwin | None
    capabilities: dict[str, bool] = field(default_factory=dict)
    flash_methods: tuple[str, ...] = ()
    console: dict = field(default_factory=dict)
    memory: tuple[dict, ...] = ()
    cpu_hz: int | None = None
    flash: tuple[dict, ...] = ()      # the [[flash]] tables, in order
    gpio: dict = field(default_factory=dict)   # [gpio]: inputs / outputs lists

    @property
    def defconfig(self) -> Path:
        return self.directory / "defconfig"

    def has(self, capability: str) -> bool:
        return bool(self.capabilities.get(capability, False))

    def memory_region(self, kind: str) -> dict | None:
        """The first [[memory]] entry of that kind ("flash", "ram")."""
        return next((m for m in self.memory if m.get("kind") == kind), None)

    def flash_method(self, method: str) -> dict | None:
        """The [[flash]] table of `method` ("pyocd", "qemu", "dfu")."""
        return next((f for f in self.flash if f.get("method") == method), None)

    def gpio_pin(self, name: str) -> dict | None:
        """A [[gpio.inputs]] / [[gpio.outputs]] entry by name, with
        `direction` ("input"/"output") added."""
        for direction in ("inputs", "outputs"):
            for pin in self.gpio.get(direction, ()):
                if pin.get("name") == name:
                    return dict(pin, direction=direction[:-1])
        return None


def board_names(root: Path = BOARD_ROOT) -> list[str]:
    """Every directory under board/ that holds a board.toml, sorted."""
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob("*/board.toml"))


def load_board(name: str, root: Path = BOARD_ROOT) -> Board:
    """Read board/<name>/board.toml; ToolError (exit 2) for an unknown board."""
    names = board_names(root)
    if name not in names:
        raise ToolError(f"unknown board '{name}'; valid boards: {', '.join(names) or '(none)'}",
                        status=2)
    path = root / name / "board.toml"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ToolError(f"{path}: {e}") from None
    try:
        q = data.get("qemu")
        twin = None
        if q is not None:
            twin = QemuTwin(binary=q["binary"], machine=q["machine"], cpu=q.get("cpu"),
                            memory=q.get("memory"), image=q["image"], boot=tuple(q["boot"]),
                            kvm_cpu=q.get("kvm_cpu"), extra=tuple(q.get("extra", ())))
        board = Board(name=data["name"], arch=data["arch"],
                      description=data.get("description", ""), directory=path.parent,
                      qemu=twin, capabilities=dict(data.get("capabilities", {})),
                      flash_methods=tuple(f["method"] for f in data.get("flash", ())),
                      console=dict(data.get("console", {})),
                      memory=tuple(data.get("memory", ())),
                      cpu_hz=data.get("cpu_hz"),
                      flash=tuple(dict(f) for f in data.get("flash", ())),
                      gpio=dict(data.get("gpio", {})))
    except (KeyError, TypeError) as e:
        raise ToolError(f"{path}: missing or malformed field {e}") from None
    if board.name != name:
        raise ToolError(f"{path}: name = '{board.name}' but the directory is '{name}'")
    return board
