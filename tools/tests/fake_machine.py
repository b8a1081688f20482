"""fake_machine.py - a fake /sys, /proc and /dev tree for tools/stick.py,
laid out as Linux lays them out (sysfs block devices as directories under
/sys/devices with /sys/class/block and /sys/dev/block symlinks, a
partition as a subdirectory of its disk with a `partition` file, holders,
the USB device's `serial` above the SCSI device, /dev/disk/by-id links).

Device nodes cannot be made without root, so /dev/<name> is an empty
file and FakeSystem.stat reports it as the block (or character) device
the tree says it is: the one method of stick.System a test replaces."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tools.stick import System


class FakeMachine:
    def __init__(self, root: Path):
        self.root = root
        self.nodes: dict[str, tuple[int, str | None]] = {}
        self.mountinfo: list[str] = []
        self.mounts: list[str] = []
        self.swaps: list[str] = []
        for d in ("sys/class/block", "sys/dev/block", "dev/disk/by-id", "proc/self"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.mount("/", "254:0", "/dev/vda")            # the system disk, by default
        self.add_disk("vda", "254:0", 256 << 30, removable=False, usb=False)

    def _link(self, link: Path, target: Path) -> None:
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(target, link.parent), link)

    def add_disk(self, name: str, majmin: str, size: int, removable: bool = True,
                 usb: bool = True, partitions: int = 0, model: str = "Cruzer Blade",
                 vendor: str = "SanDisk", serial: str = "4C530001230101117374") -> Path:
        major, minor = (int(x) for x in majmin.split(":"))
        usbdev = self.root / f"sys/devices/pci0000:00/usb1/1-1-{name}"
        scsi = usbdev / "1-1:1.0/host0/target0:0:0/0:0:0:0"
        disk = scsi / "block" / name
        disk.mkdir(parents=True)
        (disk / "size").write_text(f"{size // 512}\n")
        (disk / "removable").write_text("1\n" if removable else "0\n")
        (disk / "dev").write_text(majmin + "\n")
        (disk / "holders").mkdir()
        (scsi / "vendor").write_text(f"{vendor:<8}\n")
        (scsi / "model").write_text(f"{model:<16}\n")
        if usb:
            (usbdev / "serial").write_text(serial + "\n")
        self._link(disk / "device", scsi)
        self._link(self.root / f"sys/class/block/{name}", disk)
        self._link(self.root / f"sys/dev/block/{majmin}", disk)
        self.node(name, stat.S_IFBLK, majmin)
        self._link(self.root / f"dev/disk/by-id/usb-{vendor}_{model}-{name}",
                   self.root / f"dev/{name}")
        for i in range(1, partitions + 1):
            part = disk / f"{name}{i}"
            part.mkdir()
            (part / "partition").write_text(f"{i}\n")
            (part / "dev").write_text(f"{major}:{minor + i}\n")
            (part / "holders").mkdir()
            self._link(self.root / f"sys/class/block/{name}{i}", part)
            self._link(self.root / f"sys/dev/block/{major}:{minor + i}", part)
            self.node(f"{name}{i}", stat.S_IFBLK, f"{major}:{minor + i}")
            self._link(self.root / f"dev/disk/by-uuid/UUID-{name}{i}",
                       self.root / f"dev/{name}{i}")
        return disk

    def add_holder(self, below: str, name: str, majmin: str) -> None:
        """A device-mapper device `name` on top of `below` (e.g. LVM on sdb1)."""
        dm = self.root / f"sys/devices/virtual/block/{name}"
        dm.mkdir(parents=True)
        (dm / "dev").write_text(majmin + "\n")
        (dm / "holders").mkdir()
        self._link(self.root / f"sys/class/block/{name}", dm)
        self._link(self.root / f"sys/dev/block/{majmin}", dm)
        below_dir = Path(os.path.realpath(self.root / f"sys/class/block/{below}"))
        self._link(below_dir / "holders" / name, dm)
        self.node(name, stat.S_IFBLK, majmin)
        self._link(self.root / f"dev/mapper/vg-{name}", self.root / f"dev/{name}")

    def node(self, name: str, kind: int, majmin: str | None) -> None:
        p = self.root / "dev" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.touch()
        self.nodes[f"/dev/{name}"] = (kind, majmin)

    def mount(self, mountpoint: str, majmin: str | None, source: str,
              via_mounts_only: bool = False) -> None:
        """A mount: in mountinfo (with major:minor) unless via_mounts_only
        (then only /proc/self/mounts names it, by its source path).
        Spaces are written as the kernel writes them, \\040."""
        mountpoint = mountpoint.replace(" ", "\\040")
        if not via_mounts_only:
            n = len(self.mountinfo) + 20
            self.mountinfo.append(f"{n} 1 {majmin} / {mountpoint} rw,relatime shared:1 - "
                                  f"ext4 {source} rw")
        self.mounts.append(f"{source} {mountpoint} ext4 rw,relatime 0 0")
        self.write_proc()

    def swap(self, source: str) -> None:
        self.swaps.append(f"{source}  partition  1048572  0  -2")
        self.write_proc()

    def write_proc(self) -> None:
        (self.root / "proc/self/mountinfo").write_text("\n".join(self.mountinfo) + "\n")
        (self.root / "proc/self/mounts").write_text("\n".join(self.mounts) + "\n")
        (self.root / "proc/swaps").write_text(
            "Filename  Type  Size  Used  Priority\n" + "\n".join(self.swaps) + "\n")

    def system(self) -> "FakeSystem":
        return FakeSystem(self)


class FakeSystem(System):
    def __init__(self, machine: FakeMachine):
        super().__init__(machine.root)
        self.machine = machine

    def stat(self, p: str):
        real = self.resolve(p)
        if real in self.machine.nodes:
            kind, majmin = self.machine.nodes[real]
            return kind | 0o660, majmin
        return super().stat(p)
