"""The ELF32 writer/reader and the Intel HEX writer/reader."""

import re
import subprocess

import pytest

from tools.elfimage import (EM_ARM, PF_R, PF_X, ElfError, LoadPiece, flat_binary, intel_hex,
                            parse_elf, parse_intel_hex, write_elf)

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
    with pytest.raises(ElfError, match="not an ELF"):
        parse_elf(b"hello world" * 10)


def test_flat_binary_fills_gaps_with_erased_flash():
    pieces = [LoadPiece("a", 0x1000, b"\x01\x02"), LoadPiece("b", 0x1008, b"\x03")]
    assert flat_binary(pieces, 0x1000) == b"\x01\x02" + b"\xff" * 6 + b"\x03"
    assert flat_binary(pieces, 0xffe) == b"\xff\xff\x01\x02" + b"\xff" * 6 + b"\x03"
    with pytest.raises(ElfError):
        flat_binary(pieces, 0x1001)


def test_hex_records_have_valid_checksums_and_round_trip():
    text = intel_hex(PIECES, start=0x0800_0009)
    for line in text.splitlines():
        rec = bytes.fromhex(line[1:])
        assert line[0] == ":" and sum(rec) % 256 == 0 and rec[0] == len(rec) - 5
        assert rec[0] <= 16
    memory, start = parse_intel_hex(text)
    want = {p.addr + i: b for p in PIECES for i, b in enumerate(p.data)}
    assert memory == want and start == 0x0800_0009
    lines = text.splitlines()
    assert lines[0] == ":020000040800F2"          # upper 16 bits 0x0800
    assert ":020000040801F1" in lines             # the piece that crosses 64 KiB
    assert lines[-1] == ":00000001FF"


def test_hex_data_record_bytes():
    """One record worked by hand: 4 bytes at 0x0010."""
    text = intel_hex([LoadPiece("a", 0x10, b"\x01\x02\x03\x04")])
    # 04 + 00 + 10 + 00 + 01 + 02 + 03 + 04 = 0x1e -> checksum 0xe2
    assert text.splitlines() == [":020000040000FA", ":0400100001020304E2", ":00000001FF"]


def test_hex_records_never_cross_64k():
    text = intel_hex([LoadPiece("a", 0xfffa, bytes(12))])
    data = [bytes.fromhex(l[1:]) for l in text.splitlines() if l[7:9] == "00"]
    assert [(r[1] << 8 | r[2], r[0]) for r in data] == [(0xfffa, 6), (0x0000, 6)]


def test_hex_parser_rejects_bad_checksum():
    text = intel_hex([LoadPiece("a", 0x10, b"\x01\x02\x03\x04")]).replace("E2", "E3")
    with pytest.raises(ValueError, match="checksum"):
        parse_intel_hex(text)
    with pytest.raises(ValueError, match="EOF"):
        parse_intel_hex(":0400100001020304E2\n")
