"""keymap.py - board/<board>/keymap.toml: check it, and turn it into Rust
constants for the keyboard crate (userland/keyboard, module `keymap`).

A keymap.toml holds the tapping term and `[[layer]]`s, each a `name` and
one entry per key; the keys themselves (names, pins, order) are the
board's: `[[keyboard.key]]` in the board.toml next to it (tools/boards.py). An entry is a key name as QMK spells it (`KC_A`, `KC_ENTER` or its
short form `KC_ENT`; the usage numbers are the USB HID Usage Tables'
Keyboard/Keypad page, 0x07), `KC_NO` / `XXXXXXX`, `KC_TRNS` / `_______`,
`MO(layer)`, `TG(layer)`, `DF(layer)` (a layer number or name) or
`MT(MOD_LSFT, KC_SPC)` (modifiers joined by `|`, then a basic key).

    python3 -m tools.keymap check board/<b>/keymap.toml     (keys from board/<b>/board.toml)
    python3 -m tools.keymap rust board/<b>/keymap.toml -o OUT.rs

Every problem is one line naming the file, the layer and the entry."""

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ToolError


def _usage_table() -> dict[str, int]:
    """QMK's KC_* names (long and short) -> Keyboard page usage."""
    t: dict[str, int] = {}

    def add(usage: int, *names: str) -> None:
        for n in names:
            t["KC_" + n] = usage

    for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        add(0x04 + i, c)
    for i, c in enumerate("123456789"):
        add(0x1E + i, c)
    add(0x27, "0")
    for usage, names in [
        (0x28, ("ENTER", "ENT")), (0x29, ("ESCAPE", "ESC")),
        (0x2A, ("BACKSPACE", "BSPC")), (0x2B, ("TAB",)), (0x2C, ("SPACE", "SPC")),
        (0x2D, ("MINUS", "MINS")), (0x2E, ("EQUAL", "EQL")),
        (0x2F, ("LEFT_BRACKET", "LBRC")), (0x30, ("RIGHT_BRACKET", "RBRC")),
        (0x31, ("BACKSLASH", "BSLS")), (0x32, ("NONUS_HASH", "NUHS")),
        (0x33, ("SEMICOLON", "SCLN")), (0x34, ("QUOTE", "QUOT")), (0x35, ("GRAVE", "GRV")),
        (0x36, ("COMMA", "COMM")), (0x37, ("DOT",)), (0x38, ("SLASH", "SLSH")),
        (0x39, ("CAPS_LOCK", "CAPS")),
        (0x46, ("PRINT_SCREEN", "PSCR")), (0x47, ("SCROLL_LOCK", "SCRL")),
        (0x48, ("PAUSE", "PAUS")), (0x49, ("INSERT", "INS")), (0x4A, ("HOME",)),
        (0x4B, ("PAGE_UP", "PGUP")), (0x4C, ("DELETE", "DEL")), (0x4D, ("END",)),
        (0x4E, ("PAGE_DOWN", "PGDN")), (0x4F, ("RIGHT", "RGHT")), (0x50, ("LEFT",)),
        (0x51, ("DOWN",)), (0x52, ("UP",)), (0x53, ("NUM_LOCK", "NUM")),
        (0x54, ("KP_SLASH", "PSLS")), (0x55, ("KP_ASTERISK", "PAST")),
        (0x56, ("KP_MINUS", "PMNS")), (0x57, ("KP_PLUS", "PPLS")),
        (0x58, ("KP_ENTER", "PENT")), (0x62, ("KP_0", "P0")), (0x63, ("KP_DOT", "PDOT")),
        (0x64, ("NONUS_BACKSLASH", "NUBS")), (0x65, ("APPLICATION", "APP")),
        (0x66, ("KB_POWER",)), (0x67, ("KP_EQUAL", "PEQL")),
        (0xE0, ("LEFT_CTRL", "LCTL")), (0xE1, ("LEFT_SHIFT", "LSFT")),
        (0xE2, ("LEFT_ALT", "LALT")), (0xE3, ("LEFT_GUI", "LGUI")),
        (0xE4, ("RIGHT_CTRL", "RCTL")), (0xE5, ("RIGHT_SHIFT", "RSFT")),
        (0xE6, ("RIGHT_ALT", "RALT")), (0xE7, ("RIGHT_GUI", "RGUI")),
    ]:
        add(usage, *names)
    for i in range(12):                       # F1..F12, then F13..F24
        add(0x3A + i, f"F{i + 1}")
        add(0x68 + i, f"F{i + 13}")
    for i in range(9):                        # keypad 1..9
        add(0x59 + i, f"KP_{i + 1}", f"P{i + 1}")
    return t


