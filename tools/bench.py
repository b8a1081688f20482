"""bench.py - `flash.py bench`: deterministic performance figures.

(i) Boot under TCG with `-icount shift=0`, where an rdtsc delta inside the
    guest is the exact number of guest instructions, and run the shell's
    `bench`: IPC round trip and null syscall, min and median.
(ii) Boot time: wall clock from QEMU's start to the first prompt, plain
    TCG, median of several boots (machine-dependent, unlike (i)).
(iii) Only with hardware-backed KVM: `bench` again, as CPU cycles.
(iv) x86_64 boards with a NIC: HTTP requests and TCP receive/send in guest
    instructions, Nagi beside a Linux guest in the same QEMU
    (tools/netbench.py; needs the kit's network: root, /dev/net/tun).
Cycle figures are never taken under TCG or a software KVM.

On Cortex-M twins the shell measures batches of `batch` operations in
SYS_CLOCK counts at `hz` (docs/mcu-port.md, "Benchmark on arm-m"); under
-icount shift=0 one count is 1e9/hz instructions, so the figures are
converted (BenchFigure.instructions) and their resolution is reported.
MCU builds also report the kernel's flash and RAM use from
build/<b>/memory-map.json (written by tools/layout/report.py)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from .accel import Accel
from .dut import Dut
from .errors import ToolError
from .qemu import QemuTwin, accel_for, is_mcu, qemu_version
from .shell_output import parse_bench

MEMORY_MAP_KEYS = ("kernel_flash_bytes", "kernel_ram_bytes")


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
    if is_mcu(board):
        accel_for(board, requested_accel)      # --accel kvm on a Cortex-M twin: error now
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
    result = instruction_figures(board, figures)
    result.update(board=board.name, accel="tcg", icount="shift=0",
                  qemu_version=qemu_version(board.qemu.binary),
                  boot_to_prompt_ms=round(statistics.median(times), 1))
    result.update(memory_figures(build))
    result.update(network_figures(board, build))
    if board.has("hid"):
        print(f"bench: key to report, {KEY_PRESSES} presses under TCG -icount shift=0")
        result.update(key_latency(board, image, logs / "qemu-keys.log"))
        result.update(task_memory_figures(build, KEYBOARD_TASKS))
    accel = accel_for(board, requested_accel)
    print(accel.describe())
    if is_mcu(board):
        result["cycles_note"] = "no cycle figure: the Cortex-M twin runs under TCG; cycles " \
                                "are only measured on real hardware"
    elif accel.name == "kvm" and accel.hardware:
        dut, _ = _boot(board, image, accel, icount=False, log=logs / "qemu-kvm.log")
        kvm = _bench_figures(dut)
        if "ipc_roundtrip" in kvm:
            result["ipc_roundtrip_cycles_median"] = kvm["ipc_roundtrip"].median
            result["kvm"] = accel.reason
    else:
        result["cycles_note"] = f"no cycle figure: {accel.reason}; cycles are only " \
                                f"measured under hardware-backed KVM or on real hardware"
    return result


KEY_PRESSES = 100


def key_latency(board, image: Path, log: Path, presses: int = KEY_PRESSES) -> dict:
    """Key to report, in guest instructions under -icount shift=0: one key
    pressed and released `presses` times through qtest; each press's HID
    trace line carries the SYS_CLOCK count at which keyscan began the scan
    that first saw it and the count when hid handed the report over
    (tools/keyboard.py). One clock count is 1e9/cpu_hz instructions."""
    from .dut import QtestPins
    from .keyboard import Keyboard, TraceFile, twin_keys
    from .qtest import PinMap
    twin = QemuTwin(board, image, Accel("tcg", "key latency under -icount shift=0"),
                    icount=True, log_path=log, qtest=True)
    dut = Dut(twin.start(), twin, board)
    try:
        dut.pins = QtestPins(twin.qtest, PinMap.from_board(board))
        dut.wait_for_boot(120)
        keys = twin_keys(board)
        kb = Keyboard(keys, dut.set_pin, TraceFile(twin.trace_path), ("boot", "nkro"))
        kinds = {t.kind for t in kb.source.lines()} or {"boot"}
        kb.kinds = tuple(k for k in ("boot", "nkro") if k in kinds) or ("boot",)
        from .keyboard import load_layout
        usage_keys = load_layout(board).usage_keys()
        if not usage_keys:
            raise ToolError(f"bench: the keymap of '{board.name}' has no plain key on its base layer")
        key = usage_keys[0]
        cycles = []
        for i in range(presses):
            mark = len(kb.source.lines())
            kb.press(key)
            pressed = _wait_trace(kb, mark, lambda t: t.report.keys or t.report.modifiers)
            kb.release(key)
            _wait_trace(kb, mark + 1, lambda t: not (t.report.keys or t.report.modifiers))
            if pressed.latency_cycles is None:
                raise ToolError(f"bench: press {i}: the report carries no key stamp")
            cycles.append(pressed.latency_cycles)
    finally:
        dut.close()
    per = 1e9 / board.cpu_hz
    ins = sorted(round(c * per) for c in cycles)
    return {"key_to_report_instructions_min": ins[0],
            "key_to_report_instructions_median": round(statistics.median(ins)),
            "key_to_report_instructions_max": ins[-1],
            "key_presses": presses, "key_to_report_key": key,
            "key_to_report_note": f"from the scan that first sees the key to the report "
                                  f"handed to the trace UART; 1 clock count = {per:g} "
                                  f"instructions"}


def _wait_trace(kb, since: int, want, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        for t in kb.source.lines()[since:]:
            if want(t):
                return t
        if time.monotonic() > deadline:
            raise ToolError(f"bench: no HID report after {timeout:g} s (trace {kb.source.path})")
        time.sleep(0.005)


def task_memory_figures(build: Path, names: tuple[str, ...]) -> dict:
    """Flash and RAM of each named task, from build/<b>/memory-map.json."""
    path = build / "memory-map.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ToolError(f"bench: cannot read {path}: {e}") from None
    out = {}
    for kind in ("flash", "ram"):
        regions = {r["name"]: r for r in data.get(kind, {}).get("regions", [])}
        for name in names:
            r = regions.get(name)
            if r is None:
                raise ToolError(f"bench: {path} has no {kind} region for task '{name}'")
            out[f"{name}_{kind}_bytes"] = r["used"]
            out[f"{name}_{kind}_region_bytes"] = r["size"]
    return out


KEYBOARD_TASKS = ("keyscan", "keymap", "hid")


def instruction_figures(board, figures: dict) -> dict:
    """Instructions per operation from the shell's `bench` figures;
    `ipc_roundtrip_instructions` is the minimum (what CI compares)."""
    ipc, null = figures["ipc_roundtrip"], figures["syscall_null"]
    out = {"iterations": ipc.iterations}
    for key, f in (("ipc_roundtrip", ipc), ("syscall_null", null)):
        out[f"{key}_instructions_min"] = f.instructions(f.min)
        out[f"{key}_instructions_median"] = f.instructions(f.median)
    out["ipc_roundtrip_instructions"] = out["ipc_roundtrip_instructions_min"]
    if ipc.batch is not None:
        out.update(batch=ipc.batch, clock_hz=ipc.hz,
                   resolution_instructions=round(ipc.resolution, 3),
                   resolution_note=f"1 clock count = {1e9 / ipc.hz:g} instructions at "
                                   f"{ipc.hz} Hz under -icount shift=0; batches of {ipc.batch} "
                                   f"operations: resolution {ipc.resolution:g} instructions "
                                   f"per operation")
        want = board.cpu_hz
        if want is not None and int(want) != ipc.hz:
            out["clock_warning"] = f"the guest says hz={ipc.hz}, board.toml cpu_hz={want}"
    return out


def network_figures(board, build: Path) -> dict:
    """tools/netbench.py's figures on an x86_64 board with a NIC (the
    Linux guest is x86_64); a note instead where the kit's network cannot
    be built here."""
    if board.arch != "x86_64" or not board.nic:
        return {}
    from .netkit.namespace import available
    why = available()
    if why:
        print(f"bench: no HTTP/TCP figures: {why}")
        return {"network_note": f"no HTTP/TCP figures: {why}"}
    from . import netbench
    return netbench.measure(board, build)


def memory_figures(build: Path) -> dict:
    """kernel_flash_bytes / kernel_ram_bytes from build/<b>/memory-map.json
    (MCU builds); {} when the build wrote no map (pc)."""
    path = build / "memory-map.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ToolError(f"bench: cannot read {path}: {e}") from None
    missing = [k for k in MEMORY_MAP_KEYS if not isinstance(data.get(k), int)]
    if missing:
        raise ToolError(f"bench: {path} has no {', '.join(missing)}")
    return {k: data[k] for k in MEMORY_MAP_KEYS}


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
    for key, label in (("kernel_flash_bytes", "kernel flash (bytes)"),
                       ("kernel_ram_bytes", "kernel RAM (bytes)")):
        if key in r:
            lines.append(f"{label:32} {'':>10} {r[key]:>10}")
    if "key_to_report_instructions_max" in r:
        lines.append(f"{'key to report (instructions)':32} "
                     f"{r['key_to_report_instructions_min']:>10} "
                     f"{r['key_to_report_instructions_median']:>10}   "
                     f"max {r['key_to_report_instructions_max']} over {r['key_presses']} presses")
        for task in KEYBOARD_TASKS:
            if f"{task}_flash_bytes" in r:
                lines.append(f"{task + ' flash / RAM (bytes)':32} {r[task + '_flash_bytes']:>10} "
                             f"{r[task + '_ram_bytes']:>10}")
    if "http_request_instructions" in r:
        lines += network_rows(r)
    lines.append(f"board {r['board']}, {r['iterations']} iterations, QEMU {r['qemu_version']}")
    for key in ("resolution_note", "clock_warning"):
        if key in r:
            lines.append(r[key])
    for key in ("cycles_note", "network_note"):
        if key in r:
            lines.append(r[key])
    return "\n".join(lines)


NETWORK_ROWS = (("HTTP request, new connection", "http_request_instructions",
                 "http_request_ratio_vs_linux"),
                ("HTTP request, keep-alive", "http_request_instructions_keepalive",
                 "http_request_keepalive_ratio_vs_linux"),
                ("TCP receive, per MiB", "tcp_rx_instructions_per_mib", "tcp_rx_ratio_vs_linux"),
                ("TCP send, per MiB", "tcp_tx_instructions_per_mib", "tcp_tx_ratio_vs_linux"))


def network_rows(r: dict) -> list[str]:
    """The HTTP/TCP figures (tools/netbench.py): Nagi, Linux, Nagi/Linux."""
    lines = [f"{'network (instructions)':32} {'Nagi':>12} {'Linux':>12} {'ratio':>7}"]
    for label, key, ratio in NETWORK_ROWS:
        if key in r:
            lines.append(f"{label:32} {r[key]:>12} {r.get(key + '_linux', '-'):>12} "
                         f"{r.get(ratio, '-'):>7}")
    lines.append(f"{r['http_requests']} requests of {r['http_path']}, {r['tcp_rx_mib']} MiB to a "
                 f"discard sink, 4 MiB of /big; Linux: {r['linux_kernel']}, same QEMU, NIC "
                 f"and network; counted by the insn plugin (halted time costs nothing)")
    return lines


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
