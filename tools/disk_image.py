"""disk_image.py - the pc's bootable disk image: GRUB 2 for BIOS and UEFI
on a GPT disk, built from Debian's GRUB packages without root or loop
mounts (board.toml [[flash]] method "disk"; `flash.py build --board pc`
writes build/pc/nagi-pc.img; tools/stick.py writes it to a USB stick).

    LBA 0             protective MBR; its code area is GRUB's boot.img with
                      the LBA of core.img patched in (what grub-bios-setup does)
    LBA 2048..4095    BIOS boot partition: core.img (grub-mkimage -O i386-pc)
    LBA 4096..        EFI System Partition, FAT32 made by mtools (mformat,
                      mmd, mcopy -i IMAGE@@OFFSET):
                        EFI/BOOT/BOOTX64.EFI   grub-mkimage -O x86_64-efi
                        boot/grub/grub.cfg     serial console, multiboot(2)
                        boot/nagi.img          the kernel QEMU's -kernel boots
    last 33 LBAs      backup GPT

Both GRUBs carry the same embedded config: find the ESP by its FAT serial
number (derived from the kernel's hash, so an internal disk with another
GRUB is never taken), set the prefix there; GRUB's normal mode then reads
boot/grub/grub.cfg. Every module is built in: nothing is loaded from disk.
All external commands go through Tools.run (tests replace it)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import gpt
from .errors import ToolError

GRUB_LIB = Path("/usr/lib/grub")
MIB = 1 << 20
BIOS_BOOT_LBA = 2048
BIOS_BOOT_SECTORS = 2048                     # 1 MiB: core.img is ~150 KiB
ESP_LBA = BIOS_BOOT_LBA + BIOS_BOOT_SECTORS
TAIL_SECTORS = 2048                          # backup GPT, rounded to 1 MiB
# FAT32 needs at least 65525 clusters: 40 MiB of 512-byte clusters has 81920.
DEFAULT_ESP_MIB = 40
KERNEL_PATH = "/boot/nagi.img"
CFG_PATH = "/boot/grub/grub.cfg"
EFI_PATH = "/EFI/BOOT/BOOTX64.EFI"           # the removable-media path (UEFI 2.10, 3.5.1.1)

# boot.img (grub-core/boot/i386/pc/boot.S) fields grub-bios-setup patches.
BOOT_KERNEL_SECTOR = 0x5C                    # u64: LBA of core.img's first sector
BOOT_DRIVE_CHECK = 0x66                      # a 2-byte jmp; nop'ed for hard disks
# diskboot.img (core.img's first sector) ends with its blocklist:
# u64 start, u16 len, u16 segment; start = LBA of core.img's second sector.
DISKBOOT_BLOCKLIST = gpt.SECTOR - 12

COMMON_MODULES = ["part_gpt", "part_msdos", "fat", "search", "search_fs_uuid", "configfile",
                  "normal", "multiboot", "multiboot2", "serial", "terminal", "echo", "test",
                  "boot", "all_video"]
PLATFORM = {
    "bios": ("i386-pc", ["biosdisk"]),
    "uefi": ("x86_64-efi", ["efi_gop"]),
}

# Multiboot headers: magic, the bytes that must hold it, its alignment.
MULTIBOOT2_MAGIC = 0xE85250D6
MULTIBOOT2_SEARCH = 32768
MULTIBOOT1_MAGIC = 0x1BADB002
MULTIBOOT1_SEARCH = 8192


def multiboot_command(kernel: bytes) -> str:
    """"multiboot2" when the kernel has a Multiboot2 header (magic at an
    8-byte aligned offset in its first 32 KiB, checksum right), else
    "multiboot" (a Multiboot v1 header: 4-byte aligned in the first 8 KiB).
    ToolError when it has neither: GRUB could not boot it."""
    for off in range(0, min(len(kernel), MULTIBOOT2_SEARCH) - 15, 8):
        magic, arch, length, check = (int.from_bytes(kernel[off + i:off + i + 4], "little")
                                      for i in (0, 4, 8, 12))
        if magic == MULTIBOOT2_MAGIC and (magic + arch + length + check) & 0xFFFFFFFF == 0:
            return "multiboot2"
    for off in range(0, min(len(kernel), MULTIBOOT1_SEARCH) - 11, 4):
        magic, flags, check = (int.from_bytes(kernel[off + i:off + i + 4], "little")
                               for i in (0, 4, 8))
        if magic == MULTIBOOT1_MAGIC and (magic + flags + check) & 0xFFFFFFFF == 0:
            return "multiboot"
    raise ToolError("the kernel image has no Multiboot or Multiboot2 header: GRUB cannot boot it")


# The menu: Nagi as it boots by default, and with `irq=pic` on its command
# line (the 8259 PIC path: the workaround for PCI interrupts on a real PC,
# board/pc/README.md). With a timeout of 0 GRUB shows the menu only when
# a key (Esc, Shift) is held as it starts.
ENTRIES = (("Nagi", ""), ("Nagi, 8259 PIC interrupts (irq=pic)", "irq=pic"))


def grub_cfg(command: str, timeout: int = 0, default: int = 0) -> str:
    if not 0 <= default < len(ENTRIES):
        raise ToolError(f"grub.cfg: no menu entry {default} (there are {len(ENTRIES)})")
    entries = "".join(f"menuentry \"{title}\" {{\n"
                      f"    {command} {KERNEL_PATH}{' ' + args if args else ''}\n"
                      f"    boot\n"
                      f"}}\n" for title, args in ENTRIES)
    return (f"# grub.cfg - written by tools/disk_image.py: boot Nagi, console on COM1\n"
            f"serial --unit=0 --speed=115200\n"
            f"terminal_input serial console\n"
            f"terminal_output serial console\n"
            f"set timeout={timeout}\n"
            f"set default={default}\n" + entries)


def early_cfg(fat_uuid: str) -> str:
    """The config built into both GRUB images: the ESP by its FAT serial."""
    return (f"search --no-floppy --fs-uuid --set=root {fat_uuid}\n"
            f"set prefix=($root)/boot/grub\n")


@dataclass(frozen=True)
class Layout:
    """Where things go, in sectors, for an ESP of `esp_mib` MiB."""
    esp_mib: int = DEFAULT_ESP_MIB

    @property
    def esp_sectors(self) -> int:
        return self.esp_mib * MIB // gpt.SECTOR

    @property
    def sectors(self) -> int:
        return ESP_LBA + self.esp_sectors + TAIL_SECTORS

    def table(self, seed: str) -> gpt.Table:
        """The GPT; GUIDs derived from `seed` (the same inputs, the same image)."""
        def guid(what):
            return uuid.uuid5(uuid.NAMESPACE_URL, f"nagi-pc-image:{seed}:{what}")
        return gpt.Table(guid("disk"), self.sectors, (
            gpt.Partition(gpt.BIOS_BOOT, guid("bios"), BIOS_BOOT_LBA,
                          BIOS_BOOT_LBA + BIOS_BOOT_SECTORS - 1, "BIOS boot"),
            gpt.Partition(gpt.ESP, guid("esp"), ESP_LBA, ESP_LBA + self.esp_sectors - 1,
                          "EFI system", gpt.LEGACY_BIOS_BOOTABLE),
        ))


class Tools:
    """The external commands (grub-mkimage, mtools); tests replace run()."""

    def __init__(self, grub_lib: Path = GRUB_LIB):
        self.grub_lib = grub_lib

    def run(self, cmd: list[str]) -> None:
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1", MTOOLS_NO_VFAT="0")
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        except OSError as e:
            raise ToolError(f"disk image: cannot run {cmd[0]}: {e} (install grub-pc-bin, "
                            f"grub-efi-amd64-bin and mtools)") from None
        if out.returncode != 0:
            last = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ToolError(f"disk image: {os.path.basename(cmd[0])} failed: {last[0]}")

    def platform_dir(self, platform: str) -> Path:
        d = self.grub_lib / platform
        if not (d / "moddep.lst").is_file():
            pkg = "grub-pc-bin" if platform == "i386-pc" else "grub-efi-amd64-bin"
            raise ToolError(f"disk image: no GRUB modules in {d} (install {pkg})")
        return d

    def mkimage(self, firmware: str, out: Path, cfg: Path) -> None:
        platform, extra = PLATFORM[firmware]
        self.run(["grub-mkimage", "-O", platform, "-d", str(self.platform_dir(platform)),
                  "-o", str(out), "-p", "/boot/grub", "-c", str(cfg),
                  *COMMON_MODULES, *extra])


def fat_serial(kernel: bytes) -> int:
    return int.from_bytes(hashlib.sha256(b"nagi-esp" + kernel).digest()[:4], "little")


def fat_uuid(serial: int) -> str:
    """How GRUB names a FAT volume: its serial as XXXX-XXXX."""
    return f"{serial >> 16:04x}-{serial & 0xFFFF:04x}"


def patch_boot_img(boot_img: bytes, core_lba: int) -> bytes:
    """boot.img's first 440 bytes as grub-bios-setup leaves them for a
    hard disk: the LBA of core.img, and the boot-drive check nop'ed (some
    BIOSes pass a wrong drive number in DL)."""
    if len(boot_img) != gpt.SECTOR:
        raise ToolError(f"disk image: boot.img is {len(boot_img)} bytes, not 512")
    code = bytearray(boot_img[:gpt.MBR_BOOT_CODE])
    code[BOOT_KERNEL_SECTOR:BOOT_KERNEL_SECTOR + 8] = core_lba.to_bytes(8, "little")
    code[BOOT_DRIVE_CHECK:BOOT_DRIVE_CHECK + 2] = b"\x90\x90"
    return bytes(code)


def patch_core_img(core: bytes, core_lba: int, room_sectors: int) -> bytes:
    """core.img with diskboot's blocklist pointing at its own sectors
    after the first (grub-mkimage fills in the count and leaves start = 2)."""
    sectors = -(-len(core) // gpt.SECTOR)
    if sectors > room_sectors:
        raise ToolError(f"disk image: core.img needs {sectors} sectors, the BIOS boot "
                        f"partition has {room_sectors}")
    img = bytearray(core)
    count = int.from_bytes(img[DISKBOOT_BLOCKLIST + 8:DISKBOOT_BLOCKLIST + 10], "little")
    if count != sectors - 1:
        raise ToolError(f"disk image: core.img's blocklist says {count} sectors, "
                        f"the file has {sectors - 1} after the first")
    img[DISKBOOT_BLOCKLIST:DISKBOOT_BLOCKLIST + 8] = (core_lba + 1).to_bytes(8, "little")
    return bytes(img)


def build_image(kernel_path: Path, out: Path, layout: Layout = Layout(),
                tools: Tools | None = None, default: int = 0) -> Path:
    """Write the disk image to `out` (through a temporary file renamed
    over it), GRUB booting menu entry `default` (ENTRIES). Returns `out`."""
    tools = tools or Tools()
    kernel = kernel_path.read_bytes()
    command = multiboot_command(kernel)
    serial = fat_serial(kernel)
    seed = hashlib.sha256(kernel).hexdigest()
    table = layout.table(seed)
    bios, esp = table.partitions
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nagi-disk-", dir=out.parent) as tmp:
        t = Path(tmp)
        (t / "early.cfg").write_text(early_cfg(fat_uuid(serial)))
        (t / "grub.cfg").write_text(grub_cfg(command, default=default))
        tools.mkimage("bios", t / "core.img", t / "early.cfg")
        tools.mkimage("uefi", t / "BOOTX64.EFI", t / "early.cfg")
        boot_img = (tools.platform_dir("i386-pc") / "boot.img").read_bytes()
        core = patch_core_img((t / "core.img").read_bytes(), bios.first_lba,
                              bios.last_lba - bios.first_lba + 1)
        img = t / "disk.img"
        with open(img, "wb") as f:
            f.truncate(layout.sectors * gpt.SECTOR)      # sparse: holes read as zeros
            gpt.write(f, table, patch_boot_img(boot_img, bios.first_lba))
            f.seek(bios.offset)
            f.write(core)
        at = f"{img}@@{esp.offset}"
        esp_sectors = esp.last_lba - esp.first_lba + 1
        tools.run(["mformat", "-i", at, "-F", "-c", "1", "-T", str(esp_sectors), "-h", "64",
                   "-s", "32", "-H", str(esp.first_lba), "-N", f"{serial:08x}", "-v", "NAGI",
                   "::"])
        tools.run(["mmd", "-i", at, "::/EFI", "::/EFI/BOOT", "::/boot", "::/boot/grub"])
        tools.run(["mcopy", "-i", at, str(t / "BOOTX64.EFI"), "::" + EFI_PATH])
        tools.run(["mcopy", "-i", at, str(t / "grub.cfg"), "::" + CFG_PATH])
        tools.run(["mcopy", "-i", at, str(kernel_path), "::" + KERNEL_PATH])
        os.replace(img, out)
    return out


def inputs_digest(kernel_path: Path, layout: Layout, grub_lib: Path = GRUB_LIB) -> str:
    """What the image depends on: the kernel, the layout, this module and
    gpt.py, and the GRUB files used (their sizes and mtimes)."""
    h = hashlib.sha256()
    h.update(kernel_path.read_bytes())
    h.update(repr(layout).encode())
    for src in (Path(__file__), Path(gpt.__file__)):
        h.update(src.read_bytes())
    for platform, _ in PLATFORM.values():
        d = grub_lib / platform
        for name in ("moddep.lst", "kernel.img", "boot.img"):
            try:
                st = (d / name).stat()
                h.update(f"{platform}/{name}:{st.st_size}:{st.st_mtime_ns}".encode())
            except OSError:
                pass
    return h.hexdigest()
