"""The QEMU twin's command lines (from board.toml) and its start sequence."""

from pathlib import Path

import pytest

from tools.accel import Accel
from tools.boards import load_board
from tools.errors import ToolError
from tools.qemu import QemuTwin

TCG = Accel("tcg", "test")
KVM = Accel("kvm", "test", hardware=True)


@pytest.fixture
def pc():
    return load_board("pc")


def test_test_command_for_pc(pc):
    twin = QemuTwin(pc, Path("/b/nagi.img"), TCG)
    assert twin.test_command(4321, "/tmp/q.sock") == [
        "qemu-system-x86_64", "-M", "q35", "-cpu", "qemu64", "-m", "256M",
        "-kernel", "/b/nagi.img", "-accel", "tcg", "-no-reboot",
        "-nic", "none", "-display", "none",
        "-serial", "tcp:127.0.0.1:4321,server=on,wait=off",
        "-qmp", "unix:/tmp/q.sock,server=on,wait=off", "-S"]


def test_kvm_uses_host_cpu_without_arch_capabilities(pc):
    cmd = QemuTwin(pc, Path("x.img"), KVM).base_command()
    assert cmd[cmd.index("-cpu") + 1] == "host,-arch-capabilities"
    assert cmd[cmd.index("-accel") + 1] == "kvm"


def test_icount_only_under_tcg(pc):
    cmd = QemuTwin(pc, Path("x.img"), TCG, icount=True).base_command()
    assert cmd[cmd.index("-icount") + 1] == "shift=0"
    assert cmd[cmd.index("-cpu") + 1] == "qemu64"
    with pytest.raises(ToolError):
        QemuTwin(pc, Path("x.img"), KVM, icount=True).base_command()


def test_interactive_command(pc):
    cmd = QemuTwin(pc, Path("x.img"), TCG).interactive_command()
    assert cmd[-3:] == ["-nographic", "-serial", "mon:stdio"]
    assert "-S" not in cmd and "-qmp" not in cmd


