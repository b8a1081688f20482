"""board.toml [keyboard]: the schema tools/boards.py checks (one-line
errors naming the key), what the build generates from it (the keyboard
crate's board module, the sys task's pin allow-list) and the Kconfig
Keyboard menu's defaults (visible only on boards with [keyboard])."""

import shutil

import pytest

from tools import paths
from tools.board_config import board_constants, keyboard_rust
from tools.boards import load_board
from tools.build import check_kernel_limits
from tools.config import configure
from tools.errors import ToolError

L475 = "b-l475e-iot01a"

MATRIX = '''
[keyboard]
usb_vid = 0x1209
usb_pid = 0x0001
trace_uart = { base = 0x4000_4400, irq = 38, rcc_enr = 0x58, rcc_bit = 17 }
[keyboard.matrix]
rows = ["PB0", "PB1"]
cols = ["PC0", "PC1"]
diode = "col2row"
[[keyboard.key]]
name = "q"
row = 0
col = 0
twin_pin = "PD0"
[[keyboard.key]]
name = "w"
row = 1
col = 1
twin_pin = "PD1"
'''


@pytest.fixture
def repo(tmp_path):
    """A copy of what the configuration reads: the Kconfig files and board/."""
    root = tmp_path / "repo"
    shutil.copytree(paths.REPO / "board", root / "board")
    for f in ["Kconfig", "arch/Kconfig", "kernel/Kconfig", "userland/Kconfig"]:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.REPO / f, root / f)
    return root


def toml_of(repo):
    return repo / "board" / L475 / "board.toml"


def with_matrix(repo):
    """The Discovery kit's board.toml with a 2x2 matrix instead of its keys."""
    path = toml_of(repo)
    text = path.read_text()
    start, end = text.index("[keyboard]\n"), text.index("# What the HIL tests may require")
    path.write_text(text[:start] + MATRIX + "\n" + text[end:])
    (path.parent / "keymap.toml").write_text(
        'tapping_term_ms = 150\n[[layer]]\nname = "base"\nkeys = ["KC_Q", "KC_W"]\n')


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_discovery_kit_has_twelve_direct_keys():
    b = load_board(L475)
    kb = b.keyboard
    assert b.has("keys") and b.has("hid")
    assert [k.name for k in kb.keys] == ["a", "b", "c", "d", "e", "f", "enter", "lshift",
                                         "space", "fn", "toggle", "backspace"]
    assert [k.pin for k in kb.keys][:6] == ["PC5", "PC4", "PC3", "PC2", "PC1", "PC0"]
    assert all(k.sim_pin == k.pin and k.row is None for k in kb.keys)
    assert kb.matrix is None and (kb.usb_vid, kb.usb_pid) == (0x1209, 0x0001)
    assert kb.trace_uart == {"base": 0x4000_4400, "irq": 38, "rcc_enr": 0x58, "rcc_bit": 17}
    numbers = [int(k.pin[2:]) for k in kb.keys]
    assert len(set(numbers)) == len(numbers) and 13 not in numbers, "one EXTI line per key"
    avoid = {"PB6", "PB7", "PA5", "PC13", "PA2", "PA3", "PA11", "PA12", "PA13", "PA14"}
    assert not avoid & {k.pin for k in kb.keys}


def test_boards_without_keyboard_have_none():
    assert load_board("pc").keyboard is None
    assert load_board("mps2-an386").keyboard is None


def test_a_matrix_board_reads_rows_cols_diode_and_twin_pins(repo):
    with_matrix(repo)
    kb = load_board(L475, repo / "board").keyboard
    assert kb.matrix.rows == ("PB0", "PB1") and kb.matrix.cols == ("PC0", "PC1")
    assert kb.matrix.diode == "col2row"
    assert [(k.row, k.col, k.pin, k.sim_pin) for k in kb.keys] == [(0, 0, None, "PD0"),
                                                                   (1, 1, None, "PD1")]


