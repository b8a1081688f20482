"""The HTTP/TCP bench beside a Linux guest (tools/netbench.py,
tools/linux_guest.py, tools/insn_plugin/insn.c): the instruction-counting
plugin builds and counts on a real QEMU, the initramfs is a valid newc
archive, the kernel is taken out of a .deb, the figures' arithmetic and
the table. (The guests themselves run in `flash.py bench`, which also
checks that Linux serves the same /hello.txt and /big bytes as Nagi.)"""

import gzip
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tools import netbench
from tools.bench import format_table
from tools.errors import ToolError
from tools.linux_guest import (INIT_SOURCE, LinuxGuest, build_init, extract_kernel, initramfs,
                               newc_archive)

QEMU = shutil.which("qemu-system-x86_64")
GCC = shutil.which("gcc")


def parse_newc(data: bytes) -> list[dict]:
    """A reader of the newc format, independent of newc_archive."""
    out, pos = [], 0
    while True:
        assert data[pos:pos + 6] == b"070701", pos
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = f[11], f[6]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        assert data[pos + 110 + namesize - 1] == 0
        pos = (pos + 110 + namesize + 3) & ~3
        body = data[pos:pos + filesize]
        pos = (pos + filesize + 3) & ~3
        if name == "TRAILER!!!":
            assert pos == len(data)
            return out
        out.append({"name": name, "mode": f[1], "data": body, "rdev": (f[9], f[10]), "ino": f[0]})


def test_newc_archive_round_trips():
    entries = [("d", 0o040755, None), ("d/x", 0o100644, b"abc"), ("n", 0o020600, None, (5, 1)),
               ("e", 0o100755, b"")]
    got = parse_newc(newc_archive(entries))
    assert [(e["name"], e["mode"], e["data"]) for e in got] == \
        [("d", 0o040755, b""), ("d/x", 0o100644, b"abc"), ("n", 0o020600, b""), ("e", 0o100755, b"")]
    assert got[2]["rdev"] == (5, 1)
    assert len({e["ino"] for e in got}) == 4


def test_initramfs_holds_init_module_and_console():
    blob = initramfs(b"\x7fELF-init", b"module")
    assert blob == initramfs(b"\x7fELF-init", b"module")      # reproducible
    files = {e["name"]: e for e in parse_newc(gzip.decompress(blob))}
    assert files["init"]["data"] == b"\x7fELF-init" and files["init"]["mode"] == 0o100755
    assert files["e1000.ko"]["data"] == b"module"
    assert files["dev/console"]["mode"] == 0o020600 and files["dev/console"]["rdev"] == (5, 1)
    assert files["dev"]["mode"] & 0o170000 == 0o040000


@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="no dpkg-deb")
def test_kernel_and_e1000_come_out_of_a_deb(tmp_path):
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: linux-image-test\nVersion: 1\nArchitecture: amd64\nMaintainer: x <x@y>\n"
        "Description: test\n")
    (root / "boot").mkdir()
    (root / "boot" / "vmlinuz-9.9-test").write_bytes(b"KERNEL")
    (root / "boot" / "config-9.9-test").write_text("CONFIG_E1000=m\n")
    mod = root / "lib/modules/9.9-test/kernel/drivers/net/ethernet/intel/e1000"
    mod.mkdir(parents=True)
    (mod / "e1000.ko").write_bytes(b"MODULE")
    subprocess.run(["dpkg-deb", "--build", "-Zgzip", str(root), str(tmp_path / "k.deb")],
                   check=True, capture_output=True)
    vmlinuz, e1000 = extract_kernel(tmp_path / "k.deb", tmp_path / "out")
    assert vmlinuz.read_bytes() == b"KERNEL" and e1000.read_bytes() == b"MODULE"
    (mod / "e1000.ko").unlink()
    subprocess.run(["dpkg-deb", "--build", "-Zgzip", str(root), str(tmp_path / "k2.deb")],
                   check=True, capture_output=True)
    with pytest.raises(ToolError, match="e1000.ko"):
        extract_kernel(tmp_path / "k2.deb", tmp_path / "out2")


@pytest.mark.skipif(not GCC or not Path("/usr/lib/x86_64-linux-gnu/libc.a").is_file(),
                    reason="no gcc or no static glibc (libc6-dev)")
