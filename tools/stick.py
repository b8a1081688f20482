"""stick.py - write the pc's disk image to a USB stick, and refuse every
disk it must never touch (`flash.py run --board pc --device /dev/sdX`).

A target is either a plain file (a path that is a regular file or does
not exist, outside /dev: no checks, written and read back; a missing
/dev/sdX is a stick not plugged in, not a file to create) or a whole-disk block device
that passes, in this order (each refusal one line, naming the device):

  1. it is a block device (not a character device, directory, ...);
  2. it is the whole disk, not a partition (sysfs `partition`);
  3. it is removable (sysfs `removable` = 1);
  4. it does not hold the running system: the root file system is not on
     it, on one of its partitions, or on anything stacked on them (dm,
     md: sysfs `holders`);
  5. neither it nor any partition or holder is mounted or used as swap
     (/proc/self/mountinfo by major:minor, /proc/self/mounts by source
     path, /dev/disk/by-* symlinks resolved; /proc/swaps);
  6. it is at most 256 GiB (--force-large to go on): bigger is a disk,
     not a stick.

Then the user confirms, seeing model, size and serial (--yes for racks; no
terminal and no --yes is a refusal), the image is written (O_EXCL: the
kernel refuses a device that is mounted after all), fsync'ed, the device's
buffer cache dropped (BLKFLSBUF), read back and compared by sha256.

Every sysfs, procfs and /dev read goes through System(root), so tests
point it at fake trees; only System.stat (the device node's type and
major:minor) reads the node itself."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ToolError

LARGE_LIMIT = 256 << 30            # bytes; bigger than any stick we expect
CHUNK = 4 << 20                    # bytes per write / read
BLKFLSBUF = 0x1261                 # <linux/fs.h>: flush the device's buffer cache
BLKRRPART = 0x125F                 # <linux/fs.h>: re-read the partition table


class Refused(ToolError):
    """The target failed a check; the message says which, in one line."""


@dataclass(frozen=True)
class Disk:
    """A whole-disk block device as sysfs describes it."""
    path: str                      # as the user gave it
    name: str                      # sdb
    majmin: str                    # 8:16
    size: int                      # bytes
    model: str
    serial: str

    def describe(self) -> str:
        return f"{self.model}, {human_size(self.size)}, serial {self.serial}"


def human_size(n: int) -> str:
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


class System:
    """The machine's /sys, /proc and /dev under `root` (tests: a fake tree)."""

    def __init__(self, root: Path = Path("/")):
        self.root = Path(root)

    def path(self, p: str) -> Path:
        return self.root / p.lstrip("/")

    def read(self, p: str | Path, default: str | None = None) -> str | None:
        try:
            return Path(p if isinstance(p, Path) else self.path(p)).read_text().strip()
        except OSError:
            return default

    def resolve(self, p: str) -> str:
        """`p` with symlinks followed inside root, as an absolute path
        (root's /dev/disk/by-id/usb-... -> /dev/sdb)."""
        real = os.path.realpath(self.path(p))
        try:
            return "/" + os.path.relpath(real, os.path.realpath(self.root))
        except ValueError:
            return real

    def stat(self, p: str):
        """(mode, "major:minor" or None) of the node at `p` (following
        links), or None when nothing is there."""
        try:
            st = os.stat(self.path(p))
        except FileNotFoundError:
            return None
        rdev = st.st_rdev
        is_dev = stat.S_ISBLK(st.st_mode) or stat.S_ISCHR(st.st_mode)
        return st.st_mode, (f"{os.major(rdev)}:{os.minor(rdev)}" if is_dev else None)

    # -- block devices by name (sysfs) -----------------------------------
    def block_dir(self, name: str) -> Path:
        return Path(os.path.realpath(self.path(f"/sys/class/block/{name}")))

    def name_of(self, majmin: str) -> str | None:
        p = self.path(f"/sys/dev/block/{majmin}")
        return os.path.basename(os.path.realpath(p)) if p.exists() else None

    def is_partition(self, name: str) -> bool:
        return (self.block_dir(name) / "partition").exists()

    def parent_disk(self, name: str) -> str:
        return self.block_dir(name).parent.name if self.is_partition(name) else name

    def partitions(self, disk: str) -> list[str]:
        d = self.block_dir(disk)
        return sorted(p.name for p in d.iterdir() if (p / "partition").exists()) \
            if d.is_dir() else []

    def holders(self, name: str) -> list[str]:
        d = self.block_dir(name) / "holders"
        return sorted(p.name for p in d.iterdir()) if d.is_dir() else []

    def family(self, disk: str) -> set[str]:
        """The disk, its partitions and whatever is stacked on them."""
        seen, todo = set(), [disk, *self.partitions(disk)]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += self.holders(n)
        return seen

    def model(self, disk: str) -> str:
        dev = self.block_dir(disk) / "device"
        words = [self.read(dev / f, "") for f in ("vendor", "model")]
        return " ".join(w for w in words if w) or "unknown model"

    def serial(self, disk: str) -> str:
        """The disk's serial, else the USB device's (the nearest parent
        directory of the disk's device that has a `serial`)."""
        dev = Path(os.path.realpath(self.block_dir(disk) / "device"))
        for d in (dev, *dev.parents):
            s = self.read(d / "serial")
            if s:
                return s
            if d == self.path("/sys"):
                break
        return "unknown"

    # -- what is in use (procfs) -----------------------------------------
    def mounts(self) -> list[tuple[str, str | None, str]]:
        """(mount point, major:minor, source) of every mount."""
        out = []
        info = self.read("/proc/self/mountinfo", "") or ""
        for line in info.splitlines():
            f = line.split()
            if len(f) >= 10 and "-" in f:
                src = f[f.index("-") + 2]
                out.append((_unescape(f[4]), f[2], src))
        for line in (self.read("/proc/self/mounts", "") or "").splitlines():
            f = line.split()
            if len(f) >= 2:
                out.append((_unescape(f[1]), None, _unescape(f[0])))
        return out

    def swaps(self) -> list[str]:
        lines = (self.read("/proc/swaps", "") or "").splitlines()[1:]
        return [_unescape(l.split()[0]) for l in lines if l.split()]

    def device_name(self, majmin: str | None, source: str | None) -> str | None:
        """The block device behind a mount: by major:minor, else by its
        source path (symlinks under /dev resolved)."""
        if majmin:
            name = self.name_of(majmin)
            if name:
                return name
        if source and source.startswith("/dev/"):
            name = os.path.basename(self.resolve(source))
            if self.path(f"/sys/class/block/{name}").exists():
                return name
        return None


