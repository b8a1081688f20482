"""GPIO on the keyboard board (docs/mcu-port.md, "GPIO on b-l475e-iot01a"):
the test drives the user button PC13 and watches the LED PA5 through the
`gpio` fixture (qtest on the twin)."""

import time

import pytest

from tools.shell_output import parse_gpio, parse_gpio_wait, parse_led

pytestmark = pytest.mark.needs("gpio")


@pytest.fixture
def button_low(gpio):
    gpio.set_pin("button", 0)
    yield gpio
    gpio.set_pin("button", 0)


def test_gpio_reads_the_button(button_low):
    dut = button_low
    dut.set_pin("button", 1)
    assert parse_gpio(dut.run("gpio")) == {"PC13": 1}
    dut.set_pin("button", 0)
    assert parse_gpio(dut.run("gpio")) == {"PC13": 0}


def test_gpio_wait_sees_a_rising_edge(button_low):
    dut = button_low
    dut.console.drain(0.0)
    dut.send_line("gpio wait 2000")
    time.sleep(0.4)                 # let the shell start waiting (the echo is not enough)
    dut.set_pin("button", 1)
    m = dut.expect(r"^(PC13 rose|PC13 fell|gpio: timeout)$", timeout=15)
    dut.expect(r"nagi> ", timeout=10)
    assert parse_gpio_wait([m.group(1)]) == "rose", m.group(1)


def test_gpio_wait_times_out(button_low):
    assert parse_gpio_wait(button_low.run("gpio wait 100", timeout=15)) == "timeout"


def test_led_drives_pa5(gpio):
    mark = gpio.pin_mark()
    assert parse_led(gpio.run("led on")) == "on"
    gpio.wait_pin("led", 1, timeout=5, since=mark)
    mark = gpio.pin_mark()
    assert parse_led(gpio.run("led off")) == "off"
    gpio.wait_pin("led", 0, timeout=5, since=mark)
    assert ("PA5", 1) not in gpio.pin_events(mark), "the LED went on again after `led off`"
