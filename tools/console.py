"""console.py - expect/send over a serial console, with a full transcript.

The transport is anything with pyserial's read(n)/write(b) (timeout-based
read returning b"" when idle): a QEMU TCP console, a real UART, or a fake
in the tests.

Typing is paced: send_line writes one character at a time, `tx_delay`
seconds apart (board.toml [console] tx_delay_us, as labgrid's console
`txdelay`), so a UART without a receive FIFO is not overrun by the kit.
write() sends at once (a paste)."""

from __future__ import annotations

import re
import time

from .errors import ToolError


class ConsoleTimeout(AssertionError):
    """expect() gave up; the message shows what arrived meanwhile."""


class Console:
    def __init__(self, port, clock=time.monotonic, tx_delay: float = 0.0, sleep=time.sleep):
        self.port = port
        self.clock = clock
        self.tx_delay = tx_delay   # seconds after each typed character
        self.sleep = sleep
        self.transcript = ""   # everything received, \r removed
        self._pos = 0          # transcript position expect() searches from

    def _pump(self) -> bool:
        """Read what is available (waiting up to the port's timeout)."""
        data = self.port.read(4096)
        if not data:
            return False
        self.transcript += data.decode("utf-8", "replace").replace("\r", "")
        return True

    def mark(self) -> int:
        """A transcript position to search from later (expect(since=...))."""
        return len(self.transcript)

    def expect(self, pattern: str, timeout: float = 10.0, since: int | None = None) -> re.Match:
        """Wait for `pattern` (a regex, MULTILINE) in output not yet
        consumed (or in everything after the mark `since`); consume up
        to the end of the match."""
        rx = re.compile(pattern, re.MULTILINE)
        # A pattern with `$` is matched against complete lines only: at the
        # end of a partial read, `$` would match half a line.
        whole_lines = "$" in pattern
        deadline = self.clock() + timeout
        while True:
            start = self._pos if since is None else since
            end = self.transcript.rfind("\n") if whole_lines else len(self.transcript)
            m = rx.search(self.transcript, start, end) if end >= start else None
            if m:
                self._pos = max(self._pos, m.end())
                return m
            if self.clock() >= deadline:
                seen = self.transcript[self._pos:][-400:]
                raise ConsoleTimeout(f"timed out after {timeout:g} s waiting for {pattern!r}; "
                                     f"unconsumed output: {seen!r}")
            self._pump()

    def drain(self, quiet: float = 0.2) -> str:
        """Read until the line has been quiet for `quiet` seconds; consume it."""
        end = self.clock() + quiet
        while self.clock() < end:
            if self._pump():
                end = self.clock() + quiet
        text = self.transcript[self._pos:]
        self._pos = len(self.transcript)
        return text

    def write(self, text: str) -> None:
        """Send `text` at once, unpaced (a paste)."""
        self._send(text.encode())

    def _send(self, data: bytes) -> None:
        self.port.write(data)
        flush = getattr(self.port, "flush", None)
        if flush:
            flush()

    def type(self, text: str) -> None:
        """Send `text` as typed: one character every tx_delay seconds (at
        once when tx_delay is 0)."""
        if not self.tx_delay:
            self._send(text.encode())
            return
        for b in text.encode():
            self._send(bytes([b]))
            self.sleep(self.tx_delay)

    def send_line(self, line: str) -> None:
        """Type a line and press Enter (CR, as a terminal sends)."""
        if "\n" in line or "\r" in line:
            raise ToolError("send_line: the line must not contain a newline")
        self.type(line + "\r")

    def close(self) -> None:
        close = getattr(self.port, "close", None)
        if close:
            close()
