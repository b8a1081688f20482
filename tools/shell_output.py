"""shell_output.py - parse what the Nagi shell prints (docs/protocols.md).

Used by the HIL tests and the benchmark; host-tested in
tools/tests/test_shell_output.py. Each parser raises ValueError when the
text does not have the documented shape, so a test never passes on output
it did not understand."""

from __future__ import annotations

import re
from dataclasses import dataclass

PS_HEADER = ["TID", "NAME", "STATE", "PRIO", "CH", "PAGES", "TICKS"]
PS_STATES = {"run", "send", "recv", "stopped", "killed", "exited"}


@dataclass(frozen=True)
class Task:
    tid: int
    name: str
    state: str
    prio: int
    channels: int
    pages: int
    ticks: int


def _one(rx: str, lines: list[str] | str, what: str) -> re.Match:
    text = lines if isinstance(lines, str) else "\n".join(lines)
    m = re.search(rx, text, re.MULTILINE)
    if not m:
        raise ValueError(f"no {what} line in {text!r}")
    return m


def parse_ps(lines: list[str]) -> list[Task]:
    rows = [l.split() for l in lines if l.strip()]
    if not rows or rows[0] != PS_HEADER:
        raise ValueError(f"ps: header is not {' '.join(PS_HEADER)}: {lines[:1]!r}")
    tasks = []
    for row in rows[1:]:
        if len(row) != 7 or row[2] not in PS_STATES:
            raise ValueError(f"ps: malformed row {' '.join(row)!r}")
        tid, name, state, prio, ch, pages, ticks = row
        tasks.append(Task(int(tid), name, state, int(prio), int(ch), int(pages), int(ticks)))
    return tasks


def parse_uptime(lines) -> int:
    return int(_one(r"^uptime: (\d+) ms$", lines, "uptime").group(1))


@dataclass(frozen=True)
class MemInfo:
    total_kib: int
    free_kib: int
    kernel_kib: int
    heap_pages_served: int


def parse_mem(lines) -> MemInfo:
    m = _one(r"^mem: total (\d+) KiB, free (\d+) KiB, kernel (\d+) KiB, "
             r"heap pages served (\d+)$", lines, "mem")
    return MemInfo(*(int(g) for g in m.groups()))


def parse_heap(lines) -> tuple[int, int]:
    m = _one(r"^heap: touched (\d+) KiB, pager served (\d+) new pages$", lines, "heap")
    return int(m.group(1)), int(m.group(2))


def parse_sleep(lines) -> tuple[int, int, int]:
    """-> (requested ms, uptime before, uptime after)."""
    m = _one(r"^slept (\d+) ms \(uptime (\d+) -> (\d+)\)$", lines, "sleep")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def parse_spawned(lines, command: str) -> int:
    return int(_one(rf"^{command}: spawned task (\d+)$", lines, command).group(1))


def parse_ipctest(lines) -> tuple[dict[str, str], int, int]:
    """-> ({case: "ok" | "FAIL <detail>"}, passed, failed)."""
    cases = {}
    for l in lines:
        m = re.match(r"^ipctest: (.+?) (ok|FAIL.*)$", l)
        if m and not re.match(r"^\d+ passed, \d+ failed$", f"{m.group(1)} {m.group(2)}"):
            cases[m.group(1)] = m.group(2)
    s = _one(r"^ipctest: (\d+) passed, (\d+) failed$", lines, "ipctest summary")
    return cases, int(s.group(1)), int(s.group(2))


@dataclass(frozen=True)
class BenchFigure:
    name: str
    min: int
    median: int
    iterations: int


def parse_bench(lines) -> dict[str, BenchFigure]:
    out = {}
    for l in lines if not isinstance(lines, str) else lines.splitlines():
        m = re.match(r"^bench: (\w+) min=(\d+) median=(\d+) iterations=(\d+)$", l.strip())
        if m:
            out[m.group(1)] = BenchFigure(m.group(1), *(int(g) for g in m.groups()[1:]))
    if not out:
        raise ValueError(f"no bench lines in {lines!r}")
    return out
