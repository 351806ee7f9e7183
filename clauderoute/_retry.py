"""Retry timing: how long to wait before the next attempt, and a switch that removes sleeping.

Whether to retry at all is the provider's ``classify``; this module only says *when*. It also
reads the platform's own hint (``retry-after-ms`` / ``retry-after``) and is the one place that
decides what such a hint may ask for: every number a platform sends passes ``hint_seconds``
before the router or a breaker waits on it, so no answer can make a call sleep forever.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
import time
from collections.abc import Iterator, Mapping

import msgspec

__all__ = ["MAX_HINT_S", "RetryPolicy", "hint_seconds", "no_backoff", "parse_retry_after",
           "testing_no_backoff"]

_NO_SLEEP = [False]

#: The longest wait a platform's hint can express (one day); anything longer is clamped here.
#: Callers cap further (``RetryPolicy.max_retry_after``, ``CircuitBreaker.max_cooldown_s``).
MAX_HINT_S = 86400.0

# Plain decimal seconds only: float() would also take "nan", "inf", "1e400", "1_0" and " 5 ".
_NUMBER = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})?")


def hint_seconds(value: object) -> float | None:
    """A platform-supplied wait made safe: a finite number of seconds in (0, ``MAX_HINT_S``],
    or ``None`` (no usable hint) for anything else (NaN, infinities, zero, negatives, bools,
    non-numbers).

    .. versionadded:: 0.2
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        v = float(value)
    except OverflowError:  # an int too large for a float: absurd, so the cap
        return MAX_HINT_S if value > 0 else None
    if not math.isfinite(v) or v <= 0:
        return MAX_HINT_S if v == math.inf else None
    return min(v, MAX_HINT_S)


def _seconds(text: str, scale: float) -> float | None:
    text = text.strip()
    if len(text) > 41 or not _NUMBER.fullmatch(text):
        return None
    return hint_seconds(float(text) / scale)


def _http_date(text: str) -> float | None:
    from email.utils import parsedate_to_datetime  # rare path: an HTTP date
    if len(text) > 64:
        return None
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:  # an HTTP date is always GMT
            return None
        return hint_seconds(when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError, OSError, IndexError):
        return None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date).

    Defensive: only plain decimal numbers and real HTTP dates count; NaN, infinities,
    exponents, negatives, zero, dates in the past and garbage give ``None`` (no hint), and an
    absurdly long wait is clamped to ``MAX_HINT_S``. A malformed ``retry-after-ms`` falls back
    to ``retry-after``.
    """
    ms = headers.get("retry-after-ms")
    if ms:
        v = _seconds(ms, 1000.0)
        if v is not None:
            return v
    ra = headers.get("retry-after")
    if not ra:
        return None
    v = _seconds(ra, 1.0)
    if v is None and not _NUMBER.fullmatch(ra.strip()):
        v = _http_date(ra)
    return v


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
        hint = hint_seconds(retry_after)
        if hint is not None and hint <= self.max_retry_after:
            return hint
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
