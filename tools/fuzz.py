"""fuzz.py - `flash.py fuzz`: run the in-tree system-call fuzzer on a
board's twin and check that nothing broke.

Boots the image, warms up (a short run and `ipctest`, so every task's
lazy allocations are done), records `mem` and `ps`, runs the shell's
`fuzz CALLS SEED` (two linked fuzzers, userland/tests/fuzz), then checks:
no kernel panic, no hang (a progress line at least every `stall`
seconds), both fuzzers reported, the shell still answers, and after the
same short run and `ipctest` again, `ipctest` passes and `mem` and `ps`
show no leaked pages, channels or task slots. A failure prints the
seed, the last console lines and the command that replays the run with
every call traced. The analysis is pure and host-tested
(tools/tests/test_fuzz.py); the boot goes through the same QEMU back-end
as the HIL suite."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from .dut import PROMPT_RX, Dut
from .errors import ToolError
from .qemu import QemuTwin, accel_for
from .shell_output import Task, parse_ipctest, parse_mem, parse_ps

DONE_RX = r"^fuzz: (ok|FAILED.*|.+\(seed \d+\))$"
PANIC_RX = r"nagi: PANIC: .*$"
PROGRESS_RX = re.compile(r"^fuzz(?:_peer)?: (\d+) calls$", re.MULTILINE)
REPORT_RX = re.compile(r"^fuzz: (fuzz(?:_peer)?) \(task (\d+)\): (\d+) calls, (\d+) refused, "
                       r"(\d+) tasks created$", re.MULTILINE)
DEAD_STATES = ("killed", "exited")
WARM_UP_CALLS = 2000
# A server closes the channel of a client that has gone when the next
# client connects (runtime::service::Clients), so how many of one run's
# connections are still open at a snapshot depends on the order the
# fuzzers ended in. One run connects each server at most this often (pc:
# memory is the pager of both fuzzers and a target of both); more growth
# than that is a leak (a leak of payload channels grows with the calls).
CONNECTIONS_PER_RUN = 4
SETTLE_MS = 300
# Page tables are freed when their task ends, not when its pages are
# unmapped (arch/x86_64 keeps empty tables): a run can leave a few in the
# servers that received pages at new addresses. A leak of pages or
# channels per call grows far past this over 10^5 calls.
PAGE_TABLE_SLACK_KIB = 64
# A server's heap keeps its high-water mark: a hostile client's sockets,
# freed when it goes, can leave the heap a page or two larger through
# fragmentation (net, seen in CI: 152 -> 153 pages after 50,000 calls).
# That is bounded by what one client may hold; a leak is not. The slack
# is under one TCP socket's buffers (8 KiB receive + at least 12 KiB
# send), so a leaked socket, or anything leaked per call, still shows.
HEAP_SLACK_PAGES = 4
PROGRESS_EVERY = 16384      # calls between a fuzzer's progress lines (fuzzer.rs)


@dataclass
class Snapshot:
    """What must not change across a fuzz run."""
    free_kib: int
    live: dict[str, tuple[int, int]]          # name -> (channels, pages) of live tasks
    stopped: list[str] = field(default_factory=list)   # created, never started

    @classmethod
    def take(cls, mem_lines: list[str], ps_lines: list[str]) -> "Snapshot":
        mem = parse_mem(mem_lines)
        tasks = parse_ps(ps_lines)
        live = {t.name: (t.channels, t.pages) for t in tasks
                if t.state not in DEAD_STATES and t.state != "stopped"}
        return cls(mem.free_kib, live, [f"{t.name} (task {t.tid})" for t in tasks
                                        if t.state == "stopped"])


def leaks(before: Snapshot, after: Snapshot, shell: str = "shell") -> list[str]:
    """Each difference that means something was lost, in words. The shell
    ran the fuzz command in between, so its own pages may have grown
    (heap), never its channels; any other task's pages by at most
    HEAP_SLACK_PAGES."""
    problems = []
    if after.free_kib < before.free_kib - PAGE_TABLE_SLACK_KIB:
        problems.append(f"free memory fell from {before.free_kib} KiB to {after.free_kib} KiB")
    for name, (ch, pages) in before.live.items():
        if name not in after.live:
            problems.append(f"task {name} is gone")
            continue
        ch2, pages2 = after.live[name]
        if ch2 > ch + (CONNECTIONS_PER_RUN if name != shell else 0):
            problems.append(f"{name} holds {ch2} channels (was {ch})")
        if pages2 > pages + HEAP_SLACK_PAGES and name != shell:
            problems.append(f"{name} holds {pages2} pages (was {pages})")
    for name in after.live.keys() - before.live.keys():
        problems.append(f"task {name} is left running")
    for name in sorted(set(after.stopped) - set(before.stopped)):
        problems.append(f"task {name} was created and never started, and is still there")
    return problems


@dataclass
class Outcome:
    seed: int
    calls: int
    seconds: float
    reports: dict[str, tuple[int, int, int]]   # fuzzer -> (calls, refused, tasks)
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_reports(text: str) -> dict[str, tuple[int, int, int]]:
    return {m.group(1): (int(m.group(3)), int(m.group(4)), int(m.group(5)))
            for m in REPORT_RX.finditer(text)}


def run_fuzz(board, build: Path, calls: int, seed: int | None = None,
             trace_from: int | None = None, stall: float = 120.0,
             accel_request: str = "auto", out=print) -> Outcome:
    """Boot the twin and fuzz it (see the module text). Raises ToolError
    only when the run cannot start (no image, no twin, no fuzzer)."""
    if board.qemu is None:
        raise ToolError(f"board '{board.name}' has no QEMU twin to fuzz")
    image = build / board.qemu.image
    if not image.is_file():
        raise ToolError(f"no image at {image}; run `python3 flash.py build --board {board.name}`")
    seed = secrets.randbits(32) if seed is None else seed
    log = build / "fuzz-logs" / f"fuzz-{seed}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    twin = QemuTwin(board, image, accel_for(board, accel_request), log_path=log.with_suffix(".qemu"))
    dut = Dut(twin.start(), twin, board)
    problems: list[str] = []
    started = time.monotonic()
    try:
        dut.wait_for_boot(120.0)
        if any("unknown command" in l for l in dut.run("fuzz", timeout=30)):
            raise ToolError("this image has no fuzzer: build it with FUZZ=y (the default)")
        # Both snapshots come right after the same short run (servers
        # close a gone client's channel when the next client connects, so
        # each run leaves its own connections until the next: bounded, and
        # the same in both); ipctest first, so its connections exist in both.
        dut.run("ipctest", timeout=120)
        problems += _short_run(dut, seed, "the warm-up run")
        before = _snapshot(dut)
        out(f"fuzz: {board.name}, seed {seed}, {calls} calls")
        started = time.monotonic()
        problems += _watch(dut, calls, seed, trace_from, stall, out)
        if not problems:
            problems += _after(dut, before, seed)
    finally:
        seconds = time.monotonic() - started
        log.write_text(dut.transcript)
        dut.close()
    outcome = Outcome(seed, calls, seconds, parse_reports(dut.transcript), problems)
    _summary(outcome, board, dut.transcript, log, out)
    return outcome


def _watch(dut: Dut, calls: int, seed: int, trace_from: int | None, stall: float,
           out) -> list[str]:
    """Run the fuzz command; a panic, a hang (no progress for `stall`
    seconds) or a failed report is a problem."""
    mark = dut.mark()
    cmd = f"fuzz {calls} {seed}" + (f" {trace_from}" if trace_from is not None else "")
    dut.console.drain(0.0)
    dut.send_line(cmd)
    last, seen = time.monotonic(), 0
    while True:
        try:
            m = dut.expect(f"{DONE_RX}|{PANIC_RX}", timeout=5.0, since=mark)
            break
        except AssertionError:
            pass
        progress = len(PROGRESS_RX.findall(dut.transcript, mark))
        if progress > seen:
            seen, last = progress, time.monotonic()
            out(f"fuzz: {progress * PROGRESS_EVERY // 2} calls per fuzzer so far", flush=True)
        elif time.monotonic() - last > stall:
            return [f"hang: no progress line for {stall:g} s"]
    if m.group(0).startswith("nagi: PANIC"):
        return [f"kernel panic: {m.group(0)}"]
    if m.group(1) != "ok":
        return [f"the fuzz command said: {m.group(0)}"]
    # The fuzz command's own prompt, before any next command: a prompt still
    # on its way would end that command's output early (seen under UBSan on
    # a loaded host: `echo alive` read as answering nothing).
    dut.expect(PROMPT_RX, timeout=30.0, since=m.end())
    return []


def _after(dut: Dut, before: Snapshot, seed: int) -> list[str]:
    problems = []
    if dut.run("echo alive", timeout=30) != ["alive"]:
        return ["the shell no longer answers"]
    try:
        _, passed, failed = parse_ipctest(dut.run("ipctest", timeout=120))
        if failed:
            problems.append(f"ipctest: {failed} failed, {passed} passed")
    except ValueError as e:
        problems.append(f"ipctest: {e}")
    problems += _short_run(dut, seed, "the short run after the fuzz")
    try:
        after = _snapshot(dut)
    except ValueError as e:
        return problems + [f"mem/ps: {e}"]
    return problems + leaks(before, after)


def _snapshot(dut: Dut) -> Snapshot:
    """mem and ps once the tasks a run left have ended: the shell sleeps
    first, so tasks of lower priority than the shell (the privileged
    fuzzer's children exit as soon as they run) get the CPU."""
    dut.run(f"sleep {SETTLE_MS}", timeout=30)
    return Snapshot.take(dut.run("mem"), dut.run("ps"))


def _short_run(dut: Dut, seed: int, what: str) -> list[str]:
    """The same short fuzz run before the first and the last snapshot."""
    out = dut.run(f"fuzz {WARM_UP_CALLS} {seed ^ 0x5a5a}", timeout=300)
    return [] if "fuzz: ok" in out else [f"{what} failed: {out[-3:]}"]


def _summary(o: Outcome, board, transcript: str, log: Path, out) -> None:
    rate = f"{o.calls * 2 / o.seconds:,.0f} calls/s" if o.seconds > 0 else "-"
    for name, (n, refused, tasks) in sorted(o.reports.items()):
        out(f"  {name}: {n} calls, {refused} refused with an error, {tasks} tasks created")
    if o.ok:
        out(f"fuzz: passed: {board.name}, seed {o.seed}, {o.calls} calls per fuzzer in "
            f"{o.seconds:.1f} s ({rate}); no panic, no hang, no leak; log {log}")
        return
    out(f"fuzz: FAILED on {board.name} with seed {o.seed}:")
    for p in o.problems:
        out(f"  - {p}")
    tail = [l for l in transcript.splitlines() if l.strip()][-20:]
    out("  last console lines:")
    for line in tail:
        out(f"    {line}")
    last = PROGRESS_RX.findall(transcript)
    start = max(0, int(last[-1]) - PROGRESS_EVERY) if last else 0
    out(f"  replay with every call printed from #{start}: python3 flash.py fuzz --board "
        f"{board.name} --calls {o.calls} --seed {o.seed} --trace-from {start}")
    out(f"  full console log: {log}")
