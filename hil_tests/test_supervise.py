"""Supervision (init's policy table, docs/protocols.md "Supervision"): a
server that dies is restarted with backoff and its clients find it again
by name; one that keeps dying is given up on; a critical task's death
stops the system with the reason. Each test kills servers, so each gets a
boot of its own."""

import re

from tools.shell_output import parse_ps, parse_spawned

DIED_RX = r"^init: console \(task {tid}\) died; restarting it in (\d+) ms$"
RESTARTED_RX = r"^init: console restarted as task (\d+) \(restart (\d+)\)$"
GAVE_UP_RX = r"^init: console \(task {tid}\) died (\d+) times in (\d+) s; giving up on it$"


def _tid(dut, name):
    tasks = [t for t in parse_ps(dut.run("ps")) if t.name == name
             and t.state not in ("killed", "exited")]
    assert len(tasks) == 1, tasks
    return tasks[0]


def _kill_console(dut, tid):
    """`kill` the console from the shell; init restarts it. The shell
    prints `kill: ok` through the console it just killed: that line and
    the prompt come out only if the shell found the new console."""
    mark = dut.mark()
    assert dut.run(f"kill {tid}", timeout=20) == ["kill: ok"]
    dut.expect(rf"nagi: task {tid} \(console\) killed: killed on request", since=mark)
    return mark


def test_console_restart_keeps_the_shell_working(fresh_dut):
    dut = fresh_dut
    first = _tid(dut, "console")
    assert first.restarts == 0, "a supervised task shows its restart count"
    assert _tid(dut, "shell").restarts == 0
    mark = _kill_console(dut, first.tid)
    m = dut.expect(DIED_RX.format(tid=first.tid), since=mark)
    assert int(m.group(1)) == 100, "the first restart waits the base backoff"
    m = dut.expect(RESTARTED_RX, since=mark)
    new_tid, count = int(m.group(1)), int(m.group(2))
    assert count == 1
    # Input reaches the shell through the new console, output comes back.
    assert dut.run("echo still here") == ["still here"]
    console = _tid(dut, "console")
    assert (console.tid, console.restarts) == (new_tid, 1)
    tasks = parse_ps(dut.run("ps"))
    assert all(t.restarts is None for t in tasks if t.name in ("init", "faulter"))


def test_console_killed_while_the_shell_prints(fresh_dut):
    """The console dies while the shell is printing a long command's
    output (a deferred kill by a helper task); the output goes on after
    the restart, every line of it."""
    dut = fresh_dut
    tid = _tid(dut, "console").tid
    mark = dut.mark()
    assert dut.run(f"kill {tid} 300") == [f"kill: task {tid} in 300 ms"]
    lines = dut.run("count 40 20", timeout=30)
    dut.expect(DIED_RX.format(tid=tid), since=mark)
    dut.expect(RESTARTED_RX, since=mark)
    assert lines == [f"count: {i}" for i in range(1, 41)], lines
    assert dut.run("echo after") == ["after"]


def test_console_killed_in_a_loop_is_given_up(fresh_dut):
    """The 4th death within 10 s: init gives up in one line; the shell's
    output falls back to the kernel console and the system stays up."""
    dut = fresh_dut
    tid = _tid(dut, "console").tid
    backoffs = []
    for restart in range(1, 4):
        mark = _kill_console(dut, tid)
        backoffs.append(int(dut.expect(DIED_RX.format(tid=tid), since=mark).group(1)))
        m = dut.expect(RESTARTED_RX, since=mark)
        tid = int(m.group(1))
        assert int(m.group(2)) == restart
    assert backoffs == [100, 200, 400], "the backoff doubles"
    assert _tid(dut, "console").restarts == 3
    mark = dut.mark()
    dut.send_line(f"kill {tid}")
    m = dut.expect(GAVE_UP_RX.format(tid=tid), timeout=20, since=mark)
    assert (m.group(1), m.group(2)) == ("4", "10")
    # No console server any more: the shell says `kill: ok` through the
    # kernel console, then waits for input that cannot come.
    dut.expect(r"^kill: ok", timeout=30, since=mark)
    dut.expect(re.escape("nagi> "), timeout=10, since=mark)
    text = dut.transcript[mark:]
    assert "PANIC" not in text and "restarted as" not in text, text
    assert len(re.findall(r"giving up", text)) == 1


def test_critical_task_death_halts_with_the_reason(fresh_dut):
    dut = fresh_dut
    tid = parse_spawned(dut.run("start critical"), "start")
    assert "busy" in " ".join(dut.run("start critical")).lower(), "one instance"
    mark = dut.mark()
    dut.send_line(f"kill {tid}")
    dut.expect(rf"^nagi: system halted by task \d+ \(init\): "
               rf"critical task 'critical' \(task {tid}\) died$", timeout=20, since=mark)
