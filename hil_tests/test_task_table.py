"""A corrupted task table (MPU boards): the kernel refuses the bad entry
with one console line naming the program, never faults or hangs, and the
rest of the system boots. Each case patches one entry of the table in a
copy of the built nagi.elf (docs/mcu-port.md, "The task table") and boots
that copy on the twin."""

import struct

import pytest
from elftools.elf.elffile import ELFFile

ENTRY = struct.Struct("<32s14I")
FIELDS = ("flash_base", "flash_size", "ram_base", "ram_size", "entry", "data_load",
          "data_start", "data_size", "bss_start", "bss_size", "stack_top", "msgbuf",
          "heap_base", "heap_size")
RAM_FIELDS = ("ram_base", "data_start", "bss_start", "stack_top", "msgbuf", "heap_base")
FLASH_FIELDS = ("flash_base", "entry", "data_load")
VICTIM = "ipc_peer"     # init starts it and goes on without it


def _file_offset(elf_path, addr):
    with open(elf_path, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and \
                    seg["p_paddr"] <= addr < seg["p_paddr"] + seg["p_filesz"]:
                return seg["p_offset"] + addr - seg["p_paddr"]
    raise AssertionError(f"no loaded bytes at 0x{addr:08x} in {elf_path}")


def _read_table(data, off):
    assert data[off:off + 8] == b"NAGITASK", "task table magic"
    count, hsize = struct.unpack_from("<II", data, off + 8)
    entries = {}
    for i in range(count):
        at = off + hsize + i * ENTRY.size
        name, *values = ENTRY.unpack_from(data, at)
        entries[name.rstrip(b"\0").decode()] = (at, dict(zip(FIELDS, values)))
    return entries


def _moved(e, fields, delta):
    return {k: (v + delta if k in fields else v) for k, v in e.items()}


def _earlier(entries):
    """The program just before VICTIM in the table: of two overlapping
    entries the kernel refuses the later, so VICTIM is moved onto it."""
    names = sorted(entries, key=lambda n: entries[n][0])
    assert names.index(VICTIM) > 0, names
    return names[names.index(VICTIM) - 1]


def _cases(entries, kconfig):
    """name -> new fields of VICTIM (None: not possible in this build)."""
    e = entries[VICTIM][1]
    other = entries[_earlier(entries)][1]
    ram_base = int(kconfig["RAM_BASE"], 16)
    ram_end = ram_base + int(kconfig["RAM_SIZE"], 16)
    return {
        # moved onto the earlier program's region (aligned there when no larger)
        "ram_overlaps_another_task":
            _moved(e, RAM_FIELDS, other["ram_base"] - e["ram_base"])
            if e["ram_size"] <= other["ram_size"] else None,
        "flash_overlaps_another_task":
            _moved(e, FLASH_FIELDS, other["flash_base"] - e["flash_base"])
            if e["flash_size"] <= other["flash_size"] else None,
        "ram_in_the_kernel":
            _moved(e, RAM_FIELDS, ram_base - e["ram_base"]),
        "ram_outside_memory":
            _moved(e, RAM_FIELDS, ram_end - e["ram_base"]),
        "kernel_stack_not_a_subregion":
            dict(e, ram_size=e["ram_size"] - e["ram_size"] // 8),
    }


WANT = {
    "ram_overlaps_another_task": "RAM region overlaps that of '{earlier}'",
    "flash_overlaps_another_task": "flash region overlaps that of '{earlier}'",
    "ram_in_the_kernel": "RAM region is outside task RAM (or in the kernel's)",
    "ram_outside_memory": "RAM region is outside task RAM (or in the kernel's)",
    "kernel_stack_not_a_subregion": "RAM region is not a power of two",
}


@pytest.mark.needs("mpu")
@pytest.mark.parametrize("case", sorted(WANT))
def test_corrupted_entry_is_refused_by_name(twin_image, board, build, kconfig, tmp_path, case):
    built = build / board.qemu.image
    data = bytearray(built.read_bytes())
    off = _file_offset(built, int(kconfig["TASK_TABLE_ADDR"], 16))
    entries = _read_table(data, off)
    assert VICTIM in entries, sorted(entries)
    new = _cases(entries, kconfig)[case]
    if new is None:
        pytest.skip(f"{VICTIM}'s region is larger than {_earlier(entries)}'s in this build")
    at, _ = entries[VICTIM]
    name = VICTIM.encode().ljust(32, b"\0")
    data[at:at + ENTRY.size] = ENTRY.pack(name, *(new[f] & 0xffffffff for f in FIELDS))
    image = tmp_path / built.name
    image.write_bytes(data)

    dut = twin_image(image)          # the shell still comes up: only the victim is refused
    m = dut.expect(rf"nagi: task table: '{VICTIM}' refused: (.+)$", timeout=10, since=0)
    assert m.group(1).startswith(WANT[case].format(earlier=_earlier(entries))), m.group(0)
    dut.expect(rf"init: cannot start {VICTIM}: ", timeout=10, since=0)
    assert dut.run("echo alive") == ["alive"]
    text = dut.transcript
    assert "panic" not in text and "fault" not in text.lower(), text
    tasks = dut.run("ps")
    assert any(_earlier(entries) in line for line in tasks), tasks
