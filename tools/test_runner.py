"""test_runner.py - `flash.py test`: every test stage, then one summary.

Stages, in order: the kernel's host unit tests (C, ASan/UBSan), the Rust
runtime's `cargo test`, the tools' own pytest suite, then the HIL suite
on the board (after an incremental build). The first three are host tests
and do not depend on the board's architecture: every board's run has them.
The HIL suite runs on the board's QEMU twin (TCG only for Cortex-M twins),
or with --hardware on the physical board (tools/hardware.py): the probe
and the console port are checked before any stage runs, so a missing one
is one `error:` line at once. All stages run even when one fails; the
summary lists each stage and counts passed, failed and skipped (a skipped
stage never counts as passed); the exit status is non-zero if any failed.
Every command goes through _run(), which the tests replace."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ToolError
from .paths import REPO


@dataclass
class StageResult:
    name: str
    status: str        # "passed", "FAILED", "skipped"
    detail: str
    seconds: float


def _run(cmd: list[str], cwd: Path = REPO, env: dict | None = None) -> int:
    print("$ " + " ".join(cmd), flush=True)
    try:
        return subprocess.run(cmd, cwd=cwd, env=env).returncode
    except OSError as e:
        print(f"{cmd[0]}: {e}")
        return 127


def debian_rust_env() -> dict:
    env = dict(os.environ)
    env.update(PATH="/usr/bin:" + env.get("PATH", ""), RUSTC="/usr/bin/rustc",
               RUSTC_BOOTSTRAP="1")
    return env


def stage_kernel_unit(ctx) -> tuple[str, str]:
    if not (REPO / "kernel" / "tests" / "Makefile").is_file():
        return "skipped", "kernel/tests/Makefile does not exist"
    rc = _run(["make", "--no-print-directory", "-f", "kernel/tests/Makefile"])
    return ("passed", "make -f kernel/tests/Makefile") if rc == 0 else ("FAILED", f"exit {rc}")


def stage_rust_unit(ctx) -> tuple[str, str]:
    if not (REPO / "userland" / "Cargo.toml").is_file():
        return "skipped", "userland/Cargo.toml does not exist"
    # The host-tested library crates: the runtime, the keyboard logic and
    # the keyboard's USB device (enumerated over a fake bus). usb_kbd's
    # Cortex-M build is the board build's: it is a workspace member, so
    # every `flash.py build` of an MCU board compiles it for thumbv7em.
    rc = _run(["/usr/bin/cargo", "test", "-p", "runtime", "-p", "keyboard", "-p", "usb_kbd",
               "--target", "x86_64-unknown-linux-gnu"],
              cwd=REPO / "userland", env=debian_rust_env())
    return ("passed", "cargo test -p runtime -p keyboard -p usb_kbd") if rc == 0 else \
        ("FAILED", f"exit {rc}")


def stage_tools_unit(ctx) -> tuple[str, str]:
    junit = ctx["build"] / "junit-tools.xml"
    extra = ctx["pytest_args"] if ctx["unit_only"] else []
    rc = _run([sys.executable, "-m", "pytest", "tools/tests", f"--junitxml={junit}", *extra])
    return ("passed", f"JUnit {os.path.relpath(junit, REPO)}") if rc == 0 else \
        ("FAILED", f"pytest exit {rc}")


def stage_hil(ctx) -> tuple[str, str]:
    from .build import Builder
    board, build = ctx["board"], ctx["build"]
    try:
        Builder(board, build, ctx["overrides"]).build_all()
    except ToolError as e:
        print(f"error: {e}")
        return "FAILED", f"build: {e}"
    cmd = [sys.executable, "-m", "pytest", "hil_tests", f"--board={board.name}",
           f"--build-dir={build}", f"--accel={ctx['accel']}", *hardware_args(ctx),
           *ctx["pytest_args"]]
    rc = _run(cmd)
    junit = os.path.relpath(build / "junit-hil.xml", REPO)
    return ("passed", f"JUnit {junit}") if rc == 0 else ("FAILED", f"pytest exit {rc}; JUnit {junit}")


def hardware_args(ctx) -> list[str]:
    """The plugin's options for the physical board (none for the twin)."""
    hw = ctx.get("hardware")
    if not hw:
        return []
    args = ["--hardware", f"--probe={hw['probe']}", f"--port={hw['port']}"]
    return args + (["--no-flash"] if hw["no_flash"] else [])


def hardware_preflight(board, build: Path, args) -> dict:
    """Probe and console port for --hardware, chosen now (ToolError: one
    line, before any stage), passed to the HIL stage explicitly."""
    from .hardware import HardwareBoard
    hw = HardwareBoard(board, build, probe=args.probe, port=args.port,
                       flash=not args.no_flash)
    probe, port = hw.preflight()
    print(f"hardware: probe {probe}, console {port}", flush=True)
    return {"probe": probe, "port": port, "no_flash": bool(args.no_flash)}


STAGES = [
    ("kernel unit tests (C)", stage_kernel_unit, "unit"),
    ("Rust unit tests (runtime, keyboard, usb_kbd)", stage_rust_unit, "unit"),
    ("tools tests (Python)", stage_tools_unit, "unit"),
    ("HIL suite", stage_hil, "hil"),
]


def run_tests(board, build: Path, overrides, args) -> int:
    hardware = None
    if getattr(args, "hardware", False):
        hardware = hardware_preflight(board, build, args)
    build.mkdir(parents=True, exist_ok=True)
    ctx = {"board": board, "build": build, "overrides": overrides, "accel": args.accel,
           "pytest_args": args.pytest_args, "unit_only": args.unit_only,
           "hardware": hardware}
    results = []
    for name, fn, kind in STAGES:
        if (args.hil_only and kind != "hil") or (args.unit_only and kind != "unit"):
            continue
        if kind == "hil":
            name = f"{name} ({board.name} {'hardware' if hardware else 'twin'})"
        print(f"\n=== {name} ===", flush=True)
        start = time.monotonic()
        status, detail = fn(ctx)
        results.append(StageResult(name, status, detail, time.monotonic() - start))
    print("\n=== summary ===")
    for r in results:
        print(f"{r.status:8} {r.name:36} {r.seconds:6.1f} s  {r.detail}")
    count = {s: sum(r.status == s for r in results) for s in ("passed", "FAILED", "skipped")}
    print(f"{count['passed']} passed, {count['FAILED']} failed, {count['skipped']} skipped "
          f"(of {len(results)} stages)")
    failed = [r.name for r in results if r.status == "FAILED"]
    if failed:
        print(f"error: {len(failed)} stage(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
