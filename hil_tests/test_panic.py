"""A kernel panic prints the cause, the registers and a backtrace. It kills
the guest, so it gets a boot of its own."""

import pytest


PC_REGISTER = {"x86_64": "RIP", "arm-m": "PC"}    # the program counter as the panic names it


def test_panic_output(fresh_dut, board, kconfig):
    if kconfig.get("DEBUG_COMMANDS") != "y":
        pytest.skip("CONFIG_DEBUG_COMMANDS is off: the shell has no panic command")
    mark = fresh_dut.mark()
    fresh_dut.send_line("panic")
    fresh_dut.expect(r"^nagi: PANIC: .+$", timeout=20, since=mark)
    reg = PC_REGISTER.get(board.arch, "RIP|PC")
    fresh_dut.expect(rf"\b(?:{reg})=[0-9a-fx]+", timeout=10, since=mark)
    if board.arch == "x86_64":
        fresh_dut.expect(r"^backtrace:", timeout=10, since=mark)
    fresh_dut.expect(r"^nagi: system halted", timeout=10, since=mark)
