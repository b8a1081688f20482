"""dut.py - the device under test as the HIL tests see it.

One object with the console (expect, send_line, run a shell command),
reset and the full transcript, whatever the back-end (QEMU twin here; a
real board through the same Console)."""

from __future__ import annotations

import re

from .console import Console

PROMPT = "nagi> "
PROMPT_RX = r"nagi> "
KERNEL_LOG_PREFIX = "nagi: "   # the kernel's own console lines (printk)


class Dut:
    def __init__(self, console: Console, backend=None, board=None):
        self.console = console
        self.backend = backend
        self.board = board
        self.boot_output = ""

    @property
    def transcript(self) -> str:
        return self.console.transcript

    def mark(self) -> int:
        return self.console.mark()

    def expect(self, pattern: str, timeout: float = 10.0, since: int | None = None) -> re.Match:
        return self.console.expect(pattern, timeout, since)

    def send_line(self, line: str) -> None:
        self.console.send_line(line)

    def wait_for_boot(self, timeout: float = 60.0) -> str:
        """Wait for the first prompt; returns the boot output before it."""
        start = self.console._pos
        m = self.expect(PROMPT_RX, timeout)
        self.boot_output = self.console.transcript[start:m.start()]
        return self.boot_output

    def run(self, command: str, timeout: float = 10.0, kernel_lines: bool = False) -> list[str]:
        """Send a command; return its output lines (without the echoed
        command line) up to the next prompt. The kernel's own lines
        (`nagi: ...`) arrive whenever the kernel prints them; they are left
        out unless kernel_lines=True (use expect(..., since=mark) for them)."""
        self.console.drain(0.0)      # forget stray output before the command
        self.send_line(command)
        start = self.console._pos
        m = self.expect(PROMPT_RX, timeout)
        text = self.console.transcript[start:m.start()]
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if lines and lines[0].strip() == command.strip():
            lines.pop(0)            # the shell's echo of what we typed
        if not kernel_lines:
            lines = [l for l in lines if not l.startswith(KERNEL_LOG_PREFIX)]
        return lines

    def reset(self, timeout: float = 60.0) -> str:
        """Reset the board and wait for the prompt again."""
        self.console.drain(0.0)
        self.backend.reset()
        return self.wait_for_boot(timeout)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.stop()
