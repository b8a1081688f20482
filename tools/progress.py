"""progress.py - step headers and a one-line live status for long steps.

On a terminal the status line is a tqdm bar that shows the latest line of
a child process; elsewhere (CI, pipes) lines are printed as they come."""

from __future__ import annotations

import sys


class Step:
    """`[i/n] name ...` followed by either `up to date`, `done` or details."""

    def __init__(self, index: int, total: int, name: str, stream=None):
        self.stream = stream or sys.stdout
        self.prefix = f"[{index}/{total}] {name}"
        self._bar = None
        self._count = 0
        if self.stream.isatty():
            from tqdm import tqdm
            self._bar = tqdm(total=None, desc=self.prefix, bar_format="{desc}: {postfix}",
                             file=self.stream, leave=False)

    def line(self, text: str) -> None:
        """Report one line of progress from the step's tool."""
        self._count += 1
        if self._bar is not None:
            self._bar.set_postfix_str(text.strip()[:70], refresh=True)
        else:
            print(f"      {text.rstrip()}", file=self.stream, flush=True)

    def finish(self, result: str) -> None:
        if self._bar is not None:
            self._bar.close()
        print(f"{self.prefix}: {result}", file=self.stream, flush=True)
