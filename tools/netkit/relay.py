"""relay.py - the kit's seeded link between a QEMU NIC and a tap device.

    python3 -m tools.netkit.relay --tap nagi0 --sock R --peer Q \\
        [--seed S] [--impair loss=5,duplicate=1,reorder=5,delay_ms=2] [--pcap F] [--stats F]

QEMU's NIC is `-netdev dgram,id=n,local.type=unix,local.path=Q,
remote.type=unix,remote.path=R`: each datagram is one Ethernet frame. The
relay binds R, sends to Q, and moves frames between that socket and the
tap device (run inside the kit's network namespace, where the tap is),
impairing both directions from the seed (tools/netkit/impair.py; the
guest-to-host direction uses `seed`, the other `seed + 1`). Every frame
that leaves the relay, either way, goes into the pcap file (scapy's
writer), which a failing test attaches. It prints `relay: ready` once
bound, and on SIGTERM/SIGINT writes its counters as JSON to --stats."""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import sys
import time

from .impair import Direction, Impairment
from .tap import open_tap

MAX_FRAME = 65536


class Relay:
    def __init__(self, tap_fd: int, sock: socket.socket, peer: str, imp: Impairment,
                 seed: int, pcap=None):
        self.tap, self.sock, self.peer = tap_fd, sock, peer
        self.to_host = Direction(imp, seed)          # guest -> tap
        self.to_guest = Direction(imp, seed + 1)     # tap -> guest
        self.pcap = pcap
        self.errors = 0
        self.stop = False

    def _record(self, frame: bytes) -> None:
        if self.pcap is not None:
            self.pcap.write(frame)

    def _flush(self, now: float) -> None:
        for frame in self.to_host.due(now):
            try:
                os.write(self.tap, frame)
                self._record(frame)
            except OSError:
                self.errors += 1
        for frame in self.to_guest.due(now):
            try:
                self.sock.sendto(frame, self.peer)
                self._record(frame)
            except OSError:                 # QEMU not there (yet, or any more)
                self.errors += 1

    def run(self) -> None:
        while not self.stop:
            now = time.monotonic()
            nxt = [t for t in (self.to_host.next_due(), self.to_guest.next_due()) if t]
            timeout = max(0.0, min(nxt) - now) if nxt else 0.5
            try:
                ready, _, _ = select.select([self.tap, self.sock], [], [], timeout)
            except InterruptedError:
                continue
            now = time.monotonic()
            if self.sock in ready:
                try:
                    frame = self.sock.recv(MAX_FRAME)
                    self.to_host.push(frame, now)
                except OSError:
                    self.errors += 1
            if self.tap in ready:
                try:
                    frame = os.read(self.tap, MAX_FRAME)
                    self.to_guest.push(frame, now)
                except BlockingIOError:
                    pass
                except OSError:
                    self.errors += 1
            self._flush(time.monotonic())

    def stats(self) -> dict:
        return {"guest_to_host": vars(self.to_host.count), "host_to_guest": vars(self.to_guest.count),
                "errors": self.errors}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tools.netkit.relay",
                                description="Relay Ethernet frames between a QEMU dgram "
                                            "netdev (unix socket) and a tap device, impaired "
                                            "from a seed.")
    p.add_argument("--tap", required=True, help="tap device name (in this namespace)")
    p.add_argument("--sock", required=True, help="unix datagram socket path the relay binds")
    p.add_argument("--peer", required=True, help="QEMU's own socket path (its local.path)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--impair", default="", help="e.g. loss=5,duplicate=1,reorder=5,delay_ms=2")
    p.add_argument("--pcap", default=None, help="write every relayed frame here")
    p.add_argument("--stats", default=None, help="write counters (JSON) here on exit")
    a = p.parse_args(argv)
    try:
        imp = Impairment.parse(a.impair)
    except ValueError as e:
        print(f"relay: error: {e}", file=sys.stderr)
        return 2
    try:
        tap = open_tap(a.tap)
    except OSError as e:
        print(f"relay: error: cannot open tap '{a.tap}': {e.strerror}", file=sys.stderr)
        return 1
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if os.path.exists(a.sock):
        os.unlink(a.sock)
    sock.bind(a.sock)
    sock.setblocking(False)
    pcap = None
    if a.pcap:
        from scapy.utils import RawPcapWriter
        pcap = RawPcapWriter(a.pcap, linktype=1, sync=True)   # 1 = Ethernet
    relay = Relay(tap, sock, a.peer, imp, a.seed, pcap)

    def stop(*_):
        relay.stop = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"relay: ready ({imp.describe()}, seed {a.seed})", flush=True)
    try:
        relay.run()
    finally:
        if pcap is not None:
            pcap.close()
        if a.stats:
            with open(a.stats, "w") as f:
                json.dump(relay.stats(), f)
        sock.close()
        os.unlink(a.sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
