"""shell_output.py - parse what the Nagi shell prints (docs/protocols.md).

Used by the HIL tests and the benchmark; host-tested in
tools/tests/test_shell_output.py. Each parser raises ValueError when the
text does not have the documented shape, so a test never passes on output
it did not understand."""

from __future__ import annotations

import re
from dataclasses import dataclass

PS_HEADER = ["TID", "NAME", "STATE", "PRIO", "CH", "PAGES", "TICKS", "RESTARTS"]
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
    restarts: int | None = None    # None: a task init does not supervise ("-")


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
        if len(row) != 8 or row[2] not in PS_STATES:
            raise ValueError(f"ps: malformed row {' '.join(row)!r}")
        tid, name, state, prio, ch, pages, ticks, restarts = row
        tasks.append(Task(int(tid), name, state, int(prio), int(ch), int(pages), int(ticks),
                          None if restarts == "-" else int(restarts)))
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


NOTSUP_RX = re.compile(r"E_NOTSUP|NOTSUP|not supported", re.IGNORECASE)


def is_notsup(result: str) -> bool:
    """An ipctest result that says the case is not supported on this board
    (page payloads on MCU boards: `... not supported (-E_NOTSUP)`,
    `... FAIL E_NOTSUP`, ...)."""
    return bool(NOTSUP_RX.search(result))


def parse_ipctest(lines) -> tuple[dict[str, str], int, int]:
    """-> ({case: "ok" | "FAIL <detail>" | "not supported ..."}, passed, failed)."""
    cases = {}
    for l in lines:
        m = re.match(r"^ipctest: (.+?) (ok|FAIL.*|not supported.*|skipped.*|E_NOTSUP.*)$", l)
        if m and not re.match(r"^\d+ passed, \d+ failed$", f"{m.group(1)} {m.group(2)}"):
            cases[m.group(1)] = m.group(2)
    s = _one(r"^ipctest: (\d+) passed, (\d+) failed$", lines, "ipctest summary")
    return cases, int(s.group(1)), int(s.group(2))


@dataclass(frozen=True)
class BenchFigure:
    """One `bench:` line. On x86_64 min/median are instructions (rdtsc
    under -icount shift=0) per operation; on arm-m they are SYS_CLOCK
    cycles per batch of `batch` operations at `hz` (docs/mcu-port.md,
    "Benchmark on arm-m"): see instructions()."""
    name: str
    min: int
    median: int
    iterations: int
    batch: int | None = None
    hz: int | None = None

    def instructions(self, value: int) -> int:
        """Instructions per operation for a figure of this line (under TCG
        -icount shift=0 one instruction takes 1 ns of virtual time)."""
        if self.batch is None:
            return value
        return round(value * 1e9 / self.hz / self.batch)

    @property
    def resolution(self) -> float:
        """Instructions per operation one clock count stands for (1 on x86_64)."""
        return 1.0 if self.batch is None else 1e9 / self.hz / self.batch

    @property
    def operations(self) -> int:
        return self.iterations * (self.batch or 1)


BENCH_RX = re.compile(r"^bench: (\w+) min=(\d+) median=(\d+) iterations=(\d+)"
                      r"(?: batch=(\d+) hz=(\d+))?$")


def parse_bench(lines) -> dict[str, BenchFigure]:
    out = {}
    for l in lines if not isinstance(lines, str) else lines.splitlines():
        m = BENCH_RX.match(l.strip())
        if m:
            name, mn, med, it, batch, hz = m.groups()
            if batch is not None and (int(batch) == 0 or int(hz) == 0):
                raise ValueError(f"bench: batch and hz must be positive: {l!r}")
            out[name] = BenchFigure(name, int(mn), int(med), int(it),
                                    int(batch) if batch else None, int(hz) if hz else None)
    if not out:
        raise ValueError(f"no bench lines in {lines!r}")
    return out


# -- MCU commands (docs/mcu-port.md) -----------------------------------------------
def parse_gpio(lines) -> dict[str, int]:
    """`gpio` -> {"PC13": 0|1} (one `<pin>=<level>` per line or per word)."""
    text = "\n".join(lines) if not isinstance(lines, str) else lines
    pins = {m.group(1): int(m.group(2)) for m in re.finditer(r"\b(P[A-Z]\d{1,2})=([01])\b", text)}
    if not pins:
        raise ValueError(f"no <pin>=<level> in {text!r}")
    return pins


