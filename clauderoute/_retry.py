"""Retry timing: how long to wait before the next attempt, and a switch that removes sleeping.

Whether to retry at all is the provider's ``classify``; this module only says *when*.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import msgspec

__all__ = ["RetryPolicy", "no_backoff", "testing_no_backoff"]

_NO_SLEEP = [False]


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Backoff between attempts on the same provider.

    The wait before retry ``n`` (0-based) is the platform's own hint when it gave one
    (``retry-after-ms``, else ``retry-after``; capped at ``max_retry_after``), otherwise
    ``min(wait_initial * 2**n, wait_max) * (1 - wait_jitter * random())`` — the official SDK's
    formula with its defaults (0.5 s, 8 s, 25 %). Moving to a provider not yet tried in this
    call does not wait.

    Attributes:
        wait_initial: first backoff, seconds.
        wait_max: backoff ceiling, seconds.
        wait_jitter: fraction of the backoff removed at random.
        max_retry_after: longest server hint honoured; a longer one fails over instead.
    """

    wait_initial: float = 0.5
    wait_max: float = 8.0
    wait_jitter: float = 0.25
    max_retry_after: float = 60.0

    def backoff(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        if retry_after is not None and 0 < retry_after <= self.max_retry_after:
            return retry_after
        base = min(self.wait_initial * 2.0**retry, self.wait_max)
        return base * (1.0 - self.wait_jitter * random.random())


def testing_no_backoff() -> bool:
    """Whether sleeps are currently removed (see ``no_backoff``)."""
    return _NO_SLEEP[0]


@contextlib.contextmanager
def no_backoff() -> Iterator[None]:
    """Keep attempt counts and recorded backoff values, but do not actually sleep (tests)."""
    old = _NO_SLEEP[0]
    _NO_SLEEP[0] = True
    try:
        yield
    finally:
        _NO_SLEEP[0] = old
