"""The flash methods with their hardware replaced: pyocd probe choice,
programming + verify + reset, the one-line errors, USB DFU requests, and
what `flash.py run` / `flash` do with and without a probe."""

import struct
import sys
import types

import pytest

from tools import cli
from tools.boards import load_board
from tools.errors import ToolError
from tools.flashers import NoProbe, flash_board, hardware_methods
from tools.flashers import dfu_flasher as dfu
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


def images(tmp_path, data=b"\x00\x10\x00\x20\x41\x00\x00\x08" * 8):
    (tmp_path / "nagi.hex").write_text(":00000001FF\n")
    (tmp_path / "nagi.bin").write_bytes(data)
    return tmp_path / "nagi.hex", tmp_path / "nagi.bin", data


def test_flash_programs_verifies_resets(l475, tmp_path):
    hex_path, bin_path, data = images(tmp_path)
    api = FakeApi([("X", "STLINK")], flash=data + b"\xff" * 16)
    out = []
    PyocdFlasher(l475, api, out=out.append).flash(Probe("X", "STLINK"), hex_path, bin_path)
    assert api.calls == [("open", "X", "stm32l475xg"), ("program", "nagi.hex"),
                         ("read", "0x8000000", len(data)), ("reset",), ("close",)]
    assert any("verified 64 bytes at 0x08000000" in l for l in out)


def test_flash_verify_mismatch(l475, tmp_path):
    hex_path, bin_path, data = images(tmp_path)
    bad = data[:10] + b"\xee" + data[11:]
    api = FakeApi(flash=bad)
    with pytest.raises(ToolError, match="verify failed: flash differs from nagi.bin at 0x0800000a"):
        PyocdFlasher(l475, api, out=lambda s: None).flash(Probe("X", ""), hex_path, bin_path)
    assert ("reset",) not in api.calls and api.calls[-1] == ("close",)


def fake_pyocd(monkeypatch, get_probes):
    helpers = types.ModuleType("pyocd.core.helpers")
    helpers.ConnectHelper = types.SimpleNamespace(get_all_connected_probes=get_probes)
    fp = types.ModuleType("pyocd.flash.file_programmer")
    fp.FileProgrammer = object
    for name, mod in [("pyocd", types.ModuleType("pyocd")), ("pyocd.core", types.ModuleType("x")),
                      ("pyocd.core.helpers", helpers), ("pyocd.flash", types.ModuleType("y")),
                      ("pyocd.flash.file_programmer", fp)]:
        monkeypatch.setitem(sys.modules, name, mod)


def test_real_api_lists_probes_through_connect_helper(monkeypatch):
    seen = {}

    def get(blocking=True):
        seen["blocking"] = blocking
        return [types.SimpleNamespace(unique_id="066DFF", description="ST-LINK/V2-1")]
    fake_pyocd(monkeypatch, get)
    assert PyocdApi().list_probes() == [Probe("066DFF", "ST-LINK/V2-1")]
    assert seen == {"blocking": False}


def test_usb_permission_is_one_line(monkeypatch):
    def get(blocking=True):
        raise OSError(13, "Access denied (insufficient permissions)")
    fake_pyocd(monkeypatch, get)
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
    monkeypatch.setattr(PyocdFlasher, "flash", lambda self, p, h, b: flashed.append((p.uid, h.name)))
    assert cli.main(["run", "--board", "b-l475e-iot01a", "--probe", "B2"]) == 0
    assert flashed == [("B2", "nagi.hex")] and no_build == []


def test_run_on_pc_boots_the_twin(no_build):
    assert cli.main(["run"]) == 0 and no_build == ["pc"]


# -- USB DFU --------------------------------------------------------------------------
class FakeDfu:
    """A DfuSe bootloader in memory: records requests, keeps a flash array."""

    def __init__(self, base):
        self.base, self.flash, self.ptr, self.log = base, bytearray(b"\xff" * 8192), base, []
        self.state = dfu.STATE_IDLE

    def ctrl_out(self, request, value, data):
        self.log.append((request, value, bytes(data[:5]) if value == 0 else len(data)))
        if request == dfu.DFU_DNLOAD and value == 0 and data:
            cmd, addr = struct.unpack("<BI", bytes(data))
            if cmd == dfu.CMD_SET_ADDRESS:
                self.ptr = addr
            elif cmd == dfu.CMD_ERASE:
                off = addr - self.base
                self.flash[off:off + dfu.PAGE_SIZE] = b"\xff" * dfu.PAGE_SIZE
            self.state = dfu.STATE_DNBUSY
        elif request == dfu.DFU_DNLOAD and value >= 2:
            off = self.ptr - self.base + (value - 2) * dfu.TRANSFER_SIZE
            self.flash[off:off + len(data)] = data
            self.state = dfu.STATE_DNBUSY
        elif request == dfu.DFU_ABORT:
            self.state = dfu.STATE_IDLE

    def ctrl_in(self, request, value, length):
        if request == dfu.DFU_GETSTATUS:
            state, self.state = self.state, (dfu.STATE_DNLOAD_IDLE if self.state == dfu.STATE_DNBUSY
                                             else self.state)
            return bytes([0, 1, 0, 0, state, 0])
        assert request == dfu.DFU_UPLOAD and self.state == dfu.STATE_IDLE
        off = self.ptr - self.base
        return bytes(self.flash[off:off + length])


def test_dfu_erases_writes_verifies_and_leaves(l475, tmp_path):
    data = bytes(range(256)) * 12          # 3072 bytes: two pages, two blocks
    (tmp_path / "nagi.bin").write_bytes(data)
    dev = FakeDfu(0x0800_0000)
    out = []
    dfu.DfuFlasher(l475, dev, out=out.append, sleep=lambda s: None).flash(tmp_path / "nagi.bin")
    assert bytes(dev.flash[:len(data)]) == data
    erases = [e for e in dev.log if e[0] == dfu.DFU_DNLOAD and e[1] == 0 and e[2][:1] == b"\x41"]
    assert [struct.unpack("<I", e[2][1:])[0] for e in erases] == [0x0800_0000, 0x0800_0800]
    assert dev.log[-1] == (dfu.DFU_DNLOAD, 0, b"")      # zero-length DNLOAD leaves DFU mode
    assert any("verified 3072 bytes" in l for l in out)


def test_dfu_without_device_is_no_probe(l475, tmp_path, monkeypatch):
    (tmp_path / "nagi.bin").write_bytes(b"x")
    usb = pytest.importorskip("usb.core")
    monkeypatch.setattr(usb, "find", lambda **k: iter(()))
    with pytest.raises(NoProbe, match="no DFU device 0483:df11 found"):
        dfu.DfuFlasher(l475).flash(tmp_path / "nagi.bin")


def test_run_on_a_qemu_first_board_boots_the_twin(no_build, monkeypatch):
    with_probes(monkeypatch, ["A1"])          # attached, but mps2-an386's default is qemu
    assert cli.main(["run", "--board", "mps2-an386"]) == 0 and no_build == ["mps2-an386"]
