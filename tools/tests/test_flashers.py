"""The flash methods with their hardware replaced: pyocd probe choice,
programming + verify + reset, the one-line errors, USB DFU requests, and
what `flash.py run` / `flash` do with and without a probe."""

import sys

import pytest

from tools import cli
from tools.boards import load_board
from tools.elfimage import LoadPiece, flat_binary, intel_hex
from tools.errors import ToolError
from tools.flashers import NoProbe, flash_board, hardware_methods
from tools.flashers import dfu_flasher as dfu
from tools.flashers import pyocd_flasher
from tools.flashers.pyocd_flasher import Probe, PyocdApi, PyocdFlasher


@pytest.fixture
def l475():
    return load_board("b-l475e-iot01a")


class FakeApi:
    """Records the calls PyocdFlasher makes; flash reads back `flash`."""

    def __init__(self, probes=(), flash=None):
        self.probes = [Probe(u, d) for u, d in probes]
        self.flash, self.calls = flash, []

    def list_probes(self):
        return list(self.probes)

    def open_session(self, uid, target):
        self.calls.append(("open", uid, target))
        return "session"

    def program(self, session, path, progress):
        progress(0.5)
        progress(1.0)
        self.calls.append(("program", path.name))

    def read(self, session, addr, size):
        self.calls.append(("read", hex(addr), size))
        return self.flash[:size]

    def reset(self, session):
        self.calls.append(("reset",))

    def close(self, session):
        self.calls.append(("close",))


def test_probe_choice(l475):
    one = PyocdFlasher(l475, FakeApi([("0671FF", "STLINK-V2-1")]))
    assert one.target == "stm32l475xg"
    assert one.choose_probe(None).uid == "0671FF"
    two = PyocdFlasher(l475, FakeApi([("AAA", "STLINK"), ("BBB", "CMSIS-DAP")]))
    assert two.choose_probe("BBB").uid == "BBB"
    with pytest.raises(ToolError) as e:
        two.choose_probe(None)
    assert str(e.value) == ("2 debug probes attached; pick one with --probe UID: "
                            "AAA (STLINK), BBB (CMSIS-DAP)")
    assert not isinstance(e.value, NoProbe)
    with pytest.raises(ToolError, match=r"debug probe CCC is not attached \(attached: AAA, BBB\)"):
        two.choose_probe("CCC")
    with pytest.raises(NoProbe) as e:
        PyocdFlasher(l475, FakeApi()).choose_probe(None)
    assert str(e.value) == ("no debug probe found: connect the board's ST-LINK USB port (CN7) "
                            "or pass --probe UID")


# -- pyocd: the real PyocdApi against a stand-in held to pyocd's signatures ----------
pyocd_standin = pytest.importorskip("tools.tests.pyocd_standin")
BASE = 0x0800_0000
# nagi.hex as the build writes it: pieces with gaps (a vector table, the
# task table in the next sector, a task further on); nagi.bin fills the gaps.
PIECES = [LoadPiece("kernel", BASE, bytes(range(256)) + b"\x11" * 100),
          LoadPiece("table", BASE + 0x1000, b"NAGITASK" + b"\x02" * 8),
          LoadPiece("task", BASE + 0x3000 + 16, b"\x33" * 40)]


def images(tmp_path, pieces=PIECES):
    (tmp_path / "nagi.hex").write_text(intel_hex(pieces))
    return tmp_path / "nagi.hex"


