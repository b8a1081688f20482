"""Config generation from the real Kconfig tree and board/pc/defconfig."""

import os

import pytest

from tools.boards import load_board
from tools.config import configure, make_fragment, parse_overrides, rust_constants, write_if_changed
from tools.errors import ToolError


@pytest.fixture
def pc():
    return load_board("pc")


def test_defconfig_produces_headers(pc, tmp_path):
    result = configure(pc, tmp_path, [])
    assert {p.name for p in result.changed} == {".config", "autoconf.h", "config.mk",
                                                 "nagi_config.rs", "keyboard_board.rs"}
    autoconf = (tmp_path / "include/generated/autoconf.h").read_text()
    assert "#define CONFIG_TICK_HZ 100\n" in autoconf
    assert '#define CONFIG_BOARD "pc"\n' in autoconf
    assert '#define CONFIG_ARCH "x86_64"\n' in autoconf
    assert "#define CONFIG_DEBUG_COMMANDS 1\n" in autoconf
    assert "CONFIG_KERNEL_UBSAN" not in autoconf
    rs = (tmp_path / "nagi_config.rs").read_text()
    for line in ['pub const CONFIG_BOARD: &str = "pc";', "pub const CONFIG_TICK_HZ: u32 = 100;",
                 "pub const CONFIG_DEBUG_COMMANDS: bool = true;",
                 "pub const CONFIG_BENCH: bool = true;",
                 "pub const CONFIG_KERNEL_UBSAN: bool = false;",
                 "pub const CONFIG_MAX_TASKS: u32 = 32;", "pub const CONFIG_TIMESLICE_MS: u32 = 20;",
                 "pub const CONFIG_MAX_CHANNELS: u32 = 256;",
                 "pub const CONFIG_TASK_CHANNELS: u32 = 64;"]:
        assert line + "\n" in rs
    mk = (tmp_path / "config.mk").read_text()
    assert 'CONFIG_ARCH="x86_64"\n' in mk and "CONFIG_TICK_HZ=100\n" in mk
    assert result.values["BOARD"] == "pc"


def test_unchanged_config_is_not_rewritten(pc, tmp_path):
    configure(pc, tmp_path, [])
    files = [tmp_path / ".config", tmp_path / "config.mk", tmp_path / "nagi_config.rs",
             tmp_path / "include/generated/autoconf.h"]
    for f in files:
        os.utime(f, ns=(1, 1))
    before = [f.stat().st_mtime_ns for f in files]
    # .config is older than the defconfig now, so it reloads the defconfig:
    # same content, so still nothing is written.
    assert configure(pc, tmp_path, []).changed == []
    assert [f.stat().st_mtime_ns for f in files] == before


def test_override_changes_only_what_differs(pc, tmp_path):
    configure(pc, tmp_path, [])
    result = configure(pc, tmp_path, [("KERNEL_UBSAN", "y"), ("TICK_HZ", "250")])
    assert {p.name for p in result.changed} == {".config", "autoconf.h", "config.mk",
                                                 "nagi_config.rs"}
    assert "CONFIG_KERNEL_UBSAN=y\n" in (tmp_path / "config.mk").read_text()
    assert "pub const CONFIG_TICK_HZ: u32 = 250;" in (tmp_path / "nagi_config.rs").read_text()


def test_menuconfig_edits_persist(pc, tmp_path):
    configure(pc, tmp_path, [])
    cfg = tmp_path / ".config"
    cfg.write_text(cfg.read_text().replace("CONFIG_TICK_HZ=100", "CONFIG_TICK_HZ=200"))
    configure(pc, tmp_path, [])
    assert "#define CONFIG_TICK_HZ 200" in (tmp_path / "include/generated/autoconf.h").read_text()


def test_broken_config_is_one_line_error(pc, tmp_path):
    configure(pc, tmp_path, [])
    cfg = tmp_path / ".config"
    cfg.write_text(cfg.read_text() + "this is not a config line\n")
    with pytest.raises(ToolError) as e:
        configure(pc, tmp_path, [])
    assert "broken config" in str(e.value) and "\n" not in str(e.value)


def test_bad_value_in_config_is_an_error(pc, tmp_path):
    configure(pc, tmp_path, [])
    cfg = tmp_path / ".config"
    cfg.write_text(cfg.read_text().replace("CONFIG_TICK_HZ=100", "CONFIG_TICK_HZ=fast"))
    with pytest.raises(ToolError, match="TICK_HZ"):
        configure(pc, tmp_path, [])


