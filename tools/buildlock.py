"""buildlock.py - one flash.py at a time per build directory.

Two runs sharing build/<board>/ would rebuild the image under each
other's QEMU and overwrite each other's logs, JUnit file and the
keyboard's HID trace. Each command that builds or boots takes an
exclusive flock on build/<board>/.flash.lock (released when the process
ends, also when it is killed); a second one stops at once with one line
naming the holder. `run` on the twin holds it only while building, so a
console can stay open while another build or test goes on. A flash.py
started by the holder itself (the tools tests run some) finds the
directory in NAGI_BUILD_LOCKS, which the holder sets for its children,
and goes on: it is part of the same run."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import ToolError

LOCK_NAME = ".flash.lock"
ENV = "NAGI_BUILD_LOCKS"


def _held_by_parent(path: Path) -> bool:
    return str(path) in os.environ.get(ENV, "").split(os.pathsep)


class BuildLock:
    def __init__(self, build: Path, what: str):
        self.path = Path(build) / LOCK_NAME
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> "BuildLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if _held_by_parent(self.path.resolve()):
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another flash.py"
            os.close(fd)
            raise ToolError(f"{self.path.parent} is in use by {holder}; wait for it to finish "
                            f"(or build elsewhere: a --set override gets its own directory)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"flash.py {self.what} (pid {os.getpid()})\n".encode())
        self._fd = fd
        self._env = os.environ.get(ENV)
        held = [p for p in (self._env or "").split(os.pathsep) if p]
        os.environ[ENV] = os.pathsep.join(held + [str(self.path.resolve())])
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)     # closing drops the flock
            self._fd = None
            if self._env is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = self._env

    def __enter__(self) -> "BuildLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
