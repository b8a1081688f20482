"""elfimage.py - ELF and Intel HEX for tools/layout: reading a linked
program or kernel (pyelftools), writing the merged nagi.elf, and nagi.bin /
nagi.hex from the same pieces (intelhex).

Reading takes a snapshot (`Elf32`: program headers with their bytes, the
allocated sections, the defined symbols) so callers need no open file.
Writing produces an ET_EXEC with one PT_LOAD per piece (placed at its
physical address) and a matching section table, so readelf/objdump/gdb/
QEMU/pyocd all understand it."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

EM_ARM = "EM_ARM"                     # pyelftools' names for the ELF enums
PT_LOAD = "PT_LOAD"
SHT_NOBITS = "SHT_NOBITS"
PF_X, PF_W, PF_R = 1, 2, 4
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
EF_ARM_EABI_VER5 = 0x0500_0000
EF_ARM_ABI_FLOAT_HARD = 0x400


class ElfError(ValueError):
    """A file that is not the ELF32 little-endian executable expected."""


@dataclass
class Segment:
    """A program header; `data` holds its p_filesz file bytes."""
    type: str
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
    type: str
    flags: int
    addr: int
    offset: int
    size: int


@dataclass
class Elf32:
    path: str
    machine: str
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


def parse_elf(blob: bytes, path: str = "<elf>") -> Elf32:
    """Snapshot an ELF32 little-endian file (any machine; callers check it)."""
    from elftools.common.exceptions import ELFError, ELFParseError
    from elftools.construct import ConstructError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection
    try:
        elf = ELFFile(io.BytesIO(blob))
        if elf.elfclass != 32 or not elf.little_endian:
            raise ElfError(f"{path}: not a 32-bit little-endian ELF")
        segments = []
        for i, seg in enumerate(elf.iter_segments()):
            h = seg.header
            data = seg.data() if h.p_filesz else b""
            if len(data) != h.p_filesz:
                raise ElfError(f"{path}: segment {i} runs past the end")
            segments.append(Segment(h.p_type, h.p_offset, h.p_vaddr, h.p_paddr, h.p_filesz,
                                    h.p_memsz, h.p_flags, h.p_align, data))
        sections, symbols = [], {}
        for sec in elf.iter_sections():
            h = sec.header
            sections.append(Section(sec.name, h.sh_type, h.sh_flags, h.sh_addr, h.sh_offset,
                                    h.sh_size))
            if isinstance(sec, SymbolTableSection) and h.sh_type == "SHT_SYMTAB":
                for sym in sec.iter_symbols():
                    if sym.name and sym["st_shndx"] != "SHN_UNDEF":   # defined ones only
                        symbols.setdefault(sym.name, sym["st_value"])
        return Elf32(path=path, machine=elf["e_machine"], entry=elf["e_entry"],
                     flags=elf["e_flags"], segments=segments, sections=sections,
                     symbols=symbols)
    except (ELFError, ELFParseError, ConstructError) as e:
        raise ElfError(f"{path}: not a valid ELF file ({e})") from None


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


def _check_pieces(pieces: list[LoadPiece]) -> list[LoadPiece]:
    """The pieces by address; ElfError if two overlap."""
    pieces = sorted(pieces, key=lambda p: p.addr)
    for a, b in zip(pieces, pieces[1:]):
        if a.addr + len(a.data) > b.addr:
            raise ElfError(f"pieces '{a.name}' and '{b.name}' overlap at 0x{b.addr:08x}")
    return pieces


def write_elf(pieces: list[LoadPiece], entry: int, machine: str = EM_ARM,
              flags: int = EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD) -> bytes:
    """An ET_EXEC with one PT_LOAD per piece (vaddr = paddr = addr,
    memsz = filesz) and one SHF_ALLOC PROGBITS section per piece.

    pyelftools only reads ELF, and no maintained library writes one from
    scratch, so the file layout is arranged here; the headers themselves are
    encoded by pyelftools' own struct definitions (ELFStructs.build)."""
    from elftools.construct import Container
    from elftools.elf.structs import ELFStructs
    st = ELFStructs(little_endian=True, elfclass=32)
    st.create_basic_structs()
    st.create_advanced_structs(e_type="ET_EXEC", e_machine=machine, e_ident_osabi="ELFOSABI_SYSV")
    ehsize, phsize, shsize = st.Elf_Ehdr.sizeof(), st.Elf_Phdr.sizeof(), st.Elf_Shdr.sizeof()
    pieces = _check_pieces(pieces)
    offset = ehsize + phsize * len(pieces)
    body = bytearray()
    phdrs, placed = [], []
    for p in pieces:
        # Keep file offset congruent to the address modulo 4 (p_align = 4).
        body += b"\0" * ((p.addr - (offset + len(body))) % 4)
        off = offset + len(body)
        body += p.data
        phdrs.append(st.Elf_Phdr.build(Container(
            p_type="PT_LOAD", p_offset=off, p_vaddr=p.addr, p_paddr=p.addr,
            p_filesz=len(p.data), p_memsz=len(p.data), p_flags=p.flags, p_align=4)))
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

    def shdr(name=0, type="SHT_NULL", flags=0, addr=0, off=0, size=0, align=0) -> bytes:
        return st.Elf_Shdr.build(Container(
            sh_name=name, sh_type=type, sh_flags=flags, sh_addr=addr, sh_offset=off,
            sh_size=size, sh_link=0, sh_info=0, sh_addralign=align, sh_entsize=0))
    shdrs = [shdr()]
    for (p, off), name in zip(placed, names):
        sflags = SHF_ALLOC | (SHF_EXECINSTR if p.flags & PF_X else 0) | \
            (SHF_WRITE if p.flags & PF_W else 0)
        shdrs.append(shdr(name, "SHT_PROGBITS", sflags, p.addr, off, len(p.data), 4))
    shdrs.append(shdr(shstr_name, "SHT_STRTAB", off=shstr_off, size=len(shstr), align=1))
    ident = Container(EI_MAG=b"\x7fELF", EI_CLASS="ELFCLASS32", EI_DATA="ELFDATA2LSB",
                      EI_VERSION="EV_CURRENT", EI_OSABI="ELFOSABI_SYSV", EI_ABIVERSION=0)
    ehdr = st.Elf_Ehdr.build(Container(
        e_ident=ident, e_type="ET_EXEC", e_machine=machine, e_version="EV_CURRENT",
        e_entry=entry, e_phoff=ehsize, e_shoff=shoff, e_flags=flags, e_ehsize=ehsize,
        e_phentsize=phsize, e_phnum=len(pieces), e_shentsize=shsize, e_shnum=len(shdrs),
        e_shstrndx=len(shdrs) - 1))
    return ehdr + b"".join(phdrs) + bytes(body) + b"".join(shdrs)


