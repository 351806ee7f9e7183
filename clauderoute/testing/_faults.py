"""Faults an emulator can inject, and the plan that hands them out request by request."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable

import msgspec

__all__ = ["Fault", "FaultPlan", "LatencyProfile"]


class Fault(msgspec.Struct, frozen=True, kw_only=True):
    """One misbehaviour for one request. Fields combine (a delay then a status, say).

    Attributes:
        operations: only requests of these operations take this fault (empty: any).
        reset: drop the connection before answering.
        delay_s: wait this long before sending headers.
        status: answer with this HTTP status in the platform's own error shape.
        error_type: the platform's error code for ``status`` / ``stream_error`` (default: the
            platform's usual code for that status).
        message: error message text.
        retry_after: send ``retry-after`` (seconds).
        should_retry: send ``x-should-retry``.
        after_events: for the stream faults below, how many events go out first.
        stream_error: send an in-stream error of this type (e.g. ``overloaded_error``).
        cut: close the connection mid-stream.
        stall_s: stop sending for this long mid-stream.
        malformed: send an undecodable frame mid-stream.
        truncate_body: for a whole answer, send only the first half of the JSON.
    """

    operations: frozenset[str] = frozenset()
    reset: bool = False
    delay_s: float = 0.0
    status: int | None = None
    error_type: str | None = None
    message: str = "injected fault"
    retry_after: float | None = None
    should_retry: bool | None = None
    after_events: int = 0
    stream_error: str | None = None
    cut: bool = False
    stall_s: float = 0.0
    malformed: bool = False
    truncate_body: bool = False

    @property
    def is_stream_fault(self) -> bool:
        """Whether this fault acts inside a stream (after headers)."""
        return bool(self.stream_error or self.cut or self.stall_s or self.malformed)


class LatencyProfile(msgspec.Struct, frozen=True, kw_only=True):
    """How fast the emulated model answers.

    Attributes:
        ttft_s: time before the first content event (and before a whole answer starts).
        per_token_s: time between output tokens.
        jitter_s: uniform random extra delay, 0..jitter_s, added to each wait.
    """

    ttft_s: float = 0.0
    per_token_s: float = 0.0
    jitter_s: float = 0.0


class FaultPlan:
    """Which fault, if any, each incoming request gets.

    Faults queued with ``add`` are handed out first, in order, to the requests whose operation
    they match. After the queue, a request gets a random fault with probability ``rate`` (from
    ``random_faults``), drawn from a seeded generator so a run can be replayed.
    """

    def __init__(self, *, seed: int = 0) -> None:
        self._queue: deque[Fault] = deque()
        self._rate = 0.0
        self._pool: list[Fault] = []
        self._rng = random.Random(seed)
        self.served: list[Fault | None] = []

    def add(self, *faults: Fault, times: int = 1) -> FaultPlan:
        """Queue ``faults`` (the sequence repeated ``times`` times)."""
        for _ in range(times):
            self._queue.extend(faults)
        return self

    def random_faults(self, rate: float, faults: Iterable[Fault]) -> FaultPlan:
        """After the queue, give each request one of ``faults`` with probability ``rate``."""
        self._rate, self._pool = rate, list(faults)
        return self

    def clear(self) -> None:
        """Forget queued and random faults."""
        self._queue.clear()
        self._rate, self._pool = 0.0, []

    def next(self, operation: str) -> Fault | None:
        """The fault for a request of ``operation``, or ``None``."""
        fault = None
        for i, f in enumerate(self._queue):
            if not f.operations or operation in f.operations:
                fault = f
                del self._queue[i]
                break
        if fault is None and self._pool and self._rng.random() < self._rate:
            candidates = [f for f in self._pool if not f.operations or operation in f.operations]
            fault = self._rng.choice(candidates) if candidates else None
        self.served.append(fault)
        return fault

    def __len__(self) -> int:
        return len(self._queue)
