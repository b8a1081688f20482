"""Console input under load (issue 9.5): a paste of 200 lines at once, and
a line longer than the shell's limit."""

import re

PASTE_LINES = 200


def test_paste_of_200_lines_runs_every_line(dut):
    dut.console.drain(0.0)
    mark = dut.mark()
    blob = "".join(f"echo p{i:03d}\r" for i in range(PASTE_LINES))
    dut.console.write(blob)
    dut.expect(rf"^p{PASTE_LINES - 1:03d}$", timeout=120, since=mark)
    dut.console.drain(1.0)
    out = dut.transcript[mark:]
    ran = {int(m.group(1)) for m in re.finditer(r"^p(\d{3})$", out, re.MULTILINE)}
    missing = sorted(set(range(PASTE_LINES)) - ran)
    assert not missing, f"{len(missing)} of {PASTE_LINES} lines did not run: {missing[:20]}"


def test_a_line_over_the_limit_is_refused_with_a_message(dut):
    """The shell keeps LINE_MAX (200) characters; a longer line is not run
    cut short (`echo` of its first 200 characters) but refused by name."""
    long = "echo " + "x" * 295                      # 300 characters
    out = dut.run(long)
    assert out == ["shell: line too long (300 characters, limit 200); not run"], out
    assert dut.run("echo still here") == ["still here"]
