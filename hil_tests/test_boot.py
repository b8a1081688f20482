"""Boot: the kernel's banner, then the shell prompt."""

import re


def test_boot_banner(dut, board):
    lines = [l for l in dut.boot_output.splitlines() if l.startswith("nagi:")]
    assert lines, f"no 'nagi:' line before the first prompt: {dut.boot_output!r}"
    assert re.search(rf"\bboard {re.escape(board.name)}\b", dut.boot_output), \
        "the banner names the board"


def test_prompt_answers(dut):
    assert dut.run("") == []          # an empty line gives just a new prompt
    assert dut.run("echo ready") == ["ready"]
