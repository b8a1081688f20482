"""Fake Cortex-M board descriptions for the tools' tests (the real
board/<b>/board.toml files may not exist yet, and tests must not depend
on their exact contents)."""

from pathlib import Path
from types import SimpleNamespace

from tools.boards import Board

L475_TOML = '''
name = "b-l475e-iot01a"
arch = "arm-m"
cpu_hz = 4000000
[qemu]
binary = "qemu-system-arm"
machine = "b-l475e-iot01a"
image = "nagi.elf"
[[flash]]
method = "pyocd"
target = "stm32l475xg"
[[flash]]
method = "qemu"
[[flash]]
method = "dfu"
[[gpio.inputs]]
name = "button"
pin = "PC13"
qtest_device = "/machine/soc/gpioc"
qtest_pin = 13
[[gpio.outputs]]
name = "led"
pin = "PA5"
qtest_device = "/machine/soc/gpioa"
qtest_pin = 5
[capabilities]
paging = false
mmu = false
mpu = true
fpu = true
gpio = true
'''

MPS2_TOML = '''
name = "mps2-an386"
arch = "arm-m"
cpu_hz = 25000000
[qemu]
binary = "qemu-system-arm"
machine = "mps2-an386"
image = "nagi.elf"
[[flash]]
method = "qemu"
[capabilities]
paging = false
mmu = false
mpu = true
fpu = true
'''

CAPS = {"b-l475e-iot01a": dict(paging=False, mmu=False, mpu=True, fpu=True, gpio=True),
        "mps2-an386": dict(paging=False, mmu=False, mpu=True, fpu=True)}
FLASH = {"b-l475e-iot01a": ("pyocd", "qemu", "dfu"), "mps2-an386": ("qemu",)}


def mcu_board(tmp_path: Path, name: str = "b-l475e-iot01a") -> Board:
    """A Board like the one boards.py would load, its [gpio] and [[flash]]
    tables from the TOML above (also written to tmp_path/<name>/board.toml)."""
    import tomllib
    d = tmp_path / name
    d.mkdir(parents=True, exist_ok=True)
    text = L475_TOML if name == "b-l475e-iot01a" else MPS2_TOML
    (d / "board.toml").write_text(text)
    data = tomllib.loads(text)
    qemu = SimpleNamespace(binary="qemu-system-arm", machine=name, cpu=None, memory=None,
                           image="nagi.elf", boot=(), kvm_cpu=None, extra=(),
                           wake_after_input=False)
    return Board(name=name, arch="arm-m", description="", directory=d, qemu=qemu,
                 capabilities=CAPS[name], flash_methods=FLASH[name],
                 cpu_hz=data["cpu_hz"], flash=tuple(data["flash"]),
                 gpio=data.get("gpio", {}))
