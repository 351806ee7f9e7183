"""What an answer says about capacity: a typed, platform-neutral ``RateLimits`` value.

The Claude API sends, on every answer (success or error), one group of headers per limit::

    anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}

``limit`` and ``remaining`` are integers; ``reset`` is an RFC 3339 time at which the bucket is
full again (the API replenishes continuously, so ``reset`` is when it is *full*, not when the
first token comes back). ``retry-after`` (seconds or an HTTP date; ``retry-after-ms`` as the
SDK reads it) says how long to wait after a 429. A platform that sends none of these gives
``None``: the router then learns from failures only, as before.

Header values come from the network, so parsing never raises and never trusts them: a value
that is not a plain non-negative integer, or a time that does not parse, is treated as absent;
integers are capped at ``2**53`` (no arithmetic surprise downstream); how long a provider may
be skipped on the strength of one answer is capped by the store, not here.

.. versionadded:: 0.2
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

import msgspec

from ._retry import parse_retry_after

__all__ = ["MAX_COUNT", "RATE_LIMIT_HEADERS", "Bucket", "RateLimits", "parse_rate_limits",
           "says_nothing"]

#: Largest count kept; bigger announced values are clipped to it (2**53: exact as a float).
MAX_COUNT = 2**53
_MAX_LEN = 64  # longer header values are not numbers or times we would accept
# (field, limit header, remaining header, reset header) per bucket, built once.
_HEADERS = tuple((b.replace("-", "_"), *(f"anthropic-ratelimit-{b}-{f}"
                                         for f in ("limit", "remaining", "reset")))
                 for b in ("requests", "tokens", "input-tokens", "output-tokens"))
#: Every header the parser reads: an answer (a plain dict) holding none of them is told in one
#: set operation in C, without the dozen look-ups (``says_nothing``).
RATE_LIMIT_HEADERS = frozenset(
    {h for group in _HEADERS for h in group[1:]} | {"retry-after", "retry-after-ms"})
# reset text -> epoch seconds: the four buckets often share one reset, and consecutive answers
# repeat it; bounded (cleared when full) since the values come from the network.
_RESETS: dict[str, float | None] = {}


class Bucket(msgspec.Struct, frozen=True):
    """One announced limit.

    Attributes:
        limit: the bucket's size, when announced.
        remaining: what is left now, when announced.
        reset: when the bucket is full again, as seconds since the epoch (``time.time()``).

    .. versionadded:: 0.2
    .. versionchanged:: 0.3 May be built positionally (in this field order), as the parser
       does on every answer: several times cheaper than keywords.
    """

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None


class RateLimits(msgspec.Struct, frozen=True):
    """What one answer said about a provider's capacity for one model.

    Attributes:
        requests: requests per minute.
        tokens: the combined token bucket (the most restrictive of input and output).
        input_tokens: input tokens per minute.
        output_tokens: output tokens per minute.
        retry_after_s: how long the platform asked us to wait (the router keeps it after a 429).
        observed_at: when the answer arrived (``time.time()``).

    .. versionadded:: 0.2
    .. versionchanged:: 0.3 May be built positionally (in this field order).
    """

    requests: Bucket | None = None
    tokens: Bucket | None = None
    input_tokens: Bucket | None = None
    output_tokens: Bucket | None = None
    retry_after_s: float | None = None
    observed_at: float = 0.0

    def blocked(self, input_tokens: int, output_tokens: int, now: float,
                in_flight: int = 0) -> tuple[float, str] | None:
        """Whether a call needing ``input_tokens`` in and up to ``output_tokens`` out cannot fit,
        ``in_flight`` requests being already under way (not yet counted in ``remaining``, as
        far as the caller knows: concurrent calls must not all pass on one last request).

        Returns:
            ``(until, reason)``: the time (``time.time()`` scale) the provider should be
            skipped until, and why; ``None`` if the call fits or nothing is known.
        """
        if self.retry_after_s is not None and now < self.observed_at + self.retry_after_s:
            return self.observed_at + self.retry_after_s, "rate_limited: retry-after"
        checks = ((self.requests, 1, "requests"),
                  (self.tokens, input_tokens + output_tokens, "tokens"),
                  (self.input_tokens, input_tokens, "input_tokens"),
                  (self.output_tokens, output_tokens, "output_tokens"))
        for bucket, need, name in checks:
            if bucket is None or bucket.remaining is None or bucket.reset is None:
                continue
            if bucket.reset <= now:  # the bucket has refilled since: the number is stale
                continue
            if bucket.limit is not None and need > bucket.limit:
                continue  # can never fit: skipping would be for ever; the platform decides
            short = (bucket.remaining <= in_flight if name == "requests"
                     else bucket.remaining < need)
            if short:
                busy = f", {in_flight} in flight" if in_flight and name == "requests" else ""
                return bucket.reset, f"rate_limited: {name} remaining {bucket.remaining}{busy}"
        return None


def _count(value: str | None) -> int | None:
    # (runs eight times per answer: kept to plain comparisons, no min())
    if value is None or len(value) > _MAX_LEN:
        return None
    if not (value.isascii() and value.isdigit()):  # no sign, no float, no "1_000", no "١"
        value = value.strip()
        if not (value.isascii() and value.isdigit()):
            return None
    n = int(value)
    return n if n < MAX_COUNT else MAX_COUNT  # noqa: FURB136 - a call costs more here


def _time(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return _RESETS[value]
    except KeyError:
        pass
    if len(_RESETS) >= 64:
        _RESETS.clear()
    parsed = _RESETS[value] = _parse_time(value)
    return parsed


def _parse_time(value: str) -> float | None:
    if len(value) > _MAX_LEN:
        return None
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if stamp.tzinfo is None:  # RFC 3339 requires an offset; a naive time is not one
        return None
    try:
        return stamp.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def says_nothing(headers: Mapping[str, str]) -> bool:
    """Whether ``headers`` certainly hold none of the headers ``parse_rate_limits`` reads (it
    then returns ``None``): told in one set operation in C for a plain dict (another Mapping
    may match names otherwise than by equality, so it is read)."""
    return type(headers) is dict and RATE_LIMIT_HEADERS.isdisjoint(headers)


def parse_rate_limits(headers: Mapping[str, str], now: float | None = None) -> RateLimits | None:
    """The Claude API's rate-limit headers as a ``RateLimits`` value (``None``: none sent).

    Args:
        headers: the answer's headers, names lower-cased.
        now: the arrival time (``time.time()`` when not given).

    .. versionadded:: 0.2
    """
    if says_nothing(headers):
        return None
    now = time.time() if now is None else now
    found: list[Bucket | None] = [None, None, None, None]  # RateLimits' bucket fields, in order
    any_found = False
    get = headers.get
    for i, (_field, limit_h, remaining_h, reset_h) in enumerate(_HEADERS):
        lim, rem, res = get(limit_h), get(remaining_h), get(reset_h)
        if lim is None and rem is None and res is None:
            continue
        limit, remaining, reset = _count(lim), _count(rem), _time(res)
        if limit is not None or remaining is not None or reset is not None:
            found[i] = Bucket(limit, remaining, reset)  # positional: this runs per answer
            any_found = True
    retry = (parse_retry_after(headers) if "retry-after" in headers
             or "retry-after-ms" in headers else None)
    if not any_found and retry is None:
        return None
    return RateLimits(found[0], found[1], found[2], found[3], retry, now)
