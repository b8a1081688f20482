"""tools/netkit: the seeded impairment is deterministic and does what its
percentages say; the namespace, tap, dnsmasq and relay form a working
link that a fake guest (scapy frames on QEMU's side of the dgram socket)
can get a DHCP lease over and ping through, and nothing is left behind."""

import os
import socket
import subprocess
import time

import pytest

from tools.netkit.impair import Direction, Impairment
from tools.netkit import namespace
from tools.netkit.namespace import NetKit


def run_frames(imp, seed, n=1000, step=0.001):
    d = Direction(imp, seed)
    out, now = [], 0.0
    for i in range(n):
        d.push(i.to_bytes(4, "big"), now)
        out += d.due(now)
        now += step
    out += d.due(now + 10)
    return [int.from_bytes(f, "big") for f in out], d.count


def test_clean_link_passes_everything_in_order():
    got, count = run_frames(Impairment(), 1)
    assert got == list(range(1000)) and count.dropped == count.duplicated == 0


def test_same_seed_same_decisions():
    imp = Impairment(loss=5, duplicate=2, reorder=5, delay_ms=3, jitter_ms=2)
    assert run_frames(imp, 42) == run_frames(imp, 42)
    assert run_frames(imp, 42)[0] != run_frames(imp, 43)[0]


def test_percentages_hold_roughly_and_frames_are_counted():
    got, c = run_frames(Impairment(loss=5, duplicate=2, reorder=5), 7, n=20000)
    assert 800 < c.dropped < 1200
    assert 250 < c.duplicated < 550
    assert 700 < c.reordered < 1300
    assert len(got) == c.frames - c.dropped + c.duplicated
    assert got != sorted(got), "reordering reorders"
    assert set(got) <= set(range(20000))


def test_delay_holds_frames_back():
    d = Direction(Impairment(delay_ms=10), 0)
    d.push(b"x", 0.0)
    assert d.due(0.005) == [] and d.next_due() == pytest.approx(0.010)
    assert d.due(0.0101) == [b"x"]


def test_a_held_frame_leaves_after_hold_ms_when_nothing_passes():
    d = Direction(Impairment(reorder=100, hold_ms=20), 0)
    d.push(b"a", 0.0)
    assert d.due(0.01) == []
    assert d.due(0.021) == [b"a"]


@pytest.mark.parametrize("text", ["loss=200", "loss", "nope=1", "delay_ms=-1", "loss=x"])
def test_bad_impairment_is_one_line(text):
    with pytest.raises(ValueError):
        Impairment.parse(text)


needs_root = pytest.mark.skipif(namespace.available() is not None,
                                reason=namespace.available() or "")


class FakeGuest:
    """QEMU's end of the dgram link, speaking scapy frames."""

    MAC = "52:54:00:12:34:56"

    def __init__(self, net):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(net.qemu_sock))
        self.sock.settimeout(0.2)
        self.peer = str(net.relay_sock)

    def send(self, pkt):
        self.sock.sendto(bytes(pkt), self.peer)

    def recv_until(self, match, timeout=10.0, resend=None, log=None):
        """The first frame `match` accepts; `resend` goes out again every
        second meanwhile, as a real client retransmits (the first DHCP
        DISCOVER may arrive before dnsmasq reads its socket)."""
        from scapy.layers.l2 import Ether
        deadline = time.monotonic() + timeout
        next_send = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if resend is not None and time.monotonic() >= next_send:
                self.send(resend)
                next_send += 1.0
            try:
                frame = Ether(self.sock.recv(65536))
            except socket.timeout:
                continue
            if match(frame):
                return frame
        tail = ""
        if log is not None and log.exists():
            tail = "; dnsmasq log: " + " | ".join(log.read_text().splitlines()[-8:])
        raise AssertionError("no matching frame" + tail)

    def close(self):
        self.sock.close()


@needs_root
def test_fake_guest_gets_a_lease_and_is_pinged(tmp_path):
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.layers.l2 import ARP, Ether
    from scapy.utils import rdpcap
    with NetKit(tmp_path, seed=3) as net:
        name = net.name
        guest = FakeGuest(net)
        mac = bytes.fromhex(guest.MAC.replace(":", ""))
        base = Ether(src=guest.MAC, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") \
            / UDP(sport=68, dport=67) / BOOTP(chaddr=mac, xid=0x1234)
        discover = base / DHCP(options=[("message-type", "discover"), "end"])
        guest.send(discover)
        offer = guest.recv_until(lambda f: f.haslayer(DHCP) and f[BOOTP].xid == 0x1234,
                                 resend=discover, log=net.dnsmasq_log)
        ip = offer[BOOTP].yiaddr
        request = base / DHCP(options=[("message-type", "request"), ("requested_addr", ip),
                                       ("server_id", namespace.HOST_IP), "end"])
        guest.send(request)
        guest.recv_until(lambda f: f.haslayer(DHCP) and dict(
            o for o in f[DHCP].options if isinstance(o, tuple)).get("message-type") == 5,
            resend=request, log=net.dnsmasq_log)
        assert net.wait_lease(guest.MAC) == ip
        # The namespace pings the guest: ARP first unless dnsmasq's reply
        # left the guest in the ARP cache, then an echo request to answer.
        ping = net.popen(["ping", "-c", "1", "-W", "5", ip], stdout=subprocess.PIPE, text=True)
        first = guest.recv_until(lambda f: (f.haslayer(ARP) and f[ARP].pdst == ip)
                                 or (f.haslayer(ICMP) and f[ICMP].type == 8))
        if first.haslayer(ARP):
            guest.send(Ether(src=guest.MAC, dst=first[Ether].src) /
                       ARP(op=2, hwsrc=guest.MAC, psrc=ip, hwdst=first[ARP].hwsrc,
                           pdst=first[ARP].psrc))
            req = guest.recv_until(lambda f: f.haslayer(ICMP) and f[ICMP].type == 8)
        else:
            req = first
        guest.send(Ether(src=guest.MAC, dst=req[Ether].src) / IP(src=ip, dst=req[IP].src) /
                   ICMP(type=0, id=req[ICMP].id, seq=req[ICMP].seq) / req[ICMP].payload)
        assert ping.wait(timeout=10) == 0
        guest.close()
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                      text=True).stdout, "the namespace is removed"
    frames = rdpcap(str(tmp_path / "net.pcap"))
    assert any(f.haslayer(ICMP) for f in frames), "the pcap holds the traffic"


