"""An STM32 system bootloader's DFU interface, written from the
specifications and not from tools/flashers/dfu_flasher.py: USB DFU 1.1
(requests, the 6-byte GETSTATUS answer, the state machine) with ST's DfuSe
extensions (AN3156; the same in AN2662): a DFU_DNLOAD with wValue = 0
carries a command (0x21 + 4-byte LE address: Set Address Pointer; 0x41 +
address: erase that page, 0x41 alone: mass erase; 0x92: Read Unprotect),
executed at the first DFU_GETSTATUS that follows (which answers dfuDNBUSY;
the next one answers dfuDNLOAD-IDLE or dfuERROR); wValue >= 2 writes or
reads at pointer + (wValue - 2) * wTransferSize; a zero-length DFU_DNLOAD
in dfuDNLOAD-IDLE manifests (leaves DFU mode and jumps to the pointer).

It stands in for a pyusb device (`ctrl_transfer`, with pyusb's own
signature) and keeps flash as an STM32L4 has it: 2 KiB pages, erased
bytes read 0xff, 64-bit double words that can be programmed once after an
erase (programming a double word that is not erased fails, RM0351 PROGERR).
A request the state machine does not allow stalls (usb.core.USBError with
errno EPIPE, as pyusb reports a stall)."""

from __future__ import annotations

import errno
import inspect

# USB DFU 1.1, table 3.2 (requests) and 6.1.2 (states, status codes)
DETACH, DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS, GETSTATE, ABORT = range(7)
OUT, IN = 0x21, 0xA1            # bmRequestType: class request to an interface, each way
dfuIDLE, dfuDNLOAD_SYNC, dfuDNBUSY, dfuDNLOAD_IDLE = 2, 3, 4, 5
dfuMANIFEST_SYNC, dfuMANIFEST, dfuUPLOAD_IDLE, dfuERROR = 6, 7, 9, 10
OK, errTARGET, errPROG, errVENDOR, errSTALLEDPKT = 0x00, 0x01, 0x06, 0x0B, 0x0F
# AN3156: the DfuSe commands of a block-0 download
SET_ADDRESS, ERASE, READ_UNPROTECT, GET_COMMANDS = 0x21, 0x41, 0x92, 0x00

PAGE, DOUBLE_WORD = 2048, 8     # STM32L4 flash (RM0351)


class Stall(Exception):
    pass


