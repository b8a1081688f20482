"""The keyboard (docs/protocols.md, "keyboard pipeline"): keys pressed by
name through the `keyboard` fixture (pins on the twin), HID reports read
back (the trace UART on the twin, the USB endpoint on a board). Every
expectation comes from the board's own keymap (board/<board>/keymap.toml),
so the file runs unchanged on every board with keys: b-l475e-iot01a and
the nagi-kb twin. The PC's PS/2 keyboard has its own file
(test_ps2_keyboard.py)."""

import time

import pytest

from tools.keyboard import EMPTY, expected, load_layout, make_report
from tools.shell_output import parse_ps

pytestmark = pytest.mark.needs("hid")


@pytest.fixture(scope="module")
def layout(board):
    return load_layout(board)


def tap_reports(kb, key, kind=None):
    mark = kb.mark(kind)
    kb.tap(key)
    return kb.wait_reports(2, mark, kind)


def held(kb, mark, kind=None, timeout=10.0):
    """The last report after `mark`, once the stream is quiet."""
    got = kb.settle(mark, kind, timeout=timeout)
    return got[-1] if got else None


def test_every_key_yields_its_usage(keyboard, layout):
    keys = layout.usage_keys() + layout.modifier_keys()
    assert keys, "the base layer has no plain keys"
    for kind in keyboard.kinds:
        for key in keys:
            mark = keyboard.mark(kind)
            keyboard.tap(key)
            got = keyboard.wait_reports(2, mark, kind)
            assert got == [expected(layout.action(key)), EMPTY], (kind, key)


def test_boot_and_nkro_reports_agree(keyboard, layout):
    if keyboard.kinds != ("boot", "nkro"):
        pytest.skip("the image sends one kind of report (CONFIG_KEYBOARD_REPORT_BOTH unset)")
    a, b = layout.usage_keys()[:2]
    mark = {k: keyboard.mark(k) for k in keyboard.kinds}
    keyboard.chord(a, b)
    boot = keyboard.wait_reports(4, mark["boot"], "boot")
    nkro = keyboard.wait_reports(4, mark["nkro"], "nkro")
    assert boot == nkro
    assert boot[1] == make_report(0, layout.action(a).arg, layout.action(b).arg)


def test_modifier_held_with_a_key(keyboard, layout):
    mod = layout.modifier_keys()
    assert mod, "the keymap needs a modifier key (e.g. KC_LSFT) on the base layer"
    key = layout.usage_keys()[0]
    bit = 1 << (layout.action(mod[0]).arg - 0xE0)
    mark = keyboard.mark()
    keyboard.chord(mod[0], key)
    got = keyboard.wait_reports(4, mark)
    assert got == [make_report(bit), make_report(bit, layout.action(key).arg),
                   make_report(bit), EMPTY]


def _layer_usage_key(layout, layer):
    """A key whose action on `layer` is a plain usage differing from base."""
    for key in layout.names:
        a = layout.action(key, layer)
        if a.kind == "Key" and a.arg < 0xE0 and a != layout.action(key, 0):
            return key
    raise AssertionError(f"layer {layer} has no usage key of its own")


def test_momentary_layer_and_transparent_keys(keyboard, layout):
    mo = layout.one("Mo")
    layer = layout.action(mo).arg
    key = _layer_usage_key(layout, layer)
    trans = [k for k in layout.usage_keys() if layout.action(k, layer).kind == "Trans"]
    assert trans, f"layer {layer} needs a KC_TRNS over a base usage key"
    keyboard.press(mo)
    time.sleep(0.1)
    try:
        assert tap_reports(keyboard, key) == [expected(layout.action(key, layer)), EMPTY]
        # Transparent: the base layer's usage shows through.
        assert tap_reports(keyboard, trans[0]) == [expected(layout.action(trans[0])), EMPTY]
    finally:
        keyboard.release(mo)
    time.sleep(0.1)
    assert tap_reports(keyboard, key) == [expected(layout.action(key)), EMPTY]


