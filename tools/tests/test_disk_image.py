"""tools/disk_image.py and tools/gpt.py: the pc's disk image read back -
GPT headers and entries (CRCs, protective MBR), GRUB's boot.img and
core.img where BIOS looks for them, the ESP's files (mtools), and the
multiboot/multiboot2 choice. The image is built for real from Debian's
GRUB packages when they are installed (flash.py installs them)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import uuid
import zlib
from pathlib import Path

import pytest

from tools import disk_image, gpt
from tools.errors import ToolError

HAVE_TOOLS = (shutil.which("grub-mkimage") and shutil.which("mcopy")
              and (disk_image.GRUB_LIB / "i386-pc" / "moddep.lst").is_file()
              and (disk_image.GRUB_LIB / "x86_64-efi" / "moddep.lst").is_file())
needs_tools = pytest.mark.skipif(not HAVE_TOOLS, reason="needs grub-pc-bin, grub-efi-amd64-bin "
                                 "and mtools (flash.py installs them as root)")


def fake_kernel(header: str) -> bytes:
    """A kernel-shaped blob with a Multiboot (v1) or Multiboot2 header."""
    blob = bytearray(os.urandom(64 * 1024))
    # Clear any accidental magic in the random bytes.
    for magic in (disk_image.MULTIBOOT1_MAGIC, disk_image.MULTIBOOT2_MAGIC):
        raw = magic.to_bytes(4, "little")
        while (i := blob.find(raw)) >= 0:
            blob[i] ^= 0xFF
    if header == "mb1":
        flags = 3
        blob[0x1000:0x100C] = struct.pack("<III", disk_image.MULTIBOOT1_MAGIC, flags,
                                          (-(disk_image.MULTIBOOT1_MAGIC + flags)) & 0xFFFFFFFF)
    elif header == "mb2":
        m, arch, length = disk_image.MULTIBOOT2_MAGIC, 0, 24
        blob[0x2008:0x2018] = struct.pack("<IIII", m, arch, length,
                                          (-(m + arch + length)) & 0xFFFFFFFF)
    return bytes(blob)


def test_multiboot_choice():
    assert disk_image.multiboot_command(fake_kernel("mb1")) == "multiboot"
    assert disk_image.multiboot_command(fake_kernel("mb2")) == "multiboot2"
    both = bytearray(fake_kernel("mb1"))
    both[0x2008:0x2018] = fake_kernel("mb2")[0x2008:0x2018]
    assert disk_image.multiboot_command(bytes(both)) == "multiboot2"


def test_multiboot2_magic_must_be_aligned_checked_and_early():
    k = bytearray(fake_kernel("none"))
    good = fake_kernel("mb2")[0x2008:0x2018]
    k[0x2004:0x2014] = good                           # 4-byte aligned only
    with pytest.raises(ToolError, match="no Multiboot or Multiboot2 header"):
        disk_image.multiboot_command(bytes(k))
    k = bytearray(fake_kernel("none")) + bytes(64 * 1024)
    k[0x9000:0x9010] = good                           # beyond 32 KiB
    with pytest.raises(ToolError):
        disk_image.multiboot_command(bytes(k))


def test_grub_cfg_has_the_serial_console_and_the_command():
    cfg = disk_image.grub_cfg("multiboot2")
    assert "serial --unit=0 --speed=115200\n" in cfg
    assert "terminal_input serial console\nterminal_output serial console\n" in cfg
    assert "set timeout=0\n" in cfg and "multiboot2 /boot/nagi.img\n" in cfg
    assert "set default=0\n" in cfg


def test_grub_cfg_offers_the_pic_path_as_a_second_entry():
    cfg = disk_image.grub_cfg("multiboot2", default=1)
    assert cfg.count("menuentry ") == 2
    assert "multiboot2 /boot/nagi.img irq=pic\n" in cfg
    assert "set default=1\n" in cfg
    with pytest.raises(ToolError, match="no menu entry 2"):
        disk_image.grub_cfg("multiboot2", default=2)


def test_gpt_round_trip_and_checks(tmp_path):
    table = disk_image.Layout(40).table("seed")
    p = tmp_path / "t.img"
    with open(p, "wb+") as f:
        f.truncate(table.sectors * gpt.SECTOR)
        gpt.write(f, table, b"\xeb\x63" + bytes(100))
        assert gpt.read(f, table.sectors) == table
        # A flipped byte in the backup entry array is caught by its CRC.
        f.seek((table.last_usable + 1) * gpt.SECTOR + 200)
        f.write(b"\x55")
        with pytest.raises(gpt.GptError, match="LBA %d: entry array CRC32" % (table.sectors - 1)):
            gpt.read(f, table.sectors)


def test_the_same_kernel_gives_the_same_table():
    a, b = disk_image.Layout().table("k1"), disk_image.Layout().table("k1")
    assert a == b and a != disk_image.Layout().table("k2")


def test_boot_img_and_core_img_patches():
    boot = bytes(range(256)) * 2
    code = disk_image.patch_boot_img(boot, 2048)
    assert len(code) == 440
    assert struct.unpack_from("<Q", code, 0x5C)[0] == 2048
    assert code[0x66:0x68] == b"\x90\x90"
    core = bytearray(3 * 512)
    struct.pack_into("<QHH", core, 500, 2, 2, 0x820)   # as grub-mkimage leaves it
    out = disk_image.patch_core_img(bytes(core), 2048, 2048)
    assert struct.unpack_from("<QHH", out, 500) == (2049, 2, 0x820)
    with pytest.raises(ToolError, match="needs 3 sectors"):
        disk_image.patch_core_img(bytes(core), 2048, 2)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not HAVE_TOOLS:
        pytest.skip("needs grub-pc-bin, grub-efi-amd64-bin and mtools")
    d = tmp_path_factory.mktemp("disk")
    kernel = d / "nagi.img"
    kernel.write_bytes(fake_kernel("mb1"))
    out = disk_image.build_image(kernel, d / "nagi-pc.img")
    return kernel, out


def read_table(path: Path) -> gpt.Table:
    with open(path, "rb") as f:
        return gpt.read(f, path.stat().st_size // gpt.SECTOR)


@needs_tools
def test_image_gpt_and_protective_mbr(built):
    _, img = built
    table = read_table(img)               # checks signatures, CRCs, LBAs, both copies
    bios, esp = table.partitions
    assert bios.type_guid == uuid.UUID("21686148-6449-6e6f-744e-656564454649")
    assert esp.type_guid == uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
    assert bios.first_lba % 2048 == 0 and esp.first_lba % 2048 == 0   # 1 MiB aligned
    raw = img.read_bytes()
    mbr = raw[:512]
    assert mbr[510:] == b"\x55\xaa"
    status, chs1, kind, chs2, start, size = struct.unpack_from("<B3sB3sII", mbr, 446)
    assert (kind, start, size) == (0xEE, 1, len(raw) // 512 - 1)
    # The header CRC recomputed here, independently of gpt.read.
    hdr = bytearray(raw[512:512 + 92])
    crc = struct.unpack_from("<I", hdr, 16)[0]
    hdr[16:20] = bytes(4)
    assert zlib.crc32(hdr) == crc
    entries_crc = struct.unpack_from("<I", raw, 512 + 88)[0]
    assert zlib.crc32(raw[1024:1024 + 128 * 128]) == entries_crc


@needs_tools
def test_image_bios_boot_code(built):
    _, img = built
    raw = img.read_bytes()
    boot = (disk_image.GRUB_LIB / "i386-pc" / "boot.img").read_bytes()
    table = read_table(img)
    bios = table.partitions[0]
    assert raw[:0x5C] == boot[:0x5C]                    # boot.img's code, unpatched part
    assert struct.unpack_from("<Q", raw, 0x5C)[0] == bios.first_lba
    core = raw[bios.offset:bios.offset + bios.size]
    diskboot = (disk_image.GRUB_LIB / "i386-pc" / "diskboot.img").read_bytes()
    assert core[:0x100] == diskboot[:0x100]             # core.img starts with diskboot.img
    start, count, _ = struct.unpack_from("<QHH", core, 500)
    assert start == bios.first_lba + 1
    assert 0 < count < bios.size // 512


def mtools(cmd: list[str], img: Path, offset: int) -> bytes:
    r = subprocess.run([cmd[0], "-i", f"{img}@@{offset}", *cmd[1:]], capture_output=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    assert r.returncode == 0, r.stderr
    return r.stdout


@needs_tools
def test_image_esp_files(built):
    kernel, img = built
    esp = read_table(img).partitions[1]
    listing = mtools(["mdir", "-b", "-/", "::"], img, esp.offset).decode()
    for path in ("::/EFI/BOOT/BOOTX64.EFI", "::/boot/grub/grub.cfg", "::/boot/nagi.img"):
        assert path in listing.split(), listing
    assert mtools(["mtype", "::/boot/grub/grub.cfg"], img, esp.offset).decode() == \
        disk_image.grub_cfg("multiboot")
    efi = mtools(["mtype", "::/EFI/BOOT/BOOTX64.EFI"], img, esp.offset)
    assert efi[:2] == b"MZ" and efi[efi[0x3C] | efi[0x3D] << 8:][:4] == b"PE\0\0"
    assert mtools(["mtype", "::/boot/nagi.img"], img, esp.offset) == kernel.read_bytes()


@needs_tools
def test_image_esp_is_fat32_with_the_kernels_serial(built):
    kernel, img = built
    esp = read_table(img).partitions[1]
    boot = img.read_bytes()[esp.offset:esp.offset + 512]
    assert boot[82:90] == b"FAT32   "
    serial = struct.unpack_from("<I", boot, 67)[0]
    assert serial == disk_image.fat_serial(kernel.read_bytes())
    assert struct.unpack_from("<I", boot, 28)[0] == esp.first_lba    # hidden sectors


def test_missing_grub_is_one_line(tmp_path):
    tools = disk_image.Tools(grub_lib=tmp_path)
    with pytest.raises(ToolError, match=r"no GRUB modules in .* \(install grub-pc-bin\)"):
        tools.platform_dir("i386-pc")