def parse_gpio_wait(lines) -> str:
    """`gpio wait <ms>` -> "rose", "fell" or "timeout"."""
    m = _one(r"^(?:P[A-Z]\d{1,2} (rose|fell)|gpio: (timeout))$", lines, "gpio wait")
    return m.group(1) or m.group(2)


def parse_led(lines) -> str:
    """`led on|off|toggle` -> "on" or "off"."""
    return _one(r"^LED (on|off)$", lines, "led").group(1)


def parse_fpu(lines) -> int:
    """`fpu` -> how often the check was preempted; ValueError on FAILED."""
    text = "\n".join(lines) if not isinstance(lines, str) else lines
    failed = re.search(r"^fpu: FAILED.*$", text, re.MULTILINE)
    if failed:
        raise ValueError(failed.group(0))
    return int(_one(r"^fpu: ok \(preempted (\d+) times?\)$", lines, "fpu").group(1))


def parse_fpu_leak(lines) -> int:
    """`fpu leak` -> the spy task's id; ValueError unless the spy (a task
    without FP state, faulter) found the FP registers clean."""
    text = "\n".join(lines) if not isinstance(lines, str) else lines
    bad = re.search(r"^fpu leak: (?:FAILED|LEAKED|no FPU).*$", text, re.MULTILINE)
    if bad:
        raise ValueError(bad.group(0))
    _one(r"^fpu leak: clean$", lines, "fpu leak (the spy's verdict)")
    return int(_one(r"^fpu leak: spy task (\d+) exited$", lines, "fpu leak").group(1))


SUPERVISION_RX = r"init: task (\d+) \((\S+)\) was killed"


@dataclass(frozen=True)
class NicInfo:
    mac: str
    link: str
    mtu: int
    rx_frames: int
    rx_bytes: int
    tx_frames: int
    tx_bytes: int
    drops: int
    errors: int
    malformed: int


NIC_RX = (r"^nic: mac ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}) link (up|down) mtu (\d+) "
          r"rx (\d+) frames (\d+) bytes tx (\d+) frames (\d+) bytes "
          r"drops (\d+) errors (\d+) malformed (\d+)$")


def parse_nic(lines) -> NicInfo:
    """`nic` -> its MAC, link state, MTU and counters (docs/protocols.md,
    "NIC drivers")."""
    g = _one(NIC_RX, lines, "nic").groups()
    return NicInfo(g[0], g[1], *map(int, g[2:]))


@dataclass(frozen=True)
class IfConfig:
    ip: str | None
    prefix: int | None
    gateway: str | None
    how: str                 # dhcp, static or unconfigured
    mac: str | None
    link: str | None
    rx_frames: int
    tx_frames: int


IFCONFIG_INET_RX = r"^net0: inet (\d+\.\d+\.\d+\.\d+)/(\d+) gateway (\d+\.\d+\.\d+\.\d+) (dhcp|static)$"
IFCONFIG_ETHER_RX = r"^net0: ether ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}) link (up|down)$"
IFCONFIG_COUNT_RX = r"^net0: rx (\d+) frames tx (\d+) frames tx-dropped (\d+) sockets (\d+)$"


def parse_ifconfig(lines) -> IfConfig:
    """`ifconfig` -> the interface's address, how it got it, MAC, link and
    the net server's frame counters (docs/protocols.md, "Shell output")."""
    lines = list(lines)
    inet = next((m for m in (re.match(IFCONFIG_INET_RX, l) for l in lines) if m), None)
    ether = next((m for m in (re.match(IFCONFIG_ETHER_RX, l) for l in lines) if m), None)
    counts = _one(IFCONFIG_COUNT_RX, lines, "ifconfig").groups()
    if inet is None and not any(re.match(r"^net0: inet none ", l) for l in lines):
        raise ValueError(f"ifconfig: no inet line in {lines!r}")
    return IfConfig(inet and inet.group(1), inet and int(inet.group(2)), inet and inet.group(3),
                    inet.group(4) if inet else "unconfigured",
                    ether and ether.group(1), ether and ether.group(2),
                    int(counts[0]), int(counts[1]))
