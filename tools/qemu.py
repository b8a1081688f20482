"""qemu.py - the QEMU twin back-end: one board's emulated machine.

The command line comes from the board description (board.toml [qemu]).
For tests the machine starts paused (-S) with its console on a TCP port and
QMP on a unix socket; the console is attached first, then QMP `cont`
starts the guest, so no boot output is lost. All process, socket and QMP
I/O goes through the small methods at the bottom, which tests replace."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .accel import Accel
from .boards import Board
from .console import Console
from .errors import ToolError


class QemuTwin:
    """Start, reset and stop one QEMU instance of `board` booting `image`."""

    def __init__(self, board: Board, image: Path, accel: Accel, icount: bool = False,
                 extra: tuple[str, ...] = (), log_path: Path | None = None):
        if board.qemu is None:
            raise ToolError(f"board '{board.name}' has no QEMU twin")
        self.board, self.image, self.accel = board, Path(image), accel
        self.icount, self.extra = icount, tuple(extra)
        self.log_path = log_path
        self.proc = None
        self.qmp = None
        self.console: Console | None = None
        self.started_at: float | None = None
        self._tmp = None

    # -- command lines (pure) --------------------------------------------
    def base_command(self) -> list[str]:
        q = self.board.qemu
        cpu = q.cpu
        if self.accel.name == "kvm":
            cpu = q.kvm_cpu or "host"
        cmd = [q.binary, "-M", q.machine, "-cpu", cpu, "-m", q.memory]
        cmd += [a.replace("{image}", str(self.image)) for a in q.boot]
        cmd += ["-accel", self.accel.name]
        if self.icount:
            if self.accel.name != "tcg":
                raise ToolError("-icount needs the TCG accelerator")
            cmd += ["-icount", "shift=0"]
        cmd += list(q.extra) + list(self.extra)
        return cmd

    def test_command(self, port: int, qmp_path: str) -> list[str]:
        """Paused machine, console on TCP `port`, QMP on `qmp_path`."""
        return self.base_command() + [
            "-display", "none",
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=off",
            "-qmp", f"unix:{qmp_path},server=on,wait=off",
            "-S"]

    def interactive_command(self) -> list[str]:
        """Console and QEMU monitor on this terminal (Ctrl-A X quits)."""
        return self.base_command() + ["-nographic", "-serial", "mon:stdio"]

    # -- life cycle --------------------------------------------------------
    def start(self, timeout: float = 15.0) -> Console:
        if not self.image.is_file():
            raise ToolError(f"no image at {self.image}; run `python3 flash.py build` first")
        self._tmp = tempfile.TemporaryDirectory(prefix="nagi-qemu-")
        qmp_path = os.path.join(self._tmp.name, "qmp.sock")
        port = self._free_port()
        cmd = self.test_command(port, qmp_path)
        self.started_at = time.monotonic()
        self.proc = self._spawn(cmd)
        deadline = time.monotonic() + timeout
        port_obj = self._retry(lambda: self._open_serial(f"socket://127.0.0.1:{port}"), deadline)
        self.console = Console(port_obj)
        self.qmp = self._retry(lambda: self._qmp_connect(qmp_path), deadline)
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
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self.qmp = None
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

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

    def _qmp_command(self, name: str, **args):
        return self.qmp.cmd(name, **args) if args else self.qmp.cmd(name)


def qemu_version(binary: str = "qemu-system-x86_64") -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown"
    first = out.splitlines()[0] if out else "unknown"
    return first.replace("QEMU emulator version ", "")
