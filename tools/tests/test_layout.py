"""The static MCU layout (docs/mcu-port.md): region sizes, placement, fit
errors, the task table, the two-pass link and the merged image."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from tools import layout as lay
from tools.errors import ToolError
from tools.elfimage import read_elf
from tools.tests.test_elfimage import read_hex
from tools.tests.arm_standins import READELF, build_kernel, build_program, needs_gcc

MPS2 = dict(FLASH_BASE="0x0", FLASH_SIZE="0x400000", RAM_BASE="0x20000000",
            RAM_SIZE="0x400000", KERNEL_FLASH_SIZE="0x4000", KERNEL_RAM_SIZE="0x1000",
            TASK_TABLE_ADDR="0x4000")
DISCO = dict(FLASH_BASE="0x08000000", FLASH_SIZE="0x100000", RAM_BASE="0x20000000",
             RAM_SIZE="0x18000", KERNEL_FLASH_SIZE="0x4000", KERNEL_RAM_SIZE="0x1000",
             TASK_TABLE_ADDR="0x08004000")


def test_memory_from_config():
    mem = lay.McuMemory.from_config(DISCO)
    assert (mem.flash_base, mem.flash_end, mem.ram_base, mem.ram_end) == \
        (0x0800_0000, 0x0810_0000, 0x2000_0000, 0x2001_8000)
    with pytest.raises(lay.LayoutError, match="TASK_TABLE_ADDR"):
        lay.McuMemory.from_config(dict(DISCO, TASK_TABLE_ADDR="0x08008000"))
    with pytest.raises(lay.LayoutError, match="CONFIG_FLASH_BASE is not set"):
        lay.McuMemory.from_config(dict(DISCO, FLASH_BASE=""))


@pytest.mark.parametrize("used, region", [(1, 32), (32, 32), (33, 64), (4096, 4096),
                                          (4097, 8192), (100_000, 131072)])
def test_flash_region_is_smallest_power_of_two_at_least_32(used, region):
    assert lay.flash_region_size(used) == region


@pytest.mark.parametrize("need", [1, 3584, 3585, 7168, 7169, 14337, 100_000])
def test_ram_region_is_smallest_fitting_power_of_two(need):
    r = lay.ram_region_size(need)
    assert r >= 4096 and lay.is_pow2(r)
    assert r - r // 8 >= need                      # fits, above the kernel stack
    assert r == 4096 or (r // 2) - (r // 2) // 8 < need   # and the next smaller does not


def test_ram_need_is_stack_msgbuf_data_bss_heap():
    m = lay.Measure(flash=100, data=10, bss=20, span=32)
    assert lay.ram_need(lay.TaskSizes(4096, 8192), m) == 4096 + lay.MSGBUF_BYTES + 32 + 8192


def _overlaps(a, b):
    return a[0] < b[0] + b[1] and b[0] < a[0] + a[1]


def test_place_aligns_and_never_overlaps():
    regions = [("a", 4096), ("b", 16384), ("c", 32), ("d", 8192), ("e", 4096), ("f", 256)]
    start, end = 0x4278, 0x100000
    bases = lay.place(regions, start, end, "flash")
    spans = [(bases[n], s) for n, s in regions]
    for (n, s), (b, _) in zip(regions, spans):
        assert b % s == 0 and b >= start and b + s <= end, n
    for i, x in enumerate(spans):
        for y in spans[i + 1:]:
            assert not _overlaps(x, y)


def test_place_puts_largest_first_and_fills_gaps_with_smaller():
    # From an aligned start, largest first leaves no gap: descending addresses.
    bases = lay.place([("s", 4096), ("l", 16384), ("m", 8192)], 0x20004000, 0x20020000, "RAM")
    assert bases == {"l": 0x20004000, "m": 0x20008000, "s": 0x2000a000}
    # From an unaligned start the big one's alignment gap takes the small ones.
    bases = lay.place([("big", 0x8000), ("t1", 0x1000), ("t2", 0x1000)], 0x1000, 0x20000, "x")
    assert bases["big"] == 0x8000 and {bases["t1"], bases["t2"]} == {0x1000, 0x2000}


def test_place_reports_the_shortfall():
    end = 0x2001_8000
    regions = [("init", 0x4000), ("shell", 0x10000)]
    with pytest.raises(lay.LayoutError) as e:
        lay.place(regions, 0x2000_1000, end, "RAM")
    msg = str(e.value)
    m = re.fullmatch(r"layout: task 'shell' does not fit: needs (\d+) B of RAM at 0x([0-9a-f]{8}), "
                     r"(\d+) B left \(short by (\d+) B\)", msg)
    assert m, msg
    needs, at, left, short = int(m[1]), int(m[2], 16), int(m[3]), int(m[4])
    assert needs == 0x10000 and at % needs == 0 and left == max(0, end - at)
    assert short == needs - left > 0


def _measures(names, flash=1000, data=16, bss=64):
    return {n: lay.Measure(flash=flash, data=data, bss=bss, span=lay.align_up(data + bss, 8))
            for n in names}


def test_compute_layout_places_after_the_table_and_the_kernel():
    mem = lay.McuMemory.from_config(DISCO)
    names = ["init", "console", "shell"]
    sizes = lay.load_task_sizes(Path("/nonexistent/tasks.toml"), names)
    ms = _measures(names)
    ms["shell"] = lay.Measure(flash=9000, data=100, bss=400, span=504)
    layout = lay.compute_layout(mem, names, sizes, ms)
    assert [t.name for t in layout.tasks] == names          # table order kept
    table_end = mem.task_table_addr + lay.table_size(3)
    for t in layout.tasks:
        assert t.flash_base >= table_end and t.flash_base % t.flash_size == 0
        assert t.ram_base >= mem.ram_base + mem.kernel_ram_size and t.ram_base % t.ram_size == 0
        assert t.flash_size == lay.flash_region_size(ms[t.name].flash)
        assert t.ram_size == lay.ram_region_size(lay.ram_need(sizes[t.name], ms[t.name]))
        assert t.stack_top == t.ram_base + t.ram_size // 8 + t.stack == t.msgbuf
        assert t.data_start == t.msgbuf + lay.MSGBUF_BYTES and t.msgbuf % 8 == 0
    shell = layout.task("shell")
    assert (shell.stack, shell.heap) == (4096, 8192)
    assert shell.flash_size == 16384 and shell.ram_size == 16384


def test_layout_that_does_not_fit_names_task_and_shortfall():
    mem = lay.McuMemory.from_config(DISCO)
    names = ["init", "shell"]
    sizes = {"init": lay.TaskSizes(2048, 0), "shell": lay.TaskSizes(4096, 80 * 1024)}
    with pytest.raises(lay.LayoutError, match=r"^layout: task 'shell' does not fit: needs "
                       r"131072 B of RAM at 0x20020000, 0 B left \(short by 131072 B\)$"):
        lay.compute_layout(mem, names, sizes, _measures(names))


def test_task_sizes_from_tasks_toml(tmp_path):
    f = tmp_path / "tasks.toml"
    f.write_text("[default]\nstack = 1024\nheap = 0\n[shell]\nstack = 4096\nheap = 8192\n"
                 "[init]\nheap = 512\n")
    sizes = lay.load_task_sizes(f, ["init", "shell", "faulter"])
    assert sizes == {"init": lay.TaskSizes(1024, 512), "shell": lay.TaskSizes(4096, 8192),
                     "faulter": lay.TaskSizes(1024, 0)}
    f.write_text("[default]\nstack = 1020\n")
    with pytest.raises(lay.LayoutError, match="multiples of 8"):
        lay.load_task_sizes(f, ["init"])
    f.write_text("[shell]\nstack = 4096\n")
    with pytest.raises(lay.LayoutError, match="no stack size for 'init'"):
        lay.load_task_sizes(f, ["init"])


def test_task_table_bytes():
    fields = {k: 0x1000 * (i + 1) + i for i, k in enumerate(lay.ENTRY_FIELDS)}
    entries = [("init", fields), ("shell", dict(fields, entry=0x08008001))]
    blob = lay.task_table(entries)
    assert len(blob) == 16 + 2 * 88 == lay.table_size(2)
    assert blob[:8] == b"NAGITASK"
    assert int.from_bytes(blob[8:12], "little") == 2
    assert int.from_bytes(blob[12:16], "little") == 16
    e1 = blob[16 + 88:16 + 2 * 88]
    assert e1[:32] == b"shell" + b"\0" * 27
    # u32 fields in contract order after the name: flash_base at +32, entry at +48
    assert int.from_bytes(e1[32:36], "little") == fields["flash_base"]
    assert int.from_bytes(e1[48:52], "little") == 0x08008001
    assert int.from_bytes(e1[84:88], "little") == fields["heap_size"]
    assert lay.parse_task_table(blob) == entries
    with pytest.raises(lay.LayoutError, match="bad task name"):
        lay.task_table([("x" * 32, fields)])


def test_kernel_link_error_is_one_line():
    mem = lay.McuMemory.from_config(DISCO)
    out = ("arm-none-eabi-ld: build/x/kernel.elf section `.text' will not fit in region `FLASH'\n"
           "arm-none-eabi-ld: region `FLASH' overflowed by 1234 bytes\n")
    assert lay.kernel_link_error(out, mem) == (
        "layout: kernel does not fit: needs 17618 B of flash at 0x08000000, 16384 B reserved "
        "(short by 1234 B)")
    out = "ld.lld: error: section '.bss' will not fit in region 'RAM': overflowed by 20 bytes\n"
    assert "short by 20 B" in lay.kernel_link_error(out, mem)
    assert lay.kernel_link_error("undefined reference to `foo'", mem) is None


# -- with the stand-in programs (arm-none-eabi-gcc) ------------------------------

PROGRAMS = ["init", "console", "shell", "ipc_peer", "faulter"]
ALL = PROGRAMS + ["memory"]


class StandInCargo:
    """Plays `cargo build`: links every stand-in program against the layout
    directory it is given; records the calls."""

    def __init__(self, elf_dir, code=None):
        self.elf_dir, self.code, self.calls = elf_dir, dict(code or {}), []

    def __call__(self, layout_dir, tentative):
        self.calls.append(tentative)
        self.elf_dir.mkdir(parents=True, exist_ok=True)
        for p in ALL:
            try:
                build_program(p, layout_dir, self.elf_dir / p, code=self.code.get(p, 100))
            except RuntimeError as e:         # what cargo does on a link error
                raise ToolError(f"build step 'userland' failed: {e}") from None


@needs_gcc
def test_two_pass_link_then_one_cargo_run_when_nothing_changed(tmp_path):
    mem = lay.McuMemory.from_config(MPS2)
    sizes = lay.load_task_sizes(tmp_path / "none.toml", ALL)
    cargo = StandInCargo(tmp_path / "elf", code={"shell": 9000, "init": 3000})
    layout, elfs = lay.link_programs(mem, PROGRAMS, ALL, sizes, tmp_path / "layout",
                                     tmp_path / "elf", cargo)
    assert cargo.calls == [False, False]             # measure, relink
    for t in layout.tasks:
        elf = read_elf(tmp_path / "elf" / t.name)
        s = elf.symbols
        assert s["__data_start"] == t.data_start     # the layout file was used
        assert t.flash_base <= elf.entry - 1 < t.flash_base + t.flash_size and elf.entry & 1
        assert t.flash_used == s["__flash_end"] - t.flash_base
        text = (tmp_path / "layout" / f"{t.name}.ld").read_text()
        assert f"TASK_RAM_SIZE = 0x{t.ram_size:x};" in text
    assert layout.task("shell").flash_size == 16384
    assert "measuring" in (tmp_path / "layout" / "memory.ld").read_text()
    cargo.calls.clear()
    again, _ = lay.link_programs(mem, PROGRAMS, ALL, sizes, tmp_path / "layout",
                                 tmp_path / "elf", cargo)
    assert cargo.calls == [True]                     # one (no-op) cargo run
    assert lay._state(again) == lay._state(layout)
    # a program that grows past its region is measured again and moved
    cargo.code["console"] = 5000
    cargo.calls.clear()
    grown, _ = lay.link_programs(mem, PROGRAMS, ALL, sizes, tmp_path / "layout",
                                 tmp_path / "elf", cargo)
    assert cargo.calls[0] is True and cargo.calls[-1] is False
    assert grown.task("console").flash_size == 8192


@needs_gcc
def test_check_program_refuses_an_elf_outside_its_region(tmp_path):
    mem = lay.McuMemory.from_config(MPS2)
    t = lay.measuring_region(mem, 2048)
    t.name = "init"
    (tmp_path / "init.ld").write_text(lay.ld_script(t, "test"))
    elf = read_elf(build_program("init", tmp_path, tmp_path / "init.elf"))
    lay.check_program(elf, t)
    moved = lay.TaskRegion("init", t.flash_base + t.flash_size // 2, t.flash_size // 2,
                           t.ram_base, t.ram_size, t.stack, t.heap)
    with pytest.raises(lay.LayoutError, match="task 'init': entry .* outside its flash region"):
        lay.check_program(elf, moved)


@needs_gcc
def test_kernel_usage_and_too_big_kernel(tmp_path):
    mem = lay.McuMemory.from_config(MPS2)
    assert build_kernel(tmp_path / "k.elf", code=3000, bss=1500).returncode == 0
    u = lay.kernel_usage(read_elf(tmp_path / "k.elf"), mem)
    assert u.flash_bytes == 8 + 2 + 3000 + 2 + 16       # vectors, code (aligned), .data image
    assert (u.ram_data, u.ram_bss, u.ram_bytes) == (16, 1504, 1520)
    lay.check_kernel(u, mem)
    big = build_kernel(tmp_path / "big.elf", code=20000)
    assert big.returncode != 0
    msg = lay.kernel_link_error(big.stderr, mem)
    assert msg and msg.startswith("layout: kernel does not fit: needs ") and "short by" in msg
    with pytest.raises(lay.LayoutError, match=r"needs 5000 B of RAM .* 4096 B reserved "
                                              r"\(short by 904 B\)"):
        lay.check_kernel(lay.KernelUsage(100, 100, 5000, 0, 5000), mem)


@needs_gcc
@pytest.mark.parametrize("config", [MPS2, DISCO], ids=["mps2", "disco"])
def test_merged_image(tmp_path, config):
    mem = lay.McuMemory.from_config(config)
    sizes = lay.load_task_sizes(tmp_path / "none.toml", ALL)
    cargo = StandInCargo(tmp_path / "elf", code={"shell": 2000})
    layout, elfs = lay.link_programs(mem, PROGRAMS, ALL, sizes, tmp_path / "layout",
                                     tmp_path / "elf", cargo)
    assert build_kernel(tmp_path / "kernel.elf", flash=mem.flash_base).returncode == 0
    kernel = read_elf(tmp_path / "kernel.elf")
    files = lay.merge_image(kernel, mem, layout, elfs, tmp_path)
    image = read_elf(files.elf)
    assert image.entry == kernel.entry
    kernel_loads = [s for s in kernel.loads if s.filesz]
    program_loads = sum(len([s for s in e.loads if s.filesz]) for e in elfs.values())
    assert len(image.loads) == len(kernel_loads) + 1 + program_loads
    assert all(mem.in_flash(s.paddr) and s.paddr == s.vaddr for s in image.loads)
    # the task table is at TASK_TABLE_ADDR and describes the layout
    binary = files.bin.read_bytes()
    off = mem.task_table_addr - mem.flash_base
    table = lay.parse_task_table(binary[off:off + lay.table_size(len(PROGRAMS))])
    assert [n for n, _ in table] == PROGRAMS
    for name, f in table:
        t, s = layout.task(name), elfs[name].symbols
        assert (f["flash_base"], f["flash_size"], f["ram_base"], f["ram_size"]) == t.regions()
        assert f["entry"] == elfs[name].entry and f["entry"] & 1
        assert (f["data_load"], f["data_start"], f["data_size"]) == \
            (s["__data_load"], s["__data_start"], s["__data_end"] - s["__data_start"])
        assert f["bss_size"] == s["__bss_end"] - s["__bss_start"]
        assert f["stack_top"] == f["msgbuf"] == f["ram_base"] + f["ram_size"] // 8 + t.stack
        assert f["heap_base"] % 8 == 0 and f["heap_base"] + f["heap_size"] <= \
            f["ram_base"] + f["ram_size"]
        # the program's flash bytes (code and .data image) are in the flat binary
        for seg in elfs[name].loads:
            o = seg.paddr - mem.flash_base
            assert binary[o:o + seg.filesz] == seg.data
    # the kernel's vector table is first
    assert binary[:8] == kernel.loads[0].data[:8]
    # nagi.hex holds exactly the bytes of the pieces
    memory, start = read_hex(files.hex.read_text())
    assert start == kernel.entry
    for addr, byte in list(memory.items())[::97]:
        assert binary[addr - mem.flash_base] == byte
    assert max(memory) - mem.flash_base + 1 == len(binary)
    if READELF:
        out = subprocess.run([READELF, "-l", str(files.elf)], capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.count("LOAD") == len(image.loads)
    # written only when changed
    again = lay.merge_image(kernel, mem, layout, elfs, tmp_path)
    assert again.changed == []


@needs_gcc
def test_memory_map_figures(tmp_path):
    mem = lay.McuMemory.from_config(DISCO)
    sizes = lay.load_task_sizes(tmp_path / "none.toml", ALL)
    layout, _ = lay.link_programs(mem, PROGRAMS, ALL, sizes, tmp_path / "layout",
                                  tmp_path / "elf", StandInCargo(tmp_path / "elf"))
    assert build_kernel(tmp_path / "k.elf", flash=mem.flash_base).returncode == 0
    usage = lay.kernel_usage(read_elf(tmp_path / "k.elf"), mem)
    mm = lay.memory_map("b-l475e-iot01a", mem, usage, layout)
    data = json.loads(lay.memory_map_json(mm))
    assert data["kernel_flash_bytes"] == usage.flash_bytes
    assert data["kernel_ram_bytes"] == usage.ram_bytes
    for area, size in (("flash", mem.flash_size), ("ram", mem.ram_size)):
        a = data[area]
        end = max(r["base"] + r["size"] for r in a["regions"])
        assert a["used"] + a["padding"] + a["free"] == size
        assert a["free"] == a["base"] + size - end
    shell = next(t for t in data["tasks"] if t["name"] == "shell")
    assert shell["ram_used"] == shell["kernel_stack"] + shell["stack"] + lay.MSGBUF_BYTES + \
        shell["data"] + shell["bss"] + shell["heap"]
    lines = lay.memory_map_lines(mm)
    assert lines[-1] == (f"kernel: flash {usage.flash_bytes} B / 16384, "
                         f"static RAM {usage.ram_bytes} B / 4096")
    assert any(l.strip().startswith(f"0x{layout.task('shell').ram_base:08x}") and
               "shell: kernel stack" in l for l in lines)


def test_kernel_link_error_names_ram_regions():
    mem = lay.McuMemory.from_config(MPS2)
    out = "arm-none-eabi-ld: region `KRAM' overflowed by 100 bytes\n"
    assert lay.kernel_link_error(out, mem) == (
        "layout: kernel does not fit: needs 4196 B of RAM at 0x20000000, 4096 B reserved "
        "(short by 100 B)")


@needs_gcc
def test_command_line_prints_table_and_map(tmp_path, capsys):
    mem = lay.McuMemory.from_config(MPS2)
    sizes = lay.load_task_sizes(tmp_path / "none.toml", ALL)
    layout, elfs = lay.link_programs(mem, PROGRAMS, ALL, sizes, tmp_path / "layout",
                                     tmp_path / "elf", StandInCargo(tmp_path / "elf"))
    assert build_kernel(tmp_path / "kernel.elf").returncode == 0
    kernel = read_elf(tmp_path / "kernel.elf")
    lay.merge_image(kernel, mem, layout, elfs, tmp_path)
    mm = lay.memory_map("mps2-an386", mem, lay.kernel_usage(kernel, mem), layout)
    (tmp_path / "memory-map.json").write_text(lay.memory_map_json(mm))
    assert lay.main(["table", str(tmp_path / "nagi.elf")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [l.split()[0] for l in out] == PROGRAMS
    assert f"flash_base=0x{layout.task('init').flash_base:x}" in out[0]
    assert lay.main(["map", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == lay.memory_map_lines(mm)


@needs_gcc
def test_changed_task_sizes_relink_without_measuring_again(tmp_path):
    mem = lay.McuMemory.from_config(MPS2)
    sizes = lay.load_task_sizes(tmp_path / "none.toml", ALL)
    cargo = StandInCargo(tmp_path / "elf")
    args = (tmp_path / "layout", tmp_path / "elf", cargo)
    first, _ = lay.link_programs(mem, PROGRAMS, ALL, sizes, *args)
    assert first.task("faulter").ram_size == 4096
    sizes["faulter"] = lay.TaskSizes(stack=8192, heap=1024)
    cargo.calls.clear()
    second, elfs = lay.link_programs(mem, PROGRAMS, ALL, sizes, *args)
    assert cargo.calls == [True, False]          # the old layout's link measured; relink
    faulter = second.task("faulter")
    assert faulter.ram_size == 16384 and faulter.stack == 8192
    assert elfs["faulter"].symbols["__data_start"] == faulter.data_start
    # a layout that cannot fit is reported at once, without measuring again
    sizes["shell"] = lay.TaskSizes(stack=4096, heap=8 * 1024 * 1024)
    cargo.calls.clear()
    with pytest.raises(lay.LayoutError, match="task 'shell' does not fit: needs 16777216 B"):
        lay.link_programs(mem, PROGRAMS, ALL, sizes, *args)
    assert cargo.calls == [True]
