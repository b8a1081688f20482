"""The shell's ipctest: one test per IPC case, and a clean summary.

Each case is matched by its id (as in the brief) or by the descriptive
name(s) the shell prints for it; a case may cover several printed lines.
On boards without page payloads (MCU boards: docs/mcu-port.md) the page
cases must report that they are not supported (-E_NOTSUP), and nothing
else may fail."""

import pytest

from tools.shell_output import is_notsup, parse_ipctest

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
    # Only the keyboard driver may type into the console (docs/protocols.md).
    "console_input_refused": ["console input refused"],
}
PAGE_CASES = {"page_payload"}


def _accepted(board, case: str, result: str) -> bool:
    """ok, or (page cases on a board without page payloads) not supported."""
    if result == "ok":
        return True
    return case in PAGE_CASES and not board.has("page_payloads") and is_notsup(result)


@pytest.fixture(scope="module")
def ipctest(dut):
    return parse_ipctest(dut.run("ipctest", timeout=60))


@pytest.mark.parametrize("case", sorted(CASES))
def test_ipc_case(ipctest, board, case):
    results, _, _ = ipctest
    if case in results:                       # printed under its id
        assert _accepted(board, case, results[case]), f"{case}: {results[case]}"
        return
    for name in CASES[case]:
        assert name in results, f"ipctest printed no line for {case} ({name!r}); got {sorted(results)}"
        assert _accepted(board, case, results[name]), f"{case} ({name}): {results[name]}"


def _case_of(name: str) -> str:
    return name if name in CASES else next((c for c, ns in CASES.items() if name in ns), name)


def test_ipc_summary(ipctest, board):
    results, passed, failed = ipctest
    notsup = [k for k, v in results.items() if v != "ok" and _accepted(board, _case_of(k), v)]
    bad = [f"{k}: {v}" for k, v in results.items() if v != "ok" and k not in notsup]
    assert not bad, bad
    assert failed <= len(notsup), f"{failed} failed, {len(notsup)} not supported"
    assert len(results) - len(notsup) <= passed <= len(results)
    assert len(results) >= len(CASES) - 1
    known = {n for names in CASES.values() for n in names} | set(CASES)
    assert set(results) <= known, f"cases without a HIL test: {sorted(set(results) - known)}"
