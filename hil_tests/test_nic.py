"""The NIC (boards with a [nic]: the pc's e1000): the driver task found its
card through the pci enumerator and reports the MAC the twin gave it and
link up; frames sent from the kit's network namespace raise its receive
counters while the guest stays up; a killed driver is restarted by init
(it resets the card; the kernel freed its DMA memory) and answers again;
hostile clients get E_BUSY (a second claim) and E_PERM (no claim), and
garbage fragment sequences are refused and counted (`nic test`).

Needs the kit's network (tools/netkit: root and /dev/net/tun; the `net`
fixture skips with the reason otherwise). MCU boards have no NIC yet
(capability 'network'). Without the card (every other boot) the driver
says so once and answers -E_NOENT."""

import re
import subprocess
import time

import pytest

from tools.shell_output import parse_nic, parse_ps

network = pytest.mark.needs("network")

GUEST_IP = "10.0.2.15"     # any address: the guest has no IP stack yet


def _nic(dut, timeout=10.0):
    """`nic`, retried while the driver is (re)starting."""
    deadline = time.monotonic() + timeout
    while True:
        lines = dut.run("nic", timeout=15)
        try:
            return parse_nic(lines)
        except ValueError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _send_frames(net, count=3):
    """Unanswered pings at the guest's MAC: `count` IPv4 frames to it."""
    net.ns(["ip", "neigh", "replace", GUEST_IP, "lladdr", net.mac, "dev", "nagi0"], timeout=10)
    net.ns(["ping", "-c", str(count), "-i", "0.2", "-W", "1", GUEST_IP], timeout=30)


@network
def test_nic_reports_the_twins_mac_and_link_up(net):
    n = _nic(net.dut)
    assert n.mac == net.mac
    assert n.link == "up" and n.mtu == 1500


@network
def test_frames_from_the_namespace_are_counted(net):
    before = _nic(net.dut)
    _send_frames(net, 3)
    time.sleep(0.5)
    after = _nic(net.dut)
    assert after.rx_frames >= before.rx_frames + 3, (before, after)
    assert after.rx_bytes >= before.rx_bytes + 3 * 98, (before, after)   # ICMP echo, 98 bytes
    assert net.dut.run("echo still-up") == ["still-up"]


@network
def test_hostile_clients_are_refused_and_garbage_counted(net):
    before = _nic(net.dut)
    out = net.dut.run("nic test", timeout=20)
    assert "nic test: ok" in out, out
    assert "nic test: second client E_BUSY" in out
    assert "nic test: 4 malformed sequences counted" in out
    after = _nic(net.dut)
    assert after.malformed == before.malformed + 4
    assert after.tx_frames == before.tx_frames + 1
    # The claim ended with the test's channels: a new one may claim again.
    assert "nic test: ok" in net.dut.run("nic test", timeout=20)


@network
def test_killed_driver_is_restarted_and_works_again(net):
    dut = net.dut
    drivers = [t for t in parse_ps(dut.run("ps")) if t.name == "e1000"
               and t.state not in ("killed", "exited")]
    assert len(drivers) == 1, drivers
    old = drivers[0]
    mark = dut.mark()
    assert dut.run(f"kill {old.tid}") == ["kill: ok"]
    dut.expect(rf"init: e1000 \(task {old.tid}\) died; restarting it in \d+ ms$", since=mark)
    dut.expect(r"init: e1000 restarted as task \d+ \(restart \d+\)$", since=mark)
    dut.expect(r"e1000: 52:54:00:12:34:56 irq \d+ link up", since=mark)
    n = _nic(dut)
    assert n.mac == net.mac and n.link == "up"
    _send_frames(net, 3)
    time.sleep(0.5)
    assert _nic(dut).rx_frames >= n.rx_frames + 3
    assert dut.run("echo still-up") == ["still-up"]


