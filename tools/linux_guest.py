"""linux_guest.py - the Linux guest `flash.py bench` measures beside Nagi:
Debian's kernel (linux-image-amd64's current image package) and an
initramfs whose only program is tools/linux_guest/init.c, built with
`gcc -static` (it loads e1000.ko, sets the address, serves /, /hello.txt
and /big as httpd does, and a discard sink on port 9).

Everything is cached in build/linux-guest/: the kernel .deb is fetched
with `apt-get download` (no install, no root needed), only vmlinuz and
e1000.ko are taken out of it (`dpkg-deb --fsys-tarfile`), and the deb is
then deleted; the initramfs (cpio "newc", gzip) is written here in
Python, so no loop mounts, no root and no cpio tool are needed. A later
run reuses all of it; the initramfs is rebuilt when init.c changes."""

from __future__ import annotations

import gzip
import io
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ToolError
from .paths import BUILD_ROOT, REPO, write_if_changed

INIT_SOURCE = REPO / "tools" / "linux_guest" / "init.c"
META_PACKAGE = "linux-image-amd64"
E1000 = "kernel/drivers/net/ethernet/intel/e1000/e1000.ko"
GUEST_IP = "10.0.2.15"             # outside the kit's DHCP range (10.0.2.100-199)


@dataclass(frozen=True)
class LinuxGuest:
    kernel: Path
    initrd: Path
    kernel_package: str
    ip: str = GUEST_IP

    def append(self) -> str:
        """The kernel command line: serial console, quiet, the address."""
        return f"console=ttyS0 quiet panic=-1 nagi.ip={self.ip}"


def kernel_package(meta: str = META_PACKAGE) -> str:
    """The image package `meta` depends on at its candidate version
    (linux-image-amd64 -> linux-image-6.1.0-57-amd64)."""
    r = subprocess.run(["apt-cache", "depends", "--no-recommends", "--no-suggests", meta],
                       capture_output=True, text=True)
    m = re.search(r"Depends:\s+(linux-image-\S+)", r.stdout)
    if r.returncode != 0 or not m:
        raise ToolError(f"cannot resolve {meta} (apt-cache depends): "
                        f"{(r.stderr or r.stdout).strip()[:200]}")
    return m.group(1)


def extract_kernel(deb: Path, dest: Path) -> tuple[Path, Path]:
    """vmlinuz and e1000.ko out of a linux-image .deb, into `dest`."""
    p = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    vmlinuz = e1000 = None
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=p.stdout, mode="r|") as tar:
        for m in tar:
            name = m.name.lstrip("./")
            if m.isfile() and re.fullmatch(r"boot/vmlinuz-.*", name):
                vmlinuz = dest / "vmlinuz"
                vmlinuz.write_bytes(tar.extractfile(m).read())
            elif m.isfile() and name.endswith(E1000):
                e1000 = dest / "e1000.ko"
                e1000.write_bytes(tar.extractfile(m).read())
    if p.wait() != 0:
        raise ToolError(f"dpkg-deb --fsys-tarfile {deb} failed")
    if vmlinuz is None or e1000 is None:
        raise ToolError(f"{deb.name}: no {'vmlinuz' if vmlinuz is None else E1000} in it")
    return vmlinuz, e1000


def newc_archive(entries: list[tuple]) -> bytes:
    """A cpio archive in the "newc" format the kernel unpacks as its
    initramfs. entries: (name, mode, data) for files and directories
    (mode with its S_IF* bits), (name, mode, None, (major, minor)) for
    device nodes."""
    out = io.BytesIO()

    def put(ino, name, mode, data=b"", rdev=(0, 0)):
        nb = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0)
        out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + nb)
        out.write(b"\0" * (-(110 + len(nb)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    for ino, e in enumerate(entries, start=1):
        name, mode, data = e[0], e[1], e[2] or b""
        put(ino, name, mode, data, e[3] if len(e) > 3 else (0, 0))
    put(0, "TRAILER!!!", 0)
    return out.getvalue()


def initramfs(init: bytes, e1000: bytes) -> bytes:
    """The gzipped initramfs: /init, /e1000.ko, /dev/console, /proc
    (mtime 0, so the same inputs give the same bytes)."""
    cpio = newc_archive([
        ("dev", 0o040755, None),
        ("dev/console", 0o020600, None, (5, 1)),
        ("proc", 0o040555, None),
        ("init", 0o100755, init),
        ("e1000.ko", 0o100644, e1000),
    ])
    return gzip.compress(cpio, mtime=0)


def build_init(out: Path, source: Path = INIT_SOURCE) -> Path:
    if out.is_file() and out.stat().st_mtime >= source.stat().st_mtime:
        return out
    gcc = shutil.which("gcc")
    if gcc is None:
        raise ToolError("gcc is not installed (the Linux guest's /init is built with gcc -static)")
    r = subprocess.run([gcc, "-static", "-O2", "-Wall", "-o", str(out), str(source)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise ToolError(f"gcc -static {source.name}: {r.stderr.strip()[-400:]} "
                        f"(static glibc comes with libc6-dev)")
    return out


def ensure_guest(root: Path = BUILD_ROOT / "linux-guest") -> LinuxGuest:
    """The kernel and initramfs, fetched and built once, then reused."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = root / "kernel-package"
    kdir = root / "kernel"
    if stamp.is_file() and (kdir / "vmlinuz").is_file() and (kdir / "e1000.ko").is_file():
        package = stamp.read_text().strip()
    else:
        package = kernel_package()
        debs = root / "debs"
        shutil.rmtree(debs, ignore_errors=True)
        debs.mkdir()
        print(f"linux guest: apt-get download {package}")
        r = subprocess.run(["apt-get", "download", package], cwd=debs,
                           capture_output=True, text=True)
        found = list(debs.glob("*.deb"))
        if r.returncode != 0 or not found:
            raise ToolError(f"apt-get download {package}: {r.stderr.strip()[-300:]}")
        extract_kernel(found[0], kdir)
        shutil.rmtree(debs, ignore_errors=True)
        stamp.write_text(package + "\n")
    init = build_init(root / "init")
    initrd = root / "initrd.cpio.gz"
    write_if_changed(initrd, initramfs(init.read_bytes(), (kdir / "e1000.ko").read_bytes()))
    return LinuxGuest(kdir / "vmlinuz", initrd, package)
