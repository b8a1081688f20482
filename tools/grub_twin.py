"""grub_twin.py - the pc twin booted as a UEFI PC boots the kernel: OVMF
firmware, GRUB (a standalone EFI image holding grub.cfg and the kernel in
its memdisk, on a FAT drive QEMU makes from a directory) loading
`nagi.img` with `multiboot2`. GRUB then hands the kernel the GOP
framebuffer, the memory map and the ACPI RSDP: the real-PC path that
QEMU's `-kernel` (multiboot v1) does not take. For the screen tests; the
disk image for sticks is the image tools' business, not this.

Needs Debian's grub-efi-amd64-bin (grub-mkstandalone and the x86_64-efi
modules) and ovmf; `missing()` says what is not there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .errors import ToolError
from .qemu import QemuTwin

OVMF = Path("/usr/share/ovmf/OVMF.fd")
GRUB_EFI_MODULES = Path("/usr/lib/grub/x86_64-efi")
GRUB_CFG = """set timeout=0
set default=0
menuentry "nagi" {
    multiboot2 /boot/nagi.img %s
    boot
}
"""


def missing() -> str | None:
    """What this machine lacks to boot the UEFI twin, or None."""
    if not shutil.which("grub-mkstandalone") or not GRUB_EFI_MODULES.is_dir():
        return "grub-efi-amd64-bin (grub-mkstandalone, x86_64-efi modules) is not installed"
    if not OVMF.is_file():
        return f"no OVMF firmware at {OVMF} (package ovmf)"
    return None


def esp_files(image: Path, esp: Path, workdir: Path, cmdline: str = "") -> list[str]:
    """The grub-mkstandalone command that writes esp/EFI/BOOT/BOOTX64.EFI
    (the firmware's default loader) with the kernel and grub.cfg inside."""
    cfg = workdir / "grub.cfg"
    cfg.write_text(GRUB_CFG % cmdline)
    return ["grub-mkstandalone", "-O", "x86_64-efi",
            "-o", str(esp / "EFI" / "BOOT" / "BOOTX64.EFI"),
            "--modules=multiboot2 normal all_video efi_gop",
            f"boot/grub/grub.cfg={cfg}", f"boot/nagi.img={image}"]


class GrubUefiTwin(QemuTwin):
    """QemuTwin with OVMF + GRUB in place of `-kernel`."""

    def __init__(self, *args, workdir: Path, cmdline: str = "", **kw):
        super().__init__(*args, **kw)
        self.workdir, self.cmdline = Path(workdir), cmdline
        self.esp = self.workdir / "esp"

    def prepare(self) -> None:
        (self.esp / "EFI" / "BOOT").mkdir(parents=True, exist_ok=True)
        cmd = esp_files(self.image, self.esp, self.workdir, self.cmdline)
        r = self._run(cmd)
        if r.returncode != 0:
            raise ToolError(f"grub-mkstandalone failed: {r.stderr.strip()[-300:]}")

    def boot_args(self) -> list[str]:
        return ["-bios", str(OVMF), "-drive", f"format=raw,file=fat:rw:{self.esp}"]

    def _run(self, cmd: list[str]):
        return subprocess.run(cmd, capture_output=True, text=True)
