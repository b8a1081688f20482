"""initfs packing against the format at the bottom of kernel/abi.toml."""

import struct

import pytest

from tools.errors import ToolError
from tools.initfs import pack, unpack


def test_round_trip_keeps_order_and_bytes():
    files = [("init", b"\x7fELF" + b"i" * 37), ("memory", b""), ("shell", bytes(range(256)) * 3)]
    assert unpack(pack(files)) == files


def test_layout_matches_abi():
    blob = pack([("init", b"abc"), ("console", b"defgh")])
    assert blob[:8] == b"NAGIINIT"
    count, reserved = struct.unpack_from("<II", blob, 8)
    assert (count, reserved) == (2, 0)
    name, off, size = struct.unpack_from("<32sII", blob, 16)
    assert name.rstrip(b"\0") == b"init" and size == 3
    assert off == 16 + 2 * 40 == 96 and off % 16 == 0
    name2, off2, size2 = struct.unpack_from("<32sII", blob, 56)
    assert name2.rstrip(b"\0") == b"console" and (off2, size2) == (112, 5)
    assert blob[off:off + 3] == b"abc" and blob[off2:off2 + 5] == b"defgh"
    assert len(blob) % 16 == 0


def test_abi_constants_agree():
    from tools import abigen
    from tools.initfs import MAGIC, NAME_MAX
    abi = abigen.load()
    assert abi.const("INITFS_MAGIC").value.encode() == MAGIC
    assert abi.const("INITFS_NAME_MAX").value == NAME_MAX


@pytest.mark.parametrize("name", ["", "x" * 32, "a\0b"])
def test_bad_names_rejected(name):
    with pytest.raises(ToolError):
        pack([(name, b"")])


def test_duplicate_rejected():
    with pytest.raises(ToolError):
        pack([("init", b""), ("init", b"")])


@pytest.mark.parametrize("blob", [b"", b"NOTMAGIC" + bytes(8),
                                  b"NAGIINIT" + struct.pack("<II", 5, 0)])
def test_malformed_bundles(blob):
    with pytest.raises(ValueError):
        unpack(blob)
