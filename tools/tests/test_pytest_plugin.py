"""The HIL plugin: capability marks, transcripts of failed tests, JUnit."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

TESTS = '''
import pytest
from tools.console import Console
from tools.dut import Dut

class Port:
    def __init__(self): self.chunks = [b"nagi> booted\\r\\n"]
    def read(self, n): return self.chunks.pop(0) if self.chunks else b""
    def write(self, data): pass

@pytest.fixture
def dut():
    d = Dut(Console(Port()))
    d.expect("booted")
    return d

@pytest.mark.needs("paging")
def test_has_paging(dut):
    assert "booted" in dut.transcript

@pytest.mark.needs("hid")
def test_needs_hid(dut):
    raise AssertionError("must not run on pc")

def test_fails(dut):
    assert dut.transcript == "something else"
'''


def test_plugin(pytester):
    pytester.makepyfile(test_hil=TESTS)
    build = pytester.path / "build"
    result = pytester.runpytest("-p", "tools.pytest_plugin", "--board", "pc",
                                f"--build-dir={build}", "-rs")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*console transcript*", "nagi> booted",
                                 "*Nagi HIL summary*",
                                 "*1 passed, 1 failed, 0 error, 1 skipped*",
                                 "*board 'pc' lacks capability 'hid'*"])
    log = build / "hil-logs" / "test_fails.log"
    assert log.read_text() == "nagi> booted\n"
    junit = (build / "junit-hil.xml").read_text()
    assert 'tests="3"' in junit and 'failures="1"' in junit


def test_unknown_board_is_a_usage_error(pytester):
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest("-p", "tools.pytest_plugin", "--board", "nope")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*unknown board 'nope'; valid boards: *pc*"])


MCU_TESTS = '''
import pytest

def test_pins(gpio):
    raise AssertionError("must not run without gpio")

@pytest.mark.needs("paging")
def test_paging():
    raise AssertionError("must not run on an MCU board")

@pytest.mark.needs("fpu", "mpu")
def test_fpu(board):
    assert board.arch == "arm-m"
'''


def test_mcu_board_capabilities(pytester):
    pytester.makepyfile(test_mcu=MCU_TESTS)
    result = pytester.runpytest("-p", "tools.pytest_plugin", "--board", "mps2-an386",
                                f"--build-dir={pytester.path / 'build'}", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines_random(["*board 'mps2-an386' lacks capability 'gpio'*",
                                        "*board 'mps2-an386' lacks capability 'paging'*"])


NET_TESTS = '''
def test_net(net):
    raise AssertionError("must not run without a NIC")
'''


def test_net_fixture_skips_boards_without_a_nic(pytester):
    # b-l475e-iot01a has no [nic] (mps2-an386 has its on-board LAN9118).
    pytester.makepyfile(test_net=NET_TESTS)
    result = pytester.runpytest("-p", "tools.pytest_plugin", "--board", "b-l475e-iot01a",
                                f"--build-dir={pytester.path / 'build'}", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*board 'b-l475e-iot01a' has no NIC ([[]nic[]] in board.toml)*"])


PCAP_TESTS = '''
import pytest
from pathlib import Path
from scapy.utils import RawPcapWriter
from tools.console import Console
from tools.dut import Dut
from tools.pytest_plugin import NetDevice

class Port:
    def __init__(self): self.chunks = [b"nagi> booted\\r\\n"]
    def read(self, n): return self.chunks.pop(0) if self.chunks else b""
    def write(self, data): pass

class Kit:
    def __init__(self, path):
        self.pcap_path = path
        self.writer = RawPcapWriter(str(path), linktype=1, sync=True)

@pytest.fixture(scope="module")
def net(tmp_path_factory):
    kit = Kit(tmp_path_factory.mktemp("kit") / "net.pcap")
    kit.writer.write(b"\\x01" * 60)          # before any test: boot traffic
    d = Dut(Console(Port()))
    yield NetDevice(d, kit, "52:54:00:12:34:56")
    kit.writer.close()

def test_passes(net):
    net.kit.writer.write(b"\\x02" * 60)

def test_fails(net):
    net.kit.writer.write(b"\\x03" * 61)
    net.kit.writer.write(b"\\x04" * 62)
    assert False, "the guest did not answer"
'''


def test_a_failed_network_test_gets_its_own_pcap(pytester):
    """Only the failing test's frames, in a pcap named in the report."""
    from scapy.utils import rdpcap
    pytester.makepyfile(test_pcap=PCAP_TESTS)
    build = pytester.path / "build"
    result = pytester.runpytest("-p", "tools.pytest_plugin", "--board", "pc",
                                f"--build-dir={build}")
    result.assert_outcomes(passed=1, failed=1)
    pcap = build / "hil-logs" / "test_fails.pcap"
    result.stdout.fnmatch_lines(["*network capture*", "2 frames of this test: *test_fails.pcap",
                                 f"network capture of a failed test: {pcap}"])
    assert [bytes(p) for p in rdpcap(str(pcap))] == [b"\x03" * 61, b"\x04" * 62]
    assert not (build / "hil-logs" / "test_passes.pcap").exists()
    assert "test_fails.pcap" in (build / "junit-hil.xml").read_text()


def test_boot_disk_needs_a_board_with_a_disk_image(pytester):
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest("-p", "tools.pytest_plugin", "--board", "mps2-an386",
                                "--boot", "disk")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--boot disk: board 'mps2-an386' has no disk image*"])


def test_boot_disk_session_image_is_the_disk_image_on_seabios_sata(pytester):
    pytester.makepyfile(test_x='''
from tools import pytest_plugin

def test_image(request):
    image, disk = pytest_plugin.session_image(request.config)
    assert image.name == "nagi-pc.img"
    assert (disk.firmware, disk.bus) == ("seabios", "sata")
''')
    build = pytester.path / "build"
    build.mkdir()
    (build / "nagi-pc.img").write_bytes(b"")
    result = pytester.runpytest("-p", "tools.pytest_plugin", "--board", "pc",
                                f"--build-dir={build}", "--boot", "disk")
    result.assert_outcomes(passed=1)
