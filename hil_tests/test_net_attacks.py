"""Malformed and hostile traffic from the namespace (scapy, in the kit's
.venv): truncated and lying IP headers, bad IP/TCP/ICMP checksums, odd
TCP flag combinations, overlapping fragments, UDP to a closed port and a
SYN flood from spoofed neighbours. Afterwards the guest still answers
pings, httpd still serves, and net holds no more memory than its socket
buffers (`ps` pages before and after).

Same needs as test_net.py (root, /dev/net/tun). A first step toward
issue 11's attack list: every case sent once, not fuzzed."""

import sys
import time

import pytest

from tools.shell_output import parse_ps

network = pytest.mark.needs("network")


pytestmark = pytest.mark.usefixtures("tcpip")   # CONFIG_NET (tools/pytest_plugin.py)

ATTACK = r"""
import random, sys
from scapy.all import Ether, IP, TCP, UDP, ICMP, Raw, sendp, conf
conf.verb = 0
mac, ip = sys.argv[1], sys.argv[2]
random.seed(11)
e = Ether(dst=mac)
frames = []
frames.append(bytes(e / IP(dst=ip) / TCP(dport=80, flags="S"))[:14 + 12])   # truncated IP header
frames.append(bytes(e / IP(dst=ip, ihl=15) / TCP(dport=80, flags="S")))     # IHL past the packet
frames.append(bytes(e / IP(dst=ip, len=2000) / TCP(dport=80, flags="S")))   # total length lies
frames.append(bytes(e / IP(dst=ip, len=10) / TCP(dport=80, flags="S")))     # shorter than a header
frames.append(bytes(e / IP(dst=ip, chksum=0x1234) / TCP(dport=80, flags="S")))
frames.append(bytes(e / IP(dst=ip) / TCP(dport=80, flags="S", chksum=0xdead)))
frames.append(bytes(e / IP(dst=ip) / ICMP(type=8, chksum=0xbeef) / Raw(b"x" * 32)))
frames.append(bytes(e / IP(dst=ip) / TCP(dport=80, flags="S", dataofs=15)))  # options past the end
for flags in ["FSRPAUEC", "", "FPU", "SF", "SR", "FA", "R", "A", "SA"]:
    frames.append(bytes(e / IP(dst=ip) / TCP(sport=random.randint(1024, 65535), dport=80, flags=flags,
                                             seq=random.getrandbits(32), ack=random.getrandbits(32))))
frames.append(bytes(e / IP(dst=ip, flags="MF", frag=0, id=7) / Raw(b"A" * 24)))    # overlapping fragments
frames.append(bytes(e / IP(dst=ip, flags="MF", frag=1, id=7) / Raw(b"B" * 24)))
frames.append(bytes(e / IP(dst=ip, frag=2, id=7) / Raw(b"C" * 24)))
frames.append(bytes(e / IP(dst=ip) / UDP(dport=9, sport=1234) / b"closed"))
frames.append(bytes(e / IP(dst=ip) / UDP(dport=9, sport=1234, len=4000) / b"lies"))
frames.append(bytes(e)[:10])                                                     # runt
frames.append(bytes(e / Raw(b"\x00" * 46)))                                           # ethertype 0
for _ in range(400):                                                             # SYN flood
    src = "10.0.2.%d" % random.randint(200, 250)
    frames.append(bytes(e / IP(src=src, dst=ip) / TCP(sport=random.randint(1024, 65535), dport=80,
                                                       flags="S", seq=random.getrandbits(32))))
sendp([Ether(f) if len(f) >= 14 else Raw(f) for f in frames], iface="nagi0")
print("sent", len(frames))
"""


@network
def test_malformed_traffic_and_a_syn_flood_leave_the_servers_up(board, net):
    ip = net.kit.wait_lease(net.mac, timeout=40)
    deadline = time.monotonic() + 30
    while net.ns(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                  f"http://{ip}/hello.txt"], timeout=15).stdout.strip() != "200":
        assert time.monotonic() < deadline, "httpd never answered"
        time.sleep(1)
    ps_before = parse_ps(net.dut.run("ps"))
    before = {t.name: t.pages for t in ps_before}
    r = net.ns([sys.executable, "-c", ATTACK, net.mac, ip], timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("sent"), r.stderr[-2000:]
    print(f"\n{r.stdout.strip()} frames")
    assert net.dut.run("echo still-up") == ["still-up"]
    r = net.ns(["ping", "-c", "3", "-i", "0.2", "-W", "2", ip], timeout=30)
    assert r.returncode == 0, r.stdout
    # The flood's half-open connections time out (socket timeout); then
    # httpd serves again.
    deadline = time.monotonic() + 90
    while True:
        code = net.ns(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                       f"http://{ip}/"], timeout=15).stdout.strip()
        if code == "200":
            break
        assert time.monotonic() < deadline, f"httpd not serving after the flood ({code})"
        time.sleep(2)
    ps_after = parse_ps(net.dut.run("ps"))
    after = {t.name: t.pages for t in ps_after}
    # Nobody died on the way (an MCU's static heap running out would
    # abort net, and init would restart it): the same tasks, no restarts.
    alive = lambda ps: {t.name: (t.tid, t.restarts) for t in ps
                        if t.name in ("net", "httpd", board.nic["model"])
                        and t.state not in ("killed", "exited")}
    assert alive(ps_after) == alive(ps_before), (ps_before, ps_after)
    print(f"net pages {before['net']} -> {after['net']}, httpd {before['httpd']} -> {after['httpd']}")
    # Socket buffers are made only up to the TCP budget (64 sockets of
    # 40 KiB): the flood cannot grow net past that. (Paging boards: on
    # the MCU boards the heap is static and `ps` counts no pages.)
    assert after["net"] <= before["net"] + 64 * 10, (before, after)
    assert after["httpd"] <= before["httpd"] + 16, (before, after)
