"""Rate-limit headers become a typed RateLimits value; absurd values never raise or mislead."""

from __future__ import annotations

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from clauderoute._ratelimits import says_nothing
from clauderoute.provider import Bucket, HttpResponse, Provider, RateLimits, parse_rate_limits
from tests.examples import examples

NOW = 1_800_000_000.0  # a fixed "time.time()"
RESET = "2027-01-15T08:00:30Z"

_HEADER_NAMES = [
    f"anthropic-ratelimit-{b}-{f}"
    for b in ("requests", "tokens", "input-tokens", "output-tokens")
    for f in ("limit", "remaining", "reset")
] + ["retry-after", "retry-after-ms"]


def _headers(**buckets: tuple[str, str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (limit, remaining, reset) in buckets.items():
        base = "anthropic-ratelimit-" + name.replace("_", "-")
        out |= {base + "-limit": limit, base + "-remaining": remaining, base + "-reset": reset}
    return out


def test_claude_api_headers_parse_to_every_bucket() -> None:
    """All four buckets and retry-after are read, reset as an epoch time."""
    h = _headers(
        requests=("50", "0", "2027-01-15T08:00:30Z"),
        tokens=("90000", "1200", "2027-01-15T08:00:31+00:00"),
        input_tokens=("80000", "80000", "2027-01-15T08:00:32Z"),
        output_tokens=("16000", "15", "2027-01-15T08:00:33Z"),
    )
    h["retry-after"] = "7"
    rl = parse_rate_limits(h, now=NOW)
    assert rl is not None
    assert rl.requests == Bucket(limit=50, remaining=0, reset=NOW + 30)
    assert rl.tokens is not None and rl.tokens.remaining == 1200
    assert rl.input_tokens is not None and rl.input_tokens.reset == NOW + 32
    assert rl.output_tokens is not None and rl.output_tokens.limit == 16000
    assert rl.retry_after_s == 7.0
    assert rl.observed_at == NOW


def test_no_headers_is_none() -> None:
    """A platform that sends nothing about capacity gives None (learn from failures only)."""
    assert parse_rate_limits({"request-id": "req_1", "content-type": "x"}, now=NOW) is None


def test_provider_hook_default_reads_the_headers() -> None:
    """Provider.rate_limits, the public hook, reads the Claude API headers by default."""
    h = _headers(requests=("5", "4", "2027-01-15T08:00:30Z"))
    rl = Provider().rate_limits(HttpResponse(200, h, b"{}"))
    assert rl is not None and rl.requests is not None and rl.requests.remaining == 4


def test_bad_values_are_absent_not_errors() -> None:
    """Negative, fractional, signed, non-ASCII digits and naive or garbage times are ignored."""
    for bad in ("-1", "1.5", "+3", "١٢", "1_000", "", " ", "0x10", "nan", "9" * 100):
        rl = parse_rate_limits({"anthropic-ratelimit-requests-remaining": bad}, now=NOW)
        assert rl is None, bad
    for bad in ("2027-01-15T08:00:30", "yesterday", "9999-99-99T00:00:00Z", "x" * 200):
        assert parse_rate_limits({"anthropic-ratelimit-requests-reset": bad}, now=NOW) is None
    huge = parse_rate_limits({"anthropic-ratelimit-tokens-remaining": "9" * 40}, now=NOW)
    assert huge is not None and huge.tokens is not None and huge.tokens.remaining == 2**53


def test_blocked_when_requests_are_zero_until_reset() -> None:
    """remaining requests 0 blocks until reset; after the reset the observation is stale."""
    rl = RateLimits(requests=Bucket(limit=5, remaining=0, reset=NOW + 30), observed_at=NOW)
    assert rl.blocked(10, 10, NOW) == (NOW + 30, "rate_limited: requests remaining 0")
    assert rl.blocked(10, 10, NOW + 30) is None


def test_blocked_when_tokens_cannot_fit_the_call() -> None:
    """Remaining tokens smaller than input + max_tokens block; a call that fits is admitted."""
    rl = RateLimits(
        tokens=Bucket(remaining=1000, reset=NOW + 5),
        output_tokens=Bucket(remaining=300, reset=NOW + 9),
        observed_at=NOW,
    )
    assert rl.blocked(500, 200, NOW) is None
    until, why = rl.blocked(500, 600, NOW) or (0, "")
    assert until == NOW + 5 and "tokens remaining 1000" in why
    until, why = rl.blocked(10, 400, NOW) or (0, "")
    assert until == NOW + 9 and why.startswith("rate_limited: output_tokens")


def test_retry_after_blocks_from_arrival() -> None:
    """retry-after counts from when the answer arrived."""
    rl = RateLimits(retry_after_s=4, observed_at=NOW)
    assert rl.blocked(1, 1, NOW + 1) == (NOW + 4, "rate_limited: retry-after")
    assert rl.blocked(1, 1, NOW + 4) is None


@settings(max_examples=examples(150))
@given(
    st.dictionaries(st.sampled_from(_HEADER_NAMES), st.text(max_size=80), max_size=14),
    st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=4e9),
)
# Always, whatever the count: every header at once holding what a number or date parser trips
# on (infinities, NaN, exponents past a float, negatives, huge integers, dates out of range).
@example(
    dict(
        zip(
            _HEADER_NAMES,
            [
                "inf",
                "-1",
                "1e400",
                "nan",
                "9" * 80,
                "9999-12-31T23:59:59Z",
                "-inf",
                "0",
                "0001-01-01T00:00:00+14:00",
                "1_000",
                " 5 ",
                "2026-13-01T00:00:00Z",
                "Infinity",
                "-0",
            ],
            strict=True,
        )
    ),
    0.0,
)
@example({"retry-after": "1e400", "retry-after-ms": "nan"}, 4e9)
def test_any_header_values_parse_without_raising(headers: dict[str, str], now: float) -> None:
    """Arbitrary text in every header never raises, and what is kept is sane."""
    rl = parse_rate_limits(headers, now=now)
    if rl is None:
        return
    for b in (rl.requests, rl.tokens, rl.input_tokens, rl.output_tokens):
        if b is None:
            continue
        for n in (b.limit, b.remaining):
            assert n is None or 0 <= n <= 2**53
        assert b.reset is None or math.isfinite(b.reset)
    assert rl.retry_after_s is None or 0 < rl.retry_after_s < math.inf
    rl.blocked(1000, 1000, now)  # and deciding on it never raises


@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=0, max_value=10**6))
def test_numbers_round_trip_or_clip(n: int, need: int) -> None:
    """Any non-negative integer is read exactly up to 2**53, clipped above."""
    rl = parse_rate_limits(
        {"anthropic-ratelimit-tokens-remaining": str(n), "anthropic-ratelimit-tokens-reset": RESET},
        now=NOW - 10**9,
    )
    assert rl is not None and rl.tokens is not None
    assert rl.tokens.remaining == min(n, 2**53)
    blocked = rl.blocked(need, 0, NOW - 10**9) is not None
    assert blocked == (min(n, 2**53) < need)