@network
def test_a_client_is_notified_and_pulls_a_frame_in_fragments(net):
    """The IRQ path end to end: the card's interrupt reaches the driver,
    the driver notifies its client (NIC_NOTIFY_RX), the client pulls the
    frame with NIC_RECV in fragments of at most 216 bytes: a 1042-byte
    echo request (1000 bytes of payload) comes in 5."""
    net.ns(["ip", "neigh", "replace", GUEST_IP, "lladdr", net.mac, "dev", "nagi0"], timeout=10)
    ping = net.kit.popen(["ping", "-c", "40", "-i", "0.2", "-s", "1000", "-W", "1", GUEST_IP],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = net.dut.run("nic recv 5000", timeout=20)
    finally:
        ping.kill()
        ping.wait()
    frames = [l for l in out if l.startswith("nic: frame")]
    assert frames, out
    assert re.match(r"nic: frame 1042 bytes from ([0-9a-f]{2}:){5}[0-9a-f]{2} type 0x0800 "
                    r"in 5 fragments$", frames[0]), frames
    assert net.dut.run("echo still-up") == ["still-up"]


def test_without_a_card_the_driver_says_so_and_answers_noent(board, dut):
    if not board.nic:
        pytest.skip(f"board '{board.name}' has no NIC ([nic] in board.toml)")
    dut.expect(r"e1000: no 8086:100e on the PCI bus \(E_NOENT\); network off", since=0)
    assert dut.run("nic") == ["nic: no card (E_NOENT)"]
    assert dut.run("nic test")[-1] == "nic test: FAILED: first claim"


def test_a_card_behind_a_bridge_is_found(board, build, twin_image):
    """pci walks the buses behind PCI-to-PCI bridges: the card on a PCIe
    root port (bus 1) is claimed and works. Its link is a QEMU hub with
    nothing else on it: no traffic leaves the twin."""
    if not board.nic:
        pytest.skip(f"board '{board.name}' has no NIC ([nic] in board.toml)")
    dev = board.nic["qemu_device"]
    d = twin_image(build / board.qemu.image, extra=(
        "-nic", "none", "-netdev", "hubport,id=n0,hubid=0",
        "-device", "pcie-root-port,id=rp1,chassis=1",
        "-device", f"{dev},bus=rp1,netdev=n0"))
    d.expect(r"e1000: 52:54:00:12:34:56 irq \d+ link up", since=0)
    n = _nic(d)
    assert n.link == "up"
    assert d.run("nic test", timeout=20)[-1] == "nic test: ok"
    # The enumerator's view: the card on bus 1, class 0200 (Ethernet);
    # its one claim is the driver's, so another client gets E_BUSY.
    listing = d.run("pci")
    assert any(re.match(r"pci: 01:00\.0 8086:100e class 0200 irq \d+$", l) for l in listing), listing
    assert d.run("pci claim 02 00") == ["pci: claim: E_BUSY"]


@network
def test_fuzzers_against_the_live_driver_leave_it_working(net):
    """The in-tree fuzzers (hil_tests/test_fuzz.py) with the card present:
    random NIC_OPEN / NIC_TX / NIC_RECV / NIC_INFO and PCI requests,
    lengths and payloads reach the real driver and the enumerator. Both
    stay up, the driver's claim is free again afterwards, and it works."""
    dut = net.dut

    def drivers():
        return {t.name: (t.tid, t.restarts) for t in parse_ps(dut.run("ps"))
                if t.name in ("e1000", "pci") and t.state not in ("killed", "exited")}

    tasks = drivers()
    assert len(tasks) == 2, tasks
    out = dut.run("fuzz 3000 11", timeout=600)
    assert "fuzz: ok" in out, out[-5:]
    assert dut.run("nic test", timeout=20)[-1] == "nic test: ok"
    before = _nic(dut)
    _send_frames(net, 3)
    time.sleep(0.5)
    assert _nic(dut).rx_frames >= before.rx_frames + 3
    assert drivers() == tasks          # neither died nor was restarted
