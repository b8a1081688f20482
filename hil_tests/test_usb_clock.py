"""The 48 MHz USB clock (CLK48) the kernel sets up at boot from board.toml
[clock] usb_source = "pllsai1q" (arch/arm-m/clock.c): read back from the
twin's RCC registers through qtest (the `gpio` fixture's connection; on
hardware it skips, since nothing reads a real board's registers yet).
The twin models PLLSAI1 and the CLK48 mux (QEMU traces its PLL 1 channel
Q at 48 MHz and mux CLK48 on PLLSAI1), not the USB core."""

import pytest

RCC_CR, RCC_PLLSAI1CFGR, RCC_CCIPR = 0x4002_1000, 0x4002_1010, 0x4002_1088

pytestmark = pytest.mark.needs("gpio")


def test_clk48_is_pllsai1q_at_48_mhz(gpio, board):
    k = board.clock
    if k.get("usb_source") != "pllsai1q":
        pytest.skip(f"board '{board.name}' sets up no USB clock ([clock] usb_source)")
    q = gpio.pins.client
    cr, sai1, ccipr = q.readl(RCC_CR), q.readl(RCC_PLLSAI1CFGR), q.readl(RCC_CCIPR)
    assert cr & (1 << 26), f"PLLSAI1ON clear: RCC_CR {cr:#010x}"
    assert cr & (1 << 27), f"PLLSAI1 not locked (PLLSAI1RDY): RCC_CR {cr:#010x}"
    assert (sai1 >> 8) & 0x7F == k["pllsai1_n"], f"PLLSAI1N: RCC_PLLSAI1CFGR {sai1:#010x}"
    assert sai1 & (1 << 20), f"PLLSAI1QEN clear: RCC_PLLSAI1CFGR {sai1:#010x}"
    assert ((sai1 >> 21) & 3) * 2 + 2 == k["pllsai1_q"], f"PLLSAI1Q: {sai1:#010x}"
    assert (ccipr >> 26) & 3 == 0b01, f"CLK48SEL is not PLLSAI1 Q: RCC_CCIPR {ccipr:#010x}"
    vco = k["input_hz"] // k["pll_m"] * k["pllsai1_n"]
    assert vco // k["pllsai1_q"] == 48_000_000
