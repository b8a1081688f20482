"""netbench.py - `flash.py bench` on boards with a NIC: guest instructions
per HTTP request (a new connection each, and keep-alive), per MiB received
over TCP and per MiB sent, for Nagi and for a Linux guest (tools/
linux_guest.py) booted in the same QEMU: same machine, CPU, memory,
`-device e1000`, the same kit network (tools/netkit), TCG -icount shift=0.

Counting: the insn plugin (tools/insn_plugin/insn.c, built here with the
system gcc) counts executed guest instructions and answers the running
count on a unix socket. The -icount virtual clock would not do: it warps
forward while the guest halts, so a host-driven exchange would count idle
time; executed instructions cost nothing while halted, for both guests
alike. The host side (tools/netbench_client.py, in the kit's namespace)
reads the count just before the first request of a series and just after
its last answer; a figure is that delta divided by the requests (or MiB).
Nothing else is excluded, and both guests are measured identically. The
figures depend on host timing (timer interrupts while the host thinks,
TCP acknowledgement timing), so they are close but not equal between runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from .accel import Accel
from .dut import Dut
from .errors import ToolError
from .paths import REPO
from .qemu import QemuTwin

PLUGIN_SOURCE = REPO / "tools" / "insn_plugin" / "insn.c"
REQUESTS = 200
RX_MIB = 4
TCG = Accel("tcg", "instruction counts need TCG -icount shift=0")


def build_plugin(out_dir: Path, source: Path = PLUGIN_SOURCE) -> Path:
    """insn_plugin.so in out_dir, (re)built with the system gcc."""
    so = out_dir / "insn_plugin.so"
    if so.is_file() and so.stat().st_mtime >= source.stat().st_mtime:
        return so
    gcc = shutil.which("gcc")
    if gcc is None:
        raise ToolError("gcc is not installed (the insn plugin is built with it)")
    out_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([gcc, "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall",
                        "-o", str(so), str(source), "-lpthread"], capture_output=True, text=True)
    if r.returncode != 0:
        raise ToolError(f"gcc {source.name}: {r.stderr.strip()[-400:]}")
    return so


def plugin_args(so: Path, sock: Path, profile: Path | None = None) -> list[str]:
    return ["-plugin", f"{so},sock={sock}" + (f",profile={profile}" if profile else "")]


def per_unit(figures: dict) -> dict:
    """Instructions per request / per MiB from a client's raw deltas."""
    n, mib = figures["requests"], figures["rx_mib"]
    tx_mib = figures["tx_bytes"] / (1 << 20)
    return {"http_request_instructions": round(figures["close_instructions"] / n),
            "http_request_instructions_keepalive": round(figures["keepalive_instructions"] / n),
            "tcp_rx_instructions_per_mib": round(figures["rx_instructions"] / mib),
            "tcp_tx_instructions_per_mib": round(figures["tx_instructions"] / tx_mib)}


RATIOS = {"http_request_instructions": "http_request_ratio_vs_linux",
          "http_request_instructions_keepalive": "http_request_keepalive_ratio_vs_linux",
          "tcp_rx_instructions_per_mib": "tcp_rx_ratio_vs_linux",
          "tcp_tx_instructions_per_mib": "tcp_tx_ratio_vs_linux"}


def combine(nagi: dict, linux: dict) -> dict:
    """The bench keys: Nagi's figures, Linux's with a _linux suffix, and
    the ratios Nagi / Linux (RATIOS)."""
    out = dict(nagi)
    out.update({f"{k}_linux": v for k, v in linux.items()})
    for k, name in RATIOS.items():
        if linux.get(k):
            out[name] = round(nagi[k] / linux[k], 3)
    return out