# -- flat binary and Intel HEX (intelhex) ----------------------------------------

def _memory(pieces: list[LoadPiece]):
    """The pieces as one sparse intelhex memory (gaps read as 0xff)."""
    from intelhex import IntelHex
    ih = IntelHex()
    for p in _check_pieces(pieces):
        ih.frombytes(p.data, offset=p.addr)
    return ih


def flat_binary(pieces: list[LoadPiece], base: int) -> bytes:
    """The bytes from `base` to the end of the last piece, gaps 0xff
    (erased flash)."""
    if not pieces:
        return b""
    low = min(pieces, key=lambda p: p.addr)
    if low.addr < base:
        raise ElfError(f"piece '{low.name}' at 0x{low.addr:08x} is below 0x{base:08x}")
    return _memory(pieces).tobinstr(start=base)


def intel_hex(pieces: list[LoadPiece], start: int | None = None) -> str:
    """Intel HEX (I32HEX) of the pieces: 16-byte data records, extended
    linear address records, a start linear address record when `start` is
    given, then EOF."""
    ih = _memory(pieces)
    if start is not None:
        ih.start_addr = {"EIP": start}
    out = io.StringIO()
    ih.write_hex_file(out, write_start_addr=start is not None, eolstyle="native",
                      byte_count=16)
    return out.getvalue()
