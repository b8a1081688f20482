"""bench.py's figures: instructions per operation on both archs, the MCU
memory figures, the table."""

import json

import pytest

from tools.bench import format_table, instruction_figures, memory_figures
from tools.boards import load_board
from tools.errors import ToolError
from tools.shell_output import parse_bench

PC_LINES = ["bench: ipc_roundtrip min=449 median=450 iterations=10000",
            "bench: syscall_null min=36 median=37 iterations=10000"]
MPS2_LINES = ["bench: ipc_roundtrip min=2500 median=2525 iterations=50 batch=100 hz=25000000",
              "bench: syscall_null min=100 median=101 iterations=50 batch=100 hz=25000000"]


def test_pc_figures_keep_the_ci_keys():
    r = instruction_figures(load_board("pc"), parse_bench(PC_LINES))
    assert r["ipc_roundtrip_instructions_min"] == 449 == r["ipc_roundtrip_instructions"]
    assert r["ipc_roundtrip_instructions_median"] == 450
    assert r["syscall_null_instructions_min"] == 36
    assert "resolution_note" not in r


def test_arm_m_batches_become_instructions():
    r = instruction_figures(load_board("mps2-an386"), parse_bench(MPS2_LINES))
    assert r["ipc_roundtrip_instructions"] == 1000 == r["ipc_roundtrip_instructions_min"]
    assert r["ipc_roundtrip_instructions_median"] == 1010
    assert r["syscall_null_instructions_min"] == 40
    assert r["resolution_instructions"] == 0.4 and r["batch"] == 100
    assert "resolution 0.4 instructions per operation" in r["resolution_note"]
    assert "clock_warning" not in r


def test_clock_mismatch_is_reported():
    lines = [l.replace("hz=25000000", "hz=4000000") for l in MPS2_LINES]
    r = instruction_figures(load_board("mps2-an386"), parse_bench(lines))
    assert "board.toml cpu_hz=25000000" in r["clock_warning"]


def test_memory_figures(tmp_path):
    assert memory_figures(tmp_path) == {}
    (tmp_path / "memory-map.json").write_text(json.dumps(
        {"board": "mps2-an386", "kernel_flash_bytes": 9000, "kernel_ram_bytes": 2100, "flash": {}}))
    assert memory_figures(tmp_path) == {"kernel_flash_bytes": 9000, "kernel_ram_bytes": 2100}
    (tmp_path / "memory-map.json").write_text("{}")
    with pytest.raises(ToolError, match="no kernel_flash_bytes, kernel_ram_bytes"):
        memory_figures(tmp_path)


def test_table_states_resolution_and_memory():
    r = instruction_figures(load_board("mps2-an386"), parse_bench(MPS2_LINES))
    r.update(board="mps2-an386", qemu_version="10.0.2", boot_to_prompt_ms=321.0,
             kernel_flash_bytes=9000, kernel_ram_bytes=2100, cycles_note="no cycle figure")
    text = format_table(r)
    assert "IPC round trip (instructions)" in text and "1000" in text
    assert "kernel flash (bytes)" in text and "9000" in text
    assert "resolution 0.4 instructions" in text
