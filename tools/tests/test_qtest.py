"""The qtest client against a fake QEMU on a real unix socket, and pin
names resolved against board.toml [gpio]."""

import os
import socket
import threading

import pytest

from tools.errors import ToolError
from tools.qtest import PinMap, QtestClient, QtestError
from tools.tests.mcu_boards import mcu_board


class FakeQemu:
    """Listens on a unix socket; answers each command line from `script`
    (a function: line -> list of lines to write back)."""

    def __init__(self, path, script):
        self.path, self.script, self.received = path, script, []
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(path)
        self.server.listen(1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.server.accept()
        buf = b""
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self.received.append(line.decode())
                    out = self.script(line.decode())
                    if out is None:
                        return          # QEMU "aborts": close the socket
                    conn.sendall("".join(l + "\n" for l in out).encode())

    def close(self):
        self.server.close()


@pytest.fixture
def fake_qemu(tmp_path):
    made = []

    def make(script):
        q = FakeQemu(str(tmp_path / f"qtest{len(made)}.sock"), script)
        made.append(q)
        return q, QtestClient.connect(q.path, timeout=2.0)
    yield make
    for q in made:
        q.close()


def test_commands_and_interleaved_irq_lines(fake_qemu):
    def script(line):
        if line.startswith("irq_intercept_out"):
            return ["OK"]
        if line.startswith("set_irq_in"):
            return ["IRQ raise 5", "OK"]          # event before the answer
        if line.startswith("readl"):
            return ["OK 0x0000000000002000", "IRQ lower 5"]
        return ["FAIL unknown command"]
    q, c = fake_qemu(script)
    c.irq_intercept_out("/machine/soc/gpioa")
    mark = c.mark()
    c.set_irq_in("/machine/soc/gpioc", "unnamed-gpio-in", 13, 1)
    assert c.readl(0x48000810) == 0x2000
    assert c.wait_irq(5, 1, since=mark).level == 1
    assert c.wait_irq(5, 0, timeout=1, since=mark).line == 5
    assert [(e.line, e.level) for e in c.poll()] == [(5, 1), (5, 0)]
    assert q.received == ["irq_intercept_out /machine/soc/gpioa",
                          "set_irq_in /machine/soc/gpioc unnamed-gpio-in 13 1",
                          "readl 0x48000810"]
    with pytest.raises(QtestError, match="FAIL unknown command"):
        c.command("bogus")


def test_wait_irq_times_out_with_what_it_saw(fake_qemu):
    _, c = fake_qemu(lambda line: ["IRQ raise 3", "OK"])
    c.irq_intercept_out("/machine/soc/gpioa")
    with pytest.raises(QtestError, match=r"no 'IRQ raise 5'.*raise 3"):
        c.wait_irq(5, 1, timeout=0.3)


def test_closed_socket_is_an_error_not_a_hang(fake_qemu):
    _, c = fake_qemu(lambda line: None)
    with pytest.raises(QtestError, match="closed"):
        c.command("set_irq_in /machine/soc/nope unnamed-gpio-in 1 1")


def test_no_answer_times_out(fake_qemu):
    _, c = fake_qemu(lambda line: [])
    with pytest.raises(QtestError, match="no answer"):
        c.command("readl 0x0", timeout=0.3)


def test_pin_map_from_board_toml(tmp_path):
    pins = PinMap.from_board(mcu_board(tmp_path))
    assert pins.resolve("PC13") == ("/machine/soc/gpioc", 13)
    assert pins.resolve("button") == ("/machine/soc/gpioc", 13)
    assert pins.resolve("led") == ("/machine/soc/gpioa", 5)
    assert pins.watch == "/machine/soc/gpioa"
    with pytest.raises(ToolError, match="names no qtest device"):
        pins.resolve("PB3")          # QEMU would abort on an unknown path
    with pytest.raises(ToolError, match="unknown pin"):
        pins.resolve("PC16")


def test_pin_map_of_a_board_without_gpio(tmp_path):
    pins = PinMap.from_board(mcu_board(tmp_path, "mps2-an386"))
    assert pins.devices == set() and pins.watch is None
    with pytest.raises(ToolError):
        pins.resolve("PC13")


def test_pin_map_of_the_real_board_toml():
    from tools.boards import load_board
    pins = PinMap.from_board(load_board("b-l475e-iot01a"))
    assert pins.resolve("button") == ("/machine/soc/gpioc", 13)
    assert pins.resolve("led") == ("/machine/soc/gpioa", 5)
    assert pins.watch == "/machine/soc/gpioa"