def run_client(kit, ip: str, sock: Path, requests: int, mib: int, timeout: float,
               profile: tuple[Path, Path] | None = None) -> dict:
    cmd = [sys.executable, "-m", "tools.netbench_client", "--ip", ip, "--counter", str(sock),
           "--requests", str(requests), "--mib", str(mib), "--timeout", "120"]
    if profile:
        cmd += ["--profile", str(profile[0]), "--profile-dir", str(profile[1])]
    try:
        r = kit.run(cmd, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        raise ToolError(f"bench: the HTTP/TCP client took over {timeout:g} s") from None
    if r.returncode != 0:
        raise ToolError(f"bench: the HTTP/TCP client failed: {r.stderr.strip()[-600:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def measure_nagi(board, image: Path, so: Path, logs: Path, requests: int, mib: int,
                 profile_dir: Path | None = None) -> dict:
    """Nagi's raw figures; with profile_dir, the insn plugin also writes
    a profile of each series there (tools/netprofile.py)."""
    from .netkit.namespace import NetKit
    from .pytest_plugin import TWIN_MAC, nic_qemu_args
    with tempfile.TemporaryDirectory(prefix="nagi-insn-") as tmp, \
            NetKit(logs / "netkit-nagi", seed=0, pcap=False) as kit:
        sock = Path(tmp) / "insn.sock"
        psock = Path(tmp) / "profile.sock" if profile_dir else None
        twin = QemuTwin(board, image, TCG, icount=True, log_path=logs / "qemu-net-nagi.log",
                        extra=tuple(nic_qemu_args(board, kit) + plugin_args(so, sock, psock)))
        dut = Dut(twin.start(), twin, board)
        try:
            dut.wait_for_boot(180)
            ip = kit.wait_lease(TWIN_MAC, timeout=120)
            return run_client(kit, ip, sock, requests, mib, timeout=1800,
                              profile=(psock, profile_dir) if profile_dir else None)
        finally:
            (logs / "net-nagi-console.log").write_text(dut.transcript)
            dut.close()


def measure_linux(board, guest, so: Path, logs: Path, requests: int, mib: int) -> dict:
    """The same on the Linux guest: the board's [qemu] with Debian's
    kernel and the initramfs instead of Nagi's image."""
    from .netkit.namespace import NetKit
    from .pytest_plugin import TWIN_MAC, nic_qemu_args
    boot = ("-kernel", "{image}", "-initrd", str(guest.initrd), "-append", guest.append())
    lboard = replace(board, qemu=replace(board.qemu, boot=boot))
    with tempfile.TemporaryDirectory(prefix="nagi-insn-") as tmp, \
            NetKit(logs / "netkit-linux", seed=0, pcap=False) as kit:
        sock = Path(tmp) / "insn.sock"
        twin = QemuTwin(lboard, guest.kernel, TCG, icount=True,
                        log_path=logs / "qemu-net-linux.log",
                        extra=tuple(nic_qemu_args(board, kit, mac=TWIN_MAC) + plugin_args(so, sock)))
        console = twin.start()
        try:
            try:
                console.expect(r"linux-guest: ready", timeout=240)
            except AssertionError as e:
                raise ToolError(f"bench: the Linux guest did not come up "
                                f"({logs / 'net-linux-console.log'})") from e
            return run_client(kit, guest.ip, sock, requests, mib, timeout=900)
        finally:
            (logs / "net-linux-console.log").write_text(console.transcript)
            twin.stop()


def measure(board, build: Path, requests: int = REQUESTS, mib: int = RX_MIB) -> dict:
    """Both guests, one after the other; the bench's keys."""
    from .linux_guest import ensure_guest
    logs = build / "bench-logs"
    so = build_plugin(build)
    guest = ensure_guest()
    print(f"bench: HTTP and TCP under TCG -icount shift=0, instructions counted by the insn "
          f"plugin: {requests} requests, {mib} MiB to a sink; Nagi, then Linux "
          f"({guest.kernel_package})")
    nagi = measure_nagi(board, build / board.qemu.image, so, logs, requests, mib)
    linux = measure_linux(board, guest, so, logs, requests, mib)
    if nagi["big_sha256"] != linux["big_sha256"] or nagi["body_sha256"] != linux["body_sha256"]:
        raise ToolError(f"bench: the Linux guest serves other bytes than Nagi "
                        f"(/big {linux['big_sha256'][:12]} vs {nagi['big_sha256'][:12]})")
    out = combine(per_unit(nagi), per_unit(linux))
    out.update(http_requests=requests, tcp_rx_mib=mib, http_path=nagi["path"],
               big_sha256=nagi["big_sha256"], linux_kernel=guest.kernel_package,
               http_seconds={"nagi": [nagi["close_seconds"], nagi["keepalive_seconds"],
                                      nagi["rx_seconds"], nagi["tx_seconds"]],
                             "linux": [linux["close_seconds"], linux["keepalive_seconds"],
                                       linux["rx_seconds"], linux["tx_seconds"]]})
    return out
