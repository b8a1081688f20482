"""Malformed and hostile traffic from the namespace (scapy, in the kit's
.venv): truncated and lying IP headers, bad IP/TCP/ICMP checksums, odd
TCP flag combinations, overlapping fragments, UDP to a closed port and a
SYN flood from spoofed neighbours. Afterwards the guest still answers
pings, httpd still serves, and net holds no more memory than its socket
buffers (`ps` pages before and after).

Then the same under fuzzing: 3000 frames from scapy's fuzz() on TCP, UDP,
ICMP, ARP and fragment templates, bytes flipped and frames cut short,
from a fresh seed each run (printed; NAGI_NET_FUZZ_SEED=N replays it).

Needs the tap/namespace network (root, /dev/net/tun): raw frames."""

import sys
import time

import pytest

from tools.shell_output import parse_ps

network = pytest.mark.needs("network")
# Raw frames and the seeded lossy link need the tap/namespace network.
pytestmark = pytest.mark.netns


@pytest.fixture(scope="module", autouse=True)
def _needs_tcpip(build):
    """The TCP/IP server is in the image (CONFIG_NET: boards with a NIC and
    paging for now; net and httpd have no MCU heap yet)."""
    config = build / ".config"
    if "CONFIG_NET=y" not in (config.read_text().splitlines() if config.is_file() else []):
        pytest.skip("no TCP/IP server in this image (CONFIG_NET: boards with a NIC and paging; "
                    "net has no MCU heap yet)")

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


FUZZ = r"""
import random, sys
from scapy.all import Ether, IP, TCP, UDP, ICMP, ARP, Raw, fuzz, sendp, conf
conf.verb = 0
mac, ip, seed, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(seed)   # scapy's fuzz() draws from `random` too: one seed replays the lot
e = Ether(dst=mac)
templates = [
    lambda: e / fuzz(IP(dst=ip)) / fuzz(TCP(dport=80)),
    lambda: e / IP(dst=ip) / fuzz(TCP(dport=80)) / Raw(random.randbytes(random.randint(0, 64))),
    lambda: e / fuzz(IP(dst=ip, proto=17)) / fuzz(UDP()),
    lambda: e / IP(dst=ip) / fuzz(ICMP()) / Raw(random.randbytes(random.randint(0, 64))),
    lambda: e / fuzz(ARP(pdst=ip)),
    lambda: e / IP(dst=ip, id=random.getrandbits(16), flags=random.choice(["MF", 0]),
                   frag=random.randint(0, 64)) / Raw(random.randbytes(random.randint(1, 96))),
]
frames = []
for _ in range(count):
    f = bytearray(bytes(random.choice(templates)()))
    for _ in range(random.randint(0, 3)):            # and a few flipped bytes past the MAC header
        if len(f) > 14:
            f[random.randrange(14, len(f))] ^= 1 << random.randrange(8)
    frames.append(bytes(f[:random.choice([len(f), len(f), random.randint(14, max(14, len(f)))])]))
sendp([Ether(f) for f in frames], iface="nagi0")
print("sent", len(frames))
"""

#: Frames per fuzz run; a fresh seed each run unless NAGI_NET_FUZZ_SEED
#: replays one (printed, and in the failure message).
FUZZ_FRAMES = 3000




def _tids(dut, names=("net", "httpd")):
    return {t.name: t.tid for t in parse_ps(dut.run("ps"))
            if t.name in names and t.state not in ("killed", "exited")}


def _http_code(net, ip, path):
    return net.ns(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                   f"http://{ip}{path}"], timeout=15).stdout.strip()


def _guest_serving(net) -> str:
    """The guest's address, once httpd answers there."""
    ip = net.kit.wait_lease(net.mac, timeout=40)
    deadline = time.monotonic() + 30
    while _http_code(net, ip, "/hello.txt") != "200":
        assert time.monotonic() < deadline, "httpd never answered"
        time.sleep(1)
    return ip


def _attack_leaves_the_servers_up(net, ip, script_args, replay=""):
    """Run a scapy script in the namespace; afterwards net and httpd are
    the same tasks (none crashed and was restarted), the guest answers
    pings, httpd serves again and net holds no more than its socket
    buffers."""
    why = f" ({replay})" if replay else ""
    before = {t.name: t.pages for t in parse_ps(net.dut.run("ps"))}
    tids = _tids(net.dut)
    r = net.ns([sys.executable, "-c", *script_args], timeout=300)
    assert r.returncode == 0 and r.stdout.startswith("sent"), r.stderr[-2000:] + why
    print(f"\n{r.stdout.strip()} frames")
    assert net.dut.run("echo still-up") == ["still-up"], why
    assert _tids(net.dut) == tids, "a server was restarted" + why
    r = net.ns(["ping", "-c", "3", "-i", "0.2", "-W", "2", ip], timeout=30)
    assert r.returncode == 0, r.stdout + why
    # Half-open connections (a SYN flood's) time out (net's 5 s handshake
    # timeout) and their sockets listen again; meanwhile a SYN finding the
    # backlog full is dropped, and curl's retransmission gets through.
    t0 = time.monotonic()
    while (code := _http_code(net, ip, "/")) != "200":
        assert time.monotonic() < t0 + 90, f"httpd not serving after the attack ({code}){why}"
        time.sleep(2)
    print(f"httpd served again {time.monotonic() - t0:.1f} s after the attack")
    after = {t.name: t.pages for t in parse_ps(net.dut.run("ps"))}
    print(f"net pages {before['net']} -> {after['net']}, httpd {before['httpd']} -> {after['httpd']}")
    # Socket buffers are made only up to the TCP budget (64 sockets of
    # 40 KiB): an attack cannot grow net past that.
    assert after["net"] <= before["net"] + 64 * 10, (before, after, replay)
    assert after["httpd"] <= before["httpd"] + 16, (before, after, replay)


@network
def test_malformed_traffic_and_a_syn_flood_leave_the_servers_up(net):
    ip = _guest_serving(net)
    _attack_leaves_the_servers_up(net, ip, [ATTACK, net.mac, ip])


@network
def test_fuzzed_frames_leave_the_servers_up(net):
    """scapy's fuzz() on TCP, UDP, ICMP, ARP and fragment templates, bytes
    flipped and frames cut short: the same checks as above."""
    import os
    import random
    seed = int(os.environ.get("NAGI_NET_FUZZ_SEED") or random.SystemRandom().randrange(1 << 32))
    replay = f"replay: NAGI_NET_FUZZ_SEED={seed}"
    print(f"\nnet fuzz: {FUZZ_FRAMES} frames, seed {seed} ({replay})")
    ip = _guest_serving(net)
    _attack_leaves_the_servers_up(net, ip, [FUZZ, net.mac, ip, str(seed), str(FUZZ_FRAMES)], replay)
