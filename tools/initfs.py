"""initfs.py - the bundle of user programs linked into the kernel image.

Format (kernel/abi.toml, bottom): header `char magic[8] = "NAGIINIT"`, u32
count, u32 reserved; then `count` entries of `char name[32]`, u32 offset,
u32 size (offsets from the start of the bundle); then the files, each
16-byte aligned. Little-endian. The kernel starts the first entry (init)."""

from __future__ import annotations

import struct

from .errors import ToolError

MAGIC = b"NAGIINIT"
NAME_MAX = 32
ALIGN = 16
HEADER = struct.Struct("<8sII")
ENTRY = struct.Struct("<32sII")


def _align(n: int) -> int:
    return (n + ALIGN - 1) & ~(ALIGN - 1)


def pack(files: list[tuple[str, bytes]]) -> bytes:
    """Bundle (name, contents) pairs in the given order."""
    seen = set()
    for name, _ in files:
        raw = name.encode()
        if not raw or len(raw) >= NAME_MAX or b"\0" in raw:
            raise ToolError(f"initfs: bad file name '{name}' (1..{NAME_MAX - 1} bytes)")
        if name in seen:
            raise ToolError(f"initfs: '{name}' given twice")
        seen.add(name)
    offset = _align(HEADER.size + ENTRY.size * len(files))
    table, blobs = [], []
    for name, data in files:
        table.append(ENTRY.pack(name.encode(), offset, len(data)))
        blobs.append((offset, data))
        offset = _align(offset + len(data))
    out = bytearray(HEADER.pack(MAGIC, len(files), 0) + b"".join(table))
    for start, data in blobs:
        out += b"\0" * (start - len(out))
        out += data
    out += b"\0" * (_align(len(out)) - len(out))
    if len(out) > 0xffff_ffff:
        raise ToolError("initfs: bundle larger than 4 GiB")
    return bytes(out)


def unpack(blob: bytes) -> list[tuple[str, bytes]]:
    """The inverse of pack(); ValueError on a malformed bundle."""
    if len(blob) < HEADER.size:
        raise ValueError("initfs: shorter than its header")
    magic, count, _ = HEADER.unpack_from(blob, 0)
    if magic != MAGIC:
        raise ValueError(f"initfs: bad magic {magic!r}")
    if HEADER.size + count * ENTRY.size > len(blob):
        raise ValueError("initfs: entry table runs past the end")
    files = []
    for i in range(count):
        raw, offset, size = ENTRY.unpack_from(blob, HEADER.size + i * ENTRY.size)
        if offset % ALIGN or offset + size > len(blob):
            raise ValueError(f"initfs: entry {i} out of bounds or unaligned")
        files.append((raw.split(b"\0", 1)[0].decode(), blob[offset:offset + size]))
    return files