BAD = [
    ('usb_vid = 0x1209', 'usb_vid = 0x12090', "keyboard.usb_vid: 0x12090 is not a 16-bit USB ID"),
    ('usb_pid = 0x0001\n', '', "keyboard.usb_pid: missing"),
    ('rcc_bit = 17 }', 'rcc_bit = 40 }', "keyboard.trace_uart.rcc_bit: 40 is not a bit"),
    ('irq = 38, ', '', "keyboard.trace_uart.irq: missing"),
    ('name = "a"\npin = "PC5"', 'name = "A"\npin = "PC5"', "keyboard.key[0].name: 'A' is not a plain"),
    ('name = "b"\n', 'name = "a"\n', "keyboard.key[1].name: 'a' is used twice"),
    ('pin = "PC5"', 'pin = "PC55"', "keyboard.key[0].pin: 'PC55' is not a pin"),
    ('pin = "PC4"', 'pin = "PC5"', "keyboard.key[1].pin: pin PC5 is already keyboard.key[0].pin"),
    ('pin = "PC5"', 'pin = "PB6"', "keyboard.key[0].pin: pin PB6 is already console.tx"),
    ('pin = "PC5"', 'pin = "PA5"', "keyboard.key[0].pin: pin PA5 is already gpio.outputs[0] (led)"),
    ('pin = "PC5"', 'pin = "PB4"', "keyboard.key[1].pin: PC4 shares EXTI line 4 with key 'a' (PB4)"),
    ('pin = "PC5"', 'pin = "PB13"', "shares EXTI line 13 with gpio input 'button' (PC13)"),
    ('name = "a"\npin = "PC5"', 'name = "a"\npin = "PC5"\nrow = 0',
     "keyboard.key[0].pin: a key has either pin"),
    ('name = "a"\npin = "PC5"', 'name = "a"\nrow = 0\ncol = 0\ntwin_pin = "PD0"',
     "keyboard.key[0].row: a matrix key needs [keyboard.matrix]"),
    ('name = "a"\npin = "PC5"', 'name = "a"\nrow = 0\ncol = 0', "keyboard.key[0].twin_pin: missing"),
    ('name = "a"\npin = "PC5"', 'name = "a"\npin = "PC5"\ncolour = "red"',
     "keyboard.key[0].colour: unknown key"),
]


@pytest.mark.parametrize("old, new, message", BAD, ids=[m for _, _, m in BAD])
def test_keyboard_is_checked(repo, old, new, message):
    edit(toml_of(repo), old, new)
    with pytest.raises(ToolError) as e:
        load_board(L475, repo / "board")
    text = str(e.value)
    assert "\n" not in text and text.startswith(f"board '{L475}' ({toml_of(repo)}): ")
    assert message in text


MATRIX_BAD = [
    ('diode = "col2row"\n', '', "keyboard.matrix.diode: missing: a matrix needs its diode"),
    ('diode = "col2row"', 'diode = "none"', "keyboard.matrix.diode: 'none' is not one of col2row"),
    ('rows = ["PB0", "PB1"]', 'rows = []', "keyboard.matrix.rows: 0 pins"),
    ('rows = ["PB0", "PB1"]', 'rows = ["PB0", "PB0"]', "keyboard.matrix.rows[1]: pin PB0 is already"),
    ('rows = ["PB0", "PB1"]', 'rows = ["PB0", "X1"]', "keyboard.matrix.rows[1]: 'X1' is not a pin"),
    ('row = 1\ncol = 1', 'row = 2\ncol = 1', "keyboard.key[1].row: 2 is not a row (0..1)"),
    ('row = 1\ncol = 1', 'row = 0\ncol = 0', "keyboard.key[1].row: row 0, col 0 is already key 'q'"),
    ('twin_pin = "PD1"', 'twin_pin = "PC0"', "keyboard.key[1].twin_pin: pin PC0 is already"),
    ('name = "w"\nrow = 1', 'name = "w"\npin = "PE1"\nrow = 1', "a key has either pin"),
]


@pytest.mark.parametrize("old, new, message", MATRIX_BAD, ids=[m for _, _, m in MATRIX_BAD])
def test_matrix_is_checked(repo, old, new, message):
    with_matrix(repo)
    edit(toml_of(repo), old, new)
    with pytest.raises(ToolError) as e:
        load_board(L475, repo / "board")
    assert "\n" not in str(e.value) and message in str(e.value)


# -- generation -----------------------------------------------------------------

def configure_l475(repo, build, overrides=()):
    return configure(load_board(L475, repo / "board"), build, list(overrides), repo=repo)


