"""tap.py - open a Linux tap device as a file descriptor of Ethernet frames.

Written by hand because it is one ioctl: TUNSETIFF on /dev/net/tun with
IFF_TAP | IFF_NO_PI (linux/if_tun.h) binds the descriptor to the named
device; each read() is then one frame and each write() sends one. The
device itself is created (and owned) by `ip tuntap add` in the kit's
namespace (tools/netkit/namespace.py); the libraries that wrap this
(pytun, pyroute2) would add a dependency for these few lines."""

from __future__ import annotations

import fcntl
import os
import struct

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFNAMSIZ = 16


def open_tap(name: str) -> int:
    """A non-blocking descriptor of tap device `name` (OSError if absent)."""
    if not 0 < len(name.encode()) < IFNAMSIZ:
        raise ValueError(f"tap name {name!r}: 1..{IFNAMSIZ - 1} bytes")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    try:
        ifr = struct.pack(f"{IFNAMSIZ}sH", name.encode(), IFF_TAP | IFF_NO_PI)
        fcntl.ioctl(fd, TUNSETIFF, ifr)
    except OSError:
        os.close(fd)
        raise
    return fd
