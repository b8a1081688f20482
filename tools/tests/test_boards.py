"""Every board directory is complete, its board.toml is checked as it is
loaded (one-line errors), and a new board is one directory of data."""

import pytest

from tools.boards import board_names, load_board
from tools.config import _load_file, load_kconfig

BOARDS = board_names()


def test_pc_is_there():
    assert "pc" in BOARDS


@pytest.mark.parametrize("name", BOARDS)
def test_board_directory_is_complete(name):
    b = load_board(name)
    for f in ["defconfig", "Kconfig.board", "README.md"]:
        assert (b.directory / f).is_file(), f"board/{name}/{f} is missing"
    assert not (b.directory / "Kconfig.defconfig").exists(), \
        "board-derived Kconfig defaults are generated from board.toml"
    assert all(isinstance(v, bool) for v in b.capabilities.values())
    assert b.flash_methods, "at least one flash method"


@pytest.mark.parametrize("name", BOARDS)
def test_kconfig_agrees_with_board_toml(name):
    """board.toml's arch and name are what its defconfig gives Kconfig."""
    b = load_board(name)
    kconf = load_kconfig()
    _load_file(kconf, b.defconfig, replace=True)
    assert kconf.syms["BOARD"].str_value == name
    assert kconf.syms["ARCH"].str_value == b.arch


def test_pc_facts():
    b = load_board("pc")
    assert (b.qemu.binary, b.qemu.machine, b.qemu.cpu, b.qemu.memory, b.qemu.image) == \
        ("qemu-system-x86_64", "q35", "qemu64", "256M", "nagi.img")
    assert b.has("paging") and b.has("ioports") and b.has("mmu")
    # keys: typed into the twin's PS/2 keyboard over QMP (tools/ps2_keys.py)
    assert b.has("keys") and b.has("ps2")
    assert b.ps2 == {"data_port": 0x60, "command_port": 0x64, "irq": 1}
    assert b.flash_methods[0] == "qemu"


MCU_BOARDS = [n for n in BOARDS if load_board(n).arch == "arm-m"]


def test_mcu_boards_are_there():
    assert {"b-l475e-iot01a", "mps2-an386"} <= set(MCU_BOARDS)


# The QEMU machine each MCU board's twin runs: its own, or (the keyboard
# PCB) the machine of the board whose MCU it shares.
TWIN_MACHINE = {"nagi-kb": "b-l475e-iot01a"}


@pytest.mark.parametrize("name", MCU_BOARDS)
def test_mcu_boards_have_no_ps2_controller(name):
    assert not load_board(name).has("ps2") and not load_board(name).ps2


@pytest.mark.parametrize("name", MCU_BOARDS)
def test_mcu_qemu_twin(name):
    q = load_board(name).qemu
    assert (q.binary, q.machine, q.image, q.boot) == \
        ("qemu-system-arm", TWIN_MACHINE.get(name, name), "nagi.elf", ("-kernel", "{image}"))
    assert q.cpu is None and q.memory is None       # fixed by the machine


def test_the_keyboard_pcb_is_a_matrix_with_a_twin_pin_per_key():
    b = load_board("nagi-kb")
    kb = b.keyboard
    assert kb.matrix.diode == "col2row" and len(kb.matrix.rows) * len(kb.matrix.cols) == 15
    assert len(kb.keys) == 15 and all(k.pin is None and k.twin_pin for k in kb.keys)
    assert len({k.sim_pin for k in kb.keys}) == 15
    assert b.console["usb_serial"] == f"{kb.usb_vid:04x}:{kb.usb_pid:04x}"
    assert b.has("keys") and b.has("hid")


def test_discovery_kit_flash_methods_and_pins():
    b = load_board("b-l475e-iot01a")
    assert b.flash_methods == ("pyocd", "qemu", "dfu")
    assert b.flash_method("pyocd")["target"] == "stm32l475xg"
    dfu = b.flash_method("dfu")
    assert (dfu["usb_vid"], dfu["usb_pid"]) == (0x0483, 0xdf11)
    assert b.console["usb_serial"] == "0483:374b"     # the ST-LINK V2-1 VCP (tools/hardware.py)
    button, led = b.gpio_pin("button"), b.gpio_pin("led")
    assert (button["direction"], button["qtest_device"], button["pin"], button["irq"]) == \
        ("input", "/machine/soc/gpioc", "PC13", 40)
    assert (led["direction"], led["qtest_device"], led["pin"]) == \
        ("output", "/machine/soc/gpioa", "PA5")
    assert b.gpio_pin("nope") is None


def test_mps2_flash_methods():
    b = load_board("mps2-an386")
    assert b.flash_methods == ("qemu", "pyocd")
    assert not b.has("gpio") and b.gpio == {}
