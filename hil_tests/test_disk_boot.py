"""The pc's disk image (build/pc/nagi-pc.img: GPT, GRUB for BIOS and UEFI)
boots to the shell as a PC boots it: firmware -> GRUB -> Multiboot -> Nagi.

Four boots on q35: SeaBIOS and OVMF (UEFI), each with the image on q35's
AHCI (SATA) and as a USB mass-storage device on xHCI (how a stick boots).
GRUB and the kernel both talk on COM1, the twin's console. Each boot opens
the image with snapshot=on. Skipped on hardware and on boards without a
disk image ([[flash]] method "disk")."""

import pytest

# Under TCG: SeaBIOS boots in ~5 s, OVMF in ~20 s; the first prompt must
# come within the session's --boot-timeout (default 90 s) in any case.
BOOTS = [("seabios", "sata"), ("seabios", "usb"), ("ovmf", "sata"), ("ovmf", "usb")]


@pytest.mark.parametrize("firmware,bus", BOOTS, ids=[f"{f}-{b}" for f, b in BOOTS])
def test_disk_image_boots_to_the_shell(disk_boot, firmware, bus):
    dut, seconds = disk_boot(firmware, bus)     # the HIL summary lists the seconds
    before = dut.boot_output
    assert "Booting `Nagi'" in before, f"GRUB's menu entry did not start: {before[-500:]!r}"
    assert "nagi: kernel booting on board pc" in before, \
        f"no kernel banner after GRUB: {before[-500:]!r}"
    assert dut.run("echo ready") == ["ready"]
    lines = dut.run("ps")
    assert any("shell" in l for l in lines), f"ps does not list the shell: {lines}"
