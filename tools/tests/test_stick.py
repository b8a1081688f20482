"""tools/stick.py: every refusal against fake /sys and /proc trees
(fake_machine.py), the confirmation, write-and-verify against a file, a
real loop device, and a device that drops writes."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tools import stick
from tools.errors import ToolError
from tools.tests.fake_machine import FakeMachine

GB = 10**9


@pytest.fixture
def machine(tmp_path):
    return FakeMachine(tmp_path / "root")


@pytest.fixture
def image(tmp_path):
    p = tmp_path / "nagi-pc.img"
    p.write_bytes(os.urandom(3 * stick.CHUNK + 12345))   # more than one chunk, not a multiple
    return p


def refused(machine, path, force_large=False) -> str:
    with pytest.raises(stick.Refused) as e:
        stick.check_device(path, machine.system(), force_large)
    msg = str(e.value)
    assert "\n" not in msg and path in msg
    return msg


# -- the checks ----------------------------------------------------------
def test_a_usb_stick_passes_and_is_described(machine):
    machine.add_disk("sdb", "8:16", 16 * GB, partitions=2)
    disk = stick.check_device("/dev/sdb", machine.system())
    assert (disk.name, disk.majmin, disk.size) == ("sdb", "8:16", 16 * GB)
    assert disk.describe() == ("SanDisk Cruzer Blade, 16.0 GB (16,000,000,000 bytes), "
                               "serial 4C530001230101117374")


def test_a_by_id_link_is_followed(machine):
    machine.add_disk("sdb", "8:16", 16 * GB)
    disk = stick.check_device("/dev/disk/by-id/usb-SanDisk_Cruzer Blade-sdb", machine.system())
    assert disk.name == "sdb"


def test_refuses_a_disk_that_is_not_removable(machine):
    machine.add_disk("sdb", "8:16", 500 * GB // 2, removable=False)
    assert "not removable (sysfs removable = 0)" in refused(machine, "/dev/sdb")


def test_refuses_the_system_disk(machine):
    # vda holds / in FakeMachine; a removable one that holds / too:
    machine.add_disk("sdb", "8:16", 16 * GB, partitions=2)
    machine.mount("/", "8:18", "/dev/sdb2")
    assert "holds the running system: / is on sdb2" in refused(machine, "/dev/sdb")


def test_refuses_the_system_disk_under_lvm(machine):
    machine.add_disk("sdb", "8:16", 16 * GB, partitions=1)
    machine.add_holder("sdb1", "dm-0", "253:0")
    machine.mount("/", "253:0", "/dev/mapper/vg-dm-0")
    assert "holds the running system: / is on dm-0" in refused(machine, "/dev/sdb")


def test_refuses_a_mounted_disk(machine):
    machine.add_disk("sdb", "8:16", 16 * GB)
    machine.mount("/media/stick", "8:16", "/dev/sdb")
    assert "sdb is mounted on /media/stick" in refused(machine, "/dev/sdb")


def test_refuses_a_disk_with_a_mounted_partition(machine):
    machine.add_disk("sdb", "8:16", 16 * GB, partitions=3)
    machine.mount("/media/my stick", "8:19", "/dev/sdb3")
    assert "sdb3 is mounted on /media/my stick" in refused(machine, "/dev/sdb")


def test_refuses_a_partition_mounted_by_uuid_link_only(machine):
    # Only /proc/self/mounts names it, by a /dev/disk/by-uuid link.
    machine.add_disk("sdb", "8:16", 16 * GB, partitions=1)
    machine.mount("/mnt", None, "/dev/disk/by-uuid/UUID-sdb1", via_mounts_only=True)
    assert "sdb1 is mounted on /mnt" in refused(machine, "/dev/sdb")


def test_refuses_a_disk_used_as_swap(machine):
    machine.add_disk("sdb", "8:16", 16 * GB, partitions=1)
    machine.swap("/dev/sdb1")
    assert "sdb1 is swap" in refused(machine, "/dev/sdb")


def test_other_mounts_do_not_matter(machine):
    machine.add_disk("sdb", "8:16", 16 * GB, partitions=1)
    machine.add_disk("sdc", "8:32", 16 * GB, partitions=1)
    machine.mount("/media/other", "8:33", "/dev/sdc1")
    assert stick.check_device("/dev/sdb", machine.system()).name == "sdb"


def test_refuses_a_large_disk_unless_forced(machine):
    machine.add_disk("sdb", "8:16", 512 * GB)
    assert "larger than 256 GiB" in refused(machine, "/dev/sdb")
    assert "--force-large" in refused(machine, "/dev/sdb")
    disk = stick.check_device("/dev/sdb", machine.system(), force_large=True)
    assert disk.size == 512 * GB


def test_a_256_gb_stick_is_not_large(machine):
    machine.add_disk("sdb", "8:16", 256 * GB)
    assert stick.check_device("/dev/sdb", machine.system()).size == 256 * GB


def test_refuses_a_partition(machine):
    machine.add_disk("sdb", "8:16", 16 * GB, partitions=2)
    msg = refused(machine, "/dev/sdb2")
    assert "is a partition (sdb2 of /dev/sdb): give the whole disk, /dev/sdb" in msg


def test_refuses_a_character_device(machine):
    machine.node("ttyUSB0", stat.S_IFCHR, "188:0")
    assert "not a block device (a character device)" in refused(machine, "/dev/ttyUSB0")


def test_refuses_a_directory(machine):
    assert "not a block device (a directory)" in refused(machine, "/dev/disk")


def test_refuses_a_disk_smaller_than_the_image(machine, image):
    machine.add_disk("sdb", "8:16", 4 << 20)
    with pytest.raises(stick.Refused, match=r"/dev/sdb \(sdb\) is 4.2 MB .*too small"):
        stick.write_stick(image, "/dev/sdb", yes=True, force_large=False,
                          system=machine.system())


def test_a_missing_dev_path_is_not_written_as_a_file(machine, image):
    with pytest.raises(stick.Refused, match="no such device .*plugged in"):
        stick.plan("/dev/sdz", machine.system(), False)
    assert not Path("/dev/sdz").exists()


# -- confirmation -------------------------------------------------------
class Tty(io.StringIO):
    def isatty(self):
        return True


DISK = stick.Disk("/dev/sdb", "sdb", "8:16", 16 * GB, "SanDisk Cruzer Blade", "4C53")


def test_confirmation_shows_model_size_serial_and_accepts_yes(image):
    asked = []
    stick.confirm(DISK, image, yes=False, ask=lambda q: asked.append(q) or "yes", stdin=Tty())
    assert "SanDisk Cruzer Blade" in asked[0] and "16.0 GB" in asked[0] and "4C53" in asked[0]


@pytest.mark.parametrize("answer", ["", "no", "y", "YES please"])
def test_confirmation_refused(image, answer):
    with pytest.raises(stick.Refused, match="not confirmed"):
        stick.confirm(DISK, image, yes=False, ask=lambda q: answer, stdin=Tty())


def test_no_terminal_and_no_yes_refuses(image):
    with pytest.raises(stick.Refused, match="no terminal to confirm on; pass --yes"):
        stick.confirm(DISK, image, yes=False, ask=lambda q: pytest.fail("asked"),
                      stdin=io.StringIO())


def test_yes_does_not_ask(image):
    stick.confirm(DISK, image, yes=True, ask=lambda q: pytest.fail("asked"), stdin=None)


# -- writing -------------------------------------------------------------
class Bar:
    def __init__(self):
        self.fractions, self.closed = [], False

    def update_to(self, f):
        self.fractions.append(f)

    def close(self):
        self.closed = True


def test_write_and_verify_a_file(image, tmp_path, capsys):
    out = tmp_path / "copy.img"
    bar = Bar()
    digest = stick.write_stick(image, str(out), yes=False, force_large=False,
                               system=stick.System(tmp_path / "root"), progress=bar)
    assert out.read_bytes() == image.read_bytes()
    assert digest == hashlib.sha256(image.read_bytes()).hexdigest()
    assert bar.fractions[-1] == 1.0 and bar.closed and len(bar.fractions) == 4
    assert "read back: sha256" in capsys.readouterr().out


def test_an_existing_file_is_overwritten_without_asking(image, tmp_path):
    out = tmp_path / "old.img"
    out.write_bytes(b"x" * (10 * stick.CHUNK))
    stick.write_stick(image, str(out), yes=False, force_large=False, ask=lambda q: "no",
                      system=stick.System(tmp_path / "root"))
    assert out.read_bytes() == image.read_bytes()    # truncated to the image


class DroppingDevice(stick.Target):
    """A device that acknowledges every write but keeps only every other
    chunk (as a fake-capacity stick or a failing flash does): reads give
    back zeros where a write was dropped."""

    def __init__(self):
        super().__init__("/dev/fake", block=True)
        self.data = bytearray()

    def open_write(self):
        dev = self

        class W(io.RawIOBase):
            n = 0

            def writable(self):
                return True

            def write(self, b):
                chunk = bytes(b) if W.n % 2 == 0 else bytes(len(b))
                W.n += 1
                dev.data += chunk
                return len(b)
        return W()

    def settle(self, f):
        pass

    def sync(self, f):
        pass

    def reread_partitions(self, f):
        pass

    def open_read(self):
        return io.BytesIO(bytes(self.data))


def test_verify_catches_a_device_that_drops_writes(image):
    dev = DroppingDevice()
    with pytest.raises(ToolError, match=r"verify /dev/fake: read back sha256 .* did not keep"):
        stick.write_and_verify(image, dev)
    assert len(dev.data) == image.stat().st_size    # every byte was "taken"


def test_verify_catches_a_short_device(image):
    dev = DroppingDevice()
    dev.open_read = lambda: io.BytesIO(image.read_bytes()[:1000])
    with pytest.raises(ToolError, match="read back only 1000 of"):
        stick.write_and_verify(image, dev)


@pytest.fixture
def loop_device(tmp_path):
    """A real loop device over a 64 MiB file (needs root and losetup)."""
    if os.geteuid() != 0:
        pytest.skip("a loop device needs root (losetup)")
    if shutil.which("losetup") is None:
        pytest.skip("no losetup (util-linux mount)")
    backing = tmp_path / "backing.img"
    with open(backing, "wb") as f:
        f.truncate(64 << 20)
    r = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"losetup cannot attach a loop device here: {r.stderr.strip()}")
    dev = r.stdout.strip()
    yield dev, backing
    subprocess.run(["losetup", "-d", dev])


def test_write_and_verify_a_real_loop_device(loop_device, image):
    dev, backing = loop_device
    assert stat.S_ISBLK(os.stat(dev).st_mode)
    stick.write_and_verify(image, stick.Target(dev, block=True))
    subprocess.run(["losetup", "-d", dev], check=True)   # let go, then look at the file
    assert backing.read_bytes()[:image.stat().st_size] == image.read_bytes()


def test_the_real_checks_refuse_a_loop_device(loop_device):
    # The real /sys and /proc: a loop device's removable is 0.
    dev, _ = loop_device
    with pytest.raises(stick.Refused, match=r"not removable \(sysfs removable = 0\)"):
        stick.check_device(dev, stick.System())


def test_the_real_checks_refuse_the_root_file_systems_disk():
    st = os.stat("/")
    sysdev = f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    if not os.path.exists(sysdev):
        pytest.skip(f"/ is not on a block device here ({sysdev} does not exist)")
    name = os.path.basename(os.path.realpath(sysdev))
    system = stick.System()
    disk = system.parent_disk(name)
    if not os.path.exists(f"/dev/{disk}"):
        pytest.skip(f"no /dev/{disk} node here")
    # The real mountinfo puts / on that disk's family (the root check's input) ...
    roots = [system.device_name(mm, src) for mp, mm, src in system.mounts() if mp == "/"]
    assert set(roots) & system.family(disk), f"/ on {roots}, not in {system.family(disk)}"
    # ... and the disk is refused (a fixed disk fails the removable check first).
    with pytest.raises(stick.Refused, match="not removable|holds the running system"):
        stick.check_device(f"/dev/{disk}", system)
