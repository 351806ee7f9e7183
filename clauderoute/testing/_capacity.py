"""Fake capacity for emulators: rate-limit headers on every answer, and a 429 when it is spent.

Set ``server.capacity = Capacity(requests=5, reset_s=30)`` on any emulator: each answered
request takes one request (and its input and output tokens, when token limits are given) from
a bucket that refills whole ``reset_s`` after it was first drawn from; every answer carries the
Claude API's ``anthropic-ratelimit-*`` headers describing the bucket; a request that finds it
empty gets a 429 with ``retry-after``. ``announce=False`` keeps the limits but sends no headers
(a platform that says nothing until the 429). ``clock`` is wall time, so a test can move it by
hand and share it with the client's ``InProcessState(wall_clock=...)``.

.. versionadded:: 0.2
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

__all__ = ["CAPACITY_KEY", "Capacity"]

#: Per-request state: the capacity headers an answer carries, for the stream writer (whose
#: subclass overrides keep their signature). aiohttp's typed request key where it has one
#: (3.13+); a plain string key before, which those versions take without a warning.
CAPACITY_KEY: Any = (web.RequestKey("clauderoute.capacity_headers", dict[str, str])
                     if hasattr(web, "RequestKey") else "clauderoute.capacity_headers")


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


class Capacity:
    """One emulator's fake rate limits (see the module docstring).

    Args:
        requests: requests per window (``None``: unlimited).
        input_tokens: input tokens per window (``None``: unlimited).
        output_tokens: output tokens per window (``None``: unlimited).
        reset_s: the window.
        announce: send the rate-limit headers.
        clock: wall-clock seconds.
    """

    def __init__(self, *, requests: int | None = None, input_tokens: int | None = None,
                 output_tokens: int | None = None, reset_s: float = 60.0,
                 announce: bool = True, clock: Callable[[], float] = time.time) -> None:
        self.limits = {"requests": requests, "input-tokens": input_tokens,
                       "output-tokens": output_tokens}
        self.reset_s, self.announce, self.clock = reset_s, announce, clock
        self.used = dict.fromkeys(self.limits, 0)
        self.window_end: float | None = None
        #: Requests refused with a 429 because the bucket was empty.
        self.refused = 0

    def _roll(self, now: float) -> None:
        if self.window_end is not None and now >= self.window_end:
            self.used = dict.fromkeys(self.limits, 0)
            self.window_end = None

    def take(self, input_tokens: int, output_tokens: int) -> tuple[bool, dict[str, str]]:
        """Take one request's share; ``(admitted, headers to send)``."""
        now = self.clock()
        self._roll(now)
        need = {"requests": 1, "input-tokens": input_tokens, "output-tokens": output_tokens}
        full = any(limit is not None and self.used[k] + need[k] > limit
                   for k, limit in self.limits.items() if k == "requests" or self.used[k])
        if full:
            self.refused += 1
        else:
            if self.window_end is None:
                self.window_end = now + self.reset_s
            for k, n in need.items():
                self.used[k] += n
        headers = self.headers(now)
        if full and self.window_end is not None:
            headers["retry-after"] = f"{max(1, round(self.window_end - now))}"
        return not full, headers

    def answer(self, request: web.Request, input_tokens: int,
               msg: dict[str, Any]) -> dict[str, str] | None:
        """Take one request's share for the answer ``msg``; its headers (also kept on
        ``request``), or ``None`` when spent (the 429's headers are then on ``request``)."""
        admitted, headers = self.take(input_tokens, int(msg["usage"]["output_tokens"]))
        request[CAPACITY_KEY] = headers
        return headers if admitted else None

    def headers(self, now: float | None = None) -> dict[str, str]:
        """The ``anthropic-ratelimit-*`` headers for the bucket as it is now."""
        if not self.announce:
            return {}
        now = self.clock() if now is None else now
        reset = _rfc3339(self.window_end if self.window_end is not None else now)
        out: dict[str, str] = {}
        for k, limit in self.limits.items():
            if limit is None:
                continue
            base = "anthropic-ratelimit-" + k
            out[base + "-limit"] = str(limit)
            out[base + "-remaining"] = str(max(0, limit - self.used[k]))
            out[base + "-reset"] = reset
        return out
