"""flashers/dfu_flasher.py - the `dfu` flash method: nagi.bin through the
STM32 system bootloader's USB DFU interface (BOOT0 high at reset; USB
0483:df11), with ST's DfuSe extensions, via pyusb.

DfuSe in short (ST AN3156): a DFU_DNLOAD with block number 0 carries a
command: 0x21 + address sets the address pointer, 0x41 + address erases the
page holding it. Block n >= 2 writes its data at pointer + (n - 2) *
transfer size. After each DNLOAD the host polls DFU_GETSTATUS until the
device leaves dfuDNBUSY. A zero-length DNLOAD then leaves DFU mode and
starts the firmware. Reading back (DFU_UPLOAD) needs dfuIDLE, so the
flasher aborts to idle, uploads and compares before leaving. A device left
in dfuERROR by an earlier session is cleared (DFU_CLRSTATUS) first.

All USB traffic goes through UsbDfuDevice (two methods); tests replace it."""

from __future__ import annotations

import struct
import time
from pathlib import Path

from ..errors import ToolError
from . import NoProbe, flash_entry, flash_region, progress_bar

DFU_DNLOAD, DFU_UPLOAD, DFU_GETSTATUS, DFU_CLRSTATUS, DFU_ABORT = 1, 2, 3, 4, 6
STATE_IDLE, STATE_DNBUSY, STATE_DNLOAD_IDLE, STATE_ERROR = 2, 4, 5, 10
STATE_UPLOAD_IDLE, STATE_MANIFEST = 9, 7
CMD_SET_ADDRESS, CMD_ERASE = 0x21, 0x41
OUT, IN = 0x21, 0xA1                  # bmRequestType: class, interface, host->device / back
DEFAULT_VID, DEFAULT_PID = 0x0483, 0xdf11
TRANSFER_SIZE = 2048                  # wTransferSize of the STM32L4 bootloader
PAGE_SIZE = 2048                      # STM32L4 flash page
# bStatus values (USB DFU 1.1, 6.1.2) and what they mean for an STM32 (AN3156)
STATUS_NAMES = {1: "errTARGET: address not allowed", 3: "errWRITE", 4: "errERASE",
                5: "errCHECK_ERASED", 6: "errPROG: programming failed (page not erased?)",
                7: "errVERIFY", 8: "errADDRESS", 0x0B: "errVENDOR: the flash is "
                "read-protected (RDP); removing it erases the chip", 0x0F: "errSTALLEDPKT"}


class UsbDfuDevice:
    """The bootloader's DFU interface through pyusb (interface 0, alt 0:
    internal flash)."""

    def __init__(self, dev, interface: int = 0):
        self.dev, self.interface = dev, interface

    @classmethod
    def find(cls, vid: int, pid: int) -> "UsbDfuDevice":
        try:
            import usb.core
        except Exception as e:
            raise ToolError(f"pyusb is not importable ({type(e).__name__}: {e})") from None
        try:
            devs = list(usb.core.find(find_all=True, idVendor=vid, idProduct=pid))
        except Exception as e:     # usb.core.NoBackendError: no libusb
            raise ToolError(f"USB: {type(e).__name__}: {e}".splitlines()[0]) from None
        if not devs:
            raise NoProbe(f"no DFU device {vid:04x}:{pid:04x} found: start the board's "
                          f"system bootloader (BOOT0 high at reset) and connect its USB "
                          f"OTG port")
        if len(devs) > 1:
            raise ToolError(f"{len(devs)} DFU devices {vid:04x}:{pid:04x} attached; "
                            f"attach only one")
        dev = devs[0]
        try:
            dev.set_configuration()
            dev.set_interface_altsetting(interface=0, alternate_setting=0)
        except Exception as e:
            if "Errno 13" in str(e) or "Access denied" in str(e):
                raise ToolError(f"no permission to open the DFU device {vid:04x}:{pid:04x}: "
                                f"add a udev rule for it or run as root") from None
            raise ToolError(f"USB: {type(e).__name__}: {e}".splitlines()[0]) from None
        return cls(dev)

    def ctrl_out(self, request: int, value: int, data: bytes) -> None:
        self._transfer(OUT, request, value, data)

    def ctrl_in(self, request: int, value: int, length: int) -> bytes:
        return bytes(self._transfer(IN, request, value, length))

    def _transfer(self, req_type: int, request: int, value: int, data_or_length):
        """One control transfer; a stall or a lost device is one ToolError line."""
        try:
            return self.dev.ctrl_transfer(req_type, request, value, self.interface,
                                          data_or_length, timeout=5000)
        except Exception as e:     # usb.core.USBError
            raise ToolError(f"DFU: USB request {request} (wValue {value}) failed: "
                            f"{e}".splitlines()[0]) from None


