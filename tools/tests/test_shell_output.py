"""Parsers of the shell's documented output (docs/protocols.md)."""

import pytest

from tools import shell_output as so


def test_ps():
    tasks = so.parse_ps(["TID NAME STATE PRIO CH PAGES TICKS RESTARTS", "1 init recv 1 6 24 3 -",
                         "7 faulter killed 4 0 0 0 -", "9 console recv 2 4 20 1 2"])
    assert tasks[0] == so.Task(1, "init", "recv", 1, 6, 24, 3, None)
    assert tasks[1].state == "killed"
    assert tasks[2].restarts == 2


@pytest.mark.parametrize("lines", [[], ["TID NAME"], ["TID NAME STATE PRIO CH PAGES TICKS RESTARTS",
                                                      "1 init sleeping 1 6 24 3 -"],
                                   ["TID NAME STATE PRIO CH PAGES TICKS RESTARTS",
                                    "1 init recv 1 6 24 3"]])
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


def test_bench_on_arm_m_converts_batches():
    figs = so.parse_bench(["bench: ipc_roundtrip min=2500 median=2600 iterations=50 batch=100 hz=25000000",
                           "bench: syscall_null min=100 median=100 iterations=50 batch=100 hz=25000000"])
    ipc = figs["ipc_roundtrip"]
    assert (ipc.batch, ipc.hz, ipc.operations) == (100, 25_000_000, 5000)
    assert ipc.instructions(ipc.min) == 1000        # 2500 cycles * 40 ns / 100
    assert ipc.resolution == 0.4
    l475 = so.parse_bench(["bench: ipc_roundtrip min=5 median=6 iterations=20 batch=100 hz=4000000"])
    assert l475["ipc_roundtrip"].instructions(5) == 12 and l475["ipc_roundtrip"].resolution == 2.5
    pc = so.parse_bench(["bench: ipc_roundtrip min=449 median=450 iterations=10000"])
    assert pc["ipc_roundtrip"].instructions(449) == 449 and pc["ipc_roundtrip"].resolution == 1
    with pytest.raises(ValueError):
        so.parse_bench(["bench: x min=1 median=1 iterations=1 batch=0 hz=1"])


def test_ipctest_not_supported_cases():
    cases, p, f = so.parse_ipctest(["ipctest: call/reply ok",
                                    "ipctest: page payload not supported (-E_NOTSUP)",
                                    "ipctest: bad page payload FAIL E_NOTSUP",
                                    "ipctest: 1 passed, 1 failed"])
    assert so.is_notsup(cases["page payload"]) and so.is_notsup(cases["bad page payload"])
    assert not so.is_notsup("FAIL got 3")


def test_mcu_commands():
    assert so.parse_gpio(["PC13=1"]) == {"PC13": 1}
    assert so.parse_gpio_wait(["PC13 rose"]) == "rose"
    assert so.parse_gpio_wait(["gpio: timeout"]) == "timeout"
    assert so.parse_led(["LED off"]) == "off"
    assert so.parse_fpu(["fpu: ok (preempted 4 times)"]) == 4
    with pytest.raises(ValueError, match="FAILED"):
        so.parse_fpu(["fpu: FAILED s17=1.0"])
    assert so.parse_fpu_leak(["fpu leak: clean", "fpu leak: spy task 9 exited"]) == 9
    with pytest.raises(ValueError, match="LEAKED s3=0x5eed0003"):
        so.parse_fpu_leak(["fpu leak: LEAKED s3=0x5eed0003", "fpu leak: spy task 9 exited"])
    with pytest.raises(ValueError, match="FAILED"):
        so.parse_fpu_leak(["fpu leak: FAILED (spawn faulter: busy)"])
    with pytest.raises(ValueError):
        so.parse_fpu_leak(["fpu leak: spy task 9 exited"])   # no verdict from the spy
    with pytest.raises(ValueError):
        so.parse_gpio(["gpio: no"])


def test_parse_nic():
    line = ("nic: mac 52:54:00:12:34:56 link up mtu 1500 rx 3 frames 180 bytes "
            "tx 1 frames 60 bytes drops 0 errors 0 malformed 4")
    n = so.parse_nic(["e1000: noise", line])
    assert (n.mac, n.link, n.mtu, n.rx_frames, n.rx_bytes, n.tx_frames, n.tx_bytes) == \
        ("52:54:00:12:34:56", "up", 1500, 3, 180, 1, 60)
    assert (n.drops, n.errors, n.malformed) == (0, 0, 4)
    with pytest.raises(ValueError):
        so.parse_nic(["nic: E_NOENT"])


def test_parse_ifconfig():
    lines = ["net0: inet 10.0.2.158/24 gateway 10.0.2.1 dhcp",
             "net0: ether 52:54:00:12:34:56 link up",
             "net0: rx 12 frames tx 10 frames tx-dropped 0 sockets 1",
             "net0: nic rx 20 frames 2000 bytes tx 10 frames 900 bytes drops 0 errors 0"]
    c = so.parse_ifconfig(lines)
    assert (c.ip, c.prefix, c.gateway, c.how, c.mac, c.link, c.rx_frames, c.tx_frames) == \
        ("10.0.2.158", 24, "10.0.2.1", "dhcp", "52:54:00:12:34:56", "up", 12, 10)
    c = so.parse_ifconfig(["net0: inet none unconfigured", "net0: no NIC (network off)",
                           "net0: rx 0 frames tx 0 frames tx-dropped 0 sockets 1"])
    assert (c.ip, c.how, c.mac) == (None, "unconfigured", None)
    with pytest.raises(ValueError):
        so.parse_ifconfig(["ifconfig: E_CLOSED"])
    with pytest.raises(ValueError):
        so.parse_ifconfig(["net0: rx 0 frames tx 0 frames tx-dropped 0 sockets 1"])   # no inet line
