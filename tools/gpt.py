"""gpt.py - a GUID Partition Table (UEFI 2.10, chapter 5) with the
protective MBR a BIOS boot needs, written into and read back from an image.

Written by hand, not with a library: the one GPT writer on PyPI that works
on image files (gpt-image 0.9) rewrites the whole MBR sector on every
commit (it would wipe GRUB's boot.img), leaves the protective entry's CHS
fields zero and draws random GUIDs (no two builds of the same image would
be equal). The format is small: the layout below, CRC32 (zlib's is the
one the spec names) over the header and over the entry array.

    LBA 0            protective MBR: boot code 0..439, one entry of type
                     0xEE covering the disk (CHS 0/0/2 .. 0xffffff), 55 aa
    LBA 1            primary header  ("EFI PART", CRCs, LBAs below)
    LBA 2..33        128 entries x 128 bytes
    ...              partitions (first usable LBA 34; ours start at 2048)
    LBA n-33..n-2    the entry array again
    LBA n-1          backup header (MyLBA/AlternateLBA swapped)
"""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass

SECTOR = 512
ENTRIES = 128
ENTRY_SIZE = 128
ARRAY_SECTORS = ENTRIES * ENTRY_SIZE // SECTOR          # 32
FIRST_USABLE = 2 + ARRAY_SECTORS                        # 34
SIGNATURE = b"EFI PART"
REVISION = 0x00010000
HEADER_SIZE = 92
HEADER = struct.Struct("<8sIIIIQQQQ16sQIII")            # 92 bytes
ENTRY = struct.Struct("<16s16sQQQ72s")                  # 128 bytes
MBR_ENTRY = struct.Struct("<B3sB3sII")                  # 16 bytes
MBR_TABLE = 446                                         # first of four entries
MBR_BOOT_CODE = 440                                     # boot code ends; disk signature follows
PROTECTIVE_TYPE = 0xEE

# Partition type GUIDs.
BIOS_BOOT = uuid.UUID("21686148-6449-6e6f-744e-656564454649")   # "Hah!IdontNeedEFI": GRUB's core.img
ESP = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")         # EFI System Partition

# Attribute bit 2: "legacy BIOS bootable" (some BIOSes look for it).
LEGACY_BIOS_BOOTABLE = 1 << 2


class GptError(Exception):
    """An image whose GPT does not read back as the spec says."""


@dataclass(frozen=True)
class Partition:
    type_guid: uuid.UUID
    guid: uuid.UUID
    first_lba: int
    last_lba: int                 # inclusive, as the spec stores it
    name: str
    attributes: int = 0

    @property
    def offset(self) -> int:
        return self.first_lba * SECTOR

    @property
    def size(self) -> int:
        return (self.last_lba - self.first_lba + 1) * SECTOR

    def pack(self) -> bytes:
        name = self.name.encode("utf-16-le")
        if len(name) > 72:
            raise ValueError(f"partition name too long: {self.name!r}")
        return ENTRY.pack(self.type_guid.bytes_le, self.guid.bytes_le, self.first_lba,
                          self.last_lba, self.attributes, name.ljust(72, b"\0"))

    @classmethod
    def unpack(cls, raw: bytes) -> "Partition | None":
        t, g, first, last, attrs, name = ENTRY.unpack(raw)
        if t == bytes(16):
            return None
        return cls(uuid.UUID(bytes_le=t), uuid.UUID(bytes_le=g), first, last,
                   name.decode("utf-16-le").rstrip("\0"), attrs)


@dataclass(frozen=True)
class Table:
    disk_guid: uuid.UUID
    sectors: int                  # the whole disk
    partitions: tuple[Partition, ...]

    @property
    def last_usable(self) -> int:
        return self.sectors - 2 - ARRAY_SECTORS

    def entry_array(self) -> bytes:
        raw = b"".join(p.pack() for p in self.partitions)
        return raw.ljust(ENTRIES * ENTRY_SIZE, b"\0")

    def header(self, backup: bool) -> bytes:
        """One header sector; `backup` is the copy in the last LBA."""
        me, other = (self.sectors - 1, 1) if backup else (1, self.sectors - 1)
        array_lba = self.last_usable + 1 if backup else 2
        fields = [SIGNATURE, REVISION, HEADER_SIZE, 0, 0, me, other, FIRST_USABLE,
                  self.last_usable, self.disk_guid.bytes_le, array_lba, ENTRIES, ENTRY_SIZE,
                  zlib.crc32(self.entry_array())]
        crc = zlib.crc32(HEADER.pack(*fields))
        fields[3] = crc
        return HEADER.pack(*fields).ljust(SECTOR, b"\0")


