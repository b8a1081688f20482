"""usb_keyboard.py - the kit's readers of a keyboard board's USB device
(userland/usb_kbd: interface 0 a boot keyboard, interface 1 an NKRO
keyboard, then a CDC-ACM console).

- `decode_boot`, `decode_nkro`, `decode`: report bytes -> `Report`, the
  same for both formats (userland/keyboard/src/report.rs): `modifiers` is
  byte 0 (bit n = usage 0xE0 + n), `keys` the other usages down, `rollover`
  true when a boot report says ErrorRollOver (0x01 in all six slots; its
  keys are then unknown, its modifiers still valid). The trace-UART path
  uses these on bytes it read off the console.
- `HidReportReader(vid, pid, interface)`: a keyboard interface's interrupt
  IN endpoint through pyusb (libusb): finds the device, detaches the OS's
  driver from that interface (reattached on close), claims it, reads.
- `find_cdc_acm_port(vid, pid, interface=None)`: the console's serial port
  (/dev/ttyACM*, COMn) through pyserial's list_ports.

Every failure a user can fix is one ToolError line (no device, no
permission, no such interface)."""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass

from .errors import ToolError

BOOT_LEN = 8                   # HID 1.11 Appendix B.1
NKRO_LEN = 29                  # modifiers + 224 bits (usages 0x00..=0xDF)
ERROR_ROLL_OVER = 0x01
FIRST_KEY = 0x04               # usages 0x00..=0x03 are not keys
FIRST_MODIFIER = 0xE0          # 0xE0..=0xE7 live in the modifier byte


class ReportError(ToolError):
    """Bytes that are not a report of the format they claim."""


@dataclass(frozen=True)
class Report:
    """One keyboard state: `modifiers` the modifier byte, `keys` the key
    usages down (0x04..=0xDF; never a modifier usage), `rollover` when a
    boot report could not list them (more than six down)."""
    modifiers: int
    keys: frozenset[int]
    rollover: bool = False


def decode_boot(data: bytes) -> Report:
    """An 8-byte boot report: modifiers, reserved, six usage slots (0 = empty)."""
    data = bytes(data)
    if len(data) != BOOT_LEN:
        raise ReportError(f"boot report of {len(data)} bytes (expected {BOOT_LEN}): {data.hex()}")
    slots = data[2:]
    if all(u == ERROR_ROLL_OVER for u in slots):
        return Report(data[0], frozenset(), rollover=True)
    for u in slots:
        if u and not FIRST_KEY <= u < FIRST_MODIFIER:
            raise ReportError(f"boot report slot 0x{u:02x} is not a key usage: {data.hex()}")
    return Report(data[0], frozenset(u for u in slots if u))