@pytest.mark.parametrize("item, message", [
    ("NO_SUCH_SYMBOL=y", "no such config symbol"),
    ("TICK_HZ=99999", "not accepted"),
    ("KERNEL_UBSAN=maybe", "not accepted"),
])
def test_bad_overrides(pc, tmp_path, item, message):
    with pytest.raises(ToolError, match=message) as e:
        configure(pc, tmp_path, parse_overrides([item]))
    assert e.value.status == 2


def test_parse_overrides():
    assert parse_overrides(["CONFIG_A=y", "B = 3", 'C="x"']) == [("A", "y"), ("B", "3"), ("C", "x")]
    with pytest.raises(ToolError):
        parse_overrides(["NOEQUALS"])


def test_unknown_board_errors_cleanly():
    with pytest.raises(ToolError) as e:
        load_board("nope")
    from tools.boards import board_names
    assert str(e.value) == f"unknown board 'nope'; valid boards: {', '.join(board_names())}"
    assert "pc" in board_names() and "mps2-an386" in board_names()
    assert e.value.status == 2


def test_write_if_changed(tmp_path):
    f = tmp_path / "a" / "b.txt"
    assert write_if_changed(f, "x") is True
    assert write_if_changed(f, "x") is False
    assert write_if_changed(f, "y") is True and f.read_text() == "y"


def test_make_fragment_keeps_assignments_only():
    text = "# c\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"v\"\n"
    assert make_fragment(text).splitlines()[1:] == ["CONFIG_A=y", 'CONFIG_S="v"']


def test_rust_string_escaping(pc, tmp_path):
    from tools.config import _rust_str
    assert _rust_str('a"b\\c\n') == '"a\\"b\\\\c\\u{a}"'


def board_values(board):
    """The hidden Kconfig values an MCU board's facts should give."""
    flash, ram = board.memory_region("flash"), board.memory_region("ram")
    c = board.console
    return {"BOARD": board.name, "ARCH": "arm-m", "ARCH_ARM_M": "y", "ARCH_HAS_MMU": "n",
            "ARCH_HAS_FPU": "y" if board.has("fpu") else "n",
            "FLASH_BASE": flash["start"], "FLASH_SIZE": flash["size"],
            "RAM_BASE": ram["start"], "RAM_SIZE": ram["size"],
            "KERNEL_FLASH_SIZE": flash["kernel"], "KERNEL_RAM_SIZE": ram["kernel"],
            "TASK_TABLE_ADDR": flash["start"] + flash["kernel"],
            "CPU_HZ": board.cpu_hz, "IRQ_COUNT": board.irq_count,
            "CONSOLE_UART": c["uart"], "CONSOLE_BASE": c["base"], "CONSOLE_IRQ": c["irq"],
            "CONSOLE_BAUD": c["baud"], "GPIO": "y" if board.gpio else "n"}


def _value(values, name, want):
    got = values.get(name, "")
    return int(got, 0) if isinstance(want, int) else got


MCU_BOARDS = ["b-l475e-iot01a", "mps2-an386"]


@pytest.mark.parametrize("name", MCU_BOARDS)
def test_mcu_defconfig_gives_the_board_facts(name, tmp_path):
    board = load_board(name)
    result = configure(board, tmp_path, [])
    want = board_values(board)
    assert {k: _value(result.values, k, v) for k, v in want.items()} == want
    kconsole = {"stm32-usart": "KCONSOLE_STM32_USART", "cmsdk-uart": "KCONSOLE_CMSDK_UART"}
    for uart, sym in kconsole.items():
        assert result.values[sym] == ("y" if board.console["uart"] == uart else "n")
    autoconf = (tmp_path / "include/generated/autoconf.h").read_text()
    assert f'#define CONFIG_BOARD "{name}"\n' in autoconf
    assert f"#define CONFIG_CPU_HZ {board.cpu_hz}\n" in autoconf
    assert '#define CONFIG_CPU "cortex-m4"\n' in autoconf
    rs = (tmp_path / "nagi_config.rs").read_text()
    assert f"pub const CONFIG_RAM_SIZE: u64 = {hex(want['RAM_SIZE'])};\n" in rs
    assert f'pub const CONFIG_CONSOLE_UART: &str = "{want["CONSOLE_UART"]}";\n' in rs
    assert "pub const CONFIG_ARCH_ARM_M: bool = true;\n" in rs


def test_pc_gets_the_shared_names(pc, tmp_path):
    v = configure(pc, tmp_path, []).values
    assert (v["CONSOLE_UART"], int(v["CONSOLE_BASE"], 16), int(v["CONSOLE_IRQ"])) == \
        ("16550", 0x3f8, 4)
    assert v["GPIO"] == "n" and v["ARCH_ARM_M"] == "n" and v["ARCH_HAS_MMU"] == "y"
    autoconf = (tmp_path / "include/generated/autoconf.h").read_text()
    assert "CONFIG_FLASH_BASE" not in autoconf and "CONFIG_TASK_TABLE_ADDR" not in autoconf
    assert "CONFIG_ARCH_ARM_M" not in autoconf