class RecordingTwin(QemuTwin):
    """All I/O replaced: records the calls start() makes, in order."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.calls = []
        self.serial_failures = 2

    def _free_port(self):
        return 5555

    def _spawn(self, cmd):
        self.calls.append(("spawn", cmd))
        return object()

    def _alive(self):
        return True

    def _open_serial(self, url):
        if self.serial_failures:
            self.serial_failures -= 1
            raise ConnectionRefusedError("not yet")
        self.calls.append(("serial", url))
        from tools.tests.conftest import FakePort
        return FakePort()

    def _qmp_connect(self, path):
        self.calls.append(("qmp", Path(path).name))
        self.qmp = self
        return self

    def _qmp_command(self, name, **args):
        self.calls.append(("qmp-cmd", name))


def test_start_attaches_console_before_cont(pc, tmp_path):
    image = tmp_path / "nagi.img"
    image.write_bytes(b"x")
    twin = RecordingTwin(pc, image, TCG)
    twin.start()
    kinds = [c[0] for c in twin.calls]
    assert kinds == ["spawn", "serial", "qmp", "qmp-cmd"]
    assert twin.calls[0][1][-1] == "-S", "QEMU starts paused"
    assert twin.calls[1][1] == "socket://127.0.0.1:5555"
    assert twin.calls[3] == ("qmp-cmd", "cont")
    twin.reset()
    assert twin.calls[-1] == ("qmp-cmd", "system_reset")


def test_start_without_image_is_a_clean_error(pc, tmp_path):
    with pytest.raises(ToolError, match="flash.py build"):
        RecordingTwin(pc, tmp_path / "missing.img", TCG).start()


# -- Cortex-M twins ------------------------------------------------------------
from tools.qemu import accel_for  # noqa: E402
from tools.tests.mcu_boards import mcu_board  # noqa: E402


def test_arm_twin_has_no_cpu_memory_or_kvm(tmp_path):
    board = mcu_board(tmp_path)
    twin = QemuTwin(board, Path("/b/nagi.elf"), KVM)
    assert twin.accel.describe() == "accelerator: tcg (no KVM for Cortex-M twins)"
    assert twin.test_command(4321, "/tmp/q.sock") == [
        "qemu-system-arm", "-M", "b-l475e-iot01a", "-kernel", "/b/nagi.elf", "-accel", "tcg",
        "-nic", "none", "-display", "none", "-serial", "tcp:127.0.0.1:4321,server=on,wait=off",
        "-qmp", "unix:/tmp/q.sock,server=on,wait=off", "-S"]
    assert QemuTwin(board, Path("x.elf"), TCG, icount=True).base_command()[-2:] == \
        ["-icount", "shift=0"]


def test_arm_twin_with_qtest(tmp_path):
    twin = QemuTwin(mcu_board(tmp_path), Path("/b/nagi.elf"), TCG, qtest=True)
    cmd = twin.test_command(1, "/q", "/t")
    assert cmd[cmd.index("-qtest"):] == ["-qtest", "unix:/t,server=on,wait=off",
                                          "-qtest-log", "none", "-S"]
    assert cmd[cmd.index("-accel") + 1] == "tcg"


def test_accel_for_arm(tmp_path):
    board = mcu_board(tmp_path, "mps2-an386")
    assert accel_for(board, "auto").name == "tcg"
    with pytest.raises(ToolError, match="Cortex-M"):
        accel_for(board, "kvm")


class QtestRecordingTwin(RecordingTwin):
    def _qtest_connect(self, path):
        self.calls.append(("qtest", Path(path).name))
        return self


def test_start_connects_qtest_before_cont(tmp_path):
    image = tmp_path / "nagi.elf"
    image.write_bytes(b"x")
    twin = QtestRecordingTwin(mcu_board(tmp_path), image, TCG, qtest=True)
    twin.start()
    assert [c[0] for c in twin.calls] == ["spawn", "serial", "qmp", "qtest", "qmp-cmd"]
    assert "-qtest" in twin.calls[0][1] and twin.calls[3] == ("qtest", "qtest.sock")


def test_typing_on_the_stm32_twin_wakes_qemu_after_each_byte(tmp_path):
    """board.toml [qemu] wake_after_input (QEMU's STM32L4 USART takes the
    next input byte only when the main loop wakes): each byte the kit
    sends is followed by a QMP no-op; send_line is paced by tx_delay_us."""
    l475 = load_board("b-l475e-iot01a")
    assert l475.qemu.wake_after_input and l475.console["tx_delay_us"] == 100
    image = tmp_path / "nagi.elf"
    image.write_bytes(b"x")
    twin = QtestRecordingTwin(l475, image, TCG, qtest=True)
    console = twin.start()
    assert console.tx_delay == pytest.approx(100e-6)
    del twin.calls[:]
    console.write("ab")
    assert twin.calls == [("qmp-cmd", "query-status")] * 2
    assert console.port.port.written == b"ab"


def test_other_twins_take_input_as_sent(pc, tmp_path):
    image = tmp_path / "nagi.img"
    image.write_bytes(b"x")
    twin = RecordingTwin(pc, image, TCG)
    console = twin.start()
    del twin.calls[:]
    console.send_line("ps")
    assert twin.calls == [] and console.port.written == b"ps\r" and console.tx_delay == 0


def test_hid_trace_uart_is_the_second_serial(pc):
    twin = QemuTwin(pc, Path("/b/nagi.img"), TCG)
    cmd = twin.test_command(4321, "/tmp/q.sock", trace_path="/tmp/t.txt")
    serials = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-serial"]
    assert serials == ["tcp:127.0.0.1:4321,server=on,wait=off", "file:/tmp/t.txt"]
    assert "-serial" not in twin.test_command(4321, "/tmp/q.sock")[-3:]


def test_nic_joins_the_twin_only_through_the_net_fixture(pc, tmp_path):
    """The default pc twin has no NIC of ours (test_test_command_for_pc);
    the `net` fixture adds board.toml's [nic] device on the kit's socket."""
    from tools.netkit.namespace import NetKit
    from tools.pytest_plugin import TWIN_MAC, nic_qemu_args
    kit = NetKit(tmp_path)          # not entered: only its socket paths are used
    args = nic_qemu_args(pc, kit)
    assert args[:2] == ["-netdev", kit.netdev_args("net0")[1]]
    assert args[2:] == ["-device", f"e1000,netdev=net0,mac={TWIN_MAC}"]
    twin = QemuTwin(pc, Path("/b/nagi.img"), TCG, extra=tuple(args))
    cmd = twin.test_command(4321, "/tmp/q.sock")
    assert cmd[cmd.index("-device") + 1].startswith("e1000,netdev=net0")
    assert "-nic" not in cmd   # the kit's network, not `-nic none`


def test_a_twin_without_the_kit_network_has_no_network(tmp_path):
    """Without the kit's NIC arguments a twin gets `-nic none`, not QEMU's
    default user networking: mps2-an386's on-board LAN9118 would otherwise
    take a slirp lease (test traffic goes only to the kit's namespace)."""
    twin = QemuTwin(load_board("mps2-an386"), Path("/b/nagi.elf"), TCG)
    cmd = twin.test_command(4321, "/tmp/q.sock")
    assert cmd[cmd.index("-nic") + 1] == "none"
    assert "-netdev" not in cmd and "-net" not in cmd


def test_disk_boot_seabios_sata_replaces_kernel(pc):
    from tools.qemu import DiskBoot
    twin = QemuTwin(pc, Path("/b/nagi-pc.img"), TCG, disk=DiskBoot("seabios", "sata"))
    cmd = twin.base_command()
    assert "-kernel" not in cmd and "pflash" not in " ".join(cmd)
    assert cmd[cmd.index("-drive") + 1] == "file=/b/nagi-pc.img,if=none,id=d0,format=raw,snapshot=on"
    assert cmd[cmd.index("-device") + 1] == "ide-hd,drive=d0,bus=ide.0,bootindex=0"
    twin.stop()


def test_disk_boot_ovmf_usb_has_pflash_with_a_private_vars_copy(pc, monkeypatch, tmp_path):
    from tools import qemu
    code, vars_ = tmp_path / "CODE.fd", tmp_path / "VARS.fd"
    code.write_bytes(b"c" * 16)
    vars_.write_bytes(b"v" * 16)
    monkeypatch.setattr(qemu, "OVMF_CODE", code)
    monkeypatch.setattr(qemu, "OVMF_VARS", vars_)
    twin = QemuTwin(pc, Path("/b/nagi-pc.img"), TCG, disk=qemu.DiskBoot("ovmf", "usb"))
    cmd = twin.base_command()
    drives = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-drive"]
    assert drives[0] == f"if=pflash,format=raw,unit=0,readonly=on,file={code}"
    copy = Path(drives[1].split("file=")[1])
    assert drives[1].startswith("if=pflash,format=raw,unit=1,") and copy != vars_
    assert copy.read_bytes() == vars_.read_bytes()      # writable copy, not Debian's file
    devices = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-device"]
    assert devices == ["qemu-xhci,id=xhci", "usb-storage,bus=xhci.0,drive=d0,bootindex=0"]
    twin.stop()
    assert not copy.exists()                             # removed with the instance


def test_disk_boot_without_ovmf_is_one_line(pc, monkeypatch, tmp_path):
    from tools import qemu
    monkeypatch.setattr(qemu, "OVMF_CODE", tmp_path / "none.fd")
    assert "install Debian's ovmf" in qemu.DiskBoot.missing_firmware("ovmf")
    with pytest.raises(ToolError, match="disk boot under OVMF: no .*none.fd"):
        QemuTwin(pc, Path("x.img"), TCG, disk=qemu.DiskBoot("ovmf", "sata")).base_command()
