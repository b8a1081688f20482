"""board.toml is the only place a board's facts are written: a fact changed
there reaches the generated Kconfig defaults, autoconf.h, config.mk (the
kernel's compiler flags) and the Rust constants; a new board is one
directory of data; a malformed board.toml is one line naming what is
wrong. Each test works on a copy of the repository's Kconfig tree and
board/ in tmp_path."""

import re
import shutil
import subprocess

import pytest

from tools import paths
from tools.board_config import FRAGMENT, uart_divisor, write_kconfig_defaults
from tools.boards import load_board
from tools.config import configure, load_kconfig
from tools.errors import ToolError

L475 = "b-l475e-iot01a"


@pytest.fixture
def repo(tmp_path):
    """A copy of what the configuration reads: the Kconfig files and board/."""
    root = tmp_path / "repo"
    shutil.copytree(paths.REPO / "board", root / "board")
    for f in ["Kconfig", "arch/Kconfig", "kernel/Kconfig", "userland/Kconfig"]:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.REPO / f, root / f)
    return root


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def configure_in(repo, name, build):
    return configure(load_board(name, repo / "board"), build, [], repo=repo)


def test_a_changed_fact_reaches_kconfig_c_and_rust(repo, tmp_path):
    toml = repo / "board" / L475 / "board.toml"
    edit(toml, "cpu_hz = 80_000_000", "cpu_hz = 40_000_000")
    edit(toml, "pll_n = 40", "pll_n = 20")
    edit(toml, "base = 0x4001_3800", "base = 0x4000_4400")
    edit(toml, "baud = 115200", "baud = 57600")
    edit(toml, 'pin = "PA5"', 'pin = "PB14"')
    edit(toml, 'tx = "PB6"', 'tx = "PA9"')
    build = tmp_path / "build"
    result = configure_in(repo, L475, build)

    fragment = (repo / FRAGMENT).read_text()
    section = fragment.split("if BOARD_B_L475E_IOT01A\n", 1)[1].split("endif", 1)[0]
    assert "config CPU_HZ\n\tdefault 40000000\n" in section
    assert "config CONSOLE_BASE\n\tdefault 0x40004400\n" in section
    assert "config CONSOLE_BAUD\n\tdefault 57600\n" in section
    assert (result.values["CPU_HZ"], result.values["CONSOLE_BAUD"]) == ("40000000", "57600")

    autoconf = (build / "include/generated/autoconf.h").read_text()
    for line in ["#define CONFIG_CPU_HZ 40000000", "#define BOARD_CLOCK_PLL_N 20",
                 "#define BOARD_CONSOLE_DIVISOR 694", "#define CONFIG_CONSOLE_BASE 0x40004400",
                 "#define CONFIG_CONSOLE_BAUD 57600", "#define BOARD_GPIO_LED_PORT 1",
                 "#define BOARD_GPIO_LED_PIN 14", "#define BOARD_CONSOLE_TX_PORT 0",
                 "#define BOARD_CONSOLE_TX_PIN 9"]:
        assert line + "\n" in autoconf
    rs = (build / "nagi_config.rs").read_text()
    for line in ["pub const CONFIG_CPU_HZ: u32 = 40000000;",
                 "pub const BOARD_CONSOLE_DIVISOR: u32 = 694;",
                 "pub const CONFIG_CONSOLE_BASE: u64 = 0x40004400;",
                 "pub const CONFIG_CONSOLE_BAUD: u32 = 57600;",
                 "pub const BOARD_GPIO_LED_PORT: u32 = 1;", "pub const BOARD_GPIO_LED_PIN: u32 = 14;",
                 "pub const BOARD_CONSOLE_TX_PIN: u32 = 9;"]:
        assert line + "\n" in rs


