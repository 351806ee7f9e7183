"""Client-side budgets per provider: requests, input tokens and output tokens per minute.

For quotas a platform enforces but does not announce (a Bedrock or Vertex quota), the router
keeps its own count. Each limit is a *sliding-window counter*: the count of the current
60-second window plus the previous window's count weighted by how much of it still overlaps
the last 60 seconds. It needs two integers per limit (no log of calls), never under-counts a
burst at a window edge by more than the previous window's share, and is exact within a
window, which is what the tests check.

Accounting:

* ``rpm``: one request is taken when a call is admitted (before it is sent), so concurrent
  calls cannot all pass on the same free slot.
* ``input_tpm``: the call's *estimated* input is taken at admission, then corrected to the
  billed input (``input_tokens`` + cache writes + cache reads) when the answer arrives.
* ``output_tpm``: output is unknown until the answer; admission needs the budget not yet spent
  (spent < limit), and the billed output is added when the answer arrives. Calls in flight
  can therefore overshoot the output budget by their output; that is the price of not
  reserving ``max_tokens`` (which would waste most of the budget).

Admission and settling never await, so on one event loop they are atomic; the sync client runs
its calls on one loop thread. ``clock`` is monotonic seconds (injectable for tests).

.. versionadded:: 0.2
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from .._errors import ConfigurationError

__all__ = ["Budget", "BudgetLimits", "Window"]

WINDOW_S = 60.0


class BudgetLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A provider's client-side limits (``[providers.NAME.budget]``); ``None``: no limit.

    Attributes:
        rpm: requests per minute.
        input_tpm: input tokens per minute (billed input, cache reads and writes included).
        output_tpm: output tokens per minute.

    .. versionadded:: 0.2
    """

    rpm: int | None = None
    input_tpm: int | None = None
    output_tpm: int | None = None

    def __post_init__(self) -> None:
        for name in ("rpm", "input_tpm", "output_tpm"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or v < 1):
                raise ConfigurationError(f"budget.{name}: must be a positive integer, not {v!r}")


class Window:
    """One sliding-window counter (see the module docstring)."""

    __slots__ = ("current", "limit", "previous", "start")

    def __init__(self, limit: int, now: float) -> None:
        self.limit = limit
        self.start = now - now % WINDOW_S
        self.current = 0
        self.previous = 0

    def _roll(self, now: float) -> None:
        start = now - now % WINDOW_S
        if start == self.start:
            return
        self.previous = self.current if start - self.start == WINDOW_S else 0
        self.current, self.start = 0, start

    def used(self, now: float) -> float:
        """The count over the last 60 seconds (the previous window's overlapping share)."""
        self._roll(now)
        overlap = 1.0 - (now - self.start) / WINDOW_S
        return self.current + self.previous * overlap

    def fits(self, n: int, now: float) -> bool:
        """Whether ``n`` more fit (``n == 0``: whether any budget is left at all)."""
        used = self.used(now)
        return used + n <= self.limit if n else used < self.limit

    def add(self, n: int, now: float) -> None:
        """Count ``n`` (negative to give back an over-estimate, never below zero)."""
        self._roll(now)
        self.current = max(0, self.current + n)

    def free_at(self, now: float) -> float:
        """When the window will next have room: the next window edge (a safe upper bound)."""
        return self.start + WINDOW_S


class Budget:
    """The budget windows of one provider.

    Args:
        limits: the configured limits.
        clock: monotonic seconds (``time.monotonic``).

    .. versionadded:: 0.2
    """

    def __init__(self, limits: BudgetLimits,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        now = clock()
        self.requests = Window(limits.rpm, now) if limits.rpm else None
        self.input = Window(limits.input_tpm, now) if limits.input_tpm else None
        self.output = Window(limits.output_tpm, now) if limits.output_tpm else None

    def admit(self, input_estimate: int) -> tuple[float, str] | None:
        """Take one request and ``input_estimate`` input tokens if they fit.

        Returns:
            ``None`` when admitted (the budget is taken); else ``(seconds to wait, reason)``
            and nothing is taken.
        """
        now = self.clock()
        for window, need, name in ((self.requests, 1, "rpm"),
                                   (self.input, input_estimate, "input_tpm"),
                                   (self.output, 0, "output_tpm")):
            if window is not None and not window.fits(min(need, window.limit), now):
                return window.free_at(now) - now, f"budget: {name} {window.limit} spent"
        if self.requests is not None:
            self.requests.add(1, now)
        if self.input is not None:
            self.input.add(input_estimate, now)
        return None

    def settle(self, input_estimate: int, input_used: int, output_used: int) -> None:
        """An answer arrived: replace the estimate with the billed input, add the output."""
        now = self.clock()
        if self.input is not None:
            self.input.add(input_used - input_estimate, now)
        if self.output is not None:
            self.output.add(output_used, now)

    def release(self, input_estimate: int) -> None:
        """A call was admitted but produced no billed answer: give its input estimate back
        (the request still counts: the platform saw it, or may have)."""
        if self.input is not None:
            self.input.add(-input_estimate, self.clock())
