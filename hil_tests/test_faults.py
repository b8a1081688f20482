"""Fault isolation: a faulting task is killed, everything else runs on,
and init (the supervisor) reports it. Memory protection is the MMU on pc
and the MPU on MCU boards."""

import pytest

from tools.shell_output import SUPERVISION_RX, parse_ps, parse_spawned


def _protected(board):
    if not (board.has("mmu") or board.has("mpu")):
        pytest.skip(f"board '{board.name}' lacks capability 'mmu' or 'mpu'")


def _servers(board):
    return {"console", "shell"} | ({"memory"} if board.has("paging") else set())


@pytest.mark.parametrize("kind", ["kernel", "unmapped", "null", "stack"])
def test_crash_is_isolated(dut, board, kind):
    _protected(board)
    mark = dut.mark()
    tid = parse_spawned(dut.run(f"crash {kind}"), "crash")
    m = dut.expect(rf"nagi: task {tid} \(faulter\) killed: (.+)$", timeout=15, since=mark)
    assert m.group(1).strip(), "the kill line gives a reason"
    assert dut.run("echo alive") == ["alive"]
    tasks = {t.tid: t for t in parse_ps(dut.run("ps"))}
    assert tasks[tid].name == "faulter" and tasks[tid].state == "killed"
    alive = {t.name for t in tasks.values() if t.state not in ("killed", "exited")}
    assert _servers(board) <= alive


def test_init_reports_the_fault(dut, board):
    """init got NOTIFY_TASK_DIED and names the task, once."""
    _protected(board)
    mark = dut.mark()
    tid = parse_spawned(dut.run("crash null"), "crash")
    dut.expect(rf"nagi: task {tid} \(faulter\) killed: .+$", timeout=15, since=mark)
    m = dut.expect(SUPERVISION_RX.replace(r"(\d+)", str(tid), 1) + "$", timeout=15, since=mark)
    assert m.group(1) == "faulter"
    assert dut.run("echo alive") == ["alive"]
    reports = [l for l in dut.transcript[mark:].splitlines()
               if l.startswith(f"init: task {tid} (")]
    assert len(reports) == 1, reports


def test_stack_overflow_is_named_on_mpu_boards(dut, board):
    """The task's own stack runs into the MPU-protected subregion below it
    (its kernel stack), which is reported as a stack overflow; the kernel
    stack and the neighbours are untouched, so everything else runs on."""
    if not board.has("mpu"):
        pytest.skip(f"board '{board.name}' lacks capability 'mpu'")
    mark = dut.mark()
    tid = parse_spawned(dut.run("crash stack"), "crash")
    m = dut.expect(rf"nagi: task {tid} \(faulter\) killed: (.+) at 0x([0-9a-f]+)$",
                   timeout=15, since=mark)
    assert m.group(1) == "stack overflow", m.group(0)
    assert dut.run("echo alive") == ["alive"]
    tasks = {t.tid: t for t in parse_ps(dut.run("ps"))}
    alive = {t.name for t in tasks.values() if t.state not in ("killed", "exited")}
    assert _servers(board) <= alive