def test_switching_board_in_a_config_updates_hidden_values(pc, tmp_path):
    """A .config made for pc, switched to mps2-an386 (as menuconfig would):
    every board-derived (hidden) value follows the new board; the visible
    MAX_TASKS keeps the value written in the .config, as Kconfig does."""
    configure(pc, tmp_path, [])
    cfg = tmp_path / ".config"
    text = cfg.read_text()
    assert "CONFIG_BOARD_PC=y" in text and 'CONFIG_CONSOLE_UART="16550"' in text
    assert "# CONFIG_BOARD_MPS2_AN386 is not set" in text
    cfg.write_text(text.replace("CONFIG_BOARD_PC=y", "# CONFIG_BOARD_PC is not set")
                   .replace("# CONFIG_BOARD_MPS2_AN386 is not set", "CONFIG_BOARD_MPS2_AN386=y"))
    os.utime(cfg)        # newer than the defconfig: it is the working config
    mps2 = load_board("mps2-an386")
    result = configure(mps2, tmp_path, [])
    want = board_values(mps2)
    assert {k: _value(result.values, k, v) for k, v in want.items()} == want
    assert result.values["BOARD"] == "mps2-an386"
    assert result.values["MAX_TASKS"] == "32"      # visible: kept from the pc .config
    new = cfg.read_text()
    assert 'CONFIG_CONSOLE_UART="cmsdk-uart"' in new and "CONFIG_RAM_SIZE=0x400000" in new
    assert 'CONFIG_CONSOLE_UART="16550"' not in new


def test_non_utf8_config_is_one_line_naming_the_byte(pc, tmp_path):
    configure(pc, tmp_path, [])
    cfg = tmp_path / ".config"
    cfg.write_bytes(cfg.read_bytes() + b"# caf\xe9\n")
    with pytest.raises(ToolError) as e:
        configure(pc, tmp_path, [])
    msg = str(e.value)
    assert "\n" not in msg and "not UTF-8" in msg and "0xe9" in msg and str(cfg) in msg


def _menuconfig_choosing(board_name, tick=None):
    """A stand-in for the menuconfig UI: selects `board_name` in the board
    choice (and changes TICK_HZ), as a user would, then saves."""
    def run(config):
        from tools.config import load_kconfig
        kconf = load_kconfig()
        kconf.load_config(str(config))
        kconf.syms["BOARD_" + board_name.upper().replace("-", "_")].set_value("y")
        if tick:
            kconf.syms["TICK_HZ"].set_value(str(tick))
        kconf.write_config(str(config))
        return 0
    return run


def test_menuconfig_board_switch_moves_the_config_and_keeps_the_old(pc, tmp_path, capsys):
    from tools.cli import do_menuconfig
    build = tmp_path / "pc"
    configure(pc, build, [])
    before = (build / ".config").read_text()
    assert do_menuconfig(pc, build, [], run=_menuconfig_choosing("mps2-an386", tick=250)) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "moved to" in out[0] and "--board mps2-an386" in out[0]
    assert (build / ".config").read_text() == before           # pc's is untouched
    configure(pc, build, [])                                      # and still builds
    moved = tmp_path / "mps2-an386" / ".config"
    assert "CONFIG_BOARD_MPS2_AN386=y" in moved.read_text()
    assert "CONFIG_TICK_HZ=250" in moved.read_text()              # the edit is kept there
    result = configure(load_board("mps2-an386"), tmp_path / "mps2-an386", [])
    assert result.values["BOARD"] == "mps2-an386" and result.values["TICK_HZ"] == "250"


def test_menuconfig_without_a_switch_reports_what_changed(pc, tmp_path, capsys):
    from tools.cli import do_menuconfig
    build = tmp_path / "pc"
    configure(pc, build, [])
    assert do_menuconfig(pc, build, [], run=_menuconfig_choosing("pc", tick=250)) == 0
    assert "configuration of pc: " in capsys.readouterr().out
    assert "CONFIG_TICK_HZ=250" in (build / ".config").read_text()


def test_menuconfig_failure_leaves_the_config(pc, tmp_path):
    from tools.cli import do_menuconfig
    build = tmp_path / "pc"
    configure(pc, build, [])
    before = (build / ".config").read_bytes()

    def crash(config):
        config.write_text("garbage\n")
        return 1
    with pytest.raises(ToolError, match="left as it was"):
        do_menuconfig(pc, build, [], run=crash)
    assert (build / ".config").read_bytes() == before
