"""bench.py - `flash.py bench`: deterministic performance figures.

(i) Boot under TCG with `-icount shift=0`, where an rdtsc delta inside the
    guest is the exact number of guest instructions, and run the shell's
    `bench`: IPC round trip and null syscall, min and median.
(ii) Boot time: wall clock from QEMU's start to the first prompt, plain
    TCG, median of several boots (machine-dependent, unlike (i)).
(iii) Only with hardware-backed KVM: `bench` again, as CPU cycles.
Cycle figures are never taken under TCG or a software KVM."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from .accel import Accel, choose_accel
from .dut import Dut
from .errors import ToolError
from .qemu import QemuTwin, qemu_version
from .shell_output import parse_bench


def _boot(board, image: Path, accel: Accel, icount: bool, log: Path,
          timeout: float = 120.0) -> tuple[Dut, float]:
    twin = QemuTwin(board, image, accel, icount=icount, log_path=log)
    dut = Dut(twin.start(), twin, board)
    try:
        dut.wait_for_boot(timeout)
    except AssertionError as e:
        dut.close()
        raise ToolError(f"bench: no prompt after {timeout:g} s ({log})") from e
    return dut, (time.monotonic() - twin.started_at) * 1000.0


def _bench_figures(dut: Dut) -> dict:
    try:
        return parse_bench(dut.run("bench", timeout=600))
    except ValueError as e:
        raise ToolError(f"bench: unexpected output: {e}") from None
    finally:
        dut.close()


def measure(board, build: Path, requested_accel: str, boots: int = 3) -> dict:
    image = build / board.qemu.image
    logs = build / "bench-logs"
    tcg = Accel("tcg", "instruction counts need TCG -icount shift=0")
    print(f"bench: instruction counts under TCG -icount shift=0 (any --accel is ignored here)")
    dut, _ = _boot(board, image, tcg, icount=True, log=logs / "qemu-icount.log")
    figures = _bench_figures(dut)
    for need in ("ipc_roundtrip", "syscall_null"):
        if need not in figures:
            raise ToolError(f"bench: the guest printed no {need} figure "
                            f"(is CONFIG_BENCH enabled?)")
    print(f"bench: boot time, plain TCG, median of {boots} boots")
    times = []
    for i in range(boots):
        dut, ms = _boot(board, image, Accel("tcg", "boot time"), icount=False,
                        log=logs / f"qemu-boot{i}.log")
        dut.close()
        times.append(ms)
    ipc, null = figures["ipc_roundtrip"], figures["syscall_null"]
    result = {
        "board": board.name,
        "accel": "tcg",
        "icount": "shift=0",
        "qemu_version": qemu_version(board.qemu.binary),
        "iterations": ipc.iterations,
        "ipc_roundtrip_instructions_min": ipc.min,
        "ipc_roundtrip_instructions_median": ipc.median,
        "syscall_null_instructions_min": null.min,
        "syscall_null_instructions_median": null.median,
        "boot_to_prompt_ms": round(statistics.median(times), 1),
    }
    accel = choose_accel(requested_accel)
    print(accel.describe())
    if accel.name == "kvm" and accel.hardware:
        dut, _ = _boot(board, image, accel, icount=False, log=logs / "qemu-kvm.log")
        kvm = _bench_figures(dut)
        if "ipc_roundtrip" in kvm:
            result["ipc_roundtrip_cycles_median"] = kvm["ipc_roundtrip"].median
            result["kvm"] = accel.reason
    else:
        result["cycles_note"] = f"no cycle figure: {accel.reason}; cycles are only " \
                                f"measured under hardware-backed KVM or on real hardware"
    return result


def format_table(r: dict) -> str:
    rows = [
        ("IPC round trip (instructions)", r["ipc_roundtrip_instructions_min"],
         r["ipc_roundtrip_instructions_median"]),
        ("null syscall (instructions)", r["syscall_null_instructions_min"],
         r["syscall_null_instructions_median"]),
    ]
    if "ipc_roundtrip_cycles_median" in r:
        rows.append(("IPC round trip (cycles, KVM)", "-", r["ipc_roundtrip_cycles_median"]))
    lines = [f"{'figure':32} {'min':>10} {'median':>10}"]
    lines += [f"{name:32} {mn:>10} {med:>10}" for name, mn, med in rows]
    lines.append(f"{'boot to prompt (ms, TCG)':32} {'':>10} {r['boot_to_prompt_ms']:>10}")
    lines.append(f"board {r['board']}, {r['iterations']} iterations, QEMU {r['qemu_version']}")
    if "cycles_note" in r:
        lines.append(r["cycles_note"])
    return "\n".join(lines)


def run_bench(board, build: Path, args) -> int:
    if board.qemu is None:
        raise ToolError(f"bench: board '{board.name}' has no QEMU twin")
    result = measure(board, build, args.accel, boots=max(1, args.boots))
    print(format_table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        print(f"wrote {args.json}")
    return 0
