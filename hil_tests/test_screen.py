"""The PC's screen console and its interrupt routing (issue 12).

Screen: the kernel mirrors everything it writes to the serial console,
and the console server everything it writes to the UART, on the screen
(arch/x86_64/console.c). On the twin (QEMU -kernel: multiboot v1, the
VGA still in text mode) that is the VGA text buffer at 0xB8000, read
through QEMU's monitor (`xp`), not by OCR of a screendump (QEMU would draw
its own VGA font there). The framebuffer path (GRUB's multiboot2 under
UEFI) draws the kernel's own font; tools/screen.py reads such a
screendump cell by cell against it (host-tested in tools/tests), and
arch/x86_64/tests/test_screen.c checks the drawing.

Interrupts: on the twin (q35: ACPI with a MADT) the kernel routes the ISA
lines through the IO-APIC and ticks with the local APIC timer; the rest of
the suite passing (console input on IRQ 4, the PS/2 keyboard on IRQ 1,
the e1000's PCI line, every timing test) is the proof that it works.
`irq=pic` on the command line forces the 8259 PIC and the PIT, the path a
PC without ACPI takes: it must still reach the prompt and take typing.
A PC with no PIT (QEMU's `-machine pit=off`, as recent PCs ship)
calibrates the local APIC timer against the ACPI PM timer instead, to
the same period, on the IO-APIC path and on the 8259 path alike; with no
PIT and no local APIC there is no tick, and the kernel says so in a
panic instead of hanging.

Needs a screen (MCU boards have none) and QEMU's monitor (the twin)."""

import re

import pytest

pytestmark = pytest.mark.needs("screen")

APIC_LINE = (r"^nagi: interrupts: IO-APIC \(1, \d+ ISA lines routed, \d+ overrides?\), "
             r"local APIC timer (\d+)/16 per tick \(([^)]+)\)")


def _rows(dut, framebuffer: bool | None = None):
    """The screen's rows: the VGA text buffer (read through the monitor)
    or, when the loader gave a framebuffer (GRUB's multiboot2, as in a
    --boot disk session), a QMP screendump read against the kernel's font.
    `framebuffer` None: whichever the boot log says."""
    if not hasattr(dut.backend, "screen_text"):
        pytest.skip("the screen is read through the QEMU twin's monitor")
    if framebuffer is None:
        framebuffer = bool(re.search(r"^nagi: screen: framebuffer ", dut.transcript, re.M))
    if framebuffer:
        import tempfile
        from pathlib import Path
        from tools import fontgen
        from tools.screen import framebuffer_rows
        with tempfile.TemporaryDirectory() as d:
            shot = Path(d) / "screen.ppm"
            dut.backend.screendump(shot)
            return framebuffer_rows(shot.read_bytes(), fontgen.load_ascii())
    return dut.backend.screen_text()


def _has_command(rows, command):
    """A row holds the prompt's echo of command (a kernel line printed
    while the prompt was being written may sit between the two, as on
    the serial console, where the HIL kit mends such lines)."""
    return any(r.startswith("nagi> ") and r.endswith(command) for r in rows) or \
        any(r.endswith(command) for r in rows)


def _last_line(rows):
    text = [r for r in rows if r]
    return text[-1] if text else ""


def test_the_prompt_and_command_output_are_on_the_screen(dut):
    assert dut.run("echo drawn-on-the-screen") == ["drawn-on-the-screen"]
    rows = _rows(dut)
    assert _has_command(rows, "echo drawn-on-the-screen"), rows
    assert "drawn-on-the-screen" in rows, rows
    # the prompt waits on the last line, as on the serial console
    assert _last_line(rows) == "nagi>", rows


def test_the_boot_chose_the_io_apic_and_the_text_screen(dut):
    boot = dut.boot_output or dut.transcript
    assert re.search(APIC_LINE, boot, re.M), boot
    # QEMU's -kernel (multiboot v1, no framebuffer): VGA text mode; GRUB's
    # multiboot2 from the disk image (--boot disk): the framebuffer it set.
    assert re.search(r"^nagi: screen: (text mode 80 x 25|framebuffer \d+x\d+, (24|32) bpp)",
                     boot, re.M), boot


