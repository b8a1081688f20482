"""layout/cli.py - `python3 -m tools.layout map build/<b>` (the memory
map of the last build) and `table build/<b>/nagi.elf` (the task table
inside an image): debugging aids."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..elfimage import parse_elf
from .report import memory_map_lines
from .writers import parse_task_table


def main(argv: list[str] | None = None) -> int:
    """`python3 -m tools.layout map build/<b>`: print the memory map of the
    last build (from memory-map.json); `python3 -m tools.layout table
    build/<b>/nagi.elf`: print the task table inside an image."""
    ap = argparse.ArgumentParser(prog="python3 -m tools.layout")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("map").add_argument("build_dir", type=Path)
    sub.add_parser("table").add_argument("image", type=Path)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "map":
            mm = json.loads((args.build_dir / "memory-map.json").read_text())
            print("\n".join(memory_map_lines(mm)))
            return 0
        elf = parse_elf(args.image.read_bytes(), str(args.image))
        sec = elf.section(".tasktable")
        if sec is None:
            print(f"{args.image}: no .tasktable section", flush=True)
            return 1
        blob = args.image.read_bytes()[sec.offset:sec.offset + sec.size]
        for name, f in parse_task_table(blob):
            print(f"{name:<14} " + " ".join(f"{k}=0x{v:x}" for k, v in f.items()))
        return 0
    except (OSError, ValueError) as e:
        print(f"error: {e}")
        return 1
