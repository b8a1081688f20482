"""Heap growth: the pager serves new pages on demand."""

import pytest

from tools.shell_output import parse_heap, parse_mem


@pytest.mark.needs("paging")
def test_heap_grows_through_pager(dut):
    before = parse_mem(dut.run("mem"))
    touched, served = parse_heap(dut.run("heap 512", timeout=30))
    assert touched == 512
    assert served > 0, "the pager served no page for 512 KiB of fresh heap"
    after = parse_mem(dut.run("mem"))
    assert after.heap_pages_served >= before.heap_pages_served + served
    assert after.free_kib < before.free_kib
