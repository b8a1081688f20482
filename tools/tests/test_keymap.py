"""tools/keymap.py: a keymap.toml is checked entry by entry with one-line
errors against the keys of the board.toml beside it, and the Rust it
writes compiles against userland/keyboard and behaves as the file says
(MO, MT) when run through the crate's Keymap."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import keymap

REPO = Path(__file__).resolve().parents[2]
BOARD_KEYMAP = REPO / "board" / "b-l475e-iot01a" / "keymap.toml"
RUSTC = Path("/usr/bin/rustc")
needs_rustc = pytest.mark.skipif(not RUSTC.exists(), reason="/usr/bin/rustc is not installed")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tools.keymap", *map(str, args)],
                          cwd=REPO, capture_output=True, text=True)


def test_board_keymap_passes():
    r = run_cli("check", BOARD_KEYMAP)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("12 keys, 3 layers: ok")
    km = keymap.load(BOARD_KEYMAP)
    assert km.keys[:2] == ["a", "b"] and "lshift" in km.keys and "fn" in km.keys
    assert [name for name, _ in km.layers] == ["base", "fn", "num"]
    kinds = {a.kind for _, actions in km.layers for a in actions}
    assert {"Key", "Mo", "Tg", "Df", "Mt", "Trans"} <= kinds
    base = km.layers[0][1]
    assert sum(1 for a in base if a.kind == "Key" and a.arg < 0xE0) >= 7
    assert keymap.Action("Key", 0xE1) in base, "KC_LSFT on the base layer"
    assert keymap.Action("Mt", 0x2C, 0x02) in base, "MT(MOD_LSFT, KC_SPC)"


@pytest.fixture
def board_copy(tmp_path):
    """The Discovery kit's board directory, copied: its keymap.toml may be
    broken at will (the keys come from the board.toml beside it)."""
    d = tmp_path / "b-l475e-iot01a"
    shutil.copytree(BOARD_KEYMAP.parent, d)
    return d / "keymap.toml"


@pytest.mark.parametrize("name,usage", [
    # Spot checks against the HID Usage Tables, Keyboard/Keypad page 0x07.
    ("KC_A", 0x04), ("KC_Z", 0x1D), ("KC_1", 0x1E), ("KC_0", 0x27), ("KC_ENTER", 0x28),
    ("KC_ENT", 0x28), ("KC_ESC", 0x29), ("KC_BSPC", 0x2A), ("KC_SPC", 0x2C),
    ("KC_CAPS", 0x39), ("KC_F1", 0x3A), ("KC_F12", 0x45), ("KC_PSCR", 0x46),
    ("KC_RIGHT", 0x4F), ("KC_UP", 0x52), ("KC_KP_1", 0x59), ("KC_P9", 0x61),
    ("KC_KP_0", 0x62), ("KC_NUBS", 0x64), ("KC_APP", 0x65), ("KC_F13", 0x68),
    ("KC_F24", 0x73), ("KC_LCTL", 0xE0), ("KC_LEFT_GUI", 0xE3), ("KC_RGUI", 0xE7),
])
def test_usage_names(name, usage):
    assert keymap.USAGES[name] == usage


def test_usage_table_has_no_gaps_in_the_basic_keys():
    assert set(range(0x04, 0x74)) <= set(keymap.USAGES.values())


BAD = [
    # (what the file changes, words the one-line error must contain)
    (('"KC_B"', '"KC_BEE"'), ["layer 'base' (0)", "key 1 (b)", "'KC_BEE'", "unknown key name"]),
    (('"MO(fn)"', '"MO(5)"'), ["layer 'base' (0)", "key 9 (fn)", "layer 5 does not exist"]),
    (('"MO(fn)"', '"MO(gaming)"'), ["'MO(gaming)'", "no layer named 'gaming'"]),
    (('"MO(fn)"', '"TG(0, 1)"'), ["'TG(0, 1)'", "TG takes one layer"]),
    (('"MO(fn)"', '"DF(3)"'), ["'DF(3)'", "layer 3 does not exist"]),
    (('"MO(fn)"', '"LT(1, KC_A)"'), ["'LT(1, KC_A)'", "unknown function LT()"]),
    (('MOD_LSFT, KC_SPC', 'MOD_SHIFT, KC_SPC'), ["key 8 (space)", "unknown modifier 'MOD_SHIFT'"]),
    (('MOD_LSFT, KC_SPC', 'MOD_LSFT, KC_LALT'), ["key 8 (space)", "not a basic KC_* key"]),
    (('MOD_LSFT, KC_SPC', 'MOD_LSFT'), ["key 8 (space)", "MT takes modifiers and a key"]),
    (('"KC_1"', '1'), ["layer 'fn' (1)", "key 0 (a)", "want a string"]),
    ((', "DF(num)"]', ']'), ["layer 'fn' (1)", "11 entries, but the board has 12 keys"]),
    (('name = "fn"\nkeys', 'name = "base"\nkeys'), ["layer 'base' (1)", "used twice"]),
    (('tapping_term_ms = 200', 'tapping_term_ms = "long"'), ["tapping_term_ms"]),
    (('tapping_term_ms = 200', 'tapping_term_ms = 200\n[[key]]\nname = "x"\npin = "PA0"'),
     ["[[key]] tables belong in board.toml"]),
    (('tapping_term_ms = 200', 'tapping_term_ms = 200\nrepeat_ms = 30'), ["unknown key 'repeat_ms'"]),
    (('[[layer]]\nname = "base"', '[[layer]\nname = "base"'), ["not valid TOML"]),
]


@pytest.mark.parametrize("change,words", BAD, ids=[w[-1] for _, w in BAD])
def test_bad_entry_gives_one_line_error(board_copy, change, words):
    text = board_copy.read_text()
    assert change[0] in text
    board_copy.write_text(text.replace(change[0], change[1], 1))
    r = run_cli("check", board_copy)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and r.stdout == ""
    line, = r.stderr.splitlines()
    assert line.startswith(f"error: {board_copy}: ")
    for w in words:
        assert w in line, line


def test_no_layers_or_no_keyboard(board_copy, tmp_path):
    board_copy.write_text('tapping_term_ms = 100\n')
    with pytest.raises(keymap.ToolError, match=r"no \[\[layer\]\] tables"):
        keymap.load(board_copy)
    board_copy.write_text('[[layer]]\nname = "base"\nkeys = ["KC_A"]\n')
    assert keymap.load(board_copy, ["k"]).layers[0][1] == [keymap.Action("Key", 0x04)]
    pc = tmp_path / "pc"
    shutil.copytree(REPO / "board" / "pc", pc)
    (pc / "keymap.toml").write_text('[[layer]]\nname = "base"\nkeys = []\n')
    with pytest.raises(keymap.ToolError, match=r"board 'pc' has no \[keyboard\]"):
        keymap.load(pc / "keymap.toml")
    r = run_cli("check", tmp_path / "missing.toml")
    assert r.returncode == 1 and r.stderr.startswith("error: ")


# Drives the generated keymap through the crate: hold fn (MO, key 9) and
# tap a (key 0) -> KC_1; tap space (MT, key 8) -> space; hold space past
# the term -> left shift.
RUST_MAIN = """
mod generated { include!("keymap.rs"); }
use keyboard::{keymap::Keymap, KeyEvent};
fn main() {
    let mut km = Keymap::new(&generated::LAYERS, generated::TAPPING_TERM_MS).unwrap();
    let mut log = Vec::new();
    let evs = [(9, true, 0), (0, true, 1), (0, false, 2), (9, false, 3),
               (8, true, 10), (8, false, 20), (8, true, 100)];
    for (index, pressed, time) in evs {
        km.event(KeyEvent { index, pressed, time }, |s| {
            log.push(format!("{:02x}:{:?}", s.mods, s.usages().collect::<Vec<_>>()))
        });
    }
    km.tick(100 + generated::TAPPING_TERM_MS, |s| log.push(format!("{:02x}:", s.mods)));
    println!("{} {}", generated::KEY_NAMES[9], log.join(" "));
}
"""


@needs_rustc
def test_generated_rust_compiles_against_the_crate_and_behaves(tmp_path):
    assert run_cli("rust", BOARD_KEYMAP, "-o", tmp_path / "keymap.rs").returncode == 0
    lib = tmp_path / "libkeyboard.rlib"
    subprocess.run([str(RUSTC), "--edition", "2021", "--crate-type", "rlib", "--crate-name",
                    "keyboard", str(REPO / "userland" / "keyboard" / "src" / "lib.rs"),
                    "-o", str(lib)], check=True,
                   env=dict(os.environ, NAGI_KEYBOARD_RS=str(REPO / "userland" / "keyboard" / "src"
                                                              / "board_none.rs")))
    (tmp_path / "main.rs").write_text(RUST_MAIN)
    exe = tmp_path / "main"
    r = subprocess.run([str(RUSTC), "--edition", "2021", "--extern", f"keyboard={lib}",
                        str(tmp_path / "main.rs"), "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["fn", "00:[30]", "00:[]", "00:[44]", "00:[]", "02:"]