def test_toggle_layer(keyboard, layout):
    tg = layout.one("Tg")
    layer = layout.action(tg).arg
    key = _layer_usage_key(layout, layer)
    mark = keyboard.mark()
    keyboard.tap(tg)                      # on
    time.sleep(0.1)
    try:
        assert keyboard.reports(mark) == [], "a layer key sends no report"
        assert tap_reports(keyboard, key) == [expected(layout.action(key, layer)), EMPTY]
    finally:
        back = layout.resolved(tg, [0, layer])
        assert back.kind == "Tg" and back.arg == layer, \
            f"layer {layer} must keep TG({layer}) (or KC_TRNS) on the toggle key to leave it"
        keyboard.tap(tg)                  # off
        time.sleep(0.1)
    assert tap_reports(keyboard, key) == [expected(layout.action(key)), EMPTY]


def _df_keys(layout):
    """(layer it sits on, key, target) for every DF key."""
    return [(i, k, layout.action(k, i).arg) for i in range(len(layout.layers))
            for k in layout.names if layout.action(k, i).kind == "Df"]


def _tap_on_layer(keyboard, layout, layer, key):
    """Tap `key` with `layer` reachable: on a layer other than the base,
    hold the MO key that activates it."""
    if layer == 0:
        keyboard.tap(key)
        return
    mo = [k for k in layout.keys_of("Mo") if layout.action(k).arg == layer]
    assert mo, f"DF key '{key}' sits on layer {layer}, which no MO key on the base layer reaches"
    keyboard.press(mo[0])
    time.sleep(0.1)
    keyboard.tap(key)
    keyboard.release(mo[0])
    time.sleep(0.1)


def test_default_layer_switch(keyboard, layout):
    dfs = _df_keys(layout)
    away = [d for d in dfs if d[2] != 0 and d[0] in (0, *[layout.action(k).arg
                                                          for k in layout.keys_of("Mo")])]
    assert away, "the keymap needs a DF(layer) key (on the base layer or a MO layer)"
    on, df, layer = away[0]
    back = [(i, k, t) for i, k, t in dfs if i == layer and t == 0]
    assert back, f"layer {layer} needs a DF(0) key to switch the default layer back"
    key = _layer_usage_key(layout, layer)
    mark = keyboard.mark()
    _tap_on_layer(keyboard, layout, on, df)
    try:
        assert keyboard.reports(mark) == [], "layer keys send no report"
        assert tap_reports(keyboard, key) == [expected(layout.action(key, layer)), EMPTY]
    finally:
        keyboard.tap(back[0][1])          # on the new default layer, reachable directly
        time.sleep(0.1)
    assert tap_reports(keyboard, key) == [expected(layout.action(key)), EMPTY]


def test_mod_tap_taps_and_holds(keyboard, layout):
    mt = layout.one("Mt")
    action = layout.action(mt)
    # Tapped (released well inside the tapping term): the key, down then up.
    mark = keyboard.mark()
    keyboard.tap(mt, hold=0.02)
    assert keyboard.wait_reports(2, mark) == [make_report(0, action.arg), EMPTY]
    # Held while another key is pressed: the modifiers.
    other = layout.usage_keys()[0]
    mark = keyboard.mark()
    keyboard.chord(mt, other, hold=0.05)
    got = keyboard.wait_reports(3, mark)
    assert make_report(action.mods, layout.action(other).arg) in got, got
    assert all(action.arg not in r.keys for r in got), "a held mod-tap must not tap"
    assert got[-1] == EMPTY
    # Held past the tapping term alone: the modifiers, then nothing.
    mark = keyboard.mark()
    keyboard.press(mt)
    time.sleep(layout.tapping_term_ms / 1000 + 0.3)
    keyboard.release(mt)
    assert keyboard.wait_reports(2, mark) == [make_report(action.mods), EMPTY]


def test_six_keys_then_a_seventh(keyboard, layout):
    keys = layout.usage_keys()
    assert len(keys) >= 7, "the base layer needs 7 usage keys for the rollover test"
    keys = keys[:7]
    usages = [layout.action(k).arg for k in keys]
    mark = {k: keyboard.mark(k) for k in keyboard.kinds}
    try:
        for key in keys[:6]:
            keyboard.press(key)
            time.sleep(0.05)
        time.sleep(0.2)
        if "boot" in keyboard.kinds:
            assert held(keyboard, mark["boot"], "boot") == make_report(0, *usages[:6])
        keyboard.press(keys[6])
        time.sleep(0.2)
        if "boot" in keyboard.kinds:
            last = held(keyboard, mark["boot"], "boot")
            assert last.rollover, f"7 keys in a boot report: want ErrorRollOver, got {last}"
        if "nkro" in keyboard.kinds:
            assert held(keyboard, mark["nkro"], "nkro") == make_report(0, *usages)
    finally:
        keyboard.release_all()
    for kind in keyboard.kinds:
        assert held(keyboard, mark[kind], kind) == EMPTY


