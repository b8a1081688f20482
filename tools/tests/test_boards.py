"""Every board directory is complete and agrees with the Kconfig tree."""

import pytest

from tools.boards import board_names, load_board
from tools.config import _load_file, load_kconfig

BOARDS = board_names()


def test_pc_is_there():
    assert "pc" in BOARDS


@pytest.mark.parametrize("name", BOARDS)
def test_board_directory_is_complete(name):
    b = load_board(name)
    for f in ["defconfig", "Kconfig.board", "Kconfig.defconfig", "README.md"]:
        assert (b.directory / f).is_file(), f"board/{name}/{f} is missing"
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
    assert b.has("paging") and b.has("ioports") and b.has("mmu") and not b.has("keys")
    assert b.flash_methods[0] == "qemu"


def test_new_board_directory_needs_no_other_edit(tmp_path, monkeypatch):
    """A copy of board/pc under another name is found by the Kconfig glob."""
    import shutil
    from tools import paths
    repo = tmp_path / "repo"
    shutil.copytree(paths.REPO / "board", repo / "board")
    for f in ["Kconfig", "arch/Kconfig", "kernel/Kconfig", "userland/Kconfig"]:
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.REPO / f, repo / f)
    new = repo / "board" / "pc2"
    shutil.copytree(repo / "board" / "pc", new)
    for f in new.iterdir():
        f.write_text(f.read_text().replace("BOARD_PC", "BOARD_PC2").replace('"pc"', '"pc2"')
                     .replace("pc: x86_64", "pc2: x86_64"))
    (new / "board.toml").write_text((new / "board.toml").read_text()
                                    .replace('name = "pc"', 'name = "pc2"'))
    assert set(board_names(repo / "board")) == set(BOARDS) | {"pc2"}
    assert load_board("pc2", repo / "board").name == "pc2"
    kconf = load_kconfig(repo)
    _load_file(kconf, new / "defconfig", replace=True)
    assert kconf.syms["BOARD"].str_value == "pc2"


MCU_BOARDS = [n for n in BOARDS if load_board(n).arch == "arm-m"]


def test_mcu_boards_are_there():
    assert {"b-l475e-iot01a", "mps2-an386"} <= set(MCU_BOARDS)


@pytest.mark.parametrize("name", MCU_BOARDS)
def test_board_toml_agrees_with_kconfig_values(name):
    """The memory map, clock and console in board.toml are the hidden
    Kconfig values its defconfig gives (both are read by someone)."""
    b = load_board(name)
    kconf = load_kconfig()
    _load_file(kconf, b.defconfig, replace=True)
    val = lambda s: int(kconf.syms[s].str_value, 0)
    flash, ram = b.memory_region("flash"), b.memory_region("ram")
    assert (flash["start"], flash["size"]) == (val("FLASH_BASE"), val("FLASH_SIZE"))
    assert (ram["start"], ram["size"]) == (val("RAM_BASE"), val("RAM_SIZE"))
    assert b.cpu_hz == val("CPU_HZ")
    assert b.console["uart"] == kconf.syms["CONSOLE_UART"].str_value
    assert b.console["base"] == val("CONSOLE_BASE") == val("KCONSOLE_BASE")
    assert b.console["irq"] == val("CONSOLE_IRQ")
    assert b.has("gpio") == (kconf.syms["GPIO"].str_value == "y")
    assert kconf.syms["ARCH_ARM_M"].str_value == "y"
    assert b.has("mpu") and b.has("fpu") and not b.has("mmu") and not b.has("paging")
    assert not b.has("ioports") and not b.has("page_payloads")


@pytest.mark.parametrize("name", MCU_BOARDS)
def test_mcu_qemu_twin(name):
    q = load_board(name).qemu
    assert (q.binary, q.machine, q.image, q.boot) == \
        ("qemu-system-arm", name, "nagi.elf", ("-kernel", "{image}"))
    assert q.cpu is None and q.memory is None       # fixed by the machine


def test_discovery_kit_flash_methods_and_pins():
    b = load_board("b-l475e-iot01a")
    assert b.flash_methods == ("pyocd", "qemu", "dfu")
    assert b.flash_method("pyocd")["target"] == "stm32l475xg"
    dfu = b.flash_method("dfu")
    assert (dfu["usb_vid"], dfu["usb_pid"]) == (0x0483, 0xdf11)
    assert b.console["usb_serial"] == "0483:374b"     # the ST-LINK V2-1 VCP (tools/hardware.py)
    button, led = b.gpio_pin("button"), b.gpio_pin("led")
    assert (button["direction"], button["qtest_device"], button["qtest_pin"]) == \
        ("input", "/machine/soc/gpioc", 13)
    assert (led["direction"], led["qtest_device"], led["qtest_pin"]) == \
        ("output", "/machine/soc/gpioa", 5)
    assert b.gpio_pin("nope") is None


def test_mps2_flash_methods():
    b = load_board("mps2-an386")
    assert b.flash_methods == ("qemu", "pyocd")
    assert not b.has("gpio") and b.gpio == {}