def test_flash_programs_the_hex_verifies_its_segments_resets(l475, tmp_path, monkeypatch):
    pyocd = pyocd_standin.PyocdStandin().install(monkeypatch)
    bars = []

    class Bar:
        def __init__(self, desc):
            self.desc, self.updates, self.closed = desc, [], False
            bars.append(self)

        def update_to(self, fraction):
            self.updates.append(fraction)

        def close(self):
            self.closed = True
    monkeypatch.setattr(pyocd_flasher, "progress_bar", Bar)
    out = []
    flasher = PyocdFlasher(l475, out=out.append)
    probe = flasher.choose_probe(None)
    flasher.flash(probe, images(tmp_path))
    session_args = {"blocking": False, "unique_id": "066DFF",
                    "kwargs": {"target_override": "stm32l475xg"}}
    assert pyocd.calls == [
        ("get_all_connected_probes", {"blocking": False}),
        ("session_with_chosen_probe", session_args),
        ("open", {}),
        ("FileProgrammer", {"chip_erase": "sector", "trust_crc": False}),
        ("program", {"file_or_path": str(tmp_path / "nagi.hex")}),
        *[("read_memory_block8", {"addr": p.addr, "size": len(p.data)}) for p in PIECES],
        ("reset", {}),
        ("close", {})]
    assert pyocd.progress == [1 / 3, 2 / 3, 1.0]
    assert [(b.desc, b.updates, b.closed) for b in bars] == \
        [("flash nagi.hex", [1 / 3, 2 / 3, 1.0], True)]           # one bar per flash
    for p in PIECES:
        assert bytes(pyocd.flash[p.addr - BASE:p.addr - BASE + len(p.data)]) == p.data
    # sectors the image does not touch keep their old contents: not nagi.bin's 0xff
    assert bytes(pyocd.flash[0x800:0x804]) == b"OLD!"
    assert flat_binary(PIECES, BASE)[0x800:0x804] == b"\xff" * 4
    assert "pyocd: verified 412 bytes in 3 segment(s)" in out


def test_flash_verify_mismatch(l475, tmp_path, monkeypatch):
    pyocd = pyocd_standin.PyocdStandin(corrupt_at=BASE + 0x1003).install(monkeypatch)
    with pytest.raises(ToolError, match="verify failed: flash differs from nagi.hex at 0x08001003"):
        PyocdFlasher(l475, out=lambda s: None).flash(Probe("066DFF", ""), images(tmp_path))
    assert "reset" not in [c[0] for c in pyocd.calls] and pyocd.calls[-1][0] == "close"


def test_flash_refuses_an_image_outside_the_flash(l475, tmp_path, monkeypatch):
    pyocd = pyocd_standin.PyocdStandin().install(monkeypatch)
    hex_path = images(tmp_path, [LoadPiece("ram", 0x2000_0000, b"\x01" * 4)])
    with pytest.raises(ToolError, match=r"nagi.hex: 4 bytes at 0x20000000 are outside the flash"):
        PyocdFlasher(l475, out=lambda s: None).flash(Probe("066DFF", ""), hex_path)
    assert pyocd.calls == []
    (tmp_path / "nagi.hex").write_text(":00000001FF\n")
    with pytest.raises(ToolError, match="nagi.hex holds no data"):
        PyocdFlasher(l475, out=lambda s: None).flash(Probe("066DFF", ""), tmp_path / "nagi.hex")


def test_standin_refuses_what_pyocd_would(monkeypatch):
    """The checks that make the calls above mean something."""
    import pyocd.flash.file_programmer as fp
    from pyocd.core.helpers import ConnectHelper
    pyocd_standin.PyocdStandin().install(monkeypatch)
    with pytest.raises(TypeError, match="deprecated argument no_reset"):
        fp.FileProgrammer("session", chip_erase="sector", no_reset=False)
    with pytest.raises(TypeError):
        fp.FileProgrammer("session", erase="sector")              # no such parameter
    with pytest.raises(TypeError, match="not pyocd session options"):
        ConnectHelper.session_with_chosen_probe(unique_id="066DFF", target="stm32l475xg")
    session = ConnectHelper.session_with_chosen_probe(unique_id="066DFF", blocking=False)
    with pytest.raises(TypeError):
        session.target.read_memory_block8(BASE, length=4)            # it is `size`
    with pytest.raises(TypeError):
        session.target.reset(halt=True)


def test_real_api_lists_probes_through_connect_helper(monkeypatch):
    pyocd = pyocd_standin.PyocdStandin(probes=[("066DFF", "ST-LINK/V2-1")]).install(monkeypatch)
    assert PyocdApi().list_probes() == [Probe("066DFF", "ST-LINK/V2-1")]
    assert pyocd.calls == [("get_all_connected_probes", {"blocking": False})]


