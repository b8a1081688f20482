"""usernet.py - the kit's network without root: QEMU user networking.

Where the namespace cannot be built (no root, no /dev/net/tun: see
namespace.available()), the `net` fixture falls back to QEMU's own user
networking (slirp), which needs nothing from the host:

    -netdev user,net=10.0.2.0/24,host=10.0.2.1,dhcpstart=10.0.2.100,
            hostfwd=tcp:127.0.0.1:<port>-:80
    -object filter-dump,...   (QEMU writes the pcap of the guest's traffic)

The guest still gets its address by DHCP (from slirp, always the first
address of the range for the only guest), still reaches 10.0.2.1 (slirp's
gateway, which answers pings and is the host's 127.0.0.1 for TCP and
UDP), and the host reaches the guest's port 80 through the forwarded
port. What this leaves untested is said in one line (NOTE): the host
cannot reach the guest's address itself (no ping of the guest, no raw
frames from scapy, no seeded impairment: slirp is a socket proxy, not a
link). Commands run on the host, not in a namespace."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

SUBNET = "10.0.2"
HOST_IP = f"{SUBNET}.1"
GUEST_IP = f"{SUBNET}.100"
NOTE = ("QEMU user networking (no root for the tap/namespace network): untested are "
        "pings of the guest, scapy's raw frames, the lossy link and the guest's own address from the host")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UserNet:
    """The same surface as NetKit for what tests use: netdev_args, run,
    popen, wait_lease, pcap_path; plus where host-side servers bind and
    where the guest's port 80 is reached."""

    mode = "user"
    note = NOTE
    #: Where a server for the guest binds on the host (the guest reaches
    #: it as HOST_IP, slirp's gateway).
    bind_ip = "127.0.0.1"

    def __init__(self, workdir: Path, pcap: bool = True):
        self.workdir = Path(workdir)
        self.name = "qemu-user"
        self.pcap_path = self.workdir / "net.pcap" if pcap else None
        self.http_port = _free_port()

    def __enter__(self) -> "UserNet":
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.pcap_path:
            self.pcap_path.unlink(missing_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        pass

    def netdev_args(self, netdev_id: str = "net0") -> list[str]:
        args = ["-netdev", f"user,id={netdev_id},net={SUBNET}.0/24,host={HOST_IP},"
                           f"dhcpstart={GUEST_IP},hostfwd=tcp:127.0.0.1:{self.http_port}-:80"]
        if self.pcap_path:
            args += ["-object", f"filter-dump,id={netdev_id}-dump,netdev={netdev_id},"
                                f"file={self.pcap_path}"]
        return args

    def http_authority(self, guest_ip: str) -> str:
        """host[:port] that reaches the guest's port 80 from here."""
        return f"127.0.0.1:{self.http_port}"

    def _exec(self, cmd: list[str]) -> list[str]:
        return list(cmd)

    def run(self, cmd: list[str], timeout: float = 60.0, check: bool = False,
            **kw) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              check=check, **kw)

    def popen(self, cmd: list[str], **kw) -> subprocess.Popen:
        return subprocess.Popen(cmd, **kw)

    def wait_lease(self, mac: str | None = None, timeout: float = 30.0) -> str:
        """slirp leases the first address of its range to the only guest;
        that the guest took it by DHCP is for ifconfig to show."""
        return GUEST_IP
