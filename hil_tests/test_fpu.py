"""Floating-point registers survive preemption (docs/mcu-port.md,
"Floating point"): the shell's `fpu` fills s0-s31, is preempted by
ipc_peer spinning with other values, and compares."""

import pytest

from tools.shell_output import parse_fpu


@pytest.mark.needs("fpu")
def test_fpu_registers_survive_preemption(dut):
    out = dut.run("fpu", timeout=60)
    try:
        preempted = parse_fpu(out)
    except ValueError as e:
        pytest.fail(f"fpu: {e}")
    assert preempted >= 1, f"the check was never preempted: {out}"
