"""impair.py - what the kit's network relay does to each frame, from a seed.

The Linux kernels of these machines have no `netem` qdisc, so the relay
between the twin's NIC (QEMU `-netdev dgram`) and the tap device in the
kit's namespace impairs the link itself. Every decision (drop, duplicate,
hold back for reordering, extra delay) is drawn from a random.Random
seeded per direction and consumed once per frame in arrival order, so the
same seed and the same frames give the same decisions: a failure replays
exactly (the test prints the seed). Only the moment a frame leaves depends
on the clock (the delay), never whether or in which order it leaves.

Pure logic, no I/O: tools/netkit/relay.py feeds it frames and the time."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Impairment:
    """Percentages (0..100) and milliseconds; all zero is a clean link."""
    loss: float = 0.0           # frames dropped
    duplicate: float = 0.0      # frames sent twice
    reorder: float = 0.0        # frames held back until the next one has passed
    delay_ms: float = 0.0       # added to every frame
    jitter_ms: float = 0.0      # up to this much more, drawn per frame
    hold_ms: float = 20.0       # a held-back frame leaves after this if nothing passes it

    def __post_init__(self):
        for name in ("loss", "duplicate", "reorder"):
            v = getattr(self, name)
            if not 0.0 <= v <= 100.0:
                raise ValueError(f"{name} = {v}: want a percentage, 0..100")
        for name in ("delay_ms", "jitter_ms", "hold_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} = {getattr(self, name)}: want >= 0")

    @property
    def clean(self) -> bool:
        return not (self.loss or self.duplicate or self.reorder or self.delay_ms or self.jitter_ms)

    def describe(self) -> str:
        if self.clean:
            return "clean link"
        return (f"loss {self.loss:g}%, duplicate {self.duplicate:g}%, reorder {self.reorder:g}%, "
                f"delay {self.delay_ms:g}+{self.jitter_ms:g} ms")

    @classmethod
    def parse(cls, text: str) -> "Impairment":
        """'loss=5,duplicate=1,reorder=5,delay_ms=2,jitter_ms=3' (any subset)."""
        args = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep or key not in cls.__dataclass_fields__:
                raise ValueError(f"impairment '{part}': want NAME=VALUE with NAME one of "
                                 f"{', '.join(cls.__dataclass_fields__)}")
            try:
                args[key] = float(value)
            except ValueError:
                raise ValueError(f"impairment '{part}': {value!r} is not a number") from None
        return cls(**args)


@dataclass
class Counters:
    frames: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    sent: int = 0


class Direction:
    """One direction of the link. push(frame, now) takes a frame in;
    due(now) returns the frames whose time has come, in order; next_due()
    says when to call again."""

    def __init__(self, imp: Impairment, seed: int):
        self.imp = imp
        self.rng = random.Random(seed)
        self.count = Counters()
        self._queue: list[tuple[float, int, bytes]] = []   # (leave at, order, frame)
        self._order = 0
        self._held: tuple[float, bytes] | None = None      # (release at, frame)
        self._last_at = 0.0                                 # when the last queued frame leaves

    def _schedule(self, frame: bytes, now: float) -> None:
        delay = self.imp.delay_ms
        if self.imp.jitter_ms:
            delay += self.rng.uniform(0.0, self.imp.jitter_ms)
        # Leave no earlier than the frame queued before (jitter must not reorder
        # by itself: reordering is its own, counted decision).
        at = max(now + delay / 1000.0, self._last_at)
        self._last_at = at
        self._order += 1
        heapq.heappush(self._queue, (at, self._order, frame))
        self.count.sent += 1

    def push(self, frame: bytes, now: float) -> None:
        self.count.frames += 1
        # One draw each, every frame, in this order: the decisions depend on
        # the seed and the frame's index only.
        drop = self.rng.uniform(0, 100) < self.imp.loss
        dup = self.rng.uniform(0, 100) < self.imp.duplicate
        hold = self.rng.uniform(0, 100) < self.imp.reorder
        if drop:
            self.count.dropped += 1
            return
        if hold and self._held is None:
            self.count.reordered += 1
            self._held = (now + self.imp.hold_ms / 1000.0, frame)
            if dup:
                self.count.duplicated += 1
                self._schedule(frame, now)
            return
        self._schedule(frame, now)
        if dup:
            self.count.duplicated += 1
            self._schedule(frame, now)
        if self._held is not None:          # the held frame goes after this one
            self._schedule(self._held[1], now)
            self._held = None

    def due(self, now: float) -> list[bytes]:
        if self._held is not None and now >= self._held[0]:
            self._schedule(self._held[1], now)
            self._held = None
        out = []
        while self._queue and self._queue[0][0] <= now:
            out.append(heapq.heappop(self._queue)[2])
        return out

    def next_due(self) -> float | None:
        times = [self._queue[0][0]] if self._queue else []
        if self._held is not None:
            times.append(self._held[0])
        return min(times) if times else None
