"""Each shell command of docs/protocols.md, against its documented format."""

import re
import time

from tools.shell_output import parse_mem, parse_ps, parse_uptime

COMMANDS = ["help", "echo", "ps", "uptime", "mem", "ipctest", "heap", "sleep", "crash",
            "spin", "kill", "bench", "panic"]
SERVERS = ["init", "console", "shell"]
BY_CAPABILITY = {"paging": (["memory"], []), "fpu": ([], ["fpu"]), "gpio": (["gpio"], ["gpio", "led"])}


def _expected(board):
    servers, commands = list(SERVERS), list(COMMANDS)
    for cap, (s, c) in BY_CAPABILITY.items():
        if board.has(cap):
            servers += s
            commands += c
    return servers, commands


def test_help_lists_every_command(dut, board):
    out = dut.run("help")
    listed = [m.group(1) for l in out if (m := re.match(r"^  (\S+) - \S.*$", l))]
    assert len(listed) == len(out), f"lines not in '  <name> - <description>' form: {out}"
    commands = _expected(board)[1]
    assert set(commands) <= set(listed), f"missing: {sorted(set(commands) - set(listed))}"


def test_echo(dut):
    assert dut.run("echo a b") == ["a b"]
    assert dut.run("echo   spaced    words  ") == ["spaced words"]
    assert dut.run("echo") in ([""], [])


def test_ps_lists_servers(dut, board):
    tasks = parse_ps(dut.run("ps"))
    by_name = {t.name: t for t in tasks}
    for name in _expected(board)[0]:
        assert name in by_name, f"{name} missing from ps"
        assert by_name[name].state in {"run", "send", "recv"}, by_name[name]
    assert by_name["shell"].state == "run"       # it is the task running ps
    assert by_name["init"].tid == 1
    assert len({t.tid for t in tasks}) == len(tasks), "tids are unique"


def test_uptime_advances(dut):
    a = parse_uptime(dut.run("uptime"))
    time.sleep(1.0)
    b = parse_uptime(dut.run("uptime"))
    assert 500 <= b - a <= 5000, f"uptime moved {b - a} ms over a 1 s host wait"


def test_mem_is_sane(dut, board):
    m = parse_mem(dut.run("mem"))
    assert 0 < m.free_kib <= m.total_kib
    assert 0 < m.kernel_kib < m.total_kib
    ram_kib = sum(r["size"] for r in board.memory if r.get("kind") == "ram") // 1024
    if ram_kib:
        assert m.total_kib <= ram_kib, f"total {m.total_kib} KiB > board RAM {ram_kib} KiB"
        assert m.total_kib >= ram_kib // 2, "most of the RAM is found"


def test_unknown_command(dut):
    assert dut.run("frobnicate") == ["unknown command: frobnicate (try help)"]
