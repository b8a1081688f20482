"""TCP/IP (boards with a [nic]): the `net` server (smoltcp over the NIC
protocol) gets a DHCP lease from the kit's dnsmasq, answers pings and
pings the namespace; `httpd` serves its status page and a static file to
curl in the namespace (404, 400, 405, 431, keep-alive, 8 and 64 clients at once), its
port-9 discard sink takes a stream and closes; the
shell's `ifconfig`, `netstat` and `http get` work; a killed `net` (then a
killed `httpd`) is restarted by init and the page is served again.

Runs on the kit's network (tools/netkit: root and /dev/net/tun) or, where
there is none, on QEMU user networking, where the test marked `netns`
skips saying what that leaves untested.

Elsewhere: 4 MiB each way under loss (test_net_lossy.py), malformed
traffic (test_net_attacks.py); the Linux-guest benchmark is `flash.py
bench` (tools/netbench.py), which also refuses a Linux guest whose
/hello.txt or /big differ from httpd's."""

import hashlib
import re
import subprocess
import time
import zlib

import pytest

from tools.shell_output import parse_ifconfig, parse_ps

network = pytest.mark.needs("network")


pytestmark = pytest.mark.usefixtures("tcpip")   # CONFIG_NET (tools/pytest_plugin.py)

HELLO = (b"Hello from Nagi!\nThis file is served by httpd, a user task, through net "
         b"(smoltcp) and the NIC driver.\n")


def _lease(net, timeout=40.0):
    """The guest's address: dnsmasq's lease for its MAC, once ifconfig
    shows it too."""
    ip = net.kit.wait_lease(net.mac, timeout=timeout)
    deadline = time.monotonic() + 20
    while True:
        cfg = parse_ifconfig(net.dut.run("ifconfig"))
        if cfg.ip == ip or time.monotonic() > deadline:
            return ip, cfg
        time.sleep(0.5)


@pytest.fixture(scope="module")
def guest(net):
    ip, _ = _lease(net)
    # httpd listens once net is up; wait until the port answers.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = net.ns(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                    f"http://{net.web(ip)}/hello.txt"], timeout=15)
        if r.stdout.strip() == "200":
            break
        time.sleep(1)
    return ip


def _wait_ready(srv, timeout=30.0):
    """Until a server started in the namespace says it listens ("ready"):
    a fixed sleep was too short on a loaded machine (the guest's connect
    met no listener and got E_CLOSED)."""
    import select
    ready, _, _ = select.select([srv.stdout], [], [], timeout)
    line = srv.stdout.readline() if ready else ""
    assert line.strip() == "ready", f"the namespace's server did not start ({line!r}, exit {srv.poll()})"


def curl(net, *args, timeout=30):
    return net.ns(["curl", "-s", "-m", "20", *args], timeout=timeout)


@network
def test_dhcp_lease_and_ifconfig_agree(net):
    ip, cfg = _lease(net)
    assert cfg.ip == ip, cfg
    assert cfg.how == "dhcp" and cfg.prefix == 24 and cfg.gateway == net.host_ip, cfg
    assert cfg.mac == net.mac and cfg.link == "up", cfg
    assert cfg.rx_frames > 0 and cfg.tx_frames > 0, cfg


