"""Floating-point registers are per task (docs/mcu-port.md, "Floating
point"): the shell's `fpu` fills its FP registers (s0-s31 on arm, xmm0-15
on x86_64), is preempted by ipc_peer spinning with other values, and
compares; `fpu leak` fills them with a pattern and starts a task that
never used the FPU, which must find them clear."""

import pytest

from tools.shell_output import parse_fpu, parse_fpu_leak


@pytest.mark.needs("fpu")
def test_fpu_registers_survive_preemption(dut):
    out = dut.run("fpu", timeout=60)
    try:
        preempted = parse_fpu(out)
    except ValueError as e:
        pytest.fail(f"fpu: {e}")
    assert preempted >= 1, f"the check was never preempted: {out}"


@pytest.mark.needs("fpu")
@pytest.mark.parametrize("round", [1, 2])
def test_fpu_state_does_not_leak(dut, round):
    """The spy (faulter, FPU spy mode) runs right after the shell filled
    the registers and FP status with a pattern, and reads them with its
    first FP instruction: zero data registers, default control and
    status (arm: FPSCR 0; x86_64: FCW 0x37f, MXCSR 0x1f80), nothing else.
    A second round: the slot and registers of a spy that ran before must
    not carry over either."""
    out = dut.run("fpu leak", timeout=30)
    try:
        parse_fpu_leak(out)
    except ValueError as e:
        pytest.fail(f"fpu leak: {e} (output: {out})")