def test_a_panic_shows_on_the_screen(twin_image, build, board, kconfig):
    if kconfig.get("DEBUG_COMMANDS") != "y":
        pytest.skip("CONFIG_DEBUG_COMMANDS is off: the shell has no panic command")
    dut = twin_image(build / board.qemu.image)
    mark = dut.mark()
    dut.send_line("panic")
    dut.expect(r"^nagi: system halted", timeout=20, since=mark)
    rows = _rows(dut)
    assert any(r.startswith("nagi: PANIC: ") for r in rows), rows
    assert "nagi: system halted" in rows, rows


def test_the_legacy_pic_and_pit_still_reach_the_prompt_and_type(request, twin_image, build, board):
    if request.config.getoption("boot") == "disk":
        pytest.skip("irq=pic goes on QEMU's -append, which needs -kernel: "
                    "this runs in the -kernel session")
    dut = twin_image(build / board.qemu.image, extra=("-append", "irq=pic"))
    dut.expect(r"^nagi: interrupts: 8259 PIC and PIT \(irq=pic on the command line\)", since=0)
    assert dut.run("echo serial-on-the-pic") == ["serial-on-the-pic"]   # IRQ 4
    if board.has("keys") and board.has("ps2"):
        assert dut.run("echo typed-on-the-pic", typed=True) == ["typed-on-the-pic"]   # IRQ 1
    dut.run("sleep 200")                 # the PIT's tick runs timers
    rows = _rows(dut)
    assert _has_command(rows, "echo serial-on-the-pic"), rows
    assert "serial-on-the-pic" in rows, rows


def test_a_pc_without_a_pit_ticks_from_the_acpi_pm_timer(dut, twin_image, build, board):
    boot = dut.boot_output or dut.transcript
    with_pit = re.search(APIC_LINE, boot, re.M)
    assert with_pit and with_pit.group(2) == "PIT", boot
    nopit = twin_image(build / board.qemu.image, extra=("-machine", "pit=off"))
    m = nopit.expect(APIC_LINE, since=0)
    assert m.group(2) == "ACPI PM timer", m.group(0)
    # Both clocks count QEMU's virtual time: the same period within the
    # calibration's error (the figure is about 625000 on TCG).
    period, reference = int(m.group(1)), int(with_pit.group(1))
    assert abs(period - reference) <= reference // 50, (period, reference)
    # The tick runs timers, and the IO-APIC lines still interrupt.
    slept = nopit.run("sleep 200")
    a, b = map(int, re.search(r"^slept 200 ms \(uptime (\d+) -> (\d+)\)$", slept[-1]).groups())
    assert 200 <= b - a < 400, slept
    assert nopit.run("echo no-pit-serial") == ["no-pit-serial"]            # IRQ 4
    if board.has("keys") and board.has("ps2"):
        assert nopit.run("echo no-pit-typed", typed=True) == ["no-pit-typed"]   # IRQ 1


def test_no_pit_on_the_pic_path_ticks_from_the_local_apic(request, twin_image, build, board):
    """irq=pic (the real-PC workaround for PCI interrupts) on a PC with no
    PIT: the 8259s deliver through the local APIC's LINT0, the local APIC
    timer ticks."""
    if request.config.getoption("boot") == "disk":
        pytest.skip("irq=pic goes on QEMU's -append, which needs -kernel: "
                    "this runs in the -kernel session")
    dut = twin_image(build / board.qemu.image, extra=("-machine", "pit=off", "-append", "irq=pic"))
    dut.expect(r"^nagi: interrupts: 8259 PIC \(irq=pic on the command line\), no PIT: "
               r"local APIC timer \d+/16 per tick \(ACPI PM timer\)", since=0)
    assert dut.run("echo serial-via-lint0") == ["serial-via-lint0"]       # IRQ 4, PIC
    if board.has("keys") and board.has("ps2"):
        assert dut.run("echo typed-via-lint0", typed=True) == ["typed-via-lint0"]   # IRQ 1
    slept = dut.run("sleep 200")
    a, b = map(int, re.search(r"^slept 200 ms \(uptime (\d+) -> (\d+)\)$", slept[-1]).groups())
    assert 200 <= b - a < 400, slept


