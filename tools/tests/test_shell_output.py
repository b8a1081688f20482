"""Parsers of the shell's documented output (docs/protocols.md)."""

import pytest

from tools import shell_output as so


def test_ps():
    tasks = so.parse_ps(["TID NAME STATE PRIO CH PAGES TICKS", "1 init recv 1 6 24 3",
                         "7 faulter killed 4 0 0 0"])
    assert tasks[0] == so.Task(1, "init", "recv", 1, 6, 24, 3)
    assert tasks[1].state == "killed"


@pytest.mark.parametrize("lines", [[], ["TID NAME"], ["TID NAME STATE PRIO CH PAGES TICKS",
                                                      "1 init sleeping 1 6 24 3"]])
def test_ps_rejects_malformed(lines):
    with pytest.raises(ValueError):
        so.parse_ps(lines)


def test_simple_lines():
    assert so.parse_uptime(["uptime: 190 ms"]) == 190
    assert so.parse_mem(["mem: total 260352 KiB, free 259528 KiB, kernel 636 KiB, "
                         "heap pages served 0"]) == so.MemInfo(260352, 259528, 636, 0)
    assert so.parse_heap(["heap: touched 512 KiB, pager served 129 new pages"]) == (512, 129)
    assert so.parse_sleep(["slept 300 ms (uptime 640 -> 940)"]) == (300, 640, 940)
    assert so.parse_spawned(["crash: spawned task 7"], "crash") == 7
    with pytest.raises(ValueError):
        so.parse_uptime(["uptime: soon"])


def test_ipctest():
    cases, p, f = so.parse_ipctest(["ipctest: call/reply ok", "ipctest: notify FAIL got 3",
                                    "ipctest: 1 passed, 1 failed"])
    assert cases == {"call/reply": "ok", "notify": "FAIL got 3"} and (p, f) == (1, 1)
    with pytest.raises(ValueError):
        so.parse_ipctest(["ipctest: call/reply ok"])


def test_bench():
    figs = so.parse_bench(["bench: ipc_roundtrip min=449 median=450 iterations=10000",
                           "bench: syscall_null min=36 median=36 iterations=10000"])
    assert figs["ipc_roundtrip"] == so.BenchFigure("ipc_roundtrip", 449, 450, 10000)
    assert figs["syscall_null"].median == 36
    with pytest.raises(ValueError):
        so.parse_bench(["nothing"])