def _unescape(s: str) -> str:
    """/proc's octal escapes (\\040 for a space)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def check_device(path: str, system: System, force_large: bool = False) -> Disk:
    """The checks of this module's docstring, in that order: the Disk to
    write, or Refused naming the first failed check."""
    st = system.stat(path)
    if st is None:
        raise Refused(f"{path}: no such device")
    mode, majmin = st
    if not stat.S_ISBLK(mode):
        kind = ("a character device" if stat.S_ISCHR(mode) else
                "a directory" if stat.S_ISDIR(mode) else "not a device node")
        raise Refused(f"{path} is not a block device ({kind}): give a whole disk such as /dev/sdb")
    name = system.name_of(majmin)
    if name is None:
        raise Refused(f"{path}: block device {majmin} is not in /sys/dev/block")
    if system.is_partition(name):
        raise Refused(f"{path} is a partition ({name} of /dev/{system.parent_disk(name)}): "
                      f"give the whole disk, /dev/{system.parent_disk(name)}")
    if system.read(f"/sys/class/block/{name}/removable") != "1":
        raise Refused(f"{path} ({name}) is not removable (sysfs removable = 0): "
                      f"only USB sticks and card readers are written")
    family = system.family(name)
    mounts = system.mounts()
    for mountpoint, mm, src in mounts:
        if mountpoint == "/" and system.device_name(mm, src) in family:
            raise Refused(f"{path} ({name}) holds the running system: / is on "
                          f"{system.device_name(mm, src)}")
    for mountpoint, mm, src in mounts:
        dev = system.device_name(mm, src)
        if dev in family:
            raise Refused(f"{path} ({name}) is in use: {dev} is mounted on {mountpoint}; "
                          f"unmount it first")
    for swap in system.swaps():
        dev = system.device_name(None, swap)
        if dev in family:
            raise Refused(f"{path} ({name}) is in use: {dev} is swap; swapoff it first")
    sectors = system.read(f"/sys/class/block/{name}/size", "0")
    size = int(sectors) * 512 if sectors.isdigit() else 0
    if size > LARGE_LIMIT and not force_large:
        raise Refused(f"{path} ({name}) is {human_size(size)}, larger than 256 GiB: is it "
                      f"really a stick? --force-large writes it anyway")
    return Disk(path, name, majmin, size, system.model(name), system.serial(name))


def confirm(disk: Disk, image: Path, yes: bool, ask=input, stdin=None) -> None:
    """Ask before wiping `disk`; --yes skips; no terminal and no --yes refuses."""
    if yes:
        return
    stdin = stdin or sys.stdin
    if not (stdin and stdin.isatty()):
        raise Refused(f"not writing {disk.path} ({disk.describe()}): no terminal to confirm "
                      f"on; pass --yes")
    answer = ask(f"Write {image.name} to {disk.path}: {disk.describe()}?\n"
                 f"Everything on it will be lost. Type 'yes' to go on: ")
    if answer.strip().lower() != "yes":
        raise Refused(f"not writing {disk.path}: not confirmed")


class Target:
    """Where the image goes: open, write, sync, drop caches, read back."""

    def __init__(self, path: str, block: bool):
        self.path, self.block = path, block

    def open_write(self):
        if self.block:
            fd = os.open(self.path, os.O_WRONLY | os.O_EXCL | os.O_CLOEXEC)
        else:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        return os.fdopen(fd, "wb", buffering=0)

    def settle(self, f) -> None:
        """After each chunk: on a device, wait until it is on the medium,
        so the progress bar shows the stick's speed, not the page cache's."""
        if self.block:
            os.fdatasync(f.fileno())

    def sync(self, f) -> None:
        f.flush()
        os.fsync(f.fileno())
        if self.block:
            try:
                fcntl.ioctl(f.fileno(), BLKFLSBUF)
            except OSError:
                pass
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def reread_partitions(self, f) -> None:
        if self.block:
            try:
                fcntl.ioctl(f.fileno(), BLKRRPART)
            except OSError:
                pass

    def open_read(self):
        return open(self.path, "rb", buffering=0)


def write_and_verify(image: Path, target: Target, progress=None, out=print) -> str:
    """Write `image` to `target`, sync, read back as many bytes and compare
    sha256. Returns the hex digest; ToolError (one line) on a mismatch or
    an I/O error."""
    size = image.stat().st_size
    want = hashlib.sha256()
    start = time.monotonic()
    try:
        with open(image, "rb") as src, target.open_write() as dst:
            done = 0
            while chunk := src.read(CHUNK):
                want.update(chunk)
                view = memoryview(chunk)
                while view:
                    n = dst.write(view)
                    if not n:
                        raise ToolError(f"{target.path}: the device took no more bytes at "
                                        f"offset {done}")
                    view, done = view[n:], done + n
                target.settle(dst)
                if progress:
                    progress.update_to(done / size)
            target.sync(dst)
            target.reread_partitions(dst)
        got = hashlib.sha256()
        with target.open_read() as back:
            left = size
            while left:
                chunk = back.read(min(CHUNK, left))
                if not chunk:
                    break
                got.update(chunk)
                left -= len(chunk)
    except OSError as e:
        why = "it is busy (mounted or opened by another program)" if e.errno == errno.EBUSY \
            else os.strerror(e.errno or 0) or str(e)
        raise ToolError(f"cannot write {target.path}: {why}") from None
    finally:
        if progress:
            progress.close()
    if left:
        raise ToolError(f"verify {target.path}: read back only {size - left} of {size} bytes")
    if got.hexdigest() != want.hexdigest():
        raise ToolError(f"verify {target.path}: read back sha256 {got.hexdigest()[:16]}... "
                        f"!= image {want.hexdigest()[:16]}...: the device did not keep "
                        f"what was written")
    out(f"wrote {image.name} to {target.path} ({size // (1 << 20)} MiB in "
        f"{time.monotonic() - start:.1f} s); read back: sha256 {want.hexdigest()[:16]}... "
        f"matches")
    return want.hexdigest()


def plan(path: str, system: System, force_large: bool) -> tuple[Target, Disk | None]:
    """A plain file (a regular file, or nothing there yet) or a checked disk."""
    st = system.stat(path)
    if st is None and os.path.abspath(path).startswith("/dev/"):
        raise Refused(f"{path}: no such device (is the stick plugged in? `lsblk` lists "
                      f"the disks); a file is not written under /dev")
    if st is None or stat.S_ISREG(st[0]):
        if st is None and not Path(path).parent.is_dir():
            raise Refused(f"{path}: no such device, and {Path(path).parent} is not a "
                          f"directory to write a file in")
        return Target(path, block=False), None
    disk = check_device(path, system, force_large)
    return Target(path, block=True), disk


def write_stick(image: Path, path: str, yes: bool, force_large: bool,
                system: System | None = None, ask=input, stdin=None, progress=None) -> str:
    """`flash.py run --device PATH`: check, confirm, write, verify."""
    system = system or System()
    if not image.is_file():
        raise ToolError(f"no disk image at {image}; run `python3 flash.py build` first")
    target, disk = plan(path, system, force_large)
    if disk is not None and disk.size < image.stat().st_size:
        raise Refused(f"{path} ({disk.name}) is {human_size(disk.size)}: too small for "
                      f"{image.name} ({image.stat().st_size:,} bytes)")
    if disk is not None:
        confirm(disk, image, yes, ask, stdin)
    elif Path(path).exists():
        print(f"{path} is a regular file: overwriting it with the image")
    return write_and_verify(image, target, progress)
