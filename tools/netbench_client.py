"""netbench_client.py - the host side of the HTTP/TCP benchmark; runs
inside the kit's network namespace (`ip netns exec`), standard library
only. Reads the guest's instruction count (the insn plugin's unix socket,
tools/insn_plugin/insn.c) just before the first request and just after the
last answer of each series, and prints one JSON object:

  close      N requests, one connection each (Connection: close)
  keepalive  N requests on one connection
  rx         MiB sent to the guest's discard sink (port 9), from connect
             to the guest's close after our shutdown(SHUT_WR)
  tx         GET /big (4 MiB) on one connection
  big_sha256 the sha256 of /big (outside any window)

    python3 -m tools.netbench_client --ip 10.0.2.15 --counter /path/insn.sock"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import sys
import time


def count(path: str) -> int:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        data = b""
        while not data.endswith(b"\n"):
            b = s.recv(64)
            if not b:
                break
            data += b
    return int(data)


def profile(path: str | None, command: str) -> None:
    """A command to the insn plugin's profile socket (reset, dump FILE)."""
    if not path:
        return
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        if s.makefile().readline().strip() != "ok":
            raise RuntimeError(f"insn plugin: {command} failed")


def connect(ip: str, port: int, timeout: float) -> socket.socket:
    s = socket.create_connection((ip, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s: socket.socket, buf: bytearray) -> tuple[int, bytes]:
    """One response (status, body) off `s`; `buf` keeps what follows."""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            raise ConnectionError("closed before the response head")
        buf += b
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end]).decode("latin-1")
    del buf[:end]
    status = int(head.split(" ", 2)[1])
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(buf) < length:
        b = s.recv(1 << 20)
        if not b:
            raise ConnectionError("closed in the body")
        buf += b
    body = bytes(buf[:length])
    del buf[:length]
    return status, body


def get_close(ip: str, path: str, timeout: float) -> bytes:
    with connect(ip, 80, timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n".encode())
        buf = bytearray()
        status, body = read_response(s, buf)
        while s.recv(65536):       # until the guest closes
            pass
    if status != 200:
        raise RuntimeError(f"GET {path}: status {status}")
    return body


def keepalive(ip: str, path: str, n: int, timeout: float, counter: str | None = None,
              prof: tuple = (None, None)):
    """n requests on one connection; (instructions or None, last body)."""
    req = f"GET {path} HTTP/1.1\r\nHost: {ip}\r\n\r\n".encode()
    with connect(ip, 80, timeout) as s:
        buf = bytearray()
        s.sendall(req)                 # the connection is up before the window
        read_response(s, buf)
        profile(prof[0], "reset")
        c0 = count(counter) if counter else None
        for _ in range(n):
            s.sendall(req)
            status, body = read_response(s, buf)
            if status != 200:
                raise RuntimeError(f"GET {path} (keep-alive): status {status}")
        c1 = count(counter) if counter else None
        profile(prof[0], f"dump {prof[1]}/keepalive.txt")
    return (c1 - c0 if counter else None), body


def sink(ip: str, nbytes: int, timeout: float) -> None:
    chunk = bytes(range(256)) * 256
    with connect(ip, 9, timeout) as s:
        left = nbytes
        while left:
            k = min(left, len(chunk))
            s.sendall(chunk[:k])
            left -= k
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):           # the guest closes once it has it all
            pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", required=True)
    ap.add_argument("--counter", required=True)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--mib", type=int, default=4)
    ap.add_argument("--path", default="/hello.txt")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--profile", help="the insn plugin's profile socket (tools/netprofile.py)")
    ap.add_argument("--profile-dir", help="where each series' profile is dumped")
    a = ap.parse_args(argv)
    pr = a.profile
    t = a.timeout
    out = {"requests": a.requests, "rx_mib": a.mib, "path": a.path}
    # Until the server answers (it listens once its network is up).
    deadline = time.monotonic() + t
    while True:
        try:
            get_close(a.ip, a.path, 10.0)
            break
        except (OSError, RuntimeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    # Warm-up: ARP, the server's first pages, TCP state.
    for _ in range(5):
        get_close(a.ip, a.path, t)
    keepalive(a.ip, a.path, 5, t)
    sink(a.ip, 64 << 10, t)
    big = get_close(a.ip, "/big", t)
    out["big_bytes"], out["big_sha256"] = len(big), hashlib.sha256(big).hexdigest()
    body = None
    w = time.monotonic()
    profile(pr, "reset")
    c0 = count(a.counter)
    for _ in range(a.requests):
        body = get_close(a.ip, a.path, t)
    out["close_instructions"] = count(a.counter) - c0
    profile(pr, f"dump {a.profile_dir}/close.txt")
    out["close_seconds"] = round(time.monotonic() - w, 2)
    out["body_sha256"] = hashlib.sha256(body).hexdigest()
    w = time.monotonic()
    out["keepalive_instructions"], _ = keepalive(a.ip, a.path, a.requests, t, a.counter,
                                                 (pr, a.profile_dir))
    out["keepalive_seconds"] = round(time.monotonic() - w, 2)
    w = time.monotonic()
    profile(pr, "reset")
    c0 = count(a.counter)
    sink(a.ip, a.mib << 20, t)
    out["rx_instructions"] = count(a.counter) - c0
    profile(pr, f"dump {a.profile_dir}/rx.txt")
    out["rx_seconds"] = round(time.monotonic() - w, 2)
    w = time.monotonic()
    profile(pr, "reset")
    c0 = count(a.counter)
    big2 = get_close(a.ip, "/big", t)
    out["tx_instructions"] = count(a.counter) - c0
    profile(pr, f"dump {a.profile_dir}/tx.txt")
    out["tx_bytes"] = len(big2)
    out["tx_seconds"] = round(time.monotonic() - w, 2)
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