def test_kconfig_defaults_on_a_keyboard_board(repo, tmp_path):
    v = configure_l475(repo, tmp_path / "b").values
    assert (v["HAS_KEYBOARD"], v["HAS_KEY_MATRIX"], v["KEYBOARD"], v["TWIN"]) == ("y", "n", "y", "y")
    assert v["KEYBOARD_DEBOUNCE_ASYM_EAGER_DEFER_PK"] == "y"
    assert (v["KEYBOARD_DEBOUNCE_MS"], v["KEYBOARD_SCAN_MS"]) == ("5", "1")
    assert v["KEYBOARD_REPORT_BOTH"] == "y"
    assert (v["MAX_TASKS"], v["MAX_CHANNELS"], v["TASK_CHANNELS"]) == ("12", "48", "16")


def test_no_keyboard_menu_without_keyboard(repo, tmp_path):
    v = configure(load_board("pc", repo / "board"), tmp_path / "pc", [], repo=repo).values
    assert v["HAS_KEYBOARD"] == "n" and v.get("KEYBOARD", "n") == "n"
    assert v.get("TWIN", "n") == "n"
    rs = (tmp_path / "pc" / "keyboard_board.rs").read_text()
    assert "pub const ENABLED: bool = false;" in rs and "KEY_COUNT: usize = 0;" in rs
    # An MCU board with neither keys nor a NIC keeps the small limits;
    # mps2-an386's [nic] brings net and httpd (CONFIG_NET), which raise
    # them as the keyboard tasks do.
    v = configure(load_board("mps2-an386", repo / "board"), tmp_path / "m", [], repo=repo).values
    assert v["NET"] == "y"
    assert (v["MAX_TASKS"], v["MAX_CHANNELS"], v["TASK_CHANNELS"]) == ("12", "48", "16")
    toml = repo / "board" / "mps2-an386" / "board.toml"
    text = toml.read_text()
    toml.write_text(text[:text.index("[nic]")] + text[text.index("[qemu]"):])
    v = configure(load_board("mps2-an386", repo / "board"), tmp_path / "m2", [], repo=repo).values
    assert v.get("NET", "n") == "n"
    assert (v["MAX_TASKS"], v["MAX_CHANNELS"], v["TASK_CHANNELS"]) == ("8", "32", "12")


def test_generated_board_module(repo, tmp_path):
    build = tmp_path / "b"
    configure_l475(repo, build, [("KEYBOARD_DEBOUNCE_SYM_DEFER_PK", "y"),
                                 ("KEYBOARD_REPORT_BOOT", "y"), ("KEYBOARD_DEBOUNCE_MS", "8")])
    rs = (build / "keyboard_board.rs").read_text()
    for line in ["pub const ENABLED: bool = true;",
                 "pub const KEY_COUNT: usize = 12;",
                 "pub const TAPPING_TERM_MS: u32 = 200;",
                 "pub const KEY_PINS: [(u8, u8); KEY_COUNT] = [(2, 5), (2, 4), (2, 3), (2, 2), "
                 "(2, 1), (2, 0), (0, 6), (0, 7), (1, 8), (1, 9), (3, 14), (0, 15)];",
                 "pub const MATRIX_DIODE: Option<Diode> = None;",
                 "pub const DEBOUNCE: Algorithm = Algorithm::SymDeferPk;",
                 "pub const DEBOUNCE_MS: u32 = 8;",
                 "pub const REPORT_BOOT: bool = true;", "pub const REPORT_NKRO: bool = false;",
                 "pub const TWIN: bool = true;", "pub const USB_VID: u16 = 0x1209;",
                 "Action::Mt { mods: 0x02, key: 0x2c }"]:
        assert line in rs, line
    rust = (build / "nagi_config.rs").read_text()
    assert "pub const BOARD_KEYBOARD_PINS_C: u32 = 0x3f;\n" in rust
    assert "pub const BOARD_KEYBOARD_PINS_D: u32 = 0x4000;\n" in rust
    assert "pub const BOARD_KEYBOARD_TRACE_RCC_BIT: u32 = 17;\n" in rust