def protective_entry(sectors: int) -> bytes:
    """The MBR entry of type 0xEE from LBA 1 over the disk (capped at 2^32-1)."""
    size = min(sectors - 1, 0xFFFFFFFF)
    return MBR_ENTRY.pack(0, b"\x00\x02\x00", PROTECTIVE_TYPE, b"\xff\xff\xff", 1, size)


def write(f, table: Table, boot_code: bytes = b"") -> None:
    """Write the protective MBR (with `boot_code`, at most 440 bytes, in
    front), both headers and both entry arrays into the open image `f`,
    which must already be table.sectors long."""
    for p in table.partitions:
        if not FIRST_USABLE <= p.first_lba <= p.last_lba <= table.last_usable:
            raise ValueError(f"partition {p.name!r} outside the usable LBAs")
    if len(boot_code) > MBR_BOOT_CODE:
        raise ValueError("MBR boot code longer than 440 bytes")
    mbr = bytearray(SECTOR)
    mbr[:len(boot_code)] = boot_code
    mbr[MBR_TABLE:MBR_TABLE + 16] = protective_entry(table.sectors)
    mbr[510:512] = b"\x55\xaa"
    array = table.entry_array()
    for lba, data in ((0, bytes(mbr)), (1, table.header(False)), (2, array),
                      (table.last_usable + 1, array), (table.sectors - 1, table.header(True))):
        f.seek(lba * SECTOR)
        f.write(data)


def read(f, sectors: int) -> Table:
    """Parse and check the GPT of the open image `f` (`sectors` long):
    protective MBR, both headers (signature, CRC, LBAs) and both entry
    arrays (CRC, equal). GptError names the first problem."""
    def at(lba: int, n: int = 1) -> bytes:
        f.seek(lba * SECTOR)
        return f.read(n * SECTOR)

    mbr = at(0)
    if mbr[510:512] != b"\x55\xaa":
        raise GptError("MBR: no 55 aa signature")
    if mbr[MBR_TABLE:MBR_TABLE + 16] != protective_entry(sectors):
        raise GptError("MBR: the first entry is not a protective 0xEE entry over the disk")
    if any(mbr[MBR_TABLE + 16:510]):
        raise GptError("MBR: entries besides the protective one")
    headers = []
    for lba, backup in ((1, False), (sectors - 1, True)):
        raw = at(lba)[:HEADER_SIZE]
        fields = list(HEADER.unpack(raw))
        if fields[0] != SIGNATURE or fields[1] != REVISION or fields[2] != HEADER_SIZE:
            raise GptError(f"header at LBA {lba}: bad signature, revision or size")
        crc, fields[3] = fields[3], 0
        if zlib.crc32(HEADER.pack(*fields)) != crc:
            raise GptError(f"header at LBA {lba}: header CRC32 mismatch")
        me, other, first, last, array_lba = fields[5], fields[6], fields[7], fields[8], fields[10]
        if (me, other) != (lba, 1 if backup else sectors - 1):
            raise GptError(f"header at LBA {lba}: MyLBA/AlternateLBA {me}/{other}")
        if (first, last) != (FIRST_USABLE, sectors - 2 - ARRAY_SECTORS):
            raise GptError(f"header at LBA {lba}: usable LBAs {first}..{last}")
        if fields[11:13] != [ENTRIES, ENTRY_SIZE]:
            raise GptError(f"header at LBA {lba}: {fields[11]} entries of {fields[12]} bytes")
        array = at(array_lba, ARRAY_SECTORS)
        if zlib.crc32(array) != fields[13]:
            raise GptError(f"header at LBA {lba}: entry array CRC32 mismatch")
        headers.append((fields[9], array))
    if headers[0] != headers[1]:
        raise GptError("primary and backup tables differ")
    guid, array = headers[0]
    parts = [Partition.unpack(array[i:i + ENTRY_SIZE]) for i in range(0, len(array), ENTRY_SIZE)]
    return Table(uuid.UUID(bytes_le=guid), sectors, tuple(p for p in parts if p))
