"""The pc's disk image (build/pc/nagi-pc.img: GPT, GRUB for BIOS and UEFI)
boots to the shell as a PC boots it: firmware -> GRUB -> Multiboot -> Nagi.

Four boots on q35: SeaBIOS and OVMF (UEFI), each with the image on q35's
AHCI (SATA) and as a USB mass-storage device on xHCI (how a stick boots).
GRUB and the kernel both talk on COM1, the twin's console. Each boot opens
the image with snapshot=on. A fifth boot is the recent PC the issue names:
UEFI from a USB stick on a machine with no PIT and no i8042; a sixth
takes GRUB's second menu entry (`irq=pic`, the 8259 path a real PC's PCI
interrupts need) on such a machine. Skipped on hardware and on boards without a
disk image ([[flash]] method "disk")."""

import re

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


def test_a_recent_pc_without_pit_or_i8042_boots_from_a_stick_under_uefi(disk_boot):
    """No PIT: the local APIC timer is calibrated against the ACPI PM
    timer (the FADT GRUB passed on); no i8042: the PS/2 driver stands
    down; the serial shell and the timers work."""
    dut, _ = disk_boot("ovmf", "usb", extra=("-machine", "pit=off,i8042=off"))
    boot = dut.boot_output
    assert re.search(r"^nagi: interrupts: IO-APIC .*local APIC timer \d+/16 per tick "
                     r"\(ACPI PM timer\)$", boot, re.M), boot[-1500:]
    dut.expect(r"ps2kbd: no i8042 at 0x60/0x64 \(status port reads 0xff\); keyboard off", since=0)
    slept = dut.run("sleep 100", timeout=30)
    assert re.match(r"^slept 100 ms \(uptime \d+ -> \d+\)$", slept[-1]), slept
    assert dut.run("echo ready") == ["ready"]


def test_grubs_irq_pic_entry_boots_the_8259_path_without_a_pit(disk_boot, build, tmp_path):
    """The image as written, with GRUB's default moved to its second entry:
    Multiboot2 carries `irq=pic` to the kernel, which ticks from the local
    APIC (no PIT here) while the 8259s deliver the devices' interrupts."""
    from tools import disk_image

    variant = disk_image.build_image(build / "nagi.img", tmp_path / "pic.img", default=1)
    dut, _ = disk_boot("seabios", "sata", extra=("-machine", "pit=off"), image=variant)
    assert "Booting `Nagi, 8259 PIC interrupts (irq=pic)'" in dut.boot_output, dut.boot_output[-800:]
    assert re.search(r"^nagi: interrupts: 8259 PIC \(irq=pic on the command line\), no PIT: "
                     r"local APIC timer \d+/16 per tick \(ACPI PM timer\)$",
                     dut.boot_output, re.M), dut.boot_output[-1500:]
    assert dut.run("echo on-the-pic") == ["on-the-pic"]
