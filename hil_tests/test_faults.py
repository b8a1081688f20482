"""Fault isolation: a faulting task is killed, everything else runs on."""

import re

import pytest

from tools.shell_output import parse_ps, parse_spawned


@pytest.mark.needs("mmu")
@pytest.mark.parametrize("kind", ["kernel", "unmapped", "null"])
def test_crash_is_isolated(dut, kind):
    mark = dut.mark()
    tid = parse_spawned(dut.run(f"crash {kind}"), "crash")
    m = dut.expect(rf"nagi: task {tid} \(faulter\) killed: (.+)$", timeout=15, since=mark)
    assert m.group(1).strip(), "the kill line gives a reason"
    assert dut.run("echo alive") == ["alive"]
    tasks = {t.tid: t for t in parse_ps(dut.run("ps"))}
    assert tasks[tid].name == "faulter" and tasks[tid].state == "killed"
    alive = {t.name for t in tasks.values() if t.state not in ("killed", "exited")}
    assert {"memory", "console", "shell"} <= alive