class DfuFlasher:
    def __init__(self, board, device: UsbDfuDevice | None = None, out=print,
                 sleep=time.sleep):
        entry = flash_entry(board, "dfu")
        if entry is None:
            raise ToolError(f"board '{board.name}' has no dfu flash method in board.toml")
        self.board, self.out, self.sleep = board, out, sleep
        self.vid = int(entry.get("usb_vid", DEFAULT_VID))
        self.pid = int(entry.get("usb_pid", DEFAULT_PID))
        self.address = int(entry.get("address", flash_region(board)[0]))
        self.dev = device

    # -- DFU requests ------------------------------------------------------------
    def status(self) -> tuple[int, int, int]:
        """-> (bStatus, poll timeout ms, bState)."""
        raw = self.dev.ctrl_in(DFU_GETSTATUS, 0, 6)
        if len(raw) < 6:
            raise ToolError(f"DFU: short GETSTATUS answer {raw.hex()}")
        return raw[0], raw[1] | raw[2] << 8 | raw[3] << 16, raw[4]

    def _wait(self, what: str) -> int:
        """Poll GETSTATUS until the device is no longer busy; its state."""
        for _ in range(1000):
            st, poll_ms, state = self.status()
            if st != 0 or state == STATE_ERROR:
                self.dev.ctrl_out(DFU_CLRSTATUS, 0, b"")
                raise ToolError(f"DFU: {what} failed (status {st}: "
                                f"{STATUS_NAMES.get(st, 'unknown')}; state {state})")
            if state not in (STATE_DNBUSY, STATE_MANIFEST):
                return state
            self.sleep(poll_ms / 1000.0)
        raise ToolError(f"DFU: {what}: the device stays busy")

    def _command(self, cmd: int, addr: int, what: str) -> None:
        self.dev.ctrl_out(DFU_DNLOAD, 0, struct.pack("<BI", cmd, addr))
        self._wait(what)

    def _abort(self) -> None:
        self.dev.ctrl_out(DFU_ABORT, 0, b"")

    # -- flashing ------------------------------------------------------------------
    def flash(self, bin_path: Path) -> None:
        if not bin_path.is_file():
            raise ToolError(f"no image at {bin_path}; run `python3 flash.py build --board "
                            f"{self.board.name}` first")
        data = bin_path.read_bytes()
        if self.dev is None:
            self.dev = UsbDfuDevice.find(self.vid, self.pid)
        self.out(f"dfu: {len(data)} bytes of {bin_path.name} to 0x{self.address:08x} "
                 f"through {self.vid:04x}:{self.pid:04x}")
        if self.status()[2] == STATE_ERROR:     # left so by an earlier session
            self.dev.ctrl_out(DFU_CLRSTATUS, 0, b"")
        self._abort()
        pages = range(self.address, self.address + len(data), PAGE_SIZE)
        blocks = range(0, len(data), TRANSFER_SIZE)
        bar = progress_bar(f"dfu {bin_path.name}")
        steps, done = len(pages) + 2 * len(blocks), 0
        try:
            for page in pages:
                self._command(CMD_ERASE, page, f"erase of 0x{page:08x}")
                done += 1
                bar.update_to(done / steps)
            for off in blocks:
                # one address pointer per block keeps the block number at 2
                self._command(CMD_SET_ADDRESS, self.address + off, "set address")
                self.dev.ctrl_out(DFU_DNLOAD, 2, data[off:off + TRANSFER_SIZE])
                self._wait(f"write at 0x{self.address + off:08x}")
                done += 1
                bar.update_to(done / steps)
            got = b""
            for off in blocks:
                self._command(CMD_SET_ADDRESS, self.address + off, "set address")
                self._abort()               # UPLOAD needs dfuIDLE
                got += self.dev.ctrl_in(DFU_UPLOAD, 2, min(TRANSFER_SIZE, len(data) - off))
                self._abort()
                done += 1
                bar.update_to(done / steps)
        finally:
            bar.close()
        if got != data:
            bad = next((i for i, (a, b) in enumerate(zip(got, data)) if a != b),
                       min(len(got), len(data)))
            raise ToolError(f"dfu: verify failed: flash differs from {bin_path.name} at "
                            f"0x{self.address + bad:08x}")
        self.out(f"dfu: verified {len(data)} bytes")
        # leave DFU mode: pointer to the image, zero-length DNLOAD, GETSTATUS
        self._command(CMD_SET_ADDRESS, self.address, "set address")
        self.dev.ctrl_out(DFU_DNLOAD, 0, b"")
        try:
            self.status()
        except Exception:
            pass                            # the device may reset before answering
        self.out("dfu: left DFU mode; the board runs the new image "
                 "(set BOOT0 low so the next reset keeps it)")
