"""The shell's ipctest: one test per IPC case, and a clean summary.

Each case is matched by its id (as in the brief) or by the descriptive
name(s) the shell prints for it; a case may cover several printed lines."""

import pytest

from tools.shell_output import parse_ipctest

CASES = {
    "send_recv": ["channel payload + send/recv"],
    "call_reply": ["call/reply"],
    "inline_payload": ["inline payload"],
    "channel_payload": ["channel payload + send/recv"],
    "page_payload": ["page payload", "bad page payload"],
    "notify": ["notify", "notify coalesce"],
    "notify_busy": ["notify busy receiver"],
    "invalid_channel": ["invalid channel"],
    "closed_channel": ["closed channel"],
    "bad_pointer": ["bad user pointer"],
    "oversized": ["oversized message"],
    "transfer_cycle": ["transfer cycle"],
    "link_cycle": ["link cycle"],
    "reply_without_call": ["reply without call"],
    "nonblocking": ["nonblocking recv"],
    "kernel_server_errors": ["kernel unknown label", "kernel no permission", "unknown syscall"],
}


@pytest.fixture(scope="module")
def ipctest(dut):
    return parse_ipctest(dut.run("ipctest", timeout=60))


@pytest.mark.parametrize("case", sorted(CASES))
def test_ipc_case(ipctest, case):
    results, _, _ = ipctest
    if case in results:                       # printed under its id
        assert results[case] == "ok", f"{case}: {results[case]}"
        return
    for name in CASES[case]:
        assert name in results, f"ipctest printed no line for {case} ({name!r}); got {sorted(results)}"
        assert results[name] == "ok", f"{case} ({name}): {results[name]}"


def test_ipc_summary(ipctest):
    results, passed, failed = ipctest
    assert failed == 0, [f"{k}: {v}" for k, v in results.items() if v != "ok"]
    assert passed == len(results) and passed >= len(CASES) - 1
    known = {n for names in CASES.values() for n in names} | set(CASES)
    assert set(results) <= known, f"cases without a HIL test: {sorted(set(results) - known)}"