USAGES = _usage_table()
# Bits of the HID modifier byte, as QMK's MOD_* names them.
MODS = {"MOD_LCTL": 0x01, "MOD_LSFT": 0x02, "MOD_LALT": 0x04, "MOD_LGUI": 0x08,
        "MOD_RCTL": 0x10, "MOD_RSFT": 0x20, "MOD_RALT": 0x40, "MOD_RGUI": 0x80}
NO_NAMES = {"KC_NO", "XXXXXXX"}
TRANS_NAMES = {"KC_TRNS", "KC_TRANSPARENT", "_______"}
FIRST_MODIFIER = 0xE0
CALL = re.compile(r"([A-Z]+)\((.*)\)")


@dataclass(frozen=True)
class Action:
    """One entry: kind is No, Trans, Key, Mo, Tg, Df or Mt (the Rust
    variant); arg the usage or layer; mods the MT modifier bits."""
    kind: str
    arg: int = 0
    mods: int = 0

    def rust(self) -> str:
        if self.kind in ("No", "Trans"):
            return f"Action::{self.kind}"
        if self.kind == "Mt":
            return f"Action::Mt {{ mods: 0x{self.mods:02x}, key: 0x{self.arg:02x} }}"
        arg = f"0x{self.arg:02x}" if self.kind == "Key" else str(self.arg)
        return f"Action::{self.kind}({arg})"


@dataclass(frozen=True)
class Keymap:
    path: Path
    keys: list[str]                       # key names, in index order (board.toml)
    tapping_term_ms: int
    layers: list[tuple[str, list[Action]]]


def board_key_names(path: Path) -> list[str]:
    """The key names of the board whose directory holds keymap.toml `path`."""
    from .boards import load_board
    path = Path(path).resolve()
    board = load_board(path.parent.name, root=path.parent.parent)
    if board.keyboard is None:
        raise ToolError(f"{path}: board '{board.name}' has no [keyboard] in its board.toml")
    return [k.name for k in board.keyboard.keys]


def load(path: Path, keys: list[str] | None = None) -> Keymap:
    """Reads and checks a keymap.toml against the key names `keys` (in
    index order; default: the board.toml beside it); raises ToolError
    (one line)."""
    import tomllib
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise ToolError(f"{path}: cannot read: {e.strerror}")
    except tomllib.TOMLDecodeError as e:
        raise ToolError(f"{path}: not valid TOML: {e}")

    def fail(msg: str) -> ToolError:
        return ToolError(f"{path}: {msg}")

    if "key" in data:
        raise fail("[[key]] tables belong in board.toml now ([[keyboard.key]]); "
                   "keymap.toml keeps tapping_term_ms and [[layer]]s")
    if keys is None:
        keys = board_key_names(path)
    keys = list(keys)
    unknown = set(data) - {"tapping_term_ms", "layer"}
    if unknown:
        raise fail(f"unknown key '{sorted(unknown)[0]}' (want tapping_term_ms and [[layer]]s)")
    term = data.get("tapping_term_ms", 200)
    if not isinstance(term, int) or isinstance(term, bool) or not 1 <= term <= 10_000:
        raise fail(f"tapping_term_ms = {term!r}: want milliseconds, 1..10000")
    raw = data.get("layer")
    if not isinstance(raw, list) or not raw:
        raise fail("no [[layer]] tables: a keymap needs at least one layer")
    if len(raw) > 32:
        raise fail(f"{len(raw)} layers: at most 32")
    names = []
    for i, layer in enumerate(raw):
        name = layer.get("name") if isinstance(layer, dict) else None
        if not isinstance(name, str) or not name:
            raise fail(f"layer {i}: no name = \"...\"")
        if name in names:
            raise fail(f"layer '{name}' ({i}): the name is used twice")
        names.append(name)
    layers = []
    for i, layer in enumerate(raw):
        where = f"layer '{names[i]}' ({i})"
        entries = layer.get("keys")
        if not isinstance(entries, list):
            raise fail(f"{where}: no keys = [...] list")
        if len(entries) != len(keys):
            raise fail(f"{where}: {len(entries)} entries, but the board has {len(keys)} keys")
        actions = []
        for k, entry in enumerate(entries):
            try:
                actions.append(parse_entry(entry, names))
            except ValueError as e:
                raise fail(f"{where}, key {k} ({keys[k]}) '{entry}': {e}")
        layers.append((names[i], actions))
    return Keymap(path, keys, term, layers)


