"""tools/fuzz.py: what counts as a leak, and reading the fuzzers' reports
and the CLI's arguments (the run itself boots QEMU: hil_tests/test_fuzz.py
and `flash.py fuzz` in CI)."""

import pytest

from tools import cli
from tools.fuzz import CONNECTIONS_PER_RUN, HEAP_SLACK_PAGES, PAGE_TABLE_SLACK_KIB, Snapshot, leaks, parse_reports

PS = ["TID NAME STATE PRIO CH PAGES TICKS RESTARTS",
      "1 init recv 1 6 24 2 -",
      "2 memory recv 2 10 22 0 0",
      "3 console recv 2 6 23 1 0",
      "6 shell run 3 4 37 2 0",
      "19 fuzz exited 4 0 0 9 -"]
MEM = ["mem: total 262144 KiB, free 259332 KiB, kernel 1024 KiB, heap pages served 12"]


def snap(ps=PS, mem=MEM):
    return Snapshot.take(mem, ps)


def with_row(old: str, new: str) -> list[str]:
    return [new if l == old else l for l in PS]


def test_the_same_state_is_no_leak_and_dead_tasks_do_not_count():
    before = snap()
    assert before.live == {"init": (6, 24), "memory": (10, 22), "console": (6, 23),
                           "shell": (4, 37)}
    assert leaks(before, snap()) == []
    assert leaks(before, snap(PS + ["20 faulter killed 3 0 0 0 -"])) == []


def test_less_free_memory_is_a_leak_beyond_a_few_page_tables():
    slack = snap(mem=[MEM[0].replace("free 259332", f"free {259332 - PAGE_TABLE_SLACK_KIB}")])
    assert leaks(snap(), slack) == []
    after = snap(mem=[MEM[0].replace("free 259332", f"free {259332 - PAGE_TABLE_SLACK_KIB - 4}")])
    assert leaks(snap(), after) == [
        f"free memory fell from 259332 KiB to {259332 - PAGE_TABLE_SLACK_KIB - 4} KiB"]


def test_a_server_with_more_pages_leaks_but_the_shell_may_grow_its_heap():
    # A heap's high-water mark may rise a little (fragmentation), no more.
    within = with_row("2 memory recv 2 10 22 0 0", f"2 memory recv 2 10 {22 + HEAP_SLACK_PAGES} 0 0")
    assert leaks(snap(), snap(within)) == []
    more = with_row("2 memory recv 2 10 22 0 0", f"2 memory recv 2 10 {23 + HEAP_SLACK_PAGES} 0 0")
    assert leaks(snap(), snap(more)) == [f"memory holds {23 + HEAP_SLACK_PAGES} pages (was 22)"]
    shell = with_row("6 shell run 3 4 37 2 0", "6 shell run 3 4 40 2 0")
    assert leaks(snap(), snap(shell)) == []


def test_channels_beyond_one_runs_connections_leak():
    ok = with_row("3 console recv 2 6 23 1 0", f"3 console recv 2 {6 + CONNECTIONS_PER_RUN} 23 1 0")
    assert leaks(snap(), snap(ok)) == []
    bad = with_row("3 console recv 2 6 23 1 0", f"3 console recv 2 {7 + CONNECTIONS_PER_RUN} 23 1 0")
    assert leaks(snap(), snap(bad)) == [f"console holds {7 + CONNECTIONS_PER_RUN} channels (was 6)"]
    shell = with_row("6 shell run 3 4 37 2 0", "6 shell run 3 5 37 2 0")
    assert leaks(snap(), snap(shell)) == ["shell holds 5 channels (was 4)"]


def test_gone_left_running_and_never_started_tasks_are_reported():
    gone = [l for l in PS if " console " not in l]
    assert leaks(snap(), snap(gone)) == ["task console is gone"]
    extra = PS + ["21 faulter run 3 0 1 0 -"]
    assert leaks(snap(), snap(extra)) == ["task faulter is left running"]
    stopped = PS + ["22 faulter stopped 3 0 0 0 -"]
    assert leaks(snap(), snap(stopped)) == [
        "task faulter (task 22) was created and never started, and is still there"]


def test_malformed_ps_or_mem_is_an_error_not_a_pass():
    with pytest.raises(ValueError):
        snap(ps=["TID NAME"])
    with pytest.raises(ValueError):
        snap(mem=["mem: something else"])


def test_reports_are_read_per_fuzzer():
    text = ("fuzz: seed 7 calls 100\n"
            "fuzz: fuzz_peer (task 7): 100 calls, 70 refused, 0 tasks created\n"
            "fuzz: fuzz (task 6): 100 calls, 61 refused, 3 tasks created\n"
            "fuzz: ok\n")
    assert parse_reports(text) == {"fuzz": (100, 61, 3), "fuzz_peer": (100, 70, 0)}
    assert parse_reports("fuzz: E_NOMEM (seed 7)\n") == {}


@pytest.mark.parametrize("argv, error", [
    (["fuzz", "--calls", "0"], "between 1"),
    (["fuzz", "--calls", "many"], "not a number"),
    (["fuzz", "--seed", str(2**32)], "between 0"),
    (["fuzz", "--trace-from", "-1"], "between 0"),
])
def test_cli_refuses_bad_numbers_with_one_line(argv, error, capsys):
    with pytest.raises(SystemExit) as e:
        cli.parse(argv)
    assert e.value.code == 2
    assert error in capsys.readouterr().err


def test_cli_fuzz_defaults():
    args = cli.parse(["fuzz", "--board", "mps2-an386"])
    assert (args.calls, args.seed, args.trace_from, args.stall) == (100_000, None, None, 120.0)
    args = cli.parse(["fuzz", "--calls", "0x10", "--seed", "7", "--trace-from", "3"])
    assert (args.calls, args.seed, args.trace_from) == (16, 7, 3)