def test_the_ps2_table_reaches_kconfig_and_rust(repo, tmp_path):
    """pc's [ps2] puts ps2kbd in the image (PS2KBD) with the i8042's ports
    and IRQ; an MCU board has no PS2KBD."""
    edit(repo / "board" / "pc" / "board.toml", "irq = 1\n", "irq = 12\n")
    result = configure_in(repo, "pc", tmp_path / "pc")
    assert result.values["PS2KBD"] == "y"
    rs = (tmp_path / "pc" / "nagi_config.rs").read_text()
    for line in ["pub const CONFIG_PS2KBD: bool = true;", "pub const BOARD_PS2_DATA_PORT: u32 = 0x60;",
                 "pub const BOARD_PS2_COMMAND_PORT: u32 = 0x64;", "pub const BOARD_PS2_IRQ: u32 = 12;"]:
        assert line + "\n" in rs
    mcu = configure_in(repo, L475, tmp_path / "mcu")
    assert mcu.values.get("PS2KBD", "n") != "y"
    assert "BOARD_PS2" not in (tmp_path / "mcu" / "nagi_config.rs").read_text()


@pytest.mark.parametrize("old, new, message", [
    ("irq = 1\n", "irq = 16\n", "ps2.irq: 16 is not an ISA IRQ"),
    ("data_port = 0x60", "data_port = 0x10000", "ps2.data_port: 0x10000 is not an I/O port"),
    ("command_port = 0x64", "", "ps2.command_port: missing"),
    ("[capabilities]\n", "[capabilities]\nps2 = true\n", "capabilities.ps2: follows from the [ps2] table"),
])
def test_ps2_table_is_checked(repo, old, new, message):
    toml = repo / "board" / "pc" / "board.toml"
    edit(toml, old, new)
    with pytest.raises(ToolError) as e:
        load_board("pc", repo / "board")
    assert "\n" not in str(e.value) and message in str(e.value)


def test_unchanged_boards_leave_the_fragment_alone(repo):
    assert write_kconfig_defaults(repo) is True
    assert write_kconfig_defaults(repo) is False
    edit(repo / "board" / "mps2-an386" / "board.toml", "irq_count = 32", "irq_count = 48")
    assert write_kconfig_defaults(repo) is True
    assert "config IRQ_COUNT\n\tdefault 48\n" in (repo / FRAGMENT).read_text()