def _chatter(keyboard, key, toggles, end_level):
    """Toggle `key`'s pin `toggles` times as fast as qtest goes, ending at
    `end_level` (0 = pressed); the seconds it took."""
    pin = keyboard.keys[key]
    start = time.monotonic()
    level = 0 if end_level else 1
    for _ in range(toggles):
        keyboard._set(pin, level)
        level ^= 1
    keyboard._set(pin, end_level)
    return time.monotonic() - start


def test_chatter_shorter_than_the_debounce_time(keyboard, layout, kconfig):
    """Eager press (sym_eager_pk, asym_eager_defer_pk): a press that
    bounces gives one report, and the release one. Deferred press
    (sym_defer_pk): a bounce that ends released gives nothing at all.
    The chatter must have been shorter than the debounce time; on a host
    too slow to toggle that fast the attempt is repeated."""
    debounce = int(kconfig.get("KEYBOARD_DEBOUNCE_MS", "5")) / 1000
    eager = kconfig.get("KEYBOARD_DEBOUNCE_SYM_DEFER_PK") != "y"
    key = layout.usage_keys()[0]
    want = [expected(layout.action(key)), EMPTY]
    for _attempt in range(5):
        mark = keyboard.mark()
        if not eager:
            if _chatter(keyboard, key, 6, 1) >= debounce * 0.6:
                time.sleep(0.2)
                continue
            assert keyboard.settle(mark) == [], "a bounce shorter than the debounce time"
        keyboard.press(key)                        # the press itself, then bounces
        took = _chatter(keyboard, key, 6, 0)
        time.sleep(0.15)
        keyboard.release(key)
        got = keyboard.wait_reports(2, mark)
        if took < debounce * 0.6:
            assert got == want, f"chatter of {took * 1000:.2f} ms"
            return
        time.sleep(0.2)
    pytest.fail(f"could not toggle a pin 6 times within {debounce * 600:.1f} ms on this host")


def test_a_key_held_across_a_layer_change_releases_what_it_pressed(keyboard, layout):
    mo = layout.one("Mo")
    layer = layout.action(mo).arg
    key = _layer_usage_key(layout, layer)
    base = layout.action(key).arg
    mark = keyboard.mark()
    keyboard.press(key)
    time.sleep(0.1)
    keyboard.press(mo)
    time.sleep(0.1)
    keyboard.release(key)
    time.sleep(0.1)
    keyboard.release(mo)
    got = keyboard.wait_reports(2, mark)
    assert got == [make_report(0, base), EMPTY], got


def _tid(dut, name):
    tasks = [t for t in parse_ps(dut.run("ps")) if t.name == name
             and t.state not in ("killed", "exited")]
    assert len(tasks) == 1, f"{name}: {tasks}"
    return tasks[0].tid


@pytest.mark.parametrize("task", ["keyscan", "keymap", "hid"])
def test_killed_mid_press_leaves_no_key_stuck(keyboard, layout, task):
    """A key is held, `task` is killed, the key is released while it is
    dead; init restarts it and the host ends with nothing held; typing
    works again."""
    dut = keyboard.dut
    key, other = layout.usage_keys()[:2]
    mark = keyboard.mark()
    keyboard.press(key)
    assert keyboard.wait_reports(1, mark) == [expected(layout.action(key))]
    tid = _tid(dut, task)
    log = dut.mark()
    assert dut.run(f"kill {tid}", timeout=20) == ["kill: ok"]
    keyboard.release(key)
    dut.expect(rf"init: {task} restarted as task \d+", since=log, timeout=20)
    deadline = time.monotonic() + 10
    while keyboard.state() != EMPTY and time.monotonic() < deadline:
        time.sleep(0.05)
    assert keyboard.state() == EMPTY, f"after {task} restarted the host still holds {keyboard.state()}"
    assert tap_reports(keyboard, other) == [expected(layout.action(other)), EMPTY]
