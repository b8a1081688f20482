"""The benchmark's output format (the figures themselves: flash.py bench)."""

from tools.shell_output import parse_bench


def test_bench_format(dut, kconfig):
    out = dut.run("bench", timeout=120)
    figures = parse_bench(out)
    assert "syscall_null" in figures
    if kconfig.get("BENCH") == "y":
        assert "ipc_roundtrip" in figures
    for f in figures.values():
        # This boot runs without -icount: on arm-m the clock is SysTick in
        # QEMU's host-time virtual clock, so one batch may see no tick at
        # all (min 0); the median of the batches must still be positive.
        assert 0 <= f.min <= f.median and f.median > 0, f
        assert f.operations >= 100, f          # iterations x batch (arm-m prints batch=)
        if f.batch is not None:
            assert f.hz > 0 and f.iterations >= 5, f
