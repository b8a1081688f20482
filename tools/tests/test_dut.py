"""Console expect logic and the DUT's shell commands, on a fake console."""

import pytest

from tools.console import Console, ConsoleTimeout
from tools.dut import Dut, async_anchored


def shell(port_cls, answers, clock):
    """A fake shell: echoes the typed line, prints answers[line], prompts."""
    def responder(data):
        line = data.decode().rstrip("\r")
        return [line + "\r\n", *answers.get(line, []), "nagi> "]
    port = port_cls(["nagi: kernel booting on board pc (x86_64)\r\n", "nagi> "], responder)
    return Dut(Console(port, clock=clock)), port


def test_expect_finds_pattern_split_over_reads(fake_port, fake_clock):
    c = Console(fake_port(["hel", "lo wor", "ld\r\n"]), clock=fake_clock)
    m = c.expect(r"hello (\w+)$", timeout=5)
    assert m.group(1) == "world"
    assert c.transcript == "hello world\n"


def test_expect_consumes_so_the_same_text_does_not_match_twice(fake_port, fake_clock):
    c = Console(fake_port(["a> b> "]), clock=fake_clock)
    c.expect("> ")
    c.expect("> ")
    with pytest.raises(ConsoleTimeout):
        c.expect("> ", timeout=1)


def test_timeout_reports_what_arrived(fake_port, fake_clock):
    c = Console(fake_port(["something else\n"]), clock=fake_clock)
    with pytest.raises(ConsoleTimeout) as e:
        c.expect("never", timeout=1)
    assert "something else" in str(e.value) and "never" in str(e.value)


def test_since_searches_already_consumed_text(fake_port, fake_clock):
    c = Console(fake_port(["x\nkilled\nnagi> "]), clock=fake_clock)
    mark = c.mark()
    c.expect("nagi> ")
    assert c.expect("killed", since=mark).group(0) == "killed"


def test_send_line_uses_cr_and_rejects_newlines(fake_port, fake_clock):
    port = fake_port()
    c = Console(port, clock=fake_clock)
    c.send_line("ps")
    assert port.written == b"ps\r"
    with pytest.raises(Exception):
        c.send_line("a\nb")


def test_send_line_is_paced_by_tx_delay(fake_port, fake_clock):
    """board.toml [console] tx_delay_us: one character at a time, each
    followed by the delay (labgrid's txdelay); write() stays a paste."""
    port, writes, sleeps = fake_port(), [], []
    real_write = port.write
    port.write = lambda data: (writes.append(data), real_write(data))
    c = Console(port, clock=fake_clock, tx_delay=0.0002, sleep=sleeps.append)
    c.send_line("ps")
    assert writes == [b"p", b"s", b"\r"]
    assert sleeps == [0.0002] * 3
    c.write("echo a\recho b\r")
    assert writes[-1] == b"echo a\recho b\r" and len(sleeps) == 3


def test_boot_and_run(fake_port, fake_clock):
    dut, port = shell(fake_port, {"echo hi": ["hi\r\n"],
                                  "ps": ["TID NAME\r\n", "1 init\r\n"]}, fake_clock)
    assert dut.wait_for_boot() == "nagi: kernel booting on board pc (x86_64)\n"
    assert dut.run("echo hi") == ["hi"]
    assert dut.run("ps") == ["TID NAME", "1 init"]
    assert port.written == b"echo hi\rps\r"
    assert "nagi> ps\nTID NAME\n1 init\nnagi> " in dut.transcript


def test_run_leaves_out_kernel_lines(fake_port, fake_clock):
    dut, _ = shell(fake_port, {"kill 8": ["nagi: task 8 (faulter) killed: on request\r\n",
                                          "kill: ok\r\n"],
                               "echo x": ["init: task 8 (faulter) was killed\r\n",
                                          "init: console restarted as task 9 (restart 1)\r\n",
                                          "x\r\n"]}, fake_clock)
    dut.wait_for_boot()
    assert dut.run("kill 8") == ["kill: ok"]
    assert dut.run("kill 8", kernel_lines=True) == [
        "nagi: task 8 (faulter) killed: on request", "kill: ok"]
    assert dut.run("echo x") == ["x"]


def test_run_mends_a_kernel_line_printed_inside_the_shells(fake_port, fake_clock):
    """init's line went out (whole, through the kernel) while the shell
    was half-way through its own: both read whole again."""
    dut, _ = shell(fake_port, {"kill 8": ["kill: o", "init: e1000 (task 8) died; restarting it in 100 ms\r\n",
                                          "k\r\n"]}, fake_clock)
    dut.wait_for_boot()
    assert dut.run("kill 8") == ["kill: ok"]
    assert dut.run("kill 8", kernel_lines=True) == [
        "init: e1000 (task 8) died; restarting it in 100 ms", "kill: ok"]