def test_linux_init_builds_static(tmp_path):
    out = build_init(tmp_path / "init")
    head = out.read_bytes()[:20]
    assert head[:4] == b"\x7fELF"
    r = subprocess.run(["file", str(out)], capture_output=True, text=True)
    if r.returncode == 0:
        assert "statically linked" in r.stdout, r.stdout
    assert b"Hello from Nagi!" in out.read_bytes()   # the same HELLO bytes as httpd


def test_linux_guest_append_names_its_address():
    g = LinuxGuest(Path("k"), Path("i"), "linux-image-x", ip="10.0.2.15")
    assert "console=ttyS0" in g.append() and "nagi.ip=10.0.2.15" in g.append()


def test_init_serves_httpd_s_hello_bytes():
    """init.c's HELLO is httpd's, byte for byte (the bench compares sha256s too)."""
    rust = (Path(__file__).resolve().parents[2] / "userland/apps/httpd/src/main.rs").read_text()
    want = rust.split('pub const HELLO: &[u8] = b"', 1)[1].split('";', 1)[0]
    c = INIT_SOURCE.read_text()
    got = c.split("static const char HELLO[] = ", 1)[1].split(";", 1)[0]
    got = "".join(part.split('"')[1] for part in got.split("\n"))
    assert got == want


def _count(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        return int(s.makefile().readline())


@pytest.mark.skipif(not QEMU or not GCC, reason="needs qemu-system-x86_64 and gcc")
def test_plugin_builds_and_counts_monotonically(tmp_path):
    so = netbench.build_plugin(tmp_path)
    assert netbench.build_plugin(tmp_path) == so          # up to date: not rebuilt
    sock = tmp_path / "insn.sock"
    p = subprocess.Popen([QEMU, "-M", "q35", "-display", "none", "-monitor", "none",
                          "-serial", "none", "-accel", "tcg", "-icount", "shift=0", "-S",
                          *netbench.plugin_args(so, sock)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while not sock.exists():
            assert p.poll() is None, p.stdout.read()
            assert time.monotonic() < deadline, "the plugin's socket never appeared"
            time.sleep(0.05)
        assert _count(sock) == 0              # paused (-S): nothing executed yet
    finally:
        p.kill()
        p.wait()
    # Running: the firmware executes, the count grows and never goes back.
    p = subprocess.Popen([QEMU, "-M", "q35", "-display", "none", "-monitor", "none",
                          "-serial", "none", "-accel", "tcg", "-icount", "shift=0",
                          *netbench.plugin_args(so, sock)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        counts = []
        while len(counts) < 4 or counts[-1] <= 1_000_000:
            assert p.poll() is None, p.stdout.read()
            assert time.monotonic() < deadline
            if sock.exists():
                try:
                    c = _count(sock)
                    if c > 0:
                        counts.append(c)
                except (ConnectionRefusedError, FileNotFoundError, ValueError):
                    pass
            time.sleep(0.2)
    finally:
        p.kill()
        p.wait()
    assert counts[-1] > 1_000_000, counts    # SeaBIOS ran
    assert counts == sorted(counts), counts


RAW = {"requests": 200, "rx_mib": 4, "tx_bytes": 4 << 20, "close_instructions": 20_000_000,
       "keepalive_instructions": 10_000_000, "rx_instructions": 40_000_000,
       "tx_instructions": 8_000_000}


def test_figures_per_request_and_per_mib():
    f = netbench.per_unit(RAW)
    assert f == {"http_request_instructions": 100_000,
                 "http_request_instructions_keepalive": 50_000,
                 "tcp_rx_instructions_per_mib": 10_000_000,
                 "tcp_tx_instructions_per_mib": 2_000_000}


def test_combine_names_linux_twins_and_ratios():
    nagi = netbench.per_unit(RAW)
    linux = {k: v // 2 for k, v in nagi.items()}
    r = netbench.combine(nagi, linux)
    for key in ("http_request_instructions", "http_request_instructions_keepalive",
                "tcp_rx_instructions_per_mib"):
        assert r[key] == nagi[key] and r[key + "_linux"] == linux[key]
    assert r["http_request_ratio_vs_linux"] == 2.0
    assert r["http_request_keepalive_ratio_vs_linux"] == 2.0
    assert r["tcp_rx_ratio_vs_linux"] == 2.0 and r["tcp_tx_ratio_vs_linux"] == 2.0


def _raw(**kw):
    d = dict(RAW, path="/hello.txt", big_sha256="b" * 64, body_sha256="h" * 64,
             close_seconds=1, keepalive_seconds=1, rx_seconds=1, tx_seconds=1)
    d.update(kw)
    return d


def test_measure_refuses_a_linux_guest_serving_other_bytes(monkeypatch, tmp_path):
    import tools.linux_guest as lg
    monkeypatch.setattr(netbench, "build_plugin", lambda d: tmp_path / "p.so")
    monkeypatch.setattr(lg, "ensure_guest", lambda: LinuxGuest(Path("k"), Path("i"), "linux-image-x"))
    monkeypatch.setattr(netbench, "measure_nagi", lambda *a: _raw())
    monkeypatch.setattr(netbench, "measure_linux", lambda *a: _raw(big_sha256="c" * 64))

    class Board:
        class qemu:
            image = "nagi.img"
    with pytest.raises(ToolError, match="other bytes"):
        netbench.measure(Board, tmp_path)
    monkeypatch.setattr(netbench, "measure_linux", lambda *a: _raw(close_instructions=10_000_000))
    r = netbench.measure(Board, tmp_path)
    assert r["http_request_ratio_vs_linux"] == 2.0 and r["linux_kernel"] == "linux-image-x"
    assert r["http_request_instructions_linux"] == 50_000


def test_table_shows_nagi_linux_and_ratio():
    r = {"ipc_roundtrip_instructions_min": 421, "ipc_roundtrip_instructions_median": 421,
         "syscall_null_instructions_min": 38, "syscall_null_instructions_median": 38,
         "boot_to_prompt_ms": 900.0, "board": "pc", "iterations": 10000, "qemu_version": "10.0.2",
         "http_requests": 200, "http_path": "/hello.txt", "tcp_rx_mib": 4,
         "linux_kernel": "linux-image-6.1.0-57-amd64"}
    r.update(netbench.combine(netbench.per_unit(RAW),
                              {k: v // 2 for k, v in netbench.per_unit(RAW).items()}))
    text = format_table(r)
    line = next(l for l in text.splitlines() if l.startswith("HTTP request, new connection"))
    assert line.split()[-3:] == ["100000", "50000", "2.0"]
    assert "TCP receive, per MiB" in text and "linux-image-6.1.0-57-amd64" in text


def test_profile_attributes_blocks_to_kernel_and_tasks(tmp_path):
    """netprofile: kernel blocks (below USER_BASE) by nagi.elf's symbols;
    an address space (CR3) goes to the task ELF whose instruction
    boundaries its blocks start on (all tasks share one link address)."""
    from tools import netprofile

    class Fake:
        def __init__(self, name, starts, syms):
            self.name, self._s, self.syms = name, set(starts), syms

        def starts(self):
            return self._s

        def lookup(self, a):
            return max((s for s in self.syms if s[0] <= a), default=(0, "?"))[1]

    U = netprofile.USER_BASE
    kernel = Fake("nagi.elf", [], [(0x100000, "sys_ipc"), (0x100100, "memset")])
    net = Fake("net", [U + 0x10, U + 0x20], [(U, "net::serve")])
    httpd = Fake("httpd", [U + 0x14, U + 0x30], [(U, "httpd::step")])
    dump = tmp_path / "d.txt"
    dump.write_text(f"0 100010 300\n0 100180 100\naaa {U + 0x10:x} 500\naaa {U + 0x20:x} 100\n"
                    f"bbb {U + 0x14:x} 50\nbbb {U + 0x30:x} 50\n")
    total, owners, fns = netprofile.attribute(dump, kernel, [net, httpd])
    assert total == 1100
    assert owners == {"kernel": 400, "net": 600, "httpd": 100}
    assert fns[("kernel", "sys_ipc")] == 300 and fns[("kernel", "memset")] == 100
    assert fns[("net", "net::serve")] == 600 and fns[("httpd", "httpd::step")] == 100
    text = netprofile.report("keepalive", 10, "request", total, owners, fns, 3)
    assert "110 per request" in text and "net" in text.splitlines()[1]