def decode_nkro(data: bytes) -> Report:
    """A 29-byte NKRO report: modifiers, then bit u % 8 of byte 1 + u // 8
    for each usage u in 0x00..=0xDF that is down."""
    data = bytes(data)
    if len(data) != NKRO_LEN:
        raise ReportError(f"NKRO report of {len(data)} bytes (expected {NKRO_LEN}): {data.hex()}")
    down = {u for u in range(FIRST_MODIFIER) if data[1 + u // 8] >> (u % 8) & 1}
    reserved = sorted(u for u in down if u < FIRST_KEY)
    if reserved:
        raise ReportError(f"NKRO report sets the bit of usage 0x{reserved[0]:02x}, "
                          f"which is not a key: {data.hex()}")
    return Report(data[0], frozenset(down))


def decode(data: bytes) -> Report:
    """A boot or an NKRO report, told apart by their lengths."""
    if len(data) == BOOT_LEN:
        return decode_boot(data)
    if len(data) == NKRO_LEN:
        return decode_nkro(data)
    raise ReportError(f"a report of {len(data)} bytes is neither boot ({BOOT_LEN}) nor "
                      f"NKRO ({NKRO_LEN}): {bytes(data).hex()}")


def udev_rule(vid: int, pid: int) -> str:
    return (f'SUBSYSTEM=="usb", ATTRS{{idVendor}}=="{vid:04x}", '
            f'ATTRS{{idProduct}}=="{pid:04x}", MODE="0666"')


def _is_permission(e: Exception) -> bool:
    return (isinstance(e, PermissionError) or getattr(e, "errno", None) == errno.EACCES
            or "Errno 13" in str(e) or "Access denied" in str(e))


def _is_timeout(e: Exception, usb_core) -> bool:
    timeout_error = getattr(usb_core, "USBTimeoutError", None)
    return ((timeout_error is not None and isinstance(e, timeout_error))
            or getattr(e, "errno", None) == errno.ETIMEDOUT or "timed out" in str(e).lower())


class HidReportReader:
    """Reads one HID interface of the USB device vid:pid. Open on creation;
    `close()` (or `with`) releases the interface and gives it back to the
    OS's driver. `read()` returns the next `Report`, or None when none came
    within the timeout (a keyboard reports only on a change)."""

    def __init__(self, vid: int, pid: int, interface: int, timeout_ms: int = 1000):
        self.vid, self.pid, self.interface, self.timeout_ms = vid, pid, interface, timeout_ms
        self.name = f"USB device {vid:04x}:{pid:04x}"
        try:
            import usb.core
            import usb.util
        except Exception as e:
            raise ToolError(f"pyusb is not importable ({type(e).__name__}: {e})") from None
        self._core, self._util = usb.core, usb.util
        self.dev = self._find()
        self._detached = False
        self._claimed = False
        try:
            self.endpoint = self._open()
        except BaseException:
            self.close()
            raise

    def _fail(self, what: str, e: Exception) -> ToolError:
        if _is_permission(e):
            return ToolError(f"no permission to open the {self.name}: add the udev rule "
                             f"'{udev_rule(self.vid, self.pid)}' to "
                             f"/etc/udev/rules.d/70-nagi-keyboard.rules, then `udevadm control "
                             f"--reload && udevadm trigger` (or run as root)")
        if getattr(e, "errno", None) == errno.ENODEV:
            return ToolError(f"the {self.name} went away ({what}): was it unplugged or reset?")
        return ToolError(f"{self.name}: {what}: {type(e).__name__}: {e}".splitlines()[0])

    def _find(self):
        try:
            devs = list(self._core.find(find_all=True, idVendor=self.vid, idProduct=self.pid))
        except Exception as e:     # usb.core.NoBackendError: no libusb
            raise ToolError(f"USB: {type(e).__name__}: {e} (is libusb-1.0 installed?)"
                            .splitlines()[0]) from None
        if not devs:
            raise ToolError(f"no {self.name} found: plug the keyboard board's USB port into "
                            f"this machine, and check the VID:PID (board.toml)")
        if len(devs) > 1:
            raise ToolError(f"{len(devs)} devices {self.vid:04x}:{self.pid:04x} attached; "
                            f"attach only one")
        return devs[0]

    def _open(self):
        core, util, dev, n = self._core, self._util, self.dev, self.interface
        try:
            try:
                cfg = dev.get_active_configuration()
            except core.USBError as e:
                if _is_permission(e):
                    raise
                dev.set_configuration()          # not configured by the OS yet
                cfg = dev.get_active_configuration()
            intf = util.find_descriptor(cfg, bInterfaceNumber=n, bAlternateSetting=0)
            if intf is None:
                raise ToolError(f"the {self.name} has no interface {n} (its interfaces: "
                                f"{sorted({i.bInterfaceNumber for i in cfg})})")
            try:
                if dev.is_kernel_driver_active(n):
                    dev.detach_kernel_driver(n)
                    self._detached = True
            except NotImplementedError:
                pass                              # no kernel drivers to detach (not Linux)
            util.claim_interface(dev, n)
            self._claimed = True
        except ToolError:
            raise
        except Exception as e:
            raise self._fail(f"opening interface {n}", e) from None
        ep = util.find_descriptor(intf, custom_match=lambda e: (
            util.endpoint_direction(e.bEndpointAddress) == util.ENDPOINT_IN
            and util.endpoint_type(e.bmAttributes) == util.ENDPOINT_TYPE_INTR))
        if ep is None:
            raise ToolError(f"interface {n} of the {self.name} has no interrupt IN endpoint "
                            f"(is it a HID interface?)")
        return ep

    def read_raw(self, timeout_ms: int | None = None) -> bytes | None:
        """The next packet of the interrupt IN endpoint; None on timeout."""
        timeout = self.timeout_ms if timeout_ms is None else timeout_ms
        try:
            data = self.dev.read(self.endpoint.bEndpointAddress,
                                 self.endpoint.wMaxPacketSize, timeout)
        except Exception as e:
            if _is_timeout(e, self._core):
                return None
            raise self._fail(f"reading endpoint 0x{self.endpoint.bEndpointAddress:02x}",
                             e) from None
        return bytes(data)

    def read(self, timeout_ms: int | None = None) -> Report | None:
        """The next report, decoded (boot or NKRO by its length); None on timeout."""
        data = self.read_raw(timeout_ms)
        return None if data is None else decode(data)

    def close(self) -> None:
        """Release the interface and hand it back to the OS driver it had."""
        dev, n = self.dev, self.interface
        try:
            if self._claimed:
                self._util.release_interface(dev, n)
                self._claimed = False
            if self._detached:
                dev.attach_kernel_driver(n)
                self._detached = False
        except Exception:
            pass                                  # unplugged meanwhile: nothing to give back
        finally:
            try:
                self._util.dispose_resources(dev)
            except Exception:
                pass

    def __enter__(self) -> "HidReportReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_INTERFACE_IN_LOCATION = re.compile(r":[^:]*\.(\d+)$")    # "1-1.2:1.2": config 1, interface 2


# The keyboard's CDC-ACM communication interface (userland/usb_kbd:
# boot keyboard 0, NKRO keyboard 1, CDC 2 and its data interface 3).
CDC_CONSOLE_INTERFACE = 2


def _interface_number(port) -> int | None:
    """The USB interface a port belongs to, from pyserial's `location`
    (Linux "1-1.2:1.2", Windows "1-1.2:x.2"); None when it does not say."""
    m = _INTERFACE_IN_LOCATION.search(getattr(port, "location", None) or "")
    return int(m.group(1)) if m else None


def find_cdc_acm_port(vid: int, pid: int, interface: int | None = None) -> str:
    """The serial port (device path) of the USB device vid:pid's CDC-ACM
    interface, `interface` the number of its communication interface when
    the device has several ports."""
    try:
        from serial.tools import list_ports
    except Exception as e:
        raise ToolError(f"pyserial is not importable ({type(e).__name__}: {e})") from None
    ports = [p for p in list_ports.comports() if p.vid == vid and p.pid == pid]
    if interface is not None:
        ports = [p for p in ports if _interface_number(p) == interface]
    where = f"USB device {vid:04x}:{pid:04x}" + (f" interface {interface}"
                                                  if interface is not None else "")
    if not ports:
        raise ToolError(f"no serial port of {where} found: plug the board's USB port into "
                        f"this machine (its console is a CDC-ACM port, /dev/ttyACM* on Linux), "
                        f"and check the VID:PID (board.toml)")
    if len(ports) > 1:
        raise ToolError(f"{len(ports)} serial ports of {where}: "
                        f"{', '.join(sorted(p.device for p in ports))}; name the interface "
                        f"or attach only one board")
    return ports[0].device
