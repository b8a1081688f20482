"""The merged-ELF writer (read back with pyelftools, and by readelf), the
flat binary, and nagi.hex read back with intelhex."""

import io
import re
import subprocess

import pytest

from intelhex import IntelHex

from tools.elfimage import (EM_ARM, PF_R, PF_X, ElfError, LoadPiece, flat_binary, intel_hex,
                            parse_elf, write_elf)

from tools.tests.arm_standins import READELF

PIECES = [LoadPiece(".a", 0x0800_0000, bytes(range(256)) * 3, PF_R | PF_X),
          LoadPiece(".b", 0x0800_4000, b"NAGITASK" + b"\x01" * 13, PF_R),
          LoadPiece(".c", 0x0800_fff8, bytes(range(40)), PF_R)]   # crosses 0x0801_0000


def test_written_elf_reads_back():
    blob = write_elf(PIECES, entry=0x0800_0009)
    elf = parse_elf(blob)
    assert elf.machine == EM_ARM and elf.entry == 0x0800_0009
    assert [(s.paddr, s.vaddr, s.data, s.memsz, s.flags) for s in elf.loads] == \
        [(p.addr, p.addr, p.data, len(p.data), p.flags) for p in PIECES]
    assert [s.name for s in elf.sections if s.name] == [".a", ".b", ".c", ".shstrtab"]
    for s in elf.loads:
        assert s.offset % 4 == s.paddr % 4


@pytest.mark.skipif(READELF is None, reason="arm-none-eabi-readelf is not installed")
def test_readelf_accepts_the_written_elf(tmp_path):
    path = tmp_path / "x.elf"
    path.write_bytes(write_elf(PIECES, entry=0x0800_0009))
    out = subprocess.run([READELF, "-lh", str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and not out.stderr, out.stderr
    assert "ARM" in out.stdout and "EXEC" in out.stdout
    assert "Entry point address:               0x8000009" in out.stdout
    loads = re.findall(r"LOAD\s+(0x\w+) (0x\w+) (0x\w+) (0x\w+) (0x\w+)", out.stdout)
    assert [(int(v, 16), int(p, 16), int(fs, 16)) for _, v, p, fs, _ in loads] == \
        [(p.addr, p.addr, len(p.data)) for p in PIECES]


def test_overlapping_pieces_are_refused():
    with pytest.raises(ElfError, match="overlap"):
        write_elf([LoadPiece("x", 0x100, b"1234"), LoadPiece("y", 0x102, b"56")], entry=0)


def test_not_an_elf():
    with pytest.raises(ElfError, match="not a valid ELF file"):
        parse_elf(b"hello world" * 10)


def test_flat_binary_fills_gaps_with_erased_flash():
    pieces = [LoadPiece("a", 0x1000, b"\x01\x02"), LoadPiece("b", 0x1008, b"\x03")]
    assert flat_binary(pieces, 0x1000) == b"\x01\x02" + b"\xff" * 6 + b"\x03"
    assert flat_binary(pieces, 0xffe) == b"\xff\xff\x01\x02" + b"\xff" * 6 + b"\x03"
    with pytest.raises(ElfError):
        flat_binary(pieces, 0x1001)


def read_hex(text: str):
    """nagi.hex as intelhex reads it: ({address: byte}, start address)."""
    ih = IntelHex(io.StringIO(text))
    return {a: ih[a] for a in ih.addresses()}, (ih.start_addr or {}).get("EIP")


def test_hex_reads_back_to_the_pieces():
    text = intel_hex(PIECES, start=0x0800_0009)
    memory, start = read_hex(text)
    assert memory == {p.addr + i: b for p in PIECES for i, b in enumerate(p.data)}
    assert start == 0x0800_0009
    records = [bytes.fromhex(line[1:]) for line in text.splitlines()]
    assert all(r[0] <= 16 for r in records)                       # 16-byte data records
    assert [r[4:6] for r in records if r[3] == 4] == [b"\x08\x00", b"\x08\x01"]  # 64 KiB pages
    assert text.splitlines()[-1] == ":00000001FF"


def test_hex_without_start_address():
    memory, start = read_hex(intel_hex([LoadPiece("a", 0x10, b"\x01\x02\x03\x04")]))
    assert memory == {0x10: 1, 0x11: 2, 0x12: 3, 0x13: 4} and start is None


def test_bin_and_hex_hold_the_same_bytes():
    pieces = PIECES[:2]
    binary = flat_binary(pieces, 0x0800_0000)
    memory, _ = read_hex(intel_hex(pieces))
    assert len(binary) == max(memory) + 1 - 0x0800_0000
    for addr in range(0x0800_0000, 0x0800_0000 + len(binary)):
        assert binary[addr - 0x0800_0000] == memory.get(addr, 0xff)
