"""The keyboard board's composite USB device as pyusb shows it, written
from USB 2.0 chapter 9 and the descriptors userland/usb_kbd serves (its
host tests check those on the device side): configuration 1 with
interface 0 a boot keyboard (HID 3/1/1, interrupt IN 0x81), interface 1
an NKRO keyboard (HID 3/0/0, interrupt IN 0x82), interfaces 2/3 CDC-ACM
(2/2/0 with interrupt IN 0x83; 0x0A with bulk OUT 0x04, bulk IN 0x84),
every endpoint 64 bytes.

It stands in for a pyusb `usb.core.Device`: the descriptor objects
(iterable, with the bXxx fields, so usb.util.find_descriptor works on
them), `get_active_configuration`, `set_configuration`, the kernel-driver
calls, `read` (pyusb's signature), and the `_ctx` that usb.util's
claim/release/dispose reach into. Reports a test queues with `press`
come out of `read` on their endpoint; an empty queue times out the way
libusb does (usb.core.USBTimeoutError, errno ETIMEDOUT). `denied=True`
plays a device node the user may not open (USBError errno EACCES, as
libusb reports LIBUSB_ERROR_ACCESS); `unplug()` makes every call fail
with ENODEV. `install(monkeypatch, *devices)` makes usb.core.find
return them."""

from __future__ import annotations

import errno
import inspect
from collections import deque
from types import SimpleNamespace

import usb.core


def _usb_error(message: str, code: int, kind=usb.core.USBError):
    return kind(message, errno=code)


class Endpoint(SimpleNamespace):
    pass


class Interface:
    def __init__(self, number, cls, subclass, protocol, endpoints):
        self.bInterfaceNumber, self.bAlternateSetting = number, 0
        self.bInterfaceClass, self.bInterfaceSubClass = cls, subclass
        self.bInterfaceProtocol = protocol
        self.endpoints_ = [Endpoint(bEndpointAddress=a, bmAttributes=t, wMaxPacketSize=64,
                                    bInterval=i) for a, t, i in endpoints]
        self.bNumEndpoints = len(self.endpoints_)

    def __iter__(self):
        return iter(self.endpoints_)


class Configuration:
    def __init__(self, interfaces):
        self.bConfigurationValue = 1
        self.interfaces_ = interfaces
        self.bNumInterfaces = len(interfaces)

    def __iter__(self):
        return iter(self.interfaces_)


INTERRUPT, BULK = 3, 2


class Context:
    """What usb.util.claim_interface / release_interface / dispose_resources call."""

    def __init__(self, device):
        self.device = device

    def managed_claim_interface(self, device, interface):
        device._check()
        if device.kernel_drivers.get(interface):
            # libusb: LIBUSB_ERROR_BUSY while the kernel driver holds it
            raise _usb_error("[Errno 16] Resource busy", errno.EBUSY)
        device.claimed.add(interface)

    def managed_release_interface(self, device, interface):
        device.claimed.discard(interface)

    def dispose(self, device, close_handle=True):
        device.disposed += 1


class KeyboardDevice:
    def __init__(self, vid=0x1209, pid=0x0001, configured=True, kernel_drivers=(0, 1),
                 denied=False):
        self.idVendor, self.idProduct = vid, pid
        self.configuration = Configuration([
            Interface(0, 3, 1, 1, [(0x81, INTERRUPT, 1)]),
            Interface(1, 3, 0, 0, [(0x82, INTERRUPT, 1)]),
            Interface(2, 2, 2, 0, [(0x83, INTERRUPT, 255)]),
            Interface(3, 0x0A, 0, 0, [(0x04, BULK, 0), (0x84, BULK, 0)]),
        ])
        self.configured = configured
        self.kernel_drivers = {i: True for i in kernel_drivers}   # usbhid on the HID interfaces
        self.denied, self.unplugged = denied, False
        self.claimed: set[int] = set()
        self.disposed = 0
        self.queues: dict[int, deque] = {0x81: deque(), 0x82: deque()}
        self.reads: list[tuple[int, int, int]] = []
        self._ctx = Context(self)

    # -- the test's side -----------------------------------------------------------
    def press(self, endpoint: int, report: bytes) -> None:
        self.queues[endpoint].append(bytes(report))

    def unplug(self) -> None:
        self.unplugged = True

    # -- pyusb's side ----------------------------------------------------------------
    def _check(self, opening=True):
        if self.unplugged:
            raise _usb_error("[Errno 19] No such device (it may have been disconnected)",
                             errno.ENODEV)
        if self.denied and opening:
            raise _usb_error("[Errno 13] Access denied (insufficient permissions)", errno.EACCES)

    def __iter__(self):
        return iter([self.configuration])

    def get_active_configuration(self):
        self._check()
        if not self.configured:
            raise _usb_error("Configuration not set", None)
        return self.configuration

    def set_configuration(self, configuration=None):
        self._check()
        self.configured = True

    def is_kernel_driver_active(self, interface):
        self._check()
        return self.kernel_drivers.get(interface, False)

    def detach_kernel_driver(self, interface):
        self._check()
        self.kernel_drivers[interface] = False

    def attach_kernel_driver(self, interface):
        self._check()
        self.kernel_drivers[interface] = True

    def read(self, *args, **kwargs):
        bound = inspect.signature(usb.core.Device.read).bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        endpoint, size, timeout = a["endpoint"], a["size_or_buffer"], a["timeout"]
        self._check()
        self.reads.append((endpoint, size, timeout))
        interface = next(i.bInterfaceNumber for i in self.configuration
                         for e in i if e.bEndpointAddress == endpoint)
        if interface not in self.claimed:
            raise AssertionError(f"read of 0x{endpoint:02x} before claiming interface {interface}")
        queue = self.queues.get(endpoint)
        if not queue:
            raise _usb_error("[Errno 110] Operation timed out", errno.ETIMEDOUT,
                             usb.core.USBTimeoutError)
        report = queue.popleft()
        assert len(report) <= size, "a packet larger than the read"
        return bytearray(report)


def install(monkeypatch, *devices):
    """usb.core.find returns `devices` that match, as pyusb's does."""
    def find(find_all=False, backend=None, custom_match=None, **match):
        found = [d for d in devices
                 if all(getattr(d, k) == v for k, v in match.items())]
        return iter(found) if find_all else (found[0] if found else None)
    monkeypatch.setattr(usb.core, "find", find)
    return devices