def parse_entry(entry, layer_names: list[str]) -> Action:
    """One layer entry -> Action; ValueError says what is wrong."""
    if not isinstance(entry, str):
        raise ValueError("want a string")
    text = entry.strip()
    if text in NO_NAMES:
        return Action("No")
    if text in TRANS_NAMES:
        return Action("Trans")
    if text in USAGES:
        return Action("Key", USAGES[text])
    call = CALL.fullmatch(text)
    if not call:
        raise ValueError("unknown key name (want KC_* as QMK names it, "
                         "MO/TG/DF(layer) or MT(mods, key))")
    fn, args = call.group(1), [a.strip() for a in call.group(2).split(",")]
    if fn in ("MO", "TG", "DF"):
        if len(args) != 1:
            raise ValueError(f"{fn} takes one layer")
        return Action(fn.capitalize(), _layer(args[0], layer_names))
    if fn == "MT":
        if len(args) != 2:
            raise ValueError("MT takes modifiers and a key: MT(MOD_LSFT, KC_SPC)")
        mods = 0
        for m in args[0].split("|"):
            m = m.strip()
            if m not in MODS:
                raise ValueError(f"unknown modifier '{m}' (want {', '.join(MODS)})")
            mods |= MODS[m]
        usage = USAGES.get(args[1])
        if usage is None or usage >= FIRST_MODIFIER:
            raise ValueError(f"MT key '{args[1]}' is not a basic KC_* key")
        return Action("Mt", usage, mods)
    raise ValueError(f"unknown function {fn}() (want MO, TG, DF or MT)")


def _layer(arg: str, names: list[str]) -> int:
    if arg.isdigit():
        n = int(arg)
        if n >= len(names):
            raise ValueError(f"layer {n} does not exist (layers 0..{len(names) - 1})")
        return n
    if arg in names:
        return names.index(arg)
    raise ValueError(f"no layer named '{arg}' (layers: {', '.join(names)})")


def rust_source(km: Keymap, crate: str = "keyboard") -> str:
    """The keymap as Rust constants for `crate::keymap` (include!able)."""
    n = len(km.keys)
    out = [f"// Generated by tools/keymap.py from {km.path}; do not edit.",
           f"use {crate}::keymap::Action;", "",
           f"pub const KEY_COUNT: usize = {n};",
           f"pub const TAPPING_TERM_MS: u32 = {km.tapping_term_ms};",
           f"pub const KEY_NAMES: [&str; KEY_COUNT] = [{', '.join(repr_str(k) for k in km.keys)}];",
           f"pub const LAYER_NAMES: [&str; {len(km.layers)}] = "
           f"[{', '.join(repr_str(name) for name, _ in km.layers)}];",
           f"pub static LAYERS: [[Action; KEY_COUNT]; {len(km.layers)}] = ["]
    for name, actions in km.layers:
        out.append(f"    // {name}")
        out.append("    [" + ", ".join(a.rust() for a in actions) + "],")
    out.append("];")
    return "\n".join(out) + "\n"


def repr_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m tools.keymap", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="check a keymap.toml").add_argument("file", type=Path)
    rust = sub.add_parser("rust", help="write the keymap as Rust constants")
    rust.add_argument("file", type=Path)
    rust.add_argument("-o", "--output", type=Path, required=True)
    rust.add_argument("--crate", default="keyboard", help="path of the keyboard crate (default keyboard)")
    args = ap.parse_args(argv)
    try:
        km = load(args.file)
        if args.cmd == "check":
            print(f"{args.file}: {len(km.keys)} keys, {len(km.layers)} layers: ok")
        else:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(rust_source(km, args.crate))
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
