"""The NIC (boards with a [nic]: the pc's e1000, mps2-an386's on-board
LAN9118): the driver task found its card (the e1000 through the pci
enumerator, the lan9118 at its board.toml address) and reports the MAC the
twin gave it and link up; frames sent from the kit's network namespace raise its receive
counters while the guest stays up; a killed driver is restarted by init
(it resets the card; the kernel freed its DMA memory) and answers again;
hostile clients get E_BUSY (a second claim) and E_PERM (no claim), and
garbage fragment sequences are refused and counted (`nic test`).

Needs the kit's network (tools/netkit: root and /dev/net/tun; the `net`
fixture skips with the reason otherwise). The driver task is named after
the [nic] model. Without the card (every other boot of the pc) the e1000
says so once and answers -E_NOENT; the LAN9118 is on the mps2 board, so
every boot has it (without the kit's network it has no backend) and the
driver finds it.

The two drivers differ where the hardware does, and the tests say so:
the e1000's restarted instance is told apart by its reset of a PCI card,
the lan9118's by its soft reset of a chip at a fixed address; both print
`<driver>: <mac> irq <n> link up|down`."""

import re
import subprocess
import time

import pytest

from tools.netkit.pcap import frames as pcap_frames
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
@pytest.mark.netns
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
@pytest.mark.netns
def test_killed_driver_is_restarted_and_works_again(board, net):
    dut = net.dut
    name = board.nic["model"]   # the driver program: e1000 or lan9118
    drivers = [t for t in parse_ps(dut.run("ps")) if t.name == name
               and t.state not in ("killed", "exited")]
    assert len(drivers) == 1, drivers
    old = drivers[0]
    mark = dut.mark()
    assert dut.run(f"kill {old.tid}") == ["kill: ok"]
    dut.expect(rf"init: {name} \(task {old.tid}\) died; restarting it in \d+ ms$", since=mark)
    dut.expect(rf"init: {name} restarted as task \d+ \(restart \d+\)$", since=mark)
    dut.expect(rf"{name}: 52:54:00:12:34:56 irq \d+ link up", since=mark)
    n = _nic(dut)
    assert n.mac == net.mac and n.link == "up"
    _send_frames(net, 3)
    time.sleep(0.5)
    assert _nic(dut).rx_frames >= n.rx_frames + 3
    assert dut.run("echo still-up") == ["still-up"]


@network
@pytest.mark.netns
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
    if board.nic["model"] != "e1000":
        pytest.skip(f"the {board.nic['model']} is on the board: every boot has it "
                    "(test_an_on_board_chip_is_found_on_every_boot)")
    dut.expect(r"e1000: no 8086:100e on the PCI bus \(E_NOENT\); network off", since=0)
    assert dut.run("nic") == ["nic: no card (E_NOENT)"]
    assert dut.run("nic test")[-1] == "nic test: FAILED: first claim"


def test_an_on_board_chip_is_found_on_every_boot(board, dut):
    """An on-board NIC (mps2-an386's LAN9118) is there without the kit's
    network too: the driver found the chip at its board.toml address
    (BYTE_TEST, ID_REV), reset it and serves `nic` with its MAC."""
    if not board.nic or board.nic["model"] == "e1000":
        pytest.skip(f"board '{board.name}' has no on-board NIC")
    name = board.nic["model"]
    dut.expect(rf"{name}: ([0-9a-f]{{2}}:){{5}}[0-9a-f]{{2}} irq {board.nic['irq']} "
               r"link (up|down) \(id [0-9a-f]{4} rev \d+\)$", since=0)
    n = _nic(dut)   # the session's device: earlier tests (fuzz) may have moved counters
    assert n.mtu == 1500 and n.mac == _nic(dut).mac
    assert "nic test: ok" in dut.run("nic test", timeout=20)


def test_a_card_behind_a_bridge_is_found(board, build, twin_image):
    """pci walks the buses behind PCI-to-PCI bridges: the card on a PCIe
    root port (bus 1) is claimed and works. Its link is a QEMU hub with
    nothing else on it: no traffic leaves the twin."""
    if not board.nic:
        pytest.skip(f"board '{board.name}' has no NIC ([nic] in board.toml)")
    if not board.pci:
        pytest.skip(f"the {board.nic['model']} is on the board's bus, not on PCI")
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
@pytest.mark.netns
def test_fuzzers_against_the_live_driver_leave_it_working(board, net):
    """The in-tree fuzzers (hil_tests/test_fuzz.py) with the card present:
    random NIC_OPEN / NIC_TX / NIC_RECV / NIC_INFO and PCI requests,
    lengths and payloads reach the real driver and the enumerator. Both
    stay up, the driver's claim is free again afterwards, and it works."""
    dut = net.dut
    # The NIC driver, and the enumerator where the card is on PCI.
    names = (board.nic["model"],) + (("pci",) if board.pci else ())

    def drivers():
        return {t.name: (t.tid, t.restarts) for t in parse_ps(dut.run("ps"))
                if t.name in names and t.state not in ("killed", "exited")}

    tasks = drivers()
    assert len(tasks) == len(names), tasks
    out = dut.run("fuzz 3000 11", timeout=600)
    assert "fuzz: ok" in out, out[-5:]
    assert dut.run("nic test", timeout=20)[-1] == "nic test: ok"
    before = _nic(dut)
    _send_frames(net, 3)
    time.sleep(0.5)
    assert _nic(dut).rx_frames >= before.rx_frames + 3
    assert drivers() == tasks          # neither died nor was restarted