def test_no_pit_and_no_local_apic_is_a_panic_that_says_why(twin_image, build, board):
    dut = twin_image(build / board.qemu.image, wait_for_prompt=False,
                     extra=("-machine", "pit=off", "-cpu", "qemu64,-apic"))
    dut.expect(r"^nagi: PANIC: no timer: the 8259 PIC path was taken \(no local APIC \(CPUID\)\), "
               r"no PIT answers, and no local APIC", since=0, timeout=60)
    dut.expect(r"^nagi: system halted", since=0)
    rows = _rows(dut)
    assert any(r.startswith("nagi: PANIC: no timer") for r in rows), rows


def test_a_pc_without_a_serial_port_runs_the_shell_on_screen_and_keyboard(request, twin_image,
                                                                          build, board):
    """No UART at COM1 (QEMU's moves to COM2's address; the kit's line
    stays attached there, silent): the console finds the port missing
    instead of reading the floating bus as endless 0xff input, and the
    shell is used from the PS/2 keyboard and read off the screen."""
    import time
    if not (board.has("keys") and board.has("ps2")):
        pytest.skip("needs the PS/2 keyboard to type on")
    framebuffer = request.config.getoption("boot") == "disk"   # GRUB's multiboot2 framebuffer
    dut = twin_image(build / board.qemu.image, wait_for_prompt=False,
                     extra=("-global", "isa-serial.iobase=0x2f8", "-global", "isa-serial.irq=3"))

    def screen_until(predicate, timeout):
        deadline = time.monotonic() + timeout
        while True:
            rows = _rows(dut, framebuffer)
            if predicate(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.5)

    rows = screen_until(lambda r: any(x.startswith("nagi>") for x in r), 90)
    assert any(x.startswith("nagi>") for x in rows), rows
    assert any(r.startswith("console: no UART at 0x3f8") for r in rows), rows
    # Servers may still print their first lines after the prompt (httpd):
    # type once the screen has settled.
    for _ in range(20):
        time.sleep(0.5)
        previous, rows = rows, _rows(dut, framebuffer)
        if rows == previous:
            break
    dut.type_text("echo typed-with-no-serial-port\n")
    rows = screen_until(lambda r: "typed-with-no-serial-port" in r and _last_line(r) == "nagi>", 30)
    assert "typed-with-no-serial-port" in rows, rows
    assert _has_command(rows, "echo typed-with-no-serial-port"), rows
    assert not any("input bytes dropped" in r for r in rows), rows
    assert dut.console.transcript == "", "nothing may reach the kit's line at COM2's address"


def test_grub_multiboot2_on_uefi_draws_the_prompt_on_the_framebuffer(disk_boot, tmp_path):
    """The real-PC path: OVMF, the disk image's GRUB `multiboot2`, the GOP
    framebuffer. A QMP screendump is read cell by cell against the
    kernel's own font."""
    from tools import fontgen
    from tools.screen import framebuffer_rows

    dut, _ = disk_boot("ovmf", "sata")
    assert re.search(r"^nagi: booted by Multiboot2, \d+ RAM ranges? \(memory map\)",
                     dut.transcript, re.M), dut.transcript
    assert re.search(r"^nagi: screen: framebuffer \d+x\d+, (24|32) bpp", dut.transcript, re.M)
    assert "nagi: interrupts: IO-APIC" in dut.transcript      # RSDP from GRUB
    assert dut.run("echo on-the-framebuffer", timeout=30) == ["on-the-framebuffer"]
    shot = tmp_path / "screen.ppm"
    dut.backend.screendump(shot)
    rows = framebuffer_rows(shot.read_bytes(), fontgen.load_ascii())
    assert _has_command(rows, "echo on-the-framebuffer"), rows
    assert "on-the-framebuffer" in rows, rows
    assert _last_line(rows) == "nagi>", rows