def test_a_new_board_is_board_toml_defconfig_and_kconfig_board(repo, tmp_path):
    """A Cortex-M3 board of the STM32L4 family: three small files (and the
    keymap of its [keyboard]), no other edit; its facts, its core (-> -mcpu,
    no FPU) and the Board choice."""
    new = repo / "board" / "my-kb"
    new.mkdir()
    text = (repo / "board" / L475 / "board.toml").read_text()
    text = text.replace('name = "b-l475e-iot01a"', 'name = "my-kb"')
    text = text.replace('cpu = "cortex-m4f"', 'cpu = "cortex-m3"')
    text = text.replace("size = 0x0001_8000", "size = 0x0000_8000")
    (new / "board.toml").write_text(text)
    (new / "defconfig").write_text("CONFIG_BOARD_MY_KB=y\n")
    (new / "Kconfig.board").write_text(
        'config BOARD_MY_KB\n\tbool "my-kb: a keyboard"\n\tselect ARCH_ARM_M\n')
    shutil.copy(repo / "board" / L475 / "keymap.toml", new / "keymap.toml")
    assert sorted(p.name for p in new.iterdir()) == ["Kconfig.board", "board.toml", "defconfig",
                                                     "keymap.toml"]

    build = tmp_path / "build"
    v = configure_in(repo, "my-kb", build).values
    assert (v["BOARD"], v["ARCH"], v["CPU"], v["ARCH_HAS_FPU"]) == ("my-kb", "arm-m", "cortex-m3", "n")
    assert (v["RAM_SIZE"], v["CONSOLE_UART"], v["GPIO"]) == ("0x8000", "stm32-usart", "y")
    assert load_board("my-kb", repo / "board").has("fpu") is False
    mk = (build / "config.mk").read_text()
    assert 'CONFIG_CPU="cortex-m3"\n' in mk
    # The other boards still configure as before from the same tree.
    assert configure_in(repo, L475, tmp_path / "l475").values["CPU"] == "cortex-m4"


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="no arm-none-eabi-gcc")
def test_kernel_flags_follow_the_board_cpu(repo, tmp_path):
    edit(repo / "board" / "mps2-an386" / "board.toml", 'cpu = "cortex-m4f"', 'cpu = "cortex-m7"')
    build = tmp_path / "build"
    configure_in(repo, "mps2-an386", build)
    out = subprocess.run(["make", "-n", "-f", "kernel/Makefile", f"O={build}",
                          f"{build}/kernel/kernel/ipc.c.o"],
                         cwd=paths.REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "-mcpu=cortex-m7" in out.stdout and "cortex-m4" not in out.stdout


def test_the_tree_parses_without_the_fragment(repo):
    """A fresh tree (no build/ yet) or a plain `menuconfig`: the fragment
    is osource'd, so kconfiglib parses; the board values are then empty."""
    import os

    import kconfiglib
    assert not (repo / FRAGMENT).exists()
    old = os.getcwd()
    os.chdir(repo)
    try:
        kconf = kconfiglib.Kconfig("Kconfig", warn_to_stderr=False)
    finally:
        os.chdir(old)
    kconf.load_config(str(repo / "board" / L475 / "defconfig"))
    assert kconf.syms["BOARD"].str_value == "" and kconf.syms["ARCH"].str_value == "arm-m"
    # flash.py's load_kconfig writes it first.
    kconf = load_kconfig(repo)
    kconf.load_config(str(repo / "board" / L475 / "defconfig"))
    assert kconf.syms["BOARD"].str_value == L475


# -- clock and baud divisor: board data, computed once -----------------------

def test_uart_divisor_is_rounded_not_truncated():
    assert uart_divisor(4_000_000, 115200) == 35         # 34.72: 34 would be 2.1 % fast
    assert uart_divisor(80_000_000, 115200) == 694       # 694.44
    assert uart_divisor(25_000_000, 115200) == 217       # 217.01
    assert uart_divisor(16_000_000, 9600) == 1667        # 1666.67
    assert uart_divisor(115200 * 20 + 57600, 115200) == 21   # exactly half: up


def test_the_l475_runs_at_80_mhz_from_its_pll(repo, tmp_path):
    board = load_board(L475, repo / "board")
    k = board.clock
    assert board.cpu_hz == 80_000_000
    assert k["source"] == "msi-pll" and k["input_hz"] == 4_000_000
    assert k["input_hz"] // k["pll_m"] * k["pll_n"] // k["pll_r"] == board.cpu_hz
    assert k["flash_latency"] == 4, "RM0351: 4 wait states above 64 MHz in range 1"
    configure_in(repo, L475, tmp_path / "build")
    autoconf = (tmp_path / "build/include/generated/autoconf.h").read_text()
    for line in ["#define CONFIG_CPU_HZ 80000000", "#define BOARD_CLOCK_MSI_PLL 1",
                 "#define BOARD_CLOCK_PLL_M 1", "#define BOARD_CLOCK_PLL_N 40",
                 "#define BOARD_CLOCK_PLL_R 2", "#define BOARD_CLOCK_FLASH_LATENCY 4",
                 "#define BOARD_CONSOLE_DIVISOR 694"]:
        assert line + "\n" in autoconf


def test_the_l475_clocks_usb_at_48_mhz_from_pllsai1q(repo, tmp_path):
    """CLK48 (USB OTG FS): MSI 4 MHz -> PLLSAI1 x24 = 96 MHz VCO -> Q /2."""
    k = load_board(L475, repo / "board").clock
    assert k["usb_source"] == "pllsai1q"
    assert k["input_hz"] // k["pll_m"] * k["pllsai1_n"] // k["pllsai1_q"] == 48_000_000
    build = tmp_path / "build"
    configure_in(repo, L475, build)
    autoconf = (build / "include/generated/autoconf.h").read_text()
    for line in ["#define BOARD_CLOCK_USB_PLLSAI1Q 1", "#define BOARD_CLOCK_PLLSAI1_N 24",
                 "#define BOARD_CLOCK_PLLSAI1_Q 2"]:
        assert line + "\n" in autoconf
    assert "pub const BOARD_CLOCK_PLLSAI1_N: u32 = 24;" in (build / "nagi_config.rs").read_text()


def test_usb_clock_is_optional(repo, tmp_path):
    toml = repo / "board" / L475 / "board.toml"
    for key in ("usb_source", "pllsai1_n", "pllsai1_q"):
        text = toml.read_text()
        toml.write_text(re.sub(rf"^{key} = .*\n", "", text, flags=re.M))
    assert "usb_source" not in load_board(L475, repo / "board").clock
    build = tmp_path / "build"
    configure_in(repo, L475, build)
    autoconf = (build / "include/generated/autoconf.h").read_text()
    assert "#define BOARD_CLOCK_MSI_PLL 1\n" in autoconf
    assert "PLLSAI1" not in autoconf


def test_mps2_keeps_its_fixed_clock(repo, tmp_path):
    board = load_board("mps2-an386", repo / "board")
    assert board.cpu_hz == 25_000_000 and board.clock == {}
    configure_in(repo, "mps2-an386", tmp_path / "build")
    autoconf = (tmp_path / "build/include/generated/autoconf.h").read_text()
    assert "BOARD_CLOCK_" not in autoconf
    assert "#define BOARD_CONSOLE_DIVISOR 217\n" in autoconf


# -- validation: one line naming the board, the key and the problem ----------

@pytest.mark.parametrize("old, new, message", [
    ('cpu_hz = 80_000_000', 'cpu_hz = "fast"', "cpu_hz: expected an integer, got 'fast'"),
    ('cpu_hz = 80_000_000', '', "cpu_hz: missing"),
    ('cpu_hz = 80_000_000', 'cpu_hz = 72_000_000', "cpu_hz: 72000000 but [clock] gives 80000000 Hz"),
    ('source = "msi-pll"', 'source = "hse"', "clock.source: 'hse' is not one of msi-pll"),
    ('pll_m = 1', 'pll_m = 2', "clock.pll_m: PLL input 2000000 Hz is outside 4..16 MHz"),
    ('pll_n = 40', 'pll_n = 87', "clock.pll_n: 87 is not in 8..86"),
    ('pll_r = 2', 'pll_r = 3', "clock.pll_r: 3 is not one of 2, 4, 6, 8"),
    ('flash_latency = 4', 'flash_latency = 5', "clock.flash_latency: 5 is not in 0..4"),
    ('flash_latency = 4', '', "clock.flash_latency: missing"),
    ('usb_source = "pllsai1q"', 'usb_source = "hsi48"',
     "clock.usb_source: 'hsi48' is not one of pllsai1q"),
    ('usb_source = "pllsai1q"', '', "clock.pllsai1_n: given but usb_source is not"),
    ('pllsai1_q = 2 ', '', "clock.pllsai1_q: missing"),
    ('pllsai1_n = 24', 'pllsai1_n = 87', "clock.pllsai1_n: 87 is not in 8..86"),
    ('pllsai1_n = 24', 'pllsai1_n = 12', "clock.pllsai1_n: PLLSAI1 VCO 48000000 Hz is outside 64..344 MHz"),
    ('pllsai1_n = 24', 'pllsai1_n = 25', "clock.pllsai1_q: CLK48 would be 50000000 Hz, not the 48000000 Hz USB needs"),
    ('pllsai1_q = 2 ', 'pllsai1_q = 3 ', "clock.pllsai1_q: 3 is not one of 2, 4, 6, 8"),
    ('pllsai1_q = 2 ', 'pllsai1_q = 4 ', "clock.pllsai1_q: CLK48 would be 24000000 Hz"),
    ('pllsai1_n = 24', 'pllsai1_n = "24"', "clock.pllsai1_n: expected an integer"),
    ('tx_delay_us = 100', 'tx_delay_us = "slow"', "console.tx_delay_us: expected an integer"),
    ('cpu = "cortex-m4f"', 'cpu = "cortex-a53"', "cpu: 'cortex-a53' is not one of cortex-m3"),
    ('irq_count = 82', 'irq_count = 600', "irq_count: 600 is not in 1..496"),
    ('baud = 115200', 'baud = true', "console.baud: expected an integer, got true"),
    ('base = 0x4001_3800', '', "console.base: missing"),
    ('uart = "stm32-usart"', 'uart = "pl011"', "console.uart: 'pl011' is not one of 16550"),
    ('tx = "PB6"', 'tx = "PB16"', "console.tx: 'PB16' is not a pin"),
    ('rx = "PB7"', 'rx = "B7"', "console.rx: 'B7' is not a pin"),
    ('rx = "PB7"', '', "console.rx: missing (tx and rx go together)"),
    ('pin_af = 7', 'pin_af = 16', "console.pin_af: 16 is not an alternate function"),
    ('rcc_bit = 14', 'rcc_bit = 32', "console.rcc_bit: 32 is not a bit"),
    ('pin = "PC13"', 'pin = "PC"', "gpio.inputs[0].pin: 'PC' is not a pin"),
    ('irq = 40', 'irq = -1', "gpio.inputs[0].irq: must not be negative"),
    ('kernel = 0x4000 ', 'kernel = 0x400_0000 ', "memory[0].kernel: 0x4000000 is larger"),
    ('kind = "ram"', 'kind = "sram"', "memory[1].kind: 'sram' is not one of flash, ram"),
    ('arch = "arm-m"', 'arch = "riscv"', "arch: 'riscv' is not one of x86_64, arm-m"),
    ('[capabilities]\n', '[capabilities]\nfpu = true\n', "capabilities.fpu: follows from cpu"),
    ('console = true', 'console = "yes"', "capabilities.console: expected true or false, got 'yes'"),
    ('name = "b-l475e-iot01a"', 'name = "other"', "name: 'other' but the directory is"),
])
def test_board_toml_is_checked(repo, old, new, message):
    toml = repo / "board" / L475 / "board.toml"
    edit(toml, old, new)
    with pytest.raises(ToolError) as e:
        load_board(L475, repo / "board")
    text = str(e.value)
    assert "\n" not in text
    assert text.startswith(f"board '{L475}' ({toml}): ")
    assert message in text


def test_toml_syntax_error_is_one_line_naming_the_file(repo, tmp_path):
    toml = repo / "board" / "mps2-an386" / "board.toml"
    edit(toml, "irq_count = 32", "irq_count = = 32")
    with pytest.raises(ToolError) as e:
        load_board("mps2-an386", repo / "board")
    assert re.fullmatch(rf"{re.escape(str(toml))}: .*\(at line \d+, column \d+\)", str(e.value))
    # The generated defaults cover every board, so every configuration
    # stops at the same line rather than running with a stale fragment.
    with pytest.raises(ToolError, match=re.escape(str(toml))):
        configure_in(repo, "pc", tmp_path / "pc")


def test_flashers_read_the_board_not_the_file(tmp_path):
    """tools/flashers takes the [[flash]] tables from the loaded Board."""
    from tools.flashers import flash_entry, flash_region
    board = load_board(L475)
    assert flash_entry(board, "dfu")["usb_pid"] == 0xdf11
    assert flash_entry(board, "nope") is None
    assert flash_region(board) == (0x0800_0000, 0x0010_0000)


def test_the_pci_and_nic_tables_reach_kconfig_and_rust(repo, tmp_path):
    """pc's [pci] puts the enumerator in the image (PCI), its [nic] the
    e1000 driver (E1000), with the ports and the card's PCI ids; an MCU
    board has neither."""
    result = configure_in(repo, "pc", tmp_path / "pc")
    assert result.values["PCI"] == "y" and result.values["E1000"] == "y"
    rs = (tmp_path / "pc" / "nagi_config.rs").read_text()
    for line in ["pub const CONFIG_PCI: bool = true;", "pub const CONFIG_E1000: bool = true;",
                 "pub const BOARD_PCI_CONFIG_ADDRESS: u32 = 0xcf8;",
                 "pub const BOARD_PCI_CONFIG_DATA: u32 = 0xcfc;",
                 "pub const BOARD_NIC_PCI_VENDOR: u32 = 0x8086;",
                 "pub const BOARD_NIC_PCI_DEVICE: u32 = 0x100e;"]:
        assert line + "\n" in rs
    assert result.values["NIC"] == "y" and result.values.get("LAN9118", "n") != "y"
    assert "BOARD_NIC_BASE" not in rs
    mcu = configure_in(repo, L475, tmp_path / "mcu")
    assert mcu.values.get("PCI", "n") != "y" and mcu.values.get("E1000", "n") != "y"
    assert mcu.values.get("NIC", "n") != "y" and mcu.values.get("LAN9118", "n") != "y"
    assert "BOARD_NIC" not in (tmp_path / "mcu" / "nagi_config.rs").read_text()


def test_an_on_board_nic_reaches_kconfig_and_rust(repo, tmp_path):
    """mps2-an386's [nic] (model lan9118) puts the lan9118 driver in the
    image with its register block and NVIC line; no PCI."""
    result = configure_in(repo, "mps2-an386", tmp_path / "mps2")
    v = result.values
    assert v["NIC"] == "y" and v["LAN9118"] == "y"
    assert v.get("E1000", "n") != "y" and v.get("PCI", "n") != "y"
    rs = (tmp_path / "mps2" / "nagi_config.rs").read_text()
    for line in ["pub const CONFIG_NIC: bool = true;", "pub const CONFIG_LAN9118: bool = true;",
                 "pub const BOARD_NIC_BASE: u32 = 0x40200000;",
                 "pub const BOARD_NIC_SIZE: u32 = 0x100;",
                 "pub const BOARD_NIC_IRQ: u32 = 13;"]:
        assert line + "\n" in rs
    assert "BOARD_NIC_PCI" not in rs


@pytest.mark.parametrize("old, new, message", [
    ('model = "lan9118"', 'model = "cs8900"', "nic.model: 'cs8900' is not one of e1000, lan9118"),
    ("size = 0x100", "size = 0x180", "nic.size: 0x180 is not a power of two >= 32"),
    ("size = 0x100", "size = 0x10", "nic.size: 0x10 is not a power of two >= 32"),
    ("base = 0x4020_0000", "base = 0x4020_0080", "nic.base: 0x40200080 is not aligned to its size 0x100"),
    ("base = 0x4020_0000", "base = 0x2000_0000", "nic.base: 0x20000000 is not in the peripheral region"),
    ("irq = 13\n", "irq = 32\n", "nic.irq: 32 is not an NVIC line of this board (0..31)"),
    ('qemu_nic_model = "lan9118"\n', "", "nic.qemu_nic_model: missing"),
    ('qemu_nic_model = "lan9118"\n', 'qemu_nic_model = "lan9118"\npci_vendor = 1\n',
     "nic.pci_vendor: not a key of a lan9118 [nic]"),
    ("irq = 13\n", "", "nic.irq: missing"),
])
def test_an_on_board_nic_table_is_checked(repo, old, new, message):
    toml = repo / "board" / "mps2-an386" / "board.toml"
    edit(toml, old, new)
    with pytest.raises(ToolError) as e:
        load_board("mps2-an386", repo / "board")
    assert "\n" not in str(e.value) and message in str(e.value)


@pytest.mark.parametrize("old, new, message", [
    ("config_data = 0xcfc", "config_data = 0xcf0", "pci.config_data: must lie 4..60 ports above"),
    ("config_address = 0xcf8", "config_address = 0x10000", "pci.config_address: 0x10000 is not an I/O port"),
    ('model = "e1000"', 'model = "rtl8139"', "nic.model: 'rtl8139' is not one of e1000"),
    ("pci_device = 0x100e", "pci_device = 0x10000", "nic.pci_device: 0x10000 is not a 16-bit PCI id"),
    ('qemu_device = "e1000"\n', "", "nic.qemu_device: missing"),
    ("[pci]\nconfig_address = 0xcf8\nconfig_data = 0xcfc\n", "", "nic.model: e1000 is a PCI card"),
])
def test_pci_and_nic_tables_are_checked(repo, old, new, message):
    toml = repo / "board" / "pc" / "board.toml"
    edit(toml, old, new)
    with pytest.raises(ToolError) as e:
        load_board("pc", repo / "board")
    assert "\n" not in str(e.value) and message in str(e.value)
