"""The real-board back-end (tools/hardware.py) with its hardware replaced:
the console is real pyserial code on a socket:// URL to a TCP server in
this test that plays the board's console, pyocd is a fake API that records
the calls (and makes the fake board boot on reset). The no-probe, no-port
and bad-port paths run for real on this machine (no probe, no ST-LINK VCP)."""

import socket
import sys
import threading
from pathlib import Path

import pytest

from tools import cli, test_runner
from tools.boards import load_board
from tools.dut import PIN_CONTROL_ON_HARDWARE, Dut, HardwarePins
from tools.errors import ToolError
from tools.flashers import NoProbe
from tools.elfimage import LoadPiece, intel_hex
from tools.flashers.pyocd_flasher import Probe, PyocdApi
from tools.hardware import HardwareBoard, find_console_port, parse_usb_id, usb_serial_ids

REPO = Path(__file__).resolve().parents[2]
BANNER = "nagi: kernel booting on board b-l475e-iot01a (arm-m)"


class FakeBoard:
    """A TCP server playing the board's UART: on boot() it prints the banner
    and the prompt; it echoes each typed line (CR-terminated) and answers
    `echo ...`, as the shell does."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.url = f"socket://127.0.0.1:{self.srv.getsockname()[1]}"
        self.conn, self.connected, self.boots = None, threading.Event(), 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            self.conn, _ = self.srv.accept()
        except OSError:
            return
        self.connected.set()
        buf = b""
        while True:
            try:
                data = self.conn.recv(1024)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\r" in buf:
                line, buf = buf.split(b"\r", 1)
                text = line.decode()
                out = text + "\r\n"
                if text.startswith("echo "):
                    out += text[5:] + "\r\n"
                self.conn.sendall((out + "nagi> ").encode())

    def boot(self):
        assert self.connected.wait(5), "the console never connected"
        self.boots += 1
        self.conn.sendall(f"{BANNER} (boot {self.boots})\r\nnagi: init\r\nnagi> ".encode())

    def close(self):
        for s in (self.conn, self.srv):
            if s is not None:
                s.close()


class FakeApi:
    """pyocd as PyocdFlasher and HardwareBoard call it; reset boots `board`."""

    def __init__(self, board, probes=("066DFF",), flash=None):
        self.board, self.probes, self.flash, self.calls = board, list(probes), flash, []

    def list_probes(self):
        return [Probe(u, "STLINK-V2-1") for u in self.probes]

    def open_session(self, uid, target):
        self.calls.append(("open", uid, target))
        return "session"

    def program(self, session, path, progress):
        self.calls.append(("program", path.name))
        self.board.boot()              # pyocd's programmer resets the core too

    def read(self, session, addr, size):
        self.calls.append(("read", hex(addr), size))
        return self.flash[:size]

    def reset(self, session):
        self.calls.append(("reset",))
        self.board.boot()

    def close(self, session):
        self.calls.append(("close",))


@pytest.fixture
def l475():
    return load_board("b-l475e-iot01a")


@pytest.fixture
def fake_board():
    b = FakeBoard()
    yield b
    b.close()


def images(tmp_path, data=b"\x00\x10\x00\x20\x41\x00\x00\x08" * 8):
    (tmp_path / "nagi.hex").write_text(intel_hex([LoadPiece("image", 0x0800_0000, data)]))
    (tmp_path / "nagi.bin").write_bytes(data)
    return data


def hardware(l475, tmp_path, fake_board, flash=True, **kw):
    api = FakeApi(fake_board, flash=images(tmp_path))
    hw = HardwareBoard(l475, tmp_path, port=fake_board.url, flash=flash, api=api,
                       out=lambda s: None, **kw)
    hw.SETTLE = 0.2
    return hw, api


def test_flash_then_reset_gives_one_fresh_boot(l475, tmp_path, fake_board):
    hw, api = hardware(l475, tmp_path, fake_board)
    dut = Dut(hw.start(), hw, l475, pins=HardwarePins())
    try:
        boot = dut.wait_for_boot(timeout=10)
        # programming booted the board twice; only the reset's boot is the session's
        assert boot == f"{BANNER} (boot 3)\nnagi: init\n"
        assert api.calls == [("open", "066DFF", "stm32l475xg"), ("program", "nagi.hex"),
                             ("read", "0x8000000", 64), ("reset",), ("close",),
                             ("open", "066DFF", "stm32l475xg"), ("reset",), ("close",)]
        assert dut.run("echo over pyserial") == ["over pyserial"]
        assert dut.reset(timeout=10) == f"{BANNER} (boot 4)\nnagi: init\n"
        assert dut.run("echo again") == ["again"]
        assert hw.describe() == "hardware: probe 066DFF, console %s at 115200 baud" % fake_board.url
        with pytest.raises(NotImplementedError, match=PIN_CONTROL_ON_HARDWARE):
            dut.set_pin("button", 1)
    finally:
        dut.close()
    assert hw.console is None


def test_no_flash_only_resets(l475, tmp_path, fake_board):
    hw, api = hardware(l475, tmp_path, fake_board, flash=False)
    dut = Dut(hw.start(), hw, l475)
    try:
        assert dut.wait_for_boot(timeout=10) == f"{BANNER} (boot 1)\nnagi: init\n"
        assert api.calls == [("open", "066DFF", "stm32l475xg"), ("reset",), ("close",)]
    finally:
        dut.close()


def test_console_opens_at_the_board_baud(l475, tmp_path, monkeypatch):
    import serial
    seen = {}

    def fake(url, **kw):
        seen.update(kw, url=url)
        return object()
    monkeypatch.setattr(serial, "serial_for_url", fake)
    hw = HardwareBoard(l475, tmp_path, port="rfc2217://rack:4000", api=FakeApi(None))
    hw._open_serial(hw.port)
    assert seen == {"url": "rfc2217://rack:4000", "baudrate": 115200, "timeout": 0.05}


def test_bad_port_is_one_line_for_real(l475, tmp_path):
    hw = HardwareBoard(l475, tmp_path, port="/dev/nagi-no-such-tty", flash=False,
                       api=FakeApi(None))
    with pytest.raises(ToolError) as e:
        hw.start()
    assert str(e.value).startswith("cannot open the console /dev/nagi-no-such-tty: ")
    assert "\n" not in str(e.value)


# -- finding the console port ------------------------------------------------------
class Port:
    def __init__(self, device, vid=None, pid=None, serial_number=None, location=None):
        self.device, self.vid, self.pid, self.serial_number = device, vid, pid, serial_number
        self.location = location


def test_board_names_the_stlink_vcp(l475):
    assert usb_serial_ids(l475) == [(0x0483, 0x374B)]
    assert usb_serial_ids(load_board("mps2-an386")) == []
    assert parse_usb_id("0483:374b") == (0x0483, 0x374B)
    with pytest.raises(ToolError, match="expected 'VID:PID'"):
        parse_usb_id("stlink")


def test_port_found_by_usb_id(l475):
    ports = [Port("/dev/ttyS0"), Port("/dev/ttyACM3", 0x0483, 0x374B, "066DFF")]
    assert find_console_port(l475, comports=lambda: ports) == "/dev/ttyACM3"


def test_several_ports_pick_the_probes_own(l475):
    ports = [Port("/dev/ttyACM0", 0x0483, 0x374B, "AAA"), Port("/dev/ttyACM1", 0x0483, 0x374B, "BBB")]
    assert find_console_port(l475, "BBB", comports=lambda: ports) == "/dev/ttyACM1"
    with pytest.raises(ToolError) as e:
        find_console_port(l475, "CCC", comports=lambda: ports)
    assert str(e.value) == ("2 serial consoles (USB 0483:374b) attached; pick one with --port: "
                            "/dev/ttyACM0 (serial AAA), /dev/ttyACM1 (serial BBB)")


def test_nagi_kb_console_is_the_keyboards_cdc_interface():
    """nagi-kb's console (usb_cdc) is its own device 1209:0001, CDC-ACM
    interface 2; a port of another interface of that VID:PID is not it."""
    kb = load_board("nagi-kb")
    assert kb.console.get("usb_cdc") is True
    assert usb_serial_ids(kb) == [(0x1209, 0x0001)]
    ports = [Port("/dev/ttyACM0", 0x0483, 0x374B, "X"),
             Port("/dev/ttyACM1", 0x1209, 0x0001, None, "1-1.2:1.4"),
             Port("/dev/ttyACM2", 0x1209, 0x0001, None, "1-1.2:1.2")]
    assert find_console_port(kb, comports=lambda: ports) == "/dev/ttyACM2"
    assert find_console_port(kb, comports=lambda: [Port("/dev/ttyACM5", 0x1209, 0x0001)]) == \
        "/dev/ttyACM5"
    with pytest.raises(ToolError, match=r"no serial console found \(USB 1209:0001\)"):
        find_console_port(kb, comports=lambda: ports[:2])


def test_board_without_usb_serial_needs_port():
    with pytest.raises(ToolError, match=r"no console port known .*pass --port /dev/ttyACM0"):
        find_console_port(load_board("mps2-an386"), comports=lambda: [])


def test_no_port_here_for_real(l475, tmp_path):
    """The real serial.tools.list_ports on this machine: no ST-LINK VCP."""
    from serial.tools.list_ports import comports
    if any((p.vid, p.pid) == (0x0483, 0x374B) for p in comports()):
        pytest.skip("an ST-LINK V2-1 is attached to this machine")
    hw = HardwareBoard(l475, tmp_path, api=FakeApi(None))
    with pytest.raises(ToolError) as e:
        hw.preflight()
    assert str(e.value) == ("no serial console found (USB 0483:374b): connect the board's "
                            "ST-LINK USB port (CN7), or pass --port /dev/ttyACM0")


def test_no_probe_here_for_real(l475, tmp_path):
    pytest.importorskip("pyocd")
    with pytest.raises(NoProbe, match="no debug probe found"):
        HardwareBoard(l475, tmp_path, port="/dev/ttyACM0").preflight()


def test_board_without_pyocd_is_one_line(tmp_path):
    with pytest.raises(ToolError, match="board 'pc' has no pyocd flash method"):
        HardwareBoard(load_board("pc"), tmp_path)


# -- flash.py test --hardware --------------------------------------------------------
def test_flash_py_test_hardware_without_probe_for_real():
    import subprocess
    pytest.importorskip("pyocd")
    p = subprocess.run([sys.executable, str(REPO / "flash.py"), "test", "--board",
                        "b-l475e-iot01a", "--hardware"], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert p.returncode == 1
    assert p.stderr == ("error: no debug probe found: connect the board's ST-LINK USB port "
                        "(CN7) or pass --probe UID\n")
    assert "===" not in p.stdout, "no stage runs without the board"


@pytest.fixture
def no_setup(monkeypatch):
    import tools.setup_env
    monkeypatch.setattr(tools.setup_env, "ensure_environment", lambda argv, entry: None)
    ran = []
    monkeypatch.setattr(test_runner, "STAGES", [
        ("host", lambda ctx: ran.append(("host", None)) or ("passed", ""), "unit"),
        ("HIL suite", lambda ctx: ran.append(("hil", test_runner.hardware_args(ctx)))
         or ("passed", ""), "hil")])
    return ran


def test_flash_py_test_hardware_without_port(no_setup, monkeypatch, capsys):
    """A probe (fake) but no console port (the real list_ports here)."""
    from serial.tools.list_ports import comports
    if any((p.vid, p.pid) == (0x0483, 0x374B) for p in comports()):
        pytest.skip("an ST-LINK V2-1 is attached to this machine")
    monkeypatch.setattr(PyocdApi, "list_probes", lambda self: [Probe("066DFF", "STLINK")])
    assert cli.main(["test", "--board", "b-l475e-iot01a", "--hardware"]) == 1
    err = capsys.readouterr().err
    assert err == ("error: no serial console found (USB 0483:374b): connect the board's "
                   "ST-LINK USB port (CN7), or pass --port /dev/ttyACM0\n")
    assert no_setup == []


def test_flash_py_test_hardware_passes_probe_and_port(no_setup, monkeypatch, capsys):
    monkeypatch.setattr(PyocdApi, "list_probes",
                        lambda self: [Probe("AAA", "STLINK"), Probe("BBB", "STLINK")])
    assert cli.main(["test", "--board", "b-l475e-iot01a", "--hardware", "--probe", "BBB",
                     "--port", "rfc2217://rack:4000", "--no-flash"]) == 0
    assert no_setup == [("host", None), ("hil", ["--hardware", "--probe=BBB",
                                                 "--port=rfc2217://rack:4000", "--no-flash"])]
    out = capsys.readouterr().out
    assert "HIL suite (b-l475e-iot01a hardware)" in out
    assert "hardware: probe BBB, console rfc2217://rack:4000" in out


def test_hardware_options_need_hardware(capsys):
    for argv in (["test", "--probe", "X"], ["test", "--port", "/dev/ttyACM0"],
                 ["test", "--no-flash"], ["test", "--hardware", "--unit-only"]):
        with pytest.raises(SystemExit) as e:
            cli.parse(argv)
        assert e.value.code == 2
    args = cli.parse(["test", "--board", "b-l475e-iot01a", "--hardware"])
    assert (args.hardware, args.probe, args.port, args.no_flash) == (True, None, None, False)
    capsys.readouterr()


def test_twin_runs_get_no_hardware_args():
    assert test_runner.hardware_args({"hardware": None}) == []


# -- the pytest plugin with --hardware ----------------------------------------------
PLUGIN_TESTS = '''
def test_boot(dut):
    assert "nagi: kernel booting" in dut.boot_output
    assert dut.run("echo hw") == ["hw"]

def test_fresh(fresh_dut, dut):
    assert fresh_dut is dut            # one board, one console: reset, not a new boot
    assert "(boot 2)" in fresh_dut.boot_output

def test_after_fresh(dut):
    assert "(boot 3)" in dut.boot_output   # reset again after the fresh test

def test_pins(gpio):
    raise AssertionError("must not run on hardware")

def test_fresh_pins(fresh_gpio):
    raise AssertionError("must not run on hardware")
'''


def test_plugin_on_a_fake_board(pytester, fake_board, monkeypatch, tmp_path):
    """The plugin's --hardware path end to end, in process: real pyserial on
    the fake board's socket:// URL, pyocd replaced (no flashing: --no-flash)."""
    api = FakeApi(fake_board)
    for name in ("list_probes", "open_session", "reset", "close"):
        monkeypatch.setattr(PyocdApi, name, lambda self, *a, _n=name: getattr(api, _n)(*a))
    pytester.makepyfile(test_hw=PLUGIN_TESTS)
    result = pytester.runpytest_inprocess(
        "-p", "tools.pytest_plugin", "--board", "b-l475e-iot01a", "--hardware",
        "--port", fake_board.url, "--no-flash", f"--build-dir={tmp_path / 'build'}", "-rs")
    result.assert_outcomes(passed=3, skipped=2)
    result.stdout.fnmatch_lines_random([f"*{PIN_CONTROL_ON_HARDWARE}*",
                                        "*hardware: probe 066DFF, console socket://*boots 3*"])
    assert fake_board.boots == 3


def test_plugin_hardware_without_probe_for_real(pytester, tmp_path):
    pytest.importorskip("pyocd")
    pytester.makepyfile(test_hw="def test_boot(dut):\n    raise AssertionError('no board')\n")
    result = pytester.runpytest_inprocess(
        "-p", "tools.pytest_plugin", "--board", "b-l475e-iot01a", "--hardware",
        f"--build-dir={tmp_path / 'build'}")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*error: no debug probe found: connect the board's "
                                 "ST-LINK USB port (CN7) or pass --probe UID*"])