@network
@pytest.mark.netns
def test_namespace_pings_the_guest(net, guest):
    r = net.ns(["ping", "-c", "5", "-i", "0.2", "-W", "2", guest], timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0% packet loss" in r.stdout, r.stdout


@network
def test_guest_pings_the_namespace(net, guest):
    out = net.dut.run(f"ping {net.host_ip} -c 3", timeout=20)
    assert out[-1] == "ping: 3 transmitted, 3 received", out
    assert sum(1 for l in out if re.match(rf"64 bytes from {re.escape(net.host_ip)}: icmp_seq=\d+ time=", l)) == 3
    # Nobody at .254: no answer, said per try.
    out = net.dut.run("ping 10.0.2.254 -c 1", timeout=20)
    assert out[-1] == "ping: 1 transmitted, 0 received", out


@network
def test_status_page_and_static_file(net, guest):
    r = curl(net, "-i", f"http://{net.web(guest)}/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("HTTP/1.1 200 OK"), r.stdout[:200]
    assert "uptime:" in r.stdout and "memory:" in r.stdout and "tasks:" in r.stdout
    # The kernel's IPC counters: serving a page takes messages, so a second
    # look shows more of each kind that moved.
    ipc = re.compile(r"^ipc: (\d+) messages \((\d+) through the fastpath\), (\d+) notifications, "
                     r"(\d+) kernel calls$", re.M)
    first = [int(x) for x in ipc.search(r.stdout).groups()]
    again = [int(x) for x in ipc.search(curl(net, f"http://{net.web(guest)}/").stdout).groups()]
    assert first[1] <= first[0] and all(x > 0 for x in first), first
    assert again[0] > first[0] and again[2] > first[2] and again[3] > first[3], (first, again)
    assert re.search(r"^\d+ net \w+", r.stdout, re.M), r.stdout
    got = _curl_bytes(net, f"http://{net.web(guest)}/hello.txt")
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(HELLO).hexdigest(), got


def _curl_bytes(net, url):
    import subprocess
    p = subprocess.run(net.kit._exec(["curl", "-s", "-m", "20", url]), capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


@network
def test_errors_404_405_400_431(net, guest):
    code = lambda *a: curl(net, "-o", "/dev/null", "-w", "%{http_code}", *a).stdout.strip()
    assert code(f"http://{net.web(guest)}/nope") == "404"
    assert code("-X", "DELETE", f"http://{net.web(guest)}/") == "405"
    # A malformed request, and one too large, from a raw socket.
    host, _, port = net.web(guest).partition(":")
    port = port or "80"
    script = (
        "import socket,sys\n"
        "def ask(data):\n"
        f"    s=socket.create_connection(('{host}',{port}),timeout=10)\n"
        "    s.sendall(data)\n"
        "    out=b''\n"
        "    while True:\n"
        "        b=s.recv(4096)\n"
        "        if not b: break\n"
        "        out+=b\n"
        "    return out.split(b'\\r\\n')[0].decode()\n"
        "print(ask(b'GARBAGE\\r\\n\\r\\n'))\n"
        "print(ask(b'GET / HTTP/1.1\\r\\nHost: x\\r\\nX-Pad: ' + b'a'*3000 + b'\\r\\n\\r\\n'))\n"
    )
    r = net.ns(["python3", "-c", script], timeout=40)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["HTTP/1.1 400 Bad Request",
                                     "HTTP/1.1 431 Request Header Fields Too Large"], r.stdout


@network
def test_keep_alive_serves_two_requests_on_one_connection(net, guest):
    r = curl(net, "-v", "-o", "/dev/null", "-o", "/dev/null",
             f"http://{net.web(guest)}/hello.txt", f"http://{net.web(guest)}/")
    assert r.returncode == 0, r.stderr
    assert "Re-using existing connection" in r.stderr or "Reusing existing" in r.stderr, r.stderr
    assert r.stderr.count("< HTTP/1.1 200 OK") == 2, r.stderr


@network
def test_eight_concurrent_clients(net, guest):
    import subprocess
    procs = [net.kit.popen(["curl", "-s", "-m", "30", "-o", "/dev/null", "-w", "%{http_code}",
                            f"http://{net.web(guest)}/"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True) for _ in range(8)]
    codes = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert codes == ["200"] * 8, codes


@network
@pytest.mark.netns              # QEMU user networking forwards port 80 only
def test_discard_sink_takes_a_stream_and_closes(net, guest):
    """httpd's port-9 sink (the bench's TCP receive figure): 256 KiB in,
    then our FIN; it closes once it has read it all, sending nothing."""
    script = (
        "import socket\n"
        f"s=socket.create_connection(('{guest}',9),timeout=30)\n"
        "s.sendall(bytes(range(256))*1024)\n"
        "s.shutdown(socket.SHUT_WR)\n"
        "got=b''\n"
        "while True:\n"
        "    b=s.recv(4096)\n"
        "    if not b: break\n"
        "    got+=b\n"
        "print(len(got))\n"
    )
    r = net.ns(["python3", "-c", script], timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0", r.stdout


@network
def test_sixty_four_concurrent_clients(net, guest):
    import subprocess
    procs = [net.kit.popen(["curl", "-s", "-m", "60", "-o", "/dev/null", "-w", "%{http_code}",
                            f"http://{net.web(guest)}/hello.txt"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True) for _ in range(64)]
    codes = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert codes.count("200") == 64, sorted(codes)
    # All closed again: netstat shows no connection left established.
    time.sleep(1.0)
    assert not [l for l in net.dut.run("netstat") if "ESTABLISHED" in l]


@network
def test_shell_netstat_and_http_get(net, guest):
    out = net.dut.run("netstat")
    assert out[0] == "ID PROTO PORT REMOTE STATE RECVQ SENDQ", out
    assert any(re.match(r"^0x[0-9a-f]+ tcp 80 - LISTEN 0 0$", l) for l in out), out
    # The guest's TCP client: a one-shot server in the namespace answers.
    srv = net.kit.popen(["python3", "-c",
                         "import http.server,socketserver\n"
                         "class H(http.server.SimpleHTTPRequestHandler):\n"
                         "    def do_GET(self):\n"
                         "        b=b'x'*1000\n"
                         "        self.send_response(200);self.send_header('Content-Length',str(len(b)));"
                         "self.end_headers();self.wfile.write(b)\n"
                         "    def log_message(self,*a): pass\n"
                         f"s=socketserver.TCPServer(('{net.bind_ip}',8080),H)\n"
                         "print('ready',flush=True)\n"
                         "s.handle_request()\n"], stdout=subprocess.PIPE, text=True)
    try:
        _wait_ready(srv)
        out = net.dut.run(f"http get http://{net.host_ip}:8080/file", timeout=30)
    finally:
        srv.kill()
        srv.wait()
    assert "http: HTTP/1.0 200 OK" in out, out
    assert f"http: body 1000 bytes crc32 {zlib.crc32(b'x' * 1000):08x}" in out, out


@network
def test_a_slow_reader_is_flow_controlled(net, guest):
    """The shell reads 216 bytes per IPC, far slower than the namespace
    sends: a 1 MiB body arrives whole and counted exactly, while net's
    memory stays at its fixed socket buffers (the TCP window closes)."""
    size = 1 << 20
    before = {t.name: t.pages for t in parse_ps(net.dut.run("ps"))}
    srv = net.kit.popen(["python3", "-c",
                         "import socket\n"
                         f"s=socket.create_server(('{net.bind_ip}',8081))\n"
                         "print('ready',flush=True)\n"
                         "c,_=s.accept()\n"
                         "c.recv(4096)\n"
                         f"c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: {size}\\r\\n\\r\\n' + b'z'*{size})\n"
                         "c.close()\n"], stdout=subprocess.PIPE, text=True)
    try:
        _wait_ready(srv)
        t0 = time.monotonic()
        out = net.dut.run(f"http get http://{net.host_ip}:8081/big", timeout=240)
        secs = time.monotonic() - t0
    finally:
        srv.kill()
        srv.wait()
    assert "http: HTTP/1.0 200 OK" in out, out
    assert f"http: body {size} bytes crc32 {zlib.crc32(b'z' * size):08x}" in out, out
    after = {t.name: t.pages for t in parse_ps(net.dut.run("ps"))}
    print(f"1 MiB through the shell's 216-byte reads in {secs:.1f} s; net pages {before['net']} -> {after['net']}")
    # One connection's buffers are 40 KiB (10 pages); a server that
    # buffered the stream would have grown by hundreds of pages.
    assert after["net"] - before["net"] <= 16, (before["net"], after["net"])


@network
def test_nic_driver_killed_mid_transfer(board, net, guest):
    """The NIC driver (e1000 on the pc, lan9118 on mps2-an386: board.toml
    [nic] model) killed while httpd sends 4 MiB: init restarts it, net
    finds it again by name, and the transfer completes byte-exact (TCP
    resends what was lost meanwhile) or fails cleanly; the page is served
    after."""
    import subprocess
    dut = net.dut
    driver = board.nic["model"]
    p = net.kit.popen(["curl", "-s", "-m", "180", f"http://{net.web(guest)}/big"],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        # The shell runs below net and the driver (priority 3 and 2): on
        # the MCU twin a bulk transfer can hold its prompt back for
        # seconds on a loaded host, hence the long timeouts.
        drv = [t for t in parse_ps(dut.run("ps", timeout=60))
               if t.name == driver and t.state not in ("killed", "exited")]
        assert len(drv) == 1, drv
        mark = dut.mark()
        assert dut.run(f"kill {drv[0].tid}", timeout=60) == ["kill: ok"]
        dut.expect(rf"init: {driver} restarted as task \d+ \(restart \d+\)$", since=mark)
        dut.expect(rf"{driver}: {net.mac} irq \d+ link up", since=mark)
        out, err = p.communicate(timeout=240)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    big = bytes(i % 251 for i in range(4 << 20))
    if p.returncode == 0:
        assert hashlib.sha256(out).hexdigest() == hashlib.sha256(big).hexdigest(), len(out)
        print(f"\n4 MiB completed across the driver's restart, byte-exact")
    else:
        assert len(out) < len(big) and big.startswith(out), (p.returncode, len(out))
        print(f"\ntransfer failed cleanly (curl exit {p.returncode}) after {len(out)} exact bytes")
    r = curl(net, "-o", "/dev/null", "-w", "%{http_code}", f"http://{net.web(guest)}/hello.txt")
    assert r.stdout.strip() == "200"


def _check_refusals(out):
    assert out[-1] == "nettest: ok", out
    assert "nettest: malformed E_INVAL, foreign and stale ids E_BADCH" in out, out
    assert "nettest: 24 sockets, then E_NOMEM" in out, out


@network
def test_socket_protocol_refusals_and_udp_echo(net, guest):
    srv = net.kit.popen(["python3", "-c",
                         "import socket\n"
                         "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                         f"s.bind(('{net.bind_ip}',7777))\n"
                         "print('ready',flush=True)\n"
                         "d,a=s.recvfrom(2048)\n"
                         "s.sendto(d,a)\n"], stdout=subprocess.PIPE, text=True)
    try:
        _wait_ready(srv)
        out = net.dut.run(f"nettest {net.host_ip}:7777", timeout=30)
    finally:
        srv.kill()
        srv.wait()
    _check_refusals(out)
    assert f"nettest: udp echo 8 bytes from {net.host_ip}:7777: nagi udp" in out, out


def test_socket_protocol_refusals_without_a_card(board, dut):
    """net runs (and refuses hostile requests) on every boot of a board
    with a [nic], also when the twin has no network: the pc twin then has
    no card at all; mps2-an386's LAN9118 is on the board, there with no
    cable (`-nic none`), so net has the card and no address yet."""
    if not board.nic:
        pytest.skip(f"board '{board.name}' has no NIC ([nic] in board.toml)")
    _check_refusals(dut.run("nettest", timeout=30))
    out = dut.run("ifconfig")
    if "qemu_nic_model" in board.nic:      # on the board: the twin always has it
        assert out[0] in ("net0: inet none unconfigured",) or out[0].endswith(" static"), out
        assert re.fullmatch(r"net0: ether [0-9a-f:]{17} link (up|down)", out[1]), out
    else:
        assert out[:2] == ["net0: inet none unconfigured", "net0: no NIC (network off)"]


@network
def test_killed_net_and_httpd_are_restarted_and_serve_again(net, guest):
    dut = net.dut
    for name in ("net", "httpd"):
        tasks = [t for t in parse_ps(dut.run("ps")) if t.name == name and t.state not in ("killed", "exited")]
        assert len(tasks) == 1, tasks
        mark = dut.mark()
        assert dut.run(f"kill {tasks[0].tid}") == ["kill: ok"]
        dut.expect(rf"init: {name} \(task {tasks[0].tid}\) died; restarting it in \d+ ms$", since=mark)
        dut.expect(rf"init: {name} restarted as task \d+ \(restart \d+\)$", since=mark)
        # The new instance's own line (whole, before the next command).
        # (httpd listens again after either restart: net's restart took
        # its sockets.)
        if name == "net":
            dut.expect(r"net: dhcp [\d.]+/24 gateway [\d.]+$", timeout=30, since=mark)
        dut.expect(r"httpd: listening on port 80$", timeout=30, since=mark)
        deadline = time.monotonic() + 60
        while True:
            r = curl(net, "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", f"http://{net.web(guest)}/hello.txt")
            if r.stdout.strip() == "200":
                break
            assert time.monotonic() < deadline, f"no page after {name} restarted"
            time.sleep(1)
        # The lease is the same address (the DHCP server knows the MAC).
        assert parse_ifconfig(dut.run("ifconfig")).ip == guest
        if net.kit.mode == "netns":
            assert net.kit.leases().get(net.mac) == guest
    assert "uptime:" in curl(net, f"http://{net.web(guest)}/").stdout
    assert dut.run("echo still-up") == ["still-up"]


@network
@pytest.mark.netns
def test_static_fallback_then_a_late_lease(request, board, build):
    """No DHCP server: after NET_DHCP_TIMEOUT_MS net takes the Kconfig
    static address and serves there; a DHCP server started later gives
    it a lease, which replaces the static address."""
    from tools.netkit.namespace import NetKit
    from tools.pytest_plugin import TWIN_MAC, NetDevice, boot_twin, nic_qemu_args, session_image
    cfg = dict(l.split("=", 1) for l in (build / ".config").read_text().splitlines()
               if l.startswith("CONFIG_NET_"))
    static = cfg["CONFIG_NET_STATIC_ADDRESS"].strip('"')
    timeout_ms = int(cfg["CONFIG_NET_DHCP_TIMEOUT_MS"])
    with NetKit(build / "netkit" / "static", dhcp=False) as kit:
        image, disk = session_image(request.config)     # --boot disk: the disk image
        dut = boot_twin(request.config, image, "net-static",
                        extra=tuple(nic_qemu_args(board, kit)), disk=disk)
        try:
            net = NetDevice(dut, kit, TWIN_MAC)
            dut.expect(rf"net: no DHCP answer in {timeout_ms} ms; static {re.escape(static)}/24 "
                       rf"gateway {re.escape(net.host_ip)}$", timeout=timeout_ms / 1000 + 60, since=0)
            cfg = parse_ifconfig(dut.run("ifconfig"))
            assert (cfg.ip, cfg.how, cfg.gateway) == (static, "static", net.host_ip), cfg
            r = curl(net, "-o", "/dev/null", "-w", "%{http_code}", f"http://{static}/hello.txt")
            assert r.stdout.strip() == "200", r.stderr
            mark = dut.mark()
            kit.start_dhcp()
            m = dut.expect(rf"net: dhcp ([\d.]+)/24 gateway {re.escape(net.host_ip)}$", timeout=90,
                           since=mark)
            leased = m.group(1)
            assert kit.wait_lease(TWIN_MAC, timeout=10) == leased
            cfg = parse_ifconfig(dut.run("ifconfig"))
            assert (cfg.ip, cfg.how) == (leased, "dhcp"), cfg
            r = curl(net, "-o", "/dev/null", "-w", "%{http_code}", f"http://{leased}/hello.txt")
            assert r.stdout.strip() == "200", r.stderr
        finally:
            dut.close()