@settings(max_examples=examples(150))
@given(
    st.dictionaries(
        st.sampled_from(
            [*_HEADER_NAMES, "content-type", "request-id", "x-should-retry", "retry-after-msx"]
        ),
        st.sampled_from(["50", "0", " 7", RESET, "1.5", "junk", ""]),
        max_size=8,
    )
)
# Always, whatever the count: no headers, only others (one a rate-limit name's prefix), and
# every rate-limit name at once.
@example({})
@example({"content-type": "junk", "request-id": "50", "retry-after-msx": "1.5"})
@example({name: v for name, v in zip(_HEADER_NAMES, ["50", "0", " 7", RESET, "1.5"] * 3)})
def test_plain_dict_shortcut_reads_like_any_mapping(headers: dict[str, str]) -> None:
    """An answer's headers as a plain dict holding none of the rate-limit names are told in one
    set operation; whatever the dict holds, the result is what the look-ups give for the same
    headers behind another ``Mapping``."""
    from types import MappingProxyType

    assert parse_rate_limits(headers, now=NOW) == parse_rate_limits(
        MappingProxyType(headers), now=NOW
    )
    # the routing signals skip the default parser on says_nothing: only when it finds nothing
    if says_nothing(headers):
        assert parse_rate_limits(MappingProxyType(headers), now=NOW) is None
    assert not says_nothing(MappingProxyType(headers))  # another Mapping is always read