def test_usb_permission_is_one_line(monkeypatch):
    from pyocd.core.helpers import ConnectHelper

    def get(blocking=True):
        raise OSError(13, "Access denied (insufficient permissions)")
    monkeypatch.setattr(ConnectHelper, "get_all_connected_probes", get)
    with pytest.raises(ToolError) as e:
        PyocdApi().list_probes()
    assert str(e.value).startswith("no permission to open the USB debug probe")
    assert "\n" not in str(e.value)


def test_pyocd_missing_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyocd.core.helpers", None)   # import fails
    with pytest.raises(ToolError, match="pyocd is not importable"):
        PyocdApi().list_probes()


def test_real_pyocd_finds_no_probe_here(l475):
    """The real pyocd on this machine (no probe attached)."""
    pytest.importorskip("pyocd")
    with pytest.raises(NoProbe, match="no debug probe found"):
        PyocdFlasher(l475).choose_probe(None)


def test_hardware_methods():
    assert hardware_methods(load_board("b-l475e-iot01a")) == ["pyocd", "dfu"]
    assert hardware_methods(load_board("pc")) == []
    with pytest.raises(ToolError, match="no hardware flash method"):
        flash_board(load_board("pc"), None)
    with pytest.raises(ToolError, match="no 'dfu' flash method"):
        flash_board(load_board("mps2-an386"), None, method="dfu")


# -- flash.py run / flash -------------------------------------------------------------
@pytest.fixture
def no_build(monkeypatch):
    import tools.setup_env
    monkeypatch.setattr(tools.setup_env, "ensure_environment", lambda argv, entry: None)
    monkeypatch.setattr(cli, "do_build", lambda *a: None)
    booted = []
    monkeypatch.setattr(cli, "run_twin", lambda board, build, accel: booted.append(board.name) or 0)
    return booted


def with_probes(monkeypatch, probes):
    monkeypatch.setattr(PyocdApi, "list_probes", lambda self: [Probe(u, "STLINK") for u in probes])


def test_run_without_probe_boots_the_twin(no_build, monkeypatch, capsys):
    with_probes(monkeypatch, [])
    assert cli.main(["run", "--board", "b-l475e-iot01a"]) == 0
    assert no_build == ["b-l475e-iot01a"]
    assert "no debug probe found; booting the QEMU twin instead" in capsys.readouterr().out


def test_run_hardware_without_probe_fails(no_build, monkeypatch, capsys):
    with_probes(monkeypatch, [])
    assert cli.main(["run", "--board", "b-l475e-iot01a", "--hardware"]) == 1
    assert capsys.readouterr().err == ("error: no debug probe found: connect the board's "
                                       "ST-LINK USB port (CN7) or pass --probe UID\n")
    assert no_build == []


