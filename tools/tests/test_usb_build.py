"""The CONFIG_TWIN=n image of nagi-kb (the real PCB: a USB keyboard with
its console on CDC-ACM) builds, and its programs carry the USB path; the
twin image (CONFIG_TWIN=y) does not. QEMU has no USB model of this
machine, so this build (plus usb_kbd's host tests) is all the checking the
USB path gets here (docs/usb.md, "What has never met real hardware").

Slow-ish: three real `flash.py build`s (build/nagi-kb, and
build/<board>-<hash> for --set TWIN=n of nagi-kb and b-l475e-iot01a). Each is incremental after the first (a few seconds up
to ~20 s); from a cold build directory each takes 1.5..3 minutes on two
cores. Skipped without the ARM toolchain."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tools import paths

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                reason="no ARM toolchain for the board build")

RELEASE = "userland/thumbv7em-none-eabihf/release"


def build(overrides: list[str], board: str = "nagi-kb"):
    cmd = [sys.executable, "flash.py", "build", "--board", board]
    for o in overrides:
        cmd += ["--set", o]
    r = subprocess.run(cmd, cwd=paths.REPO, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return paths.build_dir(board, overrides) / RELEASE


def program(release, name) -> bytes:
    return (release / name).read_bytes()


# What the USB path leaves in each program (strings and symbol names of
# the unstripped ELFs): hid links usb_kbd (its CDC interface's name) and
# usb.rs's UsbOut; the console links its hid backend (uart_hid); sys
# (gpio) the LSE lock's one-line warning.
USB_MARKS = {
    "hid": [b"Nagi console", b"6UsbOut"],
    "console": [b"8uart_hid", b"USB console: no hid"],
    "gpio": [b"LSE not ready"],
}


def test_twin_n_build_has_the_usb_path_and_the_twin_has_none():
    usb = build(["TWIN=n"])
    for name, marks in USB_MARKS.items():
        elf = program(usb, name)
        for mark in marks:
            assert mark in elf, f"{name} of the TWIN=n build lacks {mark!r}"
    config = (paths.build_dir("nagi-kb", ["TWIN=n"]) / "nagi_config.rs").read_text()
    assert "BOARD_CONSOLE_USB_CDC" in config
    twin = build([])
    for name, marks in USB_MARKS.items():
        elf = program(twin, name)
        for mark in marks:
            assert mark not in elf, f"{name} of the twin build has {mark!r}"


def test_discovery_kit_twin_n_has_usb_hid_but_keeps_its_uart_console():
    """b-l475e-iot01a without usb_cdc: hid and sys carry USB, the console
    server stays on the ST-LINK's UART."""
    usb = build(["TWIN=n"], "b-l475e-iot01a")
    for name in ("hid", "gpio"):
        for mark in USB_MARKS[name]:
            assert mark in program(usb, name), f"{name} lacks {mark!r}"
    for mark in USB_MARKS["console"]:
        assert mark not in program(usb, "console"), f"console has {mark!r}"