def test_matrix_module_and_allow_list(repo, tmp_path):
    with_matrix(repo)
    board = load_board(L475, repo / "board")
    rs = keyboard_rust(board, {"KEYBOARD": "y", "TWIN": "n", "KEYBOARD_REPORT_NKRO": "y"})
    assert "pub const KEY_PINS: [(u8, u8); KEY_COUNT] = [(3, 0), (3, 1)];" in rs
    assert "pub const KEY_POS: [(u8, u8); KEY_COUNT] = [(0, 0), (1, 1)];" in rs
    assert "pub const MATRIX_ROWS: [(u8, u8); 2] = [(1, 0), (1, 1)];" in rs
    assert "pub const MATRIX_DIODE: Option<Diode> = Some(Diode::Col2Row);" in rs
    assert "pub const TWIN: bool = false;" in rs and "REPORT_BOOT: bool = false" in rs
    masks = dict(board_constants(board))
    assert (masks["BOARD_KEYBOARD_PINS_B"], masks["BOARD_KEYBOARD_PINS_C"],
            masks["BOARD_KEYBOARD_PINS_D"]) == (0b11, 0b11, 0b11), "twin and real wiring"


def test_a_bad_keymap_fails_the_configuration_in_one_line(repo, tmp_path):
    keymap = repo / "board" / L475 / "keymap.toml"
    edit(keymap, '"KC_C"', '"KC_CEE"')
    with pytest.raises(ToolError) as e:
        configure_l475(repo, tmp_path / "b")
    text = str(e.value)
    assert "\n" not in text and "key 2 (c) 'KC_CEE': unknown key name" in text
    keymap.unlink()
    with pytest.raises(ToolError, match="keymap.toml: cannot read"):
        configure_l475(repo, tmp_path / "b")


def test_kernel_limits_must_hold_the_boot_tasks():
    """MAX_TASKS and TASK_CHANNELS are visible symbols: a .config written
    before the keyboard tasks keeps 8 and 12, and init would fail at run
    time; the build says so in one line instead."""
    base = ["init", "console", "shell", "ipc_peer", "faulter", "critical", "bench_server",
            "fuzz", "fuzz_peer", "gpio"]
    check_kernel_limits(base, {"MAX_TASKS": "8", "TASK_CHANNELS": "12"})
    kb = base + ["hid", "keymap", "keyscan"]
    check_kernel_limits(kb, {"MAX_TASKS": "12", "TASK_CHANNELS": "16"})
    with pytest.raises(ToolError) as e:
        check_kernel_limits(kb, {"MAX_TASKS": "8", "TASK_CHANNELS": "16"})
    assert "\n" not in str(e.value)
    assert str(e.value).startswith("CONFIG_MAX_TASKS=8 is too small for this image: 9 tasks")
    with pytest.raises(ToolError, match=r"CONFIG_TASK_CHANNELS=12 .* need at least 14"):
        check_kernel_limits(kb, {"MAX_TASKS": "12", "TASK_CHANNELS": "12"})


# -- [console] usb_cdc: the console on the keyboard's CDC-ACM port --------------------------
USB_CDC_BAD = [
    ('usb_serial = "0483:374b"', 'usb_serial = "0483:374b"\nusb_cdc = 1',
     "console.usb_cdc: expected"),
    ('usb_serial = "0483:374b"', 'usb_serial = "0483:374b"\nusb_cdc = true',
     "console.usb_cdc: console.usb_serial must name the keyboard's own 1209:0001"),
    ('usb_serial = "0483:374b"', 'usb_cdc = true', "console.usb_cdc: needs usb_serial"),
]


@pytest.mark.parametrize("old, new, message", USB_CDC_BAD, ids=[m for _, _, m in USB_CDC_BAD])
def test_usb_cdc_is_checked(repo, old, new, message):
    edit(toml_of(repo), old, new)
    with pytest.raises(ToolError) as e:
        load_board(L475, repo / "board")
    assert "\n" not in str(e.value) and message in str(e.value)


def test_usb_cdc_only_on_nagi_kb_and_its_constant():
    kb, l475 = load_board("nagi-kb"), load_board(L475)
    assert kb.console["usb_cdc"] is True
    assert "usb_cdc" not in l475.console     # the Discovery kit keeps its ST-LINK UART
    assert ("BOARD_CONSOLE_USB_CDC", 1) in board_constants(kb)
    assert "BOARD_CONSOLE_USB_CDC" not in dict(board_constants(l475))
