"""netprofile.py - where Nagi's instructions go in the HTTP/TCP bench
(tools/netbench.py): boots Nagi with the insn plugin in profile mode
(instructions summed per translation block and address space, CR3), runs
the same client, and attributes each series' instructions to the kernel
(nagi.elf's symbols) and to each task (the task's ELF is recognised per
address space: the one whose instruction boundaries the executed blocks
start on; all tasks are linked at the same address).

    .venv/bin/python -m tools.netprofile [--board pc] [--requests 50] [--mib 1] [--top 25]

Writes build/<b>/netprofile/<series>.txt (raw) and prints a summary."""

from __future__ import annotations

import argparse
import bisect
import re
import subprocess
from collections import defaultdict
from pathlib import Path

USER_BASE = 0x80_0000_0000


class Symbols:
    def __init__(self, elf: Path):
        self.name = elf.name
        out = subprocess.run(["nm", "-nC", "--defined-only", str(elf)], capture_output=True,
                             text=True).stdout
        self.addrs, self.names = [], []
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1] in "tTwW":
                self.addrs.append(int(parts[0], 16))
                self.names.append(parts[2])
        self._starts = None
        self.elf = elf

    def starts(self) -> set[int]:
        if self._starts is None:
            out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(self.elf)],
                                 capture_output=True, text=True).stdout
            self._starts = {int(m.group(1), 16) for m in
                            re.finditer(r"^\s*([0-9a-f]+):\t", out, re.M)}
        return self._starts

    def lookup(self, addr: int) -> str:
        i = bisect.bisect_right(self.addrs, addr) - 1
        return self.names[i] if i >= 0 else f"?{addr:x}"


def short(name: str) -> str:
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    return name if len(name) < 90 else name[:87] + "..."


def attribute(dump: Path, kernel: Symbols, tasks: list[Symbols]) -> tuple[int, dict, dict]:
    rows = []
    for line in dump.read_text().split("\n"):
        if line:
            cr3, vaddr, n = line.split()
            rows.append((int(cr3, 16), int(vaddr, 16), int(n)))
    total = sum(r[2] for r in rows)
    by_cr3 = defaultdict(list)
    for cr3, vaddr, n in rows:
        by_cr3[cr3 if vaddr >= USER_BASE else None].append((vaddr, n))
    owner = {}
    for cr3, blocks in by_cr3.items():
        if cr3 is None:
            owner[cr3] = kernel
            continue
        score = lambda t: sum(n for v, n in blocks if v in t.starts())
        owner[cr3] = max(tasks, key=score)
    per_owner, per_fn = defaultdict(int), defaultdict(int)
    for cr3, blocks in by_cr3.items():
        o = owner[cr3]
        label = "kernel" if cr3 is None else o.name
        for v, n in blocks:
            per_owner[label] += n
            per_fn[(label, short(o.lookup(v)))] += n
    return total, per_owner, per_fn


def report(series: str, units: float, unit: str, total: int, per_owner: dict, per_fn: dict,
           top: int) -> str:
    lines = [f"== {series}: {total} instructions, {total / units:,.0f} per {unit}"]
    for label, n in sorted(per_owner.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {label:14} {n / units:>14,.0f} per {unit}  {100 * n / total:5.1f}%")
    lines.append("  top functions:")
    for (label, fn), n in sorted(per_fn.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {100 * n / total:5.1f}% {n / units:>13,.0f}  {label:8} {fn}")
    return "\n".join(lines)


def main(argv=None) -> int:
    from . import netbench
    from .boards import load_board
    from .paths import build_dir
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--board", default="pc")
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--mib", type=int, default=1)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--reuse", action="store_true", help="summarise the last dumps again")
    a = ap.parse_args(argv)
    board = load_board(a.board)
    build = build_dir(a.board)
    out = build / "netprofile"
    out.mkdir(parents=True, exist_ok=True)
    logs = build / "bench-logs"
    if not a.reuse:
        so = netbench.build_plugin(build)
        raw = netbench.measure_nagi(board, build / board.qemu.image, so, logs, a.requests,
                                    a.mib, profile_dir=out)
        print(raw)
    rel = build / "userland" / "x86_64-unknown-none" / "release"
    tasks = [Symbols(p) for p in sorted(rel.iterdir())
             if p.is_file() and "." not in p.name and p.read_bytes()[:4] == b"\x7fELF"]
    kernel = Symbols(build / "nagi.elf")
    for series, units, unit in (("close", a.requests, "request"),
                                ("keepalive", a.requests, "request"),
                                ("rx", a.mib, "MiB"), ("tx", 4, "MiB")):
        dump = out / f"{series}.txt"
        if dump.is_file():
            print(report(series, units, unit, *attribute(dump, kernel, tasks), a.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
