"""namespace.py - the kit's network: a namespace with a tap device, a DHCP
server and the seeded relay to the twin's NIC.

    with NetKit(workdir, seed=7, impair=Impairment(loss=5)) as net:
        twin = QemuTwin(..., extra=net.netdev_args("net0") + ["-device", "e1000,netdev=net0"])
        net.run(["ping", "-c1", guest_ip])

The namespace (`nagi-<pid>-<n>`) holds the tap device `nagi0` at
10.0.2.1/24, dnsmasq serving DHCP on it (no DNS; no ping of an address
before offering it, as nothing else lives on this link; leases in the work
directory), and the relay (tools/netkit/relay.py), which connects the tap
to QEMU's `-netdev dgram` unix socket. The host's own network is never
touched, and everything is removed on exit, also after a failure; a
namespace left by a killed run (its pid gone) is removed by the next one
(cleanup_stale). It needs root and /dev/net/tun (`available()` says what
is missing in one line)."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..errors import ToolError
from .impair import Impairment

PREFIX = "nagi-"
TAP = "nagi0"
SUBNET = "10.0.2"
HOST_IP = f"{SUBNET}.1"
DHCP_RANGE = (f"{SUBNET}.100", f"{SUBNET}.199")
_names = itertools.count()
REPO = Path(__file__).resolve().parents[2]


def available() -> str | None:
    """None when the kit can build its network here, else why not (one line)."""
    if os.geteuid() != 0:
        return "the tap/namespace network needs root (run as root, or the test uses QEMU user networking)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun (load the tun module)"
    for tool in ("ip", "dnsmasq"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed (apt-get install {'iproute2' if tool == 'ip' else 'dnsmasq-base'})"
    return None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise ToolError(f"ip {' '.join(args)}: {r.stderr.strip() or r.returncode}")
    return r


def cleanup_stale() -> list[str]:
    """Remove namespaces of earlier runs whose process is gone."""
    removed = []
    out = _ip("netns", "list", check=False).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(rf"^{PREFIX}(\d+)-\d+$", name)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            _ip("netns", "del", name, check=False)
            removed.append(name)
    return removed


class NetKit:
    mode = "netns"
    note = ""
    #: Where a server for the guest binds (inside the namespace).
    bind_ip = HOST_IP

    def __init__(self, workdir: Path, seed: int = 0, impair: Impairment = Impairment(),
                 pcap: bool = True, dhcp: bool = True):
        """dhcp=False: no DHCP server until start_dhcp() (the guest's
        static fallback)."""
        self.workdir = Path(workdir)
        self.dhcp = dhcp
        self.seed, self.impair = seed, impair
        self.name = f"{PREFIX}{os.getpid()}-{next(_names)}"
        self.qemu_sock = self.workdir / "qemu-net.sock"
        self.relay_sock = self.workdir / "relay-net.sock"
        self.pcap_path = self.workdir / "net.pcap" if pcap else None
        self.stats_path = self.workdir / "relay-stats.json"
        self.lease_path = self.workdir / "dnsmasq.leases"
        self.dnsmasq_log = self.workdir / "dnsmasq.log"
        self._procs: list[subprocess.Popen] = []
        self._created = False

    # -- life cycle ------------------------------------------------------------
    def __enter__(self) -> "NetKit":
        why = available()
        if why:
            raise ToolError(why)
        cleanup_stale()
        self.workdir.mkdir(parents=True, exist_ok=True)
        for p in (self.qemu_sock, self.relay_sock, self.lease_path):
            p.unlink(missing_ok=True)
        try:
            _ip("netns", "add", self.name)
            self._created = True
            _ip("-n", self.name, "link", "set", "lo", "up")
            _ip("-n", self.name, "tuntap", "add", "dev", TAP, "mode", "tap")
            _ip("-n", self.name, "addr", "add", f"{HOST_IP}/24", "dev", TAP)
            _ip("-n", self.name, "link", "set", TAP, "up")
            if self.dhcp:
                self._start_dnsmasq()
            self._start_relay()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for p in reversed(self._procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self._procs.clear()
        if self._created:
            _ip("netns", "del", self.name, check=False)
            self._created = False

    def _exec(self, cmd: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *cmd]

    def start_dhcp(self) -> None:
        """Start the DHCP server now (a NetKit made with dhcp=False)."""
        if not self.dhcp:
            self.dhcp = True
            self._start_dnsmasq()

    def _start_dnsmasq(self) -> None:
        cmd = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
               "--no-hosts", "--port=0", "--no-ping", f"--interface={TAP}", "--bind-interfaces",
               f"--dhcp-range={DHCP_RANGE[0]},{DHCP_RANGE[1]},255.255.255.0,1h",
               f"--dhcp-option=3,{HOST_IP}", f"--dhcp-leasefile={self.lease_path}",
               "--log-dhcp", f"--log-facility={self.dnsmasq_log}",
               f"--pid-file={self.workdir / 'dnsmasq.pid'}"]
        p = subprocess.Popen(self._exec(cmd), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._procs.append(p)
        time.sleep(0.1)
        if p.poll() is not None:
            raise ToolError(f"dnsmasq did not start: {p.stderr.read().strip()}")

    def _start_relay(self) -> None:
        cmd = [sys.executable, "-m", "tools.netkit.relay", "--tap", TAP,
               "--sock", str(self.relay_sock), "--peer", str(self.qemu_sock),
               "--seed", str(self.seed), "--impair", _impair_arg(self.impair),
               "--stats", str(self.stats_path)]
        if self.pcap_path:
            cmd += ["--pcap", str(self.pcap_path)]
        p = subprocess.Popen(self._exec(cmd), cwd=REPO, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._procs.append(p)
        line = p.stdout.readline()
        if not line.startswith("relay: ready"):
            p.wait(timeout=5)
            raise ToolError(f"the network relay did not start: "
                            f"{(line + p.stderr.read()).strip().splitlines()[-1:]}")

    # -- what tests use --------------------------------------------------------
    def netdev_args(self, netdev_id: str = "net0") -> list[str]:
        """QEMU's side of the link: add a NIC with netdev=<netdev_id>."""
        return ["-netdev", f"dgram,id={netdev_id},local.type=unix,local.path={self.qemu_sock},"
                           f"remote.type=unix,remote.path={self.relay_sock}"]

    def http_authority(self, guest_ip: str) -> str:
        """host[:port] that reaches the guest's port 80 from the namespace."""
        return guest_ip

    def run(self, cmd: list[str], timeout: float = 60.0, check: bool = False,
            **kw) -> subprocess.CompletedProcess:
        """Run `cmd` inside the namespace (ping, curl, a scapy script)."""
        return subprocess.run(self._exec(cmd), capture_output=True, text=True,
                              timeout=timeout, check=check, **kw)

    def popen(self, cmd: list[str], **kw) -> subprocess.Popen:
        return subprocess.Popen(self._exec(cmd), **kw)

    def leases(self) -> dict[str, str]:
        """MAC -> IP of dnsmasq's current leases."""
        out = {}
        try:
            for line in self.lease_path.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    out[parts[1].lower()] = parts[2]
        except FileNotFoundError:
            pass
        return out

    def wait_lease(self, mac: str | None = None, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leases = self.leases()
            if mac is None and leases:
                return next(iter(leases.values()))
            if mac is not None and mac.lower() in leases:
                return leases[mac.lower()]
            time.sleep(0.1)
        raise AssertionError(f"no DHCP lease{' for ' + mac if mac else ''} after {timeout:g} s "
                             f"(dnsmasq log: {self.dnsmasq_log})")


def _impair_arg(imp: Impairment) -> str:
    return ",".join(f"{k}={getattr(imp, k)}" for k in imp.__dataclass_fields__)