class Stm32DfuBootloader:
    """The bootloader of an STM32L475 (interface 0, alt 0: internal flash).
    `flash` starts with old contents (not erased); `transfers` records every
    control transfer as (bmRequestType, bRequest, wValue, wIndex, data or
    wLength)."""

    def __init__(self, base=0x0800_0000, size=64 * 1024, transfer_size=2048,
                 old=b"OLD!", read_protected=False, poll_ms=(7, 3)):
        self.base, self.transfer_size = base, transfer_size
        self.flash = bytearray((old * (size // len(old) + 1))[:size])
        self.read_protected = read_protected
        self.erase_ms, self.write_ms = poll_ms
        self.state, self.status = dfuIDLE, OK
        self.pointer = base           # AN2662: the flash start until a Set Address Pointer
        self.pending = None           # the block-0 command or the write, run at GETSTATUS
        self.result = OK              # its outcome, reported by the GETSTATUS after
        self.transfers: list[tuple] = []
        self.left_at = None           # where the device jumped when it left DFU mode
        self.erased_pages: list[int] = []

    # -- what pyusb's Device.ctrl_transfer does, with its signature ----------------
    def ctrl_transfer(self, *args, **kwargs):
        import usb.core
        bound = inspect.signature(usb.core.Device.ctrl_transfer).bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        req_type, request, value, index = (a["bmRequestType"], a["bRequest"], a["wValue"],
                                           a["wIndex"])
        payload = a["data_or_wLength"]
        direction_in = bool(req_type & 0x80)
        self.transfers.append((req_type, request, value, index,
                               payload if direction_in else bytes(payload or b"")))
        if self.left_at is not None:
            raise usb.core.USBError("No such device (it left DFU mode)", errno=errno.ENODEV)
        try:
            if req_type != (IN if request in (UPLOAD, GETSTATUS, GETSTATE) else OUT):
                raise Stall(f"bmRequestType 0x{req_type:02x} for request {request}")
            if index != 0:
                raise Stall(f"wIndex {index}: interface 0 is the DFU interface")
            if direction_in:
                return self._in(request, value, payload)
            self._out(request, value, bytes(payload or b""))
            return len(payload or b"")
        except Stall as e:
            if request not in (GETSTATUS, CLRSTATUS, ABORT, GETSTATE):
                self.state, self.status = dfuERROR, errSTALLEDPKT
            raise usb.core.USBError(f"Pipe error (stall: {e})", errno=errno.EPIPE) from None

    # -- requests ---------------------------------------------------------------------
    def _out(self, request, value, data):
        if request == DNLOAD:
            if self.state not in (dfuIDLE, dfuDNLOAD_IDLE):
                raise Stall(f"DFU_DNLOAD in state {self.state}")
            if not data:
                if self.state != dfuDNLOAD_IDLE:
                    raise Stall("zero-length DFU_DNLOAD outside dfuDNLOAD-IDLE")
                self.state = dfuMANIFEST_SYNC
                return
            if value == 1:
                raise Stall("wValue 1 is not used by DfuSe")
            self.pending = (value, data)
            self.state = dfuDNLOAD_SYNC
        elif request == CLRSTATUS:
            if self.state != dfuERROR:
                raise Stall("DFU_CLRSTATUS outside dfuERROR")
            self.state, self.status = dfuIDLE, OK
        elif request == ABORT:
            if self.state not in (dfuIDLE, dfuDNLOAD_SYNC, dfuDNLOAD_IDLE, dfuMANIFEST_SYNC,
                                  dfuUPLOAD_IDLE):
                raise Stall(f"DFU_ABORT in state {self.state}")
            self.state, self.pending = dfuIDLE, None
        else:
            raise Stall(f"request {request}")

    def _in(self, request, value, length):
        if request == GETSTATUS:
            if length != 6:
                raise Stall(f"DFU_GETSTATUS with wLength {length}")
            poll = 0
            if self.state == dfuDNLOAD_SYNC:
                poll = self._execute()              # answered dfuDNBUSY
            elif self.state == dfuDNBUSY:
                self.state, self.status = (dfuERROR if self.result else dfuDNLOAD_IDLE,
                                           self.result)
            elif self.state == dfuMANIFEST_SYNC:
                self.state, self.left_at = dfuMANIFEST, self.pointer
            return bytes([self.status, poll & 0xFF, poll >> 8 & 0xFF, poll >> 16,
                          self.state, 0])
        if request == GETSTATE:
            return bytes([self.state])
        if request == UPLOAD:
            if self.state not in (dfuIDLE, dfuUPLOAD_IDLE):
                raise Stall(f"DFU_UPLOAD in state {self.state}")
            if value == 0:                          # Get Commands
                return bytes([GET_COMMANDS, SET_ADDRESS, ERASE, READ_UNPROTECT])[:length]
            if value == 1 or not 2 <= length <= self.transfer_size:
                raise Stall(f"DFU_UPLOAD wValue {value} wLength {length}")
            if self.read_protected:
                self.state, self.status = dfuERROR, errVENDOR
                raise Stall("read protection is active")
            addr = self.pointer + (value - 2) * self.transfer_size
            off = self._offset(addr, length)
            if off is None:
                self.state, self.status = dfuERROR, errTARGET
                raise Stall(f"upload from 0x{addr:08x}")
            self.state = dfuUPLOAD_IDLE if length == self.transfer_size else dfuIDLE
            return bytes(self.flash[off:off + length])
        raise Stall(f"request {request}")

    # -- what the device does at the GETSTATUS after a DNLOAD ---------------------------
    def _execute(self) -> int:
        """Run the pending block; -> bwPollTimeout. The answer is dfuDNBUSY;
        a failure shows at the next GETSTATUS as dfuERROR + status."""
        (value, data), self.pending = self.pending, None
        self.state, self.result = dfuDNBUSY, OK
        if value == 0:
            cmd, arg = data[0], data[1:]
            if cmd == SET_ADDRESS and len(arg) == 4:
                self.pointer = int.from_bytes(arg, "little")
                if self._offset(self.pointer, 0) is None:
                    self.result = errTARGET
                return 0
            if cmd == ERASE and len(arg) in (0, 4):
                if self.read_protected:
                    self.result = errVENDOR
                elif not arg:
                    self.flash[:] = b"\xff" * len(self.flash)
                else:
                    off = self._offset(int.from_bytes(arg, "little"), 0)
                    if off is None:
                        self.result = errTARGET
                    else:
                        page = off // PAGE * PAGE
                        self.flash[page:page + PAGE] = b"\xff" * PAGE
                        self.erased_pages.append(self.base + page)
                return self.erase_ms
            if cmd == READ_UNPROTECT and not arg:
                self.flash[:] = b"\xff" * len(self.flash)
                self.read_protected = False
                return self.erase_ms
            self.result = errSTALLEDPKT             # AN2662: unsupported command
            return 0
        addr = self.pointer + (value - 2) * self.transfer_size
        off = self._offset(addr, len(data))
        if self.read_protected:
            self.result = errVENDOR
        elif off is None or len(data) > self.transfer_size:
            self.result = errTARGET
        else:
            self._program(off, data)
        return self.write_ms

    def _program(self, off: int, data: bytes) -> None:
        """Double words, each only if erased (a short tail is padded with 0xff)."""
        for dw in range(off // DOUBLE_WORD * DOUBLE_WORD, off + len(data), DOUBLE_WORD):
            if self.flash[dw:dw + DOUBLE_WORD] != b"\xff" * DOUBLE_WORD:
                self.result = errPROG
                return
            new = bytearray(self.flash[dw:dw + DOUBLE_WORD])
            for i in range(DOUBLE_WORD):
                if off <= dw + i < off + len(data):
                    new[i] = data[dw + i - off]
            self.flash[dw:dw + DOUBLE_WORD] = new

    def _offset(self, addr: int, length: int) -> int | None:
        off = addr - self.base
        return off if 0 <= off and off + max(length, 1) <= len(self.flash) else None
