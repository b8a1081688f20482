"""A kernel panic prints the cause, the registers and a backtrace. It kills
the guest, so it gets a boot of its own."""

import pytest


def test_panic_output(fresh_dut, kconfig):
    if kconfig.get("DEBUG_COMMANDS") != "y":
        pytest.skip("CONFIG_DEBUG_COMMANDS is off: the shell has no panic command")
    mark = fresh_dut.mark()
    fresh_dut.send_line("panic")
    fresh_dut.expect(r"^nagi: PANIC: .+$", timeout=20, since=mark)
    fresh_dut.expect(r"RIP=[0-9a-fx]+", timeout=10, since=mark)
    fresh_dut.expect(r"^backtrace:", timeout=10, since=mark)
    fresh_dut.expect(r"^nagi: system halted", timeout=10, since=mark)
