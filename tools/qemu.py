"""qemu.py - the QEMU twin back-end: one board's emulated machine.

The command line comes from the board description (board.toml [qemu]).
For tests the machine starts paused (-S) with its console on a TCP port and
QMP on a unix socket; the console is attached first, then QMP `cont`
starts the guest, so no boot output is lost.

Cortex-M twins (arch arm-m) take no -cpu/-m (the machine fixes both) and
always run under TCG (there is no KVM for them). With qtest=True the
machine also gets `-qtest unix:PATH`, connected before `cont`, for pin
control (tools/qtest.py). A board with an i8042 ([ps2]) gets `keys`
(tools/ps2_keys.py): key events over the same QMP. All process, socket and QMP
I/O goes through the small methods at the bottom, which tests replace."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .accel import Accel, choose_accel
from .boards import Board
from .console import Console
from .errors import ToolError

ARM_ACCEL = Accel("tcg", "no KVM for Cortex-M twins")
DEFAULT_BOOT = ("-kernel", "{image}")
# QEMU options that give the machine a network (the kit's NIC arguments).
NETWORK_ARGS = frozenset({"-netdev", "-net", "-nic"})

# UEFI for disk boots: Debian's ovmf (4 MiB flash; not the Secure Boot build).
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")


class DiskBoot:
    """Boot a disk image (the pc's nagi-pc.img, tools/disk_image.py) as a
    PC does, instead of -kernel: firmware "seabios" (QEMU's default BIOS)
    or "ovmf" (UEFI: read-only code and a writable copy of the variable
    store as pflash), the disk on "sata" (q35's AHCI) or "usb" (a USB
    mass-storage device on an xHCI controller, as a stick). The image is
    opened with snapshot=on: the guest's writes go to a temporary overlay."""

    FIRMWARES = ("seabios", "ovmf")
    BUSES = ("sata", "usb")

    def __init__(self, firmware: str = "seabios", bus: str = "sata"):
        if firmware not in self.FIRMWARES or bus not in self.BUSES:
            raise ToolError(f"disk boot: unknown firmware/bus {firmware}/{bus}")
        self.firmware, self.bus = firmware, bus

    def __repr__(self) -> str:
        return f"{self.firmware}/{self.bus}"

    @staticmethod
    def missing_firmware(firmware: str) -> str | None:
        """Why this firmware cannot be used here, or None."""
        if firmware == "ovmf":
            for f in (OVMF_CODE, OVMF_VARS):
                if not f.is_file():
                    return f"no {f} (install Debian's ovmf)"
        return None

    def args(self, image: Path, workdir: Path) -> list[str]:
        cmd = []
        if self.firmware == "ovmf":
            why = self.missing_firmware("ovmf")
            if why:
                raise ToolError(f"disk boot under OVMF: {why}")
            vars_copy = workdir / "OVMF_VARS.fd"
            vars_copy.write_bytes(OVMF_VARS.read_bytes())
            cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
        cmd += ["-drive", f"file={image},if=none,id=d0,format=raw,snapshot=on"]
        if self.bus == "sata":
            cmd += ["-device", "ide-hd,drive=d0,bus=ide.0,bootindex=0"]
        else:
            cmd += ["-device", "qemu-xhci,id=xhci",
                    "-device", "usb-storage,bus=xhci.0,drive=d0,bootindex=0"]
        return cmd


def is_mcu(board: Board) -> bool:
    """A board without an MMU whose twin is a Cortex-M machine."""
    return board.arch == "arm-m"


def accel_for(board: Board, requested: str) -> Accel:
    """The accelerator the board's twin runs under: TCG for Cortex-M
    twins whatever was asked (with --accel kvm that is an error), else
    accel.choose_accel()."""
    if is_mcu(board):
        if requested == "kvm":
            raise ToolError(f"--accel kvm: board '{board.name}' is a Cortex-M twin; "
                            f"QEMU runs it under TCG only", status=2)
        return ARM_ACCEL
    return choose_accel(requested)


class QemuTwin:
    """Start, reset and stop one QEMU instance of `board` booting `image`."""

    def __init__(self, board: Board, image: Path, accel: Accel, icount: bool = False,
                 extra: tuple[str, ...] = (), log_path: Path | None = None,
                 qtest: bool = False, disk: DiskBoot | None = None):
        if board.qemu is None:
            raise ToolError(f"board '{board.name}' has no QEMU twin")
        if is_mcu(board):
            accel = ARM_ACCEL
        self.board, self.image, self.accel = board, Path(image), accel
        self.icount, self.extra, self.qtest_wanted = icount, tuple(extra), qtest
        self.disk = disk              # DiskBoot: `image` is a disk image, booted by firmware
        self.qtest = None             # a QtestClient once started with qtest=True
        self.keys = None              # Ps2Keys once started, on a board with an i8042 ([ps2])
        self.log_path = log_path
        self.proc = None
        self.qmp = None
        self.console: Console | None = None
        self.started_at: float | None = None
        self.trace_path: Path | None = None   # the HID trace UART's output (has_hid_trace)
        self._tmp = None

    # -- command lines (pure) --------------------------------------------
    def base_command(self) -> list[str]:
        q = self.board.qemu
        cmd = [q.binary, "-M", q.machine]
        cpu = getattr(q, "cpu", None)
        if self.accel.name == "kvm":
            cpu = getattr(q, "kvm_cpu", None) or "host"
        if cpu and not is_mcu(self.board):
            cmd += ["-cpu", cpu]
        memory = getattr(q, "memory", None)
        if memory and not is_mcu(self.board):
            cmd += ["-m", memory]
        cmd += self.boot_args()
        cmd += ["-accel", self.accel.name]
        if self.icount:
            if self.accel.name != "tcg":
                raise ToolError("-icount needs the TCG accelerator")
            cmd += ["-icount", "shift=0"]
        cmd += list(getattr(q, "extra", ()) or ()) + list(self.extra)
        return cmd

    def boot_args(self) -> list[str]:
        """How the machine gets the image: from the disk image through its
        firmware (DiskBoot), or board.toml [qemu] boot (`-kernel`)."""
        if self.disk is not None:
            return self.disk.args(self.image, self._workdir())
        boot = tuple(getattr(self.board.qemu, "boot", None) or DEFAULT_BOOT)
        return [a.replace("{image}", str(self.image)) for a in boot]

    def test_command(self, port: int, qmp_path: str, qtest_path: str | None = None,
                     trace_path: str | None = None) -> list[str]:
        """Paused machine, console on TCP `port`, QMP on `qmp_path`, qtest
        on `qtest_path` when given (QEMU 10 logs qtest traffic to stderr
        unless -qtest-log none), and the keyboard's HID trace UART (the
        second -serial: USART2 on the STM32L4 twin) into `trace_path`."""
        cmd = self.base_command()
        if not NETWORK_ARGS.intersection(cmd):
            # No network asked for: none at all, rather than QEMU's default
            # user networking on the machine's default NIC (on mps2-an386 the
            # on-board LAN9118 would get a slirp DHCP lease): test traffic
            # only ever goes to the kit's namespace (tools/netkit).
            cmd += ["-nic", "none"]
        cmd += [
            "-display", "none",
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=off"]
        if trace_path:
            cmd += ["-serial", f"file:{trace_path}"]
        cmd += ["-qmp", f"unix:{qmp_path},server=on,wait=off"]
        if qtest_path:
            if self.accel.name != "tcg":
                raise ToolError("qtest pin control needs the TCG accelerator")
            cmd += ["-qtest", f"unix:{qtest_path},server=on,wait=off", "-qtest-log", "none"]
        return cmd + ["-S"]

    def interactive_command(self) -> list[str]:
        """Console and QEMU monitor on this terminal (Ctrl-A X quits)."""
        return self.base_command() + ["-nographic", "-serial", "mon:stdio"]

    # -- life cycle --------------------------------------------------------
    def start(self, timeout: float = 15.0) -> Console:
        if not self.image.is_file():
            raise ToolError(f"no image at {self.image}; run `python3 flash.py build` first")
        self._workdir()
        qmp_path = os.path.join(self._tmp.name, "qmp.sock")
        qtest_path = os.path.join(self._tmp.name, "qtest.sock") if self.qtest_wanted else None
        if has_hid_trace(self.board):      # kept beside the QEMU log, for a failed test's report
            self.trace_path = (self.log_path.with_suffix(".hid-trace.txt") if self.log_path
                               else Path(self._tmp.name) / "hid-trace.txt")
        port = self._free_port()
        cmd = self.test_command(port, qmp_path, qtest_path,
                                str(self.trace_path) if self.trace_path else None)
        self.started_at = time.monotonic()
        self.proc = self._spawn(cmd)
        deadline = time.monotonic() + timeout
        port_obj = self._retry(lambda: self._open_serial(f"socket://127.0.0.1:{port}"), deadline)
        if self.board.qemu.wake_after_input:
            port_obj = WakingPort(port_obj, self._wake)
        self.console = Console(port_obj, tx_delay=tx_delay(self.board))
        self.qmp = self._retry(lambda: self._qmp_connect(qmp_path), deadline)
        if qtest_path:
            self.qtest = self._retry(lambda: self._qtest_connect(qtest_path), deadline)
        if self.board.has("ps2"):
            from .ps2_keys import Ps2Keys
            self.keys = Ps2Keys(self._qmp_command)
        self._qmp_command("cont")
        return self.console

    def reset(self) -> None:
        self._qmp_command("system_reset")

    def stop(self) -> None:
        """Quit over QMP; kill the process if it does not go."""
        try:
            if self.qmp is not None and self._alive():
                try:
                    self._qmp_command("quit")
                except Exception:
                    pass
            if self.qmp is not None:
                try:
                    self.qmp.close()
                except Exception:
                    pass
            if self.console is not None:
                self.console.close()
            if self.qtest is not None:
                self.qtest.close()
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self.qmp = None
            self.qtest = None
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def _workdir(self) -> Path:
        """The instance's temporary directory (sockets, the UEFI variables)."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="nagi-qemu-")
        return Path(self._tmp.name)

    def _retry(self, connect, deadline: float):
        while True:
            if not self._alive():
                raise ToolError(f"QEMU exited at start: {self._stderr_tail()}")
            try:
                return connect()
            except (OSError, ConnectionError) as e:
                if time.monotonic() > deadline:
                    raise ToolError(f"cannot connect to QEMU: {e}") from None
                time.sleep(0.05)
            except Exception as e:  # serial.SerialException, qemu.qmp errors
                if time.monotonic() > deadline:
                    raise ToolError(f"cannot connect to QEMU: {e}") from None
                time.sleep(0.05)

    def _stderr_tail(self) -> str:
        if self.log_path and self.log_path.is_file():
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            if lines:
                return lines[-1]
        return f"exit status {self.proc.returncode if self.proc else '?'}"

    # -- I/O: replaced in tests ------------------------------------------
    def _free_port(self) -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def _spawn(self, cmd: list[str]):
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            err = open(self.log_path, "w")
            err.write("$ " + " ".join(cmd) + "\n")
            err.flush()
        else:
            err = subprocess.DEVNULL
        try:
            return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        except OSError as e:
            raise ToolError(f"cannot start {cmd[0]}: {e}") from None

    def _alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _open_serial(self, url: str):
        import serial
        return serial.serial_for_url(url, timeout=0.05)

    def _qmp_connect(self, path: str):
        from qemu.qmp.legacy import QEMUMonitorProtocol
        if not os.path.exists(path):
            raise ConnectionError("QMP socket not there yet")
        qmp = QEMUMonitorProtocol(path)
        qmp.connect()
        return qmp

    def _qtest_connect(self, path: str):
        from .qtest import QtestClient
        if not os.path.exists(path):
            raise ConnectionError("qtest socket not there yet")
        return QtestClient.connect(path)

    def _wake(self) -> None:
        """Wake QEMU's main loop (WakingPort); before QMP is up, nothing."""
        if self.qmp is not None:
            self._qmp_command("query-status")

    def _qmp_command(self, name: str, **args):
        return self.qmp.cmd(name, **args) if args else self.qmp.cmd(name)

    def monitor(self, command: str) -> str:
        """One human-monitor command's output (QMP human-monitor-command)."""
        return self._qmp_command("human-monitor-command", **{"command-line": command})

    def screen_text(self) -> list[str]:
        """The rows of the VGA text buffer (tools/screen.py)."""
        from .screen import parse_xp_halfwords, text_rows, xp_command
        return text_rows(parse_xp_halfwords(self.monitor(xp_command())))

    def screendump(self, path: str) -> None:
        """The display as QEMU draws it, into a PPM file."""
        self._qmp_command("screendump", filename=str(path))

    def set_link(self, netdev_id: str, up: bool) -> None:
        """QMP set_link on a netdev: QEMU passes it to the NIC on its other
        end (the card's link status: e1000 STATUS.LU, LAN9118 PHY BSR)."""
        self.qmp.cmd("set_link", name=netdev_id, up=up)


def has_hid_trace(board: Board) -> bool:
    """The board's keyboard writes its HID reports to a trace UART on the
    twin (board.toml [keyboard] trace_uart; tools/keyboard.py reads it)."""
    kb = getattr(board, "keyboard", None)
    return bool(kb is not None and getattr(kb, "trace_uart", None))


def tx_delay(board: Board) -> float:
    """Seconds between typed characters: board.toml [console] tx_delay_us."""
    return board.console.get("tx_delay_us", 0) / 1e6


class WakingPort:
    """The console port of a twin whose UART model takes input only when
    QEMU's main loop wakes (board.toml [qemu] wake_after_input).

    QEMU 10's STM32L4 USART (hw/char/stm32l4x5_usart.c) accepts a byte
    only while RXNE is clear, and a guest read of RDR clears RXNE without
    telling the character backend (no qemu_chr_fe_accept_input). The
    backend asks again only when the main loop next wakes up, which with
    nothing else going on is the next SysTick deadline: input then trickles
    in at one byte per tick (100 bytes/s), a burst seemingly held back
    until something else happens. After each byte the kit sends, a QMP
    no-op (`query-status`) wakes the main loop, so the next byte follows
    as soon as the guest has read the last (hil_tests/test_console_input.py
    names the difference)."""

    def __init__(self, port, wake):
        self.port, self.wake = port, wake

    def write(self, data: bytes) -> int:
        for i in range(len(data)):
            self.port.write(data[i:i + 1])
            self.wake()
        return len(data)

    def __getattr__(self, name):
        return getattr(self.port, name)


def qemu_version(binary: str = "qemu-system-x86_64") -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown"
    first = out.splitlines()[0] if out else "unknown"
    return first.replace("QEMU emulator version ", "")
