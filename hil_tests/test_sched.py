"""Preemption and timers."""

import time

from tools.shell_output import parse_ps, parse_sleep, parse_spawned, parse_uptime


def _task(dut, tid):
    return {t.tid: t for t in parse_ps(dut.run("ps"))}[tid]


def test_busy_task_is_preempted(dut):
    tid = parse_spawned(dut.run("spin 6"), "spin")
    try:
        assert dut.run("echo still here") == ["still here"]
        assert parse_uptime(dut.run("uptime")) > 0
        first = _task(dut, tid)
        assert first.state == "run"
        time.sleep(0.5)
        second = _task(dut, tid)
        assert second.ticks > first.ticks, "the spinner got no CPU time"
    finally:
        assert dut.run(f"kill {tid}") == ["kill: ok"]
    assert _task(dut, tid).state == "killed"
    assert dut.run("echo after") == ["after"]


def test_sleep_uses_timer(dut):
    before = parse_uptime(dut.run("uptime"))
    ms, a, b = parse_sleep(dut.run("sleep 300", timeout=30))
    assert ms == 300
    assert 300 <= b - a <= 3000, f"slept {b - a} ms for 300"
    after = parse_uptime(dut.run("uptime"))
    assert after - before >= 300
