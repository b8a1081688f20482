"""The PS/2 keyboard (boards with an i8042: board.toml [ps2], the pc):
keys typed on the twin's keyboard over QMP (tools/ps2_keys.py) reach the
shell through ps2kbd and the console's CONSOLE_INPUT, just like serial
input; Shift, Caps Lock, Ctrl and Backspace do what a terminal's do; init
restarts a killed driver, and a restarted console is found again. Only
the driver may inject input: the shell's own connection is refused
(ipctest's "console input refused" case, which runs on every board in
test_ipc.py).

A PC without an i8042 (QEMU's `-machine i8042=off`) boots as before:
the driver says so once and idles, init does not restart it.

MCU boards have no i8042: skipped there ('ps2'); on real hardware typing
needs a key injector that does not exist yet (the `keys` fixture skips)."""

import time

import pytest

from tools.shell_output import parse_ipctest, parse_ps

pytestmark = pytest.mark.needs("keys", "ps2")

PROMPT = r"nagi> "


def _typed(dut, text, timeout=20.0):
    """Type `text` + Enter; the output lines up to the next prompt."""
    return dut.run(text, timeout=timeout, typed=True)


def _task(dut, name):
    tasks = [t for t in parse_ps(dut.run("ps")) if t.name == name
             and t.state not in ("killed", "exited")]
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_a_typed_command_runs(keys):
    assert _typed(keys, "echo hello-ps2") == ["hello-ps2"]
    # Serial input still works alongside (one ring, two sources).
    assert keys.run("echo via-serial") == ["via-serial"]


def test_shift_gives_upper_case_and_symbols(keys):
    text = 'Hello_World!@#$%^&*()+{}|:"<>?~'
    assert _typed(keys, f"echo {text} a-b=c[d]\\e;f'g,h.i/j`k") == \
        [f"{text} a-b=c[d]\\e;f'g,h.i/j`k"]


def test_caps_lock_and_shift(keys):
    keys.console.drain(0.0)
    keys.type_text("echo x")
    keys.tap_keys("caps_lock")
    keys.type_text("ab")
    keys.tap_keys("shift", "c")         # Shift under Caps Lock: lower case
    keys.type_text("1")                 # Caps Lock leaves digits alone
    keys.tap_keys("caps_lock")
    keys.type_text("d\n")
    keys.expect(r"echo xABc1d$")        # after the prompt
    keys.expect(r"^xABc1d$")
    keys.expect(PROMPT)


def test_backspace_edits_the_line_and_ctrl_types_no_letter(keys):
    keys.console.drain(0.0)
    keys.type_text("echo helpx")
    keys.tap_keys("backspace")
    keys.tap_keys("backspace")
    keys.type_text("lo")
    keys.tap_keys("ctrl", "u")          # a control code: the shell ignores it
    keys.key_down("shift")              # held across keys, released once
    keys.type_text("w")                 # (type_text's own Shift is for upper case)
    keys.tap_keys("1")
    keys.key_up("shift")
    mark = keys.mark()
    keys.tap_keys("ret")
    keys.expect(r"^helloW!$", since=mark)
    keys.expect(PROMPT)


def test_only_the_driver_may_inject_console_input(keys):
    results, _, _ = parse_ipctest(keys.run("ipctest", timeout=60))
    assert results.get("console input refused") == "ok", results


def test_killed_driver_is_restarted_and_console_found_again(keys, fresh_dut):
    dut = fresh_dut
    driver = _task(dut, "ps2kbd")
    assert driver.restarts == 0
    mark = dut.mark()
    assert dut.run(f"kill {driver.tid}") == ["kill: ok"]
    # (init's lines may follow a prompt on the same line)
    dut.expect(rf"init: ps2kbd \(task {driver.tid}\) died; restarting it in 100 ms$", since=mark)
    m = dut.expect(r"init: ps2kbd restarted as task (\d+) \(restart 1\)$", since=mark)
    assert _task(dut, "ps2kbd").tid == int(m.group(1))
    assert _typed(dut, "echo after-driver-restart") == ["after-driver-restart"]
    # The console dies: the driver's next CONSOLE_INPUT finds the new one
    # (runtime::service::Client) with the right to inject again.
    console = _task(dut, "console")
    mark = dut.mark()
    assert dut.run(f"kill {console.tid}", timeout=20) == ["kill: ok"]
    dut.expect(r"init: console restarted as task \d+ \(restart 1\)$", since=mark)
    assert _typed(dut, "echo after-console-restart") == ["after-console-restart"]


def test_a_pc_without_an_i8042_boots_and_the_driver_idles(twin_image, build, board):
    dut = twin_image(build / board.qemu.image, extra=("-machine", "i8042=off"))
    dut.expect(r"ps2kbd: no i8042 at 0x60/0x64 \(status port reads 0xff\); keyboard off", since=0)
    time.sleep(1.0)                     # a crash loop would show by now (100 ms backoff)
    driver = _task(dut, "ps2kbd")
    assert driver.restarts == 0 and driver.state == "recv", driver
    assert "init: ps2kbd" not in dut.transcript
    assert dut.transcript.count("ps2kbd: no i8042") == 1
    assert dut.run("echo serial-still-works") == ["serial-still-works"]
