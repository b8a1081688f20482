"""A kernel panic prints the cause, the registers and a backtrace. It kills
the guest, so it gets a boot of its own."""

import pytest


# The registers each arch's arch_dump_state() prints first.
REGISTERS_RX = {"x86_64": r"RIP=[0-9a-fx]+", "arm-m": r"CFSR [0-9a-fx]+ HFSR [0-9a-fx]+"}


def test_panic_output(fresh_dut, board, kconfig):
    if kconfig.get("DEBUG_COMMANDS") != "y":
        pytest.skip("CONFIG_DEBUG_COMMANDS is off: the shell has no panic command")
    mark = fresh_dut.mark()
    fresh_dut.send_line("panic")
    fresh_dut.expect(r"^nagi: PANIC: .+$", timeout=20, since=mark)
    fresh_dut.expect(REGISTERS_RX[board.arch], timeout=10, since=mark)
    if board.arch == "x86_64":
        fresh_dut.expect(r"^backtrace:", timeout=10, since=mark)
    fresh_dut.expect(r"^nagi: system halted", timeout=10, since=mark)
