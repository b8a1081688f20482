"""Shared fakes for the tools' host tests."""

import pytest

pytest_plugins = ["pytester"]


class FakePort:
    """A pyserial-like port: read() hands out queued chunks, write() records;
    `responder(data)` may queue the device's answer to what was written."""

    def __init__(self, chunks=(), responder=None):
        self.chunks = [c if isinstance(c, bytes) else c.encode() for c in chunks]
        self.written = b""
        self.responder = responder
        self.closed = False

    def read(self, n):
        return self.chunks.pop(0) if self.chunks else b""

    def write(self, data):
        self.written += data
        if self.responder:
            for c in self.responder(data):
                self.chunks.append(c.encode())

    def close(self):
        self.closed = True


class FakeClock:
    """Time that moves only when read: each read advances by `step` s."""

    def __init__(self, step=0.1):
        self.t, self.step = 0.0, step

    def __call__(self):
        self.t += self.step
        return self.t


@pytest.fixture
def fake_port():
    return FakePort


@pytest.fixture
def fake_clock():
    return FakeClock()
