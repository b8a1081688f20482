"""4 MiB each way over an impaired link (issue 11): the kit's seeded relay
drops, duplicates, reorders and delays frames between the twin's NIC and
the namespace (tools/netkit; the seed is printed, a failure replays
exactly). Byte-exact: curl's download of httpd's /big is compared by
sha256, the guest's download (the shell's `http get`) by CRC-32.

Same needs as test_net.py (root, /dev/net/tun); the module boots its own
twin on its own impaired network."""

import hashlib
import time
import zlib

import pytest

from tools.netkit.impair import Impairment
from tools.pytest_plugin import _state, boot_twin, nic_qemu_args, session_image, NetDevice, TWIN_MAC

network = pytest.mark.needs("network")
# The seeded lossy link needs the tap/namespace network; CONFIG_NET: the
# `tcpip` fixture (tools/pytest_plugin.py).
pytestmark = [pytest.mark.netns, pytest.mark.usefixtures("tcpip")]

SEED = 11
IMPAIR = Impairment(loss=5.0, duplicate=1.0, reorder=2.0, delay_ms=1.0, jitter_ms=2.0)
BIG = 4 << 20


def _big() -> bytes:
    return bytes(i % 251 for i in range(BIG))


@pytest.fixture(scope="module")
def lossy(request):
    from tools.netkit.namespace import NetKit, available
    st = _state(request.config)
    board = st["board"]
    if not board.nic:
        pytest.skip(f"board '{board.name}' has no NIC ([nic] in board.toml)")
    if st["hardware"]:
        pytest.skip("the kit's network attaches to the twin only")
    why = available()
    if why:
        pytest.skip(why)
    print(f"\nimpaired link: {IMPAIR.describe()}, seed {SEED}")
    with NetKit(st["build"] / "netkit" / "lossy", seed=SEED, impair=IMPAIR) as kit:
        image, disk = session_image(request.config)      # --boot disk: the disk image
        d = boot_twin(request.config, image, "net-lossy",
                      extra=tuple(nic_qemu_args(board, kit)), disk=disk)
        try:
            net = NetDevice(d, kit, TWIN_MAC)
            net.guest = kit.wait_lease(TWIN_MAC, timeout=60)
            yield net
        finally:
            d.close()


@network
def test_4mib_from_the_guest_under_loss_is_byte_exact(lossy):
    import subprocess
    deadline = time.monotonic() + 60
    while True:   # httpd answers once the guest's address is up
        r = lossy.ns(["curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}",
                      f"http://{lossy.guest}/hello.txt"], timeout=20)
        if r.stdout.strip() == "200" or time.monotonic() > deadline:
            break
    t0 = time.monotonic()
    p = subprocess.run(lossy.kit._exec(["curl", "-s", "-m", "600", f"http://{lossy.guest}/big"]),
                       capture_output=True, timeout=660)
    secs = time.monotonic() - t0
    print(f"4 MiB guest -> namespace in {secs:.1f} s under {IMPAIR.describe()}")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) == BIG
    assert hashlib.sha256(p.stdout).hexdigest() == hashlib.sha256(_big()).hexdigest()


@network
def test_4mib_to_the_guest_under_loss_is_byte_exact(lossy):
    host = lossy.host_ip
    srv = lossy.kit.popen(["python3", "-c",
                           "import socket\n"
                           f"s=socket.create_server(('{host}',8082))\n"
                           "c,_=s.accept()\n"
                           "c.recv(4096)\n"
                           f"b=bytes(i%251 for i in range({BIG}))\n"
                           f"c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: {BIG}\\r\\n\\r\\n'+b)\n"
                           "c.close()\n"])
    try:
        time.sleep(2.0)
        t0 = time.monotonic()
        out = lossy.dut.run(f"http get http://{host}:8082/big", timeout=600)
        secs = time.monotonic() - t0
    finally:
        srv.kill()
        srv.wait()
    print(f"4 MiB namespace -> guest in {secs:.1f} s under {IMPAIR.describe()}")
    assert f"http: body {BIG} bytes crc32 {zlib.crc32(_big()):08x}" in out, out
    assert lossy.dut.run("echo still-up") == ["still-up"]
