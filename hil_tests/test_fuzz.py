"""The in-tree fuzzer on the booted image (a short run; CI runs `flash.py
fuzz` with 10^6 calls on pc and 10^5 on each MCU twin): two linked
fuzzers, privileged and not, make random system calls, kernel-server
requests and hostile messages to every server; afterwards the system
answers, ipctest passes, and no server kept what the fuzzers sent it."""

import re

from tools.fuzz import SETTLE_MS, Snapshot, leaks, parse_reports

CALLS = 3000


def short_run(dut, seed):
    out = dut.run(f"fuzz {CALLS} {seed}", timeout=600)
    assert "fuzz: ok" in out, out[-5:]
    return parse_reports("\n".join(out))


def settled_snapshot(dut):
    dut.run(f"sleep {SETTLE_MS}", timeout=30)    # lower-priority leftovers end first
    return Snapshot.take(dut.run("mem"), dut.run("ps"))


def test_fuzzers_run_to_the_end_and_leave_nothing_behind(dut):
    dut.run("ipctest", timeout=120)
    short_run(dut, 1)
    before = settled_snapshot(dut)
    mark = dut.mark()
    reports = short_run(dut, 2)
    assert set(reports) == {"fuzz", "fuzz_peer"}
    for name, (calls, refused, _) in reports.items():
        assert calls == CALLS, (name, calls)
        assert 0 < refused < calls, (name, refused)   # boundary args are refused, not all
    assert "PANIC" not in dut.transcript[mark:]
    assert dut.run("echo alive") == ["alive"]
    summary = [l for l in dut.run("ipctest", timeout=120) if re.match(r"ipctest: \d+ passed", l)]
    assert summary and summary[0].endswith(" 0 failed"), summary
    short_run(dut, 1)
    after = settled_snapshot(dut)
    assert leaks(before, after) == []


def test_a_run_replays_from_its_seed(dut):
    """The seed decides each fuzzer's choices: the same seed twice gives
    the same privileged fuzzer's first calls (traced from call 0)."""
    def first_calls():
        out = dut.run("fuzz 40 99 0", timeout=300)
        assert "fuzz: ok" in out, out[-5:]
        calls = [re.sub(r" -> .*", "", l) for l in out if l.startswith("fuzz #")]
        return calls[:5]
    a = first_calls()
    assert len(a) == 5
    assert a == first_calls()


def test_usage_and_bad_numbers(dut):
    assert dut.run("fuzz") == ["fuzz: usage: fuzz CALLS [SEED [TRACE_FROM]]"]
    assert dut.run("fuzz many") == ["fuzz: usage: fuzz CALLS [SEED [TRACE_FROM]]"]