def test_run_with_several_probes_needs_one(no_build, monkeypatch, capsys):
    with_probes(monkeypatch, ["A1", "B2"])
    assert cli.main(["run", "--board", "b-l475e-iot01a"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "A1 (STLINK), B2 (STLINK)" in err and no_build == []


def test_run_with_probe_programs_it(no_build, monkeypatch):
    with_probes(monkeypatch, ["A1", "B2"])
    flashed = []
    monkeypatch.setattr(PyocdFlasher, "flash", lambda self, p, h: flashed.append((p.uid, h.name)))
    assert cli.main(["run", "--board", "b-l475e-iot01a", "--probe", "B2"]) == 0
    assert flashed == [("B2", "nagi.hex")] and no_build == []


def test_run_on_pc_boots_the_twin(no_build):
    assert cli.main(["run"]) == 0 and no_build == ["pc"]


# -- USB DFU --------------------------------------------------------------------------
# The device is tools/tests/dfuse_device.py, written from USB DFU 1.1 and AN3156;
# the expected transfers below are spelled in the specifications' terms.
from tools.tests import dfuse_device as spec   # noqa: E402


def dnload(block, data):
    return (0x21, spec.DNLOAD, block, 0, bytes(data))


def command(cmd, addr=None):
    return dnload(0, bytes([cmd]) + (b"" if addr is None else addr.to_bytes(4, "little")))


GETSTATUS = (0xA1, spec.GETSTATUS, 0, 0, 6)
ABORT = (0x21, spec.ABORT, 0, 0, b"")
CLRSTATUS = (0x21, spec.CLRSTATUS, 0, 0, b"")


def upload(block, length):
    return (0xA1, spec.UPLOAD, block, 0, length)


def run_dfu(board, tmp_path, data, device):
    (tmp_path / "nagi.bin").write_bytes(data)
    out, sleeps = [], []
    flasher = dfu.DfuFlasher(board, dfu.UsbDfuDevice(device), out=out.append,
                             sleep=sleeps.append)
    flasher.flash(tmp_path / "nagi.bin")
    return out, sleeps


def test_dfu_transfers_follow_dfuse(l475, tmp_path):
    data = bytes(range(256)) * 12          # 3072 bytes: two pages, two blocks
    dev = spec.Stm32DfuBootloader(poll_ms=(25, 4))
    out, sleeps = run_dfu(l475, tmp_path, data, dev)
    base = 0x0800_0000
    busy_then_idle = [GETSTATUS, GETSTATUS]    # dfuDNBUSY, then dfuDNLOAD-IDLE
    assert dev.transfers == [
        GETSTATUS, ABORT,
        command(0x41, base), *busy_then_idle,
        command(0x41, base + 2048), *busy_then_idle,
        command(0x21, base), *busy_then_idle, dnload(2, data[:2048]), *busy_then_idle,
        command(0x21, base + 2048), *busy_then_idle, dnload(2, data[2048:]), *busy_then_idle,
        command(0x21, base), *busy_then_idle, ABORT, upload(2, 2048), ABORT,
        command(0x21, base + 2048), *busy_then_idle, ABORT, upload(2, 1024), ABORT,
        command(0x21, base), *busy_then_idle,
        dnload(0, b""), GETSTATUS]               # manifestation: leave DFU mode
    assert sleeps == [0.025, 0.025, 0.0, 0.004, 0.0, 0.004, 0.0, 0.0, 0.0]
    assert bytes(dev.flash[:len(data)]) == data
    assert bytes(dev.flash[len(data):4096]) == b"\xff" * (4096 - len(data))  # erased page tail
    assert bytes(dev.flash[4096:4100]) == b"OLD!"                           # untouched page
    assert dev.left_at == base and dev.state == spec.dfuMANIFEST
    assert any("verified 3072 bytes" in l for l in out)


def test_dfu_read_protected_flash_is_one_line_and_cleared(l475, tmp_path):
    dev = spec.Stm32DfuBootloader(read_protected=True)
    with pytest.raises(ToolError) as e:
        run_dfu(l475, tmp_path, b"\x01" * 64, dev)
    assert str(e.value) == ("DFU: erase of 0x08000000 failed (status 11: errVENDOR: the flash is "
                            "read-protected (RDP); removing it erases the chip; state 10)")
    assert dev.transfers[-3:] == [GETSTATUS, GETSTATUS, CLRSTATUS]
    assert dev.state == spec.dfuIDLE


def test_dfu_image_past_the_flash_fails_at_the_erase(l475, tmp_path):
    dev = spec.Stm32DfuBootloader(size=4096)
    with pytest.raises(ToolError, match=r"erase of 0x08001000 failed \(status 1: errTARGET"):
        run_dfu(l475, tmp_path, b"\x02" * 5000, dev)


def test_dfu_device_left_in_error_is_cleared_first(l475, tmp_path):
    dev = spec.Stm32DfuBootloader()
    dev.state, dev.status = spec.dfuERROR, spec.errTARGET    # an earlier session's failure
    run_dfu(l475, tmp_path, b"\x03" * 16, dev)
    assert dev.transfers[:4] == [GETSTATUS, CLRSTATUS, ABORT, command(0x41, 0x0800_0000)]
    assert bytes(dev.flash[:16]) == b"\x03" * 16 and dev.left_at == 0x0800_0000


def test_dfu_device_that_goes_away_is_one_line(l475, tmp_path):
    dev = spec.Stm32DfuBootloader()
    dev.left_at = 0x0800_0000                  # reset into the application meanwhile
    with pytest.raises(ToolError, match=r"^DFU: USB request 3 \(wValue 0\) failed: .*No such"):
        run_dfu(l475, tmp_path, b"\x03" * 16, dev)


# The fake device's own rules, so a flasher that skipped one would fail above.
def test_fake_flash_refuses_a_write_without_erase():
    dev = spec.Stm32DfuBootloader()
    dev.ctrl_transfer(0x21, spec.DNLOAD, 0, 0, b"\x21\x00\x00\x00\x08")
    assert dev.ctrl_transfer(0xA1, spec.GETSTATUS, 0, 0, 6)[4] == spec.dfuDNBUSY
    assert dev.ctrl_transfer(0xA1, spec.GETSTATUS, 0, 0, 6)[4] == spec.dfuDNLOAD_IDLE
    dev.ctrl_transfer(0x21, spec.DNLOAD, 2, 0, b"\x00" * 8)
    assert dev.ctrl_transfer(0xA1, spec.GETSTATUS, 0, 0, 6) == bytes([0, 3, 0, 0, 4, 0])
    assert dev.ctrl_transfer(0xA1, spec.GETSTATUS, 0, 0, 6)[:1] == bytes([spec.errPROG])
    assert dev.state == spec.dfuERROR and bytes(dev.flash[:4]) == b"OLD!"


def test_fake_upload_needs_idle_and_keyword_arguments_follow_pyusb():
    import usb.core
    dev = spec.Stm32DfuBootloader()
    assert dev.ctrl_transfer(0xA1, spec.UPLOAD, 0, 0, 4) == bytes([0x00, 0x21, 0x41, 0x92])
    dev.ctrl_transfer(0x21, spec.DNLOAD, 0, 0, b"\x21\x00\x00\x00\x08")
    with pytest.raises(usb.core.USBError):          # dfuDNLOAD-SYNC: UPLOAD stalls
        dev.ctrl_transfer(bmRequestType=0xA1, bRequest=spec.UPLOAD, wValue=2, wIndex=0,
                          data_or_wLength=16)
    with pytest.raises(TypeError):                   # not pyusb's signature
        dev.ctrl_transfer(0xA1, spec.GETSTATUS, 0, 0, length=6)


def test_dfu_without_device_is_no_probe(l475, tmp_path, monkeypatch):
    (tmp_path / "nagi.bin").write_bytes(b"x")
    usb = pytest.importorskip("usb.core")
    monkeypatch.setattr(usb, "find", lambda **k: iter(()))
    with pytest.raises(NoProbe, match="no DFU device 0483:df11 found"):
        dfu.DfuFlasher(l475).flash(tmp_path / "nagi.bin")


def test_run_on_a_qemu_first_board_boots_the_twin(no_build, monkeypatch):
    with_probes(monkeypatch, ["A1"])          # attached, but mps2-an386's default is qemu
    assert cli.main(["run", "--board", "mps2-an386"]) == 0 and no_build == ["mps2-an386"]


@pytest.fixture
def builds(monkeypatch, no_build):
    made = []
    monkeypatch.setattr(cli, "do_build", lambda board, build, overrides: made.append(board.name))
    return made


@pytest.mark.parametrize("argv", [
    ["run", "--board", "b-l475e-iot01a", "--hardware"],
    ["run", "--board", "b-l475e-iot01a", "--probe", "ZZ"],
    ["flash", "--board", "b-l475e-iot01a"],
])
def test_missing_hardware_is_said_before_anything_is_built(builds, monkeypatch, capsys, argv):
    with_probes(monkeypatch, [])
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert builds == []


def test_no_probe_run_builds_then_boots_the_twin(builds, monkeypatch, capsys):
    with_probes(monkeypatch, [])
    assert cli.main(["run", "--board", "b-l475e-iot01a"]) == 0
    assert builds == ["b-l475e-iot01a"] and builds is not None
    assert capsys.readouterr().out.index("no debug probe found") >= 0