def test_expect_finds_a_kernel_line_printed_inside_the_shells(fake_port, fake_clock):
    """The system halted right after the shell's "kill: ok" and before its
    newline: the kernel's line is found where it landed."""
    dut, _ = shell(fake_port, {"kill 10": ["kill: oknagi: system halted by task 1 (init): done\r\n"]},
                   fake_clock)
    dut.wait_for_boot()
    mark = dut.mark()
    dut.send_line("kill 10")
    m = dut.expect(r"^nagi: system halted by task \d+ \(init\): (\w+)$", since=mark)
    assert m.group(1) == "done"
    # only a line with an asynchronous prefix: any other anchored pattern keeps its ^
    dut.send_line("kill 10")
    with pytest.raises(ConsoleTimeout):
        dut.expect(r"^ok", timeout=1)
    # and the prefix must follow a non-blank character or a line start
    assert async_anchored(r"^nagi: x") == r"(?:^|(?<=[^\s]))nagi: x"
    assert async_anchored(r"^kill: ok") == r"^kill: ok"
    assert async_anchored(r"x^nagi: ") == r"x^nagi: "


def test_run_keeps_a_line_that_merely_names_init(fake_port, fake_clock):
    dut, _ = shell(fake_port, {"echo a init: b": ["a init: b\r\n"]}, fake_clock)
    dut.wait_for_boot()
    assert dut.run("echo a init: b") == ["a init: b"]
def test_run_waits_for_a_half_printed_server_line(fake_port, fake_clock):
    """A server's line half printed when the command starts (httpd's after
    the prompt) is waited for and left out, not taken as output."""
    dut, port = shell(fake_port, {"echo alive": ["alive\r\n"]}, fake_clock)
    port.chunks[1:1] = [b"nagi> httpd: listening on po"]
    port.chunks.pop(2)          # that chunk replaced the boot's prompt
    dut.wait_for_boot()
    dut.console._pump()         # the half line has arrived
    port.chunks.insert(0, b"rt 80\r\n")
    assert dut.run("echo alive") == ["alive"]
    assert port.written == b"echo alive\r"


def test_run_times_out_without_prompt(fake_port, fake_clock):
    port = fake_port(["nagi> "], responder=lambda d: ["hang\r\n"])
    dut = Dut(Console(port, clock=fake_clock))
    dut.wait_for_boot()
    with pytest.raises(ConsoleTimeout):
        dut.run("hang", timeout=1)


def test_reset_waits_for_new_prompt(fake_port, fake_clock):
    class Backend:
        resets = 0

        def reset(self):
            self.resets += 1
            port.chunks += [b"nagi: kernel booting again\r\n", b"nagi> "]

    port = fake_port(["nagi> "])
    backend = Backend()
    dut = Dut(Console(port, clock=fake_clock), backend)
    dut.wait_for_boot()
    assert dut.reset() == "nagi: kernel booting again\n"
    assert backend.resets == 1


# -- pins -----------------------------------------------------------------------
from tools.dut import HardwarePins, QtestPins  # noqa: E402
from tools.errors import ToolError  # noqa: E402
from tools.qtest import IrqEvent, PinMap  # noqa: E402


class FakeQtest:
    def __init__(self):
        self.sent, self.events = [], []

    def irq_intercept_out(self, dev):
        self.sent.append(f"irq_intercept_out {dev}")

    def set_irq_in(self, dev, name, line, level):
        self.sent.append(f"set_irq_in {dev} {name} {line} {level}")
        self.events.append(IrqEvent(5, level, 0.0))     # the "firmware" mirrors to the LED

    def poll(self):
        return list(self.events)

    def mark(self):
        return len(self.events)

    def wait_irq(self, line, level, timeout, since):
        assert any(e.line == line and e.level == level for e in self.events[since:])


def pin_dut(fake_port, fake_clock):
    pins = PinMap({"/machine/soc/gpioa", "/machine/soc/gpioc"},
                  {"button": ("/machine/soc/gpioc", 13), "led": ("/machine/soc/gpioa", 5)},
                  watch="/machine/soc/gpioa")
    q = FakeQtest()
    return Dut(Console(fake_port(), clock=fake_clock), pins=QtestPins(q, pins)), q


def test_pins_through_qtest(fake_port, fake_clock):
    dut, q = pin_dut(fake_port, fake_clock)
    m = dut.pin_mark()
    dut.set_pin("PC13", 1)
    dut.press("button", hold=0)
    assert q.sent == ["irq_intercept_out /machine/soc/gpioa",
                      "set_irq_in /machine/soc/gpioc unnamed-gpio-in 13 1",
                      "set_irq_in /machine/soc/gpioc unnamed-gpio-in 13 1",
                      "set_irq_in /machine/soc/gpioc unnamed-gpio-in 13 0"]
    assert dut.pin_events(m) == [("PA5", 1), ("PA5", 1), ("PA5", 0)]
    dut.wait_pin("led", 0, since=m)
    with pytest.raises(ToolError, match="only the outputs of /machine/soc/gpioa"):
        dut.wait_pin("PC13", 1)
    with pytest.raises(ToolError, match="names no qtest device"):
        dut.set_pin("PD1", 1)
    assert len(q.sent) == 4, "nothing was sent for a pin QEMU does not have"


def test_pins_missing_or_on_hardware(fake_port, fake_clock):
    with pytest.raises(ToolError, match="no pin control"):
        Dut(Console(fake_port(), clock=fake_clock)).set_pin("PC13", 1)
    hw = Dut(Console(fake_port(), clock=fake_clock), pins=HardwarePins())
    with pytest.raises(NotImplementedError, match="real hardware"):
        hw.press("button")
