"""elfimage.py - the small ELF32 (little-endian, ARM) reader and writer and
the Intel HEX writer/reader behind tools/layout.py. Standard library only.

Reading gives the program headers, the allocated sections and the symbol
table of a linked executable; writing produces an ET_EXEC with one PT_LOAD
per segment (placed at its physical address) and a matching section table,
so readelf/objdump/gdb/QEMU/pyocd all understand it."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFDATA2LSB, EV_CURRENT = 1, 1, 1
ET_EXEC = 2
EM_ARM = 40
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 0, 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
EF_ARM_EABI_VER5 = 0x0500_0000
EF_ARM_ABI_FLOAT_HARD = 0x400

EHDR = struct.Struct("<16sHHIIIIIHHHHHH")   # 52 bytes
PHDR = struct.Struct("<IIIIIIII")           # 32 bytes
SHDR = struct.Struct("<IIIIIIIIII")         # 40 bytes
SYM = struct.Struct("<IIIBBH")              # 16 bytes


class ElfError(ValueError):
    """A file that is not the ELF32 little-endian executable expected."""


@dataclass
class Segment:
    """A program header; `data` holds its p_filesz file bytes."""
    type: int
    offset: int
    vaddr: int
    paddr: int
    filesz: int
    memsz: int
    flags: int
    align: int
    data: bytes = b""


@dataclass
class Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int


@dataclass
class Elf32:
    path: str
    machine: int
    entry: int
    flags: int
    segments: list[Segment]
    sections: list[Section]
    symbols: dict[str, int] = field(default_factory=dict)

    @property
    def loads(self) -> list[Segment]:
        return [s for s in self.segments if s.type == PT_LOAD]

    def symbol(self, name: str) -> int:
        try:
            return self.symbols[name]
        except KeyError:
            raise ElfError(f"{self.path}: no symbol '{name}'") from None

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)


def _cstr(table: bytes, off: int) -> str:
    end = table.find(b"\0", off)
    return table[off:end if end >= 0 else len(table)].decode(errors="replace")


def parse_elf(blob: bytes, path: str = "<elf>") -> Elf32:
    """Parse an ELF32 little-endian file (any machine; callers check it)."""
    if len(blob) < EHDR.size or blob[:4] != ELF_MAGIC:
        raise ElfError(f"{path}: not an ELF file")
    if blob[4] != ELFCLASS32 or blob[5] != ELFDATA2LSB:
        raise ElfError(f"{path}: not a 32-bit little-endian ELF")
    (_, _etype, machine, _ver, entry, phoff, shoff, flags, _ehsize, phentsize, phnum,
     shentsize, shnum, shstrndx) = EHDR.unpack_from(blob, 0)
    segments = []
    for i in range(phnum):
        off = phoff + i * phentsize
        if off + PHDR.size > len(blob):
            raise ElfError(f"{path}: program header {i} runs past the end")
        f = PHDR.unpack_from(blob, off)
        seg = Segment(*f)
        if seg.filesz and seg.offset + seg.filesz > len(blob):
            raise ElfError(f"{path}: segment {i} runs past the end")
        seg.data = blob[seg.offset:seg.offset + seg.filesz]
        segments.append(seg)
    raw_sections = []
    for i in range(shnum if shoff else 0):
        off = shoff + i * shentsize
        if off + SHDR.size > len(blob):
            raise ElfError(f"{path}: section header {i} runs past the end")
        raw_sections.append(SHDR.unpack_from(blob, off))
    shstr = b""
    if raw_sections and shstrndx < len(raw_sections):
        s = raw_sections[shstrndx]
        shstr = blob[s[4]:s[4] + s[5]]
    sections = [Section(_cstr(shstr, s[0]), s[1], s[2], s[3], s[4], s[5]) for s in raw_sections]
    symbols: dict[str, int] = {}
    for s in raw_sections:
        if s[1] != SHT_SYMTAB or s[6] >= len(raw_sections):
            continue
        strtab = raw_sections[s[6]]
        strs = blob[strtab[4]:strtab[4] + strtab[5]]
        entsize = s[9] or SYM.size
        for off in range(s[4], s[4] + s[5] - SYM.size + 1, entsize):
            name_off, value, _size, _info, _other, shndx = SYM.unpack_from(blob, off)
            name = _cstr(strs, name_off)
            if name and shndx != 0:           # defined symbols only
                symbols.setdefault(name, value)
    return Elf32(path=path, machine=machine, entry=entry, flags=flags, segments=segments,
                 sections=sections, symbols=symbols)


def read_elf(path) -> Elf32:
    with open(path, "rb") as f:
        return parse_elf(f.read(), str(path))


# -- writing ------------------------------------------------------------------

@dataclass
class LoadPiece:
    """One PT_LOAD of the merged image: `data` at physical address `addr`."""
    name: str
    addr: int
    data: bytes
    flags: int = PF_R


def write_elf(pieces: list[LoadPiece], entry: int, machine: int = EM_ARM,
              flags: int = EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD) -> bytes:
    """An ET_EXEC with one PT_LOAD per piece (vaddr = paddr = addr,
    memsz = filesz) and one SHF_ALLOC PROGBITS section per piece."""
    pieces = sorted(pieces, key=lambda p: p.addr)
    for a, b in zip(pieces, pieces[1:]):
        if a.addr + len(a.data) > b.addr:
            raise ElfError(f"pieces '{a.name}' and '{b.name}' overlap at 0x{b.addr:08x}")
    phoff = EHDR.size
    offset = phoff + PHDR.size * len(pieces)
    body = bytearray()
    phdrs, placed = [], []
    for p in pieces:
        # Keep file offset congruent to the address modulo 4 (p_align = 4).
        pad = (p.addr - (offset + len(body))) % 4
        body += b"\0" * pad
        off = offset + len(body)
        body += p.data
        phdrs.append(PHDR.pack(PT_LOAD, off, p.addr, p.addr, len(p.data), len(p.data),
                               p.flags, 4))
        placed.append((p, off))
    # Section table: NULL, one per piece, .shstrtab.
    shstr = bytearray(b"\0")
    names = []
    for p, _ in placed:
        names.append(len(shstr))
        shstr += p.name.encode() + b"\0"
    shstr_name = len(shstr)
    shstr += b".shstrtab\0"
    shstr_off = offset + len(body)
    body += shstr
    body += b"\0" * ((-len(body) - offset) % 4)
    shoff = offset + len(body)
    shdrs = [SHDR.pack(*([0] * 10))]
    for (p, off), name in zip(placed, names):
        sflags = SHF_ALLOC | (SHF_EXECINSTR if p.flags & PF_X else 0) | \
            (SHF_WRITE if p.flags & PF_W else 0)
        shdrs.append(SHDR.pack(name, SHT_PROGBITS, sflags, p.addr, off, len(p.data),
                               0, 0, 4, 0))
    shdrs.append(SHDR.pack(shstr_name, SHT_STRTAB, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0))
    ident = ELF_MAGIC + bytes([ELFCLASS32, ELFDATA2LSB, EV_CURRENT]) + b"\0" * 9
    ehdr = EHDR.pack(ident, ET_EXEC, machine, EV_CURRENT, entry, phoff, shoff, flags,
                     EHDR.size, PHDR.size, len(pieces), SHDR.size, len(shdrs), len(shdrs) - 1)
    return ehdr + b"".join(phdrs) + bytes(body) + b"".join(shdrs)


def flat_binary(pieces: list[LoadPiece], base: int, fill: int = 0xFF) -> bytes:
    """The bytes from `base` to the end of the last piece, gaps `fill`ed
    (0xff: erased flash)."""
    if not pieces:
        return b""
    end = max(p.addr + len(p.data) for p in pieces)
    out = bytearray([fill]) * (end - base)
    for p in pieces:
        if p.addr < base:
            raise ElfError(f"piece '{p.name}' at 0x{p.addr:08x} is below 0x{base:08x}")
        out[p.addr - base:p.addr - base + len(p.data)] = p.data
    return bytes(out)


# -- Intel HEX -----------------------------------------------------------------

def _hex_record(rtype: int, addr16: int, data: bytes) -> str:
    rec = bytes([len(data), (addr16 >> 8) & 0xFF, addr16 & 0xFF, rtype]) + data
    checksum = (-sum(rec)) & 0xFF
    return ":" + (rec + bytes([checksum])).hex().upper()


def intel_hex(pieces: list[LoadPiece], start: int | None = None, width: int = 16) -> str:
    """Intel HEX (I32HEX): data records of up to `width` bytes, an extended
    linear address record (04) whenever the upper 16 bits change, a start
    linear address record (05) when `start` is given, then EOF (01)."""
    lines = []
    upper = None
    for p in sorted(pieces, key=lambda p: p.addr):
        addr, data = p.addr, p.data
        i = 0
        while i < len(data):
            a = addr + i
            if a >> 16 != upper:
                upper = a >> 16
                lines.append(_hex_record(4, 0, upper.to_bytes(2, "big")))
            # a record never crosses a 64 KiB boundary
            n = min(width, len(data) - i, 0x10000 - (a & 0xFFFF))
            lines.append(_hex_record(0, a & 0xFFFF, data[i:i + n]))
            i += n
    if start is not None:
        lines.append(_hex_record(5, 0, start.to_bytes(4, "big")))
    lines.append(_hex_record(1, 0, b""))
    return "\n".join(lines) + "\n"


def parse_intel_hex(text: str) -> tuple[dict[int, int], int | None]:
    """Inverse of intel_hex(): ({address: byte}, start address or None).
    ValueError on a bad checksum, record or missing EOF."""
    memory: dict[int, int] = {}
    start, base, eof = None, 0, False
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if eof:
            raise ValueError(f"line {n}: data after the EOF record")
        if not line.startswith(":"):
            raise ValueError(f"line {n}: no ':' at the start")
        rec = bytes.fromhex(line[1:])
        if len(rec) < 5 or len(rec) != rec[0] + 5:
            raise ValueError(f"line {n}: bad record length")
        if sum(rec) & 0xFF:
            raise ValueError(f"line {n}: bad checksum")
        count, addr, rtype, data = rec[0], (rec[1] << 8) | rec[2], rec[3], rec[4:4 + rec[0]]
        if rtype == 0:
            for i, b in enumerate(data):
                memory[base + addr + i] = b
        elif rtype == 1:
            eof = True
        elif rtype == 2:
            base = int.from_bytes(data, "big") << 4
        elif rtype == 4:
            base = int.from_bytes(data, "big") << 16
        elif rtype in (3, 5):
            start = int.from_bytes(data, "big")
        else:
            raise ValueError(f"line {n}: unknown record type {rtype}")
        del count
    if not eof:
        raise ValueError("no EOF record")
    return memory, start