@needs_root
def test_a_lossy_link_drops_as_its_seed_says(tmp_path):
    """100 % loss: the guest's DHCP discover never reaches dnsmasq."""
    from scapy.layers.l2 import ARP, Ether
    with NetKit(tmp_path, seed=1, impair=Impairment(loss=100)) as net:
        guest = FakeGuest(net)
        guest.send(Ether(src=guest.MAC, dst="ff:ff:ff:ff:ff:ff") /
                   ARP(op=1, hwsrc=guest.MAC, psrc="10.0.2.50", pdst=namespace.HOST_IP))
        with pytest.raises(AssertionError):
            guest.recv_until(lambda f: f.haslayer(ARP) and f[ARP].op == 2, timeout=1.5)
        guest.close()
    import json
    stats = json.loads((tmp_path / "relay-stats.json").read_text())
    assert stats["guest_to_host"]["dropped"] == stats["guest_to_host"]["frames"] >= 1


@needs_root
def test_stale_namespaces_of_dead_runs_are_removed():
    name = f"{namespace.PREFIX}999999-0"
    subprocess.run(["ip", "netns", "add", name], check=True)
    assert name in namespace.cleanup_stale()


def test_the_twins_nic_is_attached_per_board():
    """The net fixture's QEMU arguments: the pc's e1000 is a card plugged
    in with -device; mps2-an386's LAN9118 is on the board, so it only
    gets the netdev (-net nic,model=lan9118). Both get the kit's MAC."""
    from tools.boards import load_board
    from tools.pytest_plugin import TWIN_MAC, nic_qemu_args

    class Kit:
        def netdev_args(self, netdev_id):
            return ["-netdev", f"dgram,id={netdev_id}"]

    assert nic_qemu_args(load_board("pc"), Kit()) == [
        "-netdev", "dgram,id=net0", "-device", f"e1000,netdev=net0,mac={TWIN_MAC}"]
    assert nic_qemu_args(load_board("mps2-an386"), Kit()) == [
        "-netdev", "dgram,id=net0", "-net", f"nic,netdev=net0,model=lan9118,macaddr={TWIN_MAC}"]


def test_user_networking_fallback_states_what_it_leaves_out(tmp_path):
    """No root: QEMU user networking with the guest's port 80 forwarded
    to a free local port, slirp's gateway at the namespace's address, and
    QEMU's own pcap of the traffic."""
    from tools.netkit.usernet import NOTE, UserNet
    with UserNet(tmp_path) as kit:
        args = kit.netdev_args("net0")
        assert args[0] == "-netdev" and args[1].startswith("user,id=net0,")
        assert f"host={namespace.HOST_IP}" in args[1]
        assert f"hostfwd=tcp:127.0.0.1:{kit.http_port}-:80" in args[1]
        assert args[2:] == ["-object", f"filter-dump,id=net0-dump,netdev=net0,file={kit.pcap_path}"]
        assert kit.http_authority("10.0.2.100") == f"127.0.0.1:{kit.http_port}"
        assert kit.run(["echo", "on the host"]).stdout == "on the host\n"
    with socket.socket() as s:
        s.bind(("127.0.0.1", kit.http_port))   # the port was free
    assert "untested" in NOTE and "\n" not in NOTE


def test_pcap_frames_count_and_cut(tmp_path):
    """tools/netkit/pcap.py: frames by source MAC, the record count, a
    test's slice from its mark, and a record still being written left out."""
    from scapy.utils import RawPcapWriter
    from tools.netkit import pcap
    path = tmp_path / "net.pcap"
    assert pcap.count(path) == 0 and pcap.frames(path) == []
    w = RawPcapWriter(str(path), linktype=1, sync=True)
    a = bytes.fromhex("ffffffffffff525400123456") + b"\x88\xb5" + b"a" * 46
    b = bytes.fromhex("525400123456020000000001") + b"\x08\x00" + b"b" * 46
    for f in (a, b, a):
        w.write(f)
    w.close()
    assert pcap.count(path) == 3
    assert pcap.frames(path, "52:54:00:12:34:56") == [a, a]
    assert pcap.frames(path) == [a, b, a]
    assert pcap.cut(path, 1, tmp_path / "t.pcap") == 2
    assert pcap.frames(tmp_path / "t.pcap") == [b, a]
    assert pcap.cut(path, 3, tmp_path / "none.pcap") == 0 and not (tmp_path / "none.pcap").exists()
    path.write_bytes(path.read_bytes()[:-5])          # the relay mid-record
    assert pcap.count(path) == 2