@network
def test_a_frame_the_guest_sends_reaches_the_wire(net):
    """The transmit path end to end: `nic test`'s 60-byte broadcast
    (ethertype 0x88b5, "nagi" after the header) leaves the twin's NIC
    byte for byte (the e1000 from its descriptor ring, the LAN9118 from
    its TX data FIFO) and the relay records it."""
    pcap = net.kit.pcap_path
    if pcap is None:
        pytest.skip("the kit records no pcap")
    before = len(pcap_frames(pcap, net.mac))
    assert net.dut.run("nic test", timeout=20)[-1] == "nic test: ok"
    deadline = time.monotonic() + 5
    while True:
        sent = pcap_frames(pcap, net.mac)[before:]
        ours = [f for f in sent if f[12:14] == b"\x88\xb5"]
        if ours or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert ours, sent
    f = ours[0]
    assert len(f) == 60 and f[:6] == b"\xff" * 6 and f[14:18] == b"nagi" and f[18:] == bytes(42), f.hex()


@network
@pytest.mark.netns
def test_a_slow_reader_gets_held_frames_whole_and_the_driver_keeps_step(board, net):
    """A client that claims the card and pulls nothing while 1042-byte
    frames arrive (`nic hold`): the frames wait until the driver's ring
    (e1000: 32 descriptors) or the chip's RX FIFO (LAN9118: about 10 KiB,
    some ten such frames) is full, the rest are held back or dropped by
    the device; nothing grows in the driver. Then every waiting frame comes
    out whole, and afterwards the driver (the same task, not restarted)
    still delivers frames in step: the FIFO's status and data words did
    not drift apart at the overflow."""
    dut = net.dut
    name = board.nic["model"]

    def driver():
        return [(t.tid, t.restarts) for t in parse_ps(dut.run("ps"))
                if t.name == name and t.state not in ("killed", "exited")]

    before = driver()
    assert len(before) == 1, before
    net.ns(["ip", "neigh", "replace", GUEST_IP, "lladdr", net.mac, "dev", "nagi0"], timeout=10)
    ping = net.kit.popen(["ping", "-c", "60", "-i", "0.05", "-s", "1000", "-W", "1", GUEST_IP],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = dut.run("nic hold 3500", timeout=30)
    finally:
        ping.kill()
        ping.wait()
    m = [re.match(r"nic: held 3500 ms, pulled (\d+) frames (\d+) bytes, all whole$", l) for l in out]
    m = [x for x in m if x]
    assert m, out
    frames, nbytes = int(m[0].group(1)), int(m[0].group(2))
    assert frames >= 3 and nbytes >= 3 * 1042, out
    assert driver() == before
    # In step afterwards: a new frame comes whole, in its 5 fragments.
    test_a_client_is_notified_and_pulls_a_frame_in_fragments(net)
    assert driver() == before


@network
@pytest.mark.netns
def test_the_link_state_follows_the_wire(net):
    """The twin's cable pulled and plugged back (QMP set_link on the kit's
    netdev): `nic` reports link down, then up again (the e1000 reads
    STATUS.LU, the LAN9118 its PHY's basic status register), and frames
    are counted again once it is up."""
    dut = net.dut
    if not hasattr(dut.backend, "set_link"):
        pytest.skip("the link is switched on the twin only")
    dut.backend.set_link("net0", False)
    try:
        assert _nic(dut).link == "down"
    finally:
        dut.backend.set_link("net0", True)
    # QEMU's e1000 autonegotiates again (link up some 500 ms later); its
    # LAN9118 reports the link at once. Poll a few seconds either way.
    deadline = time.monotonic() + 5
    while (n := _nic(dut)).link != "up" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert n.link == "up"
    _send_frames(net, 3)
    time.sleep(0.5)
    assert _nic(dut).rx_frames >= n.rx_frames + 3
