"""Pure tests of the breaker state machine and the decaying quantile estimator."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from clauderoute.routing import CircuitBreaker, DecayingQuantiles, Hedging, LatencyStats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_cycle_and_retry_after_cooldown() -> None:
    """closed → open after the threshold; retry-after lengthens the cooldown; one probe only."""
    clock = Clock()
    b = CircuitBreaker(threshold=3, cooldown_s=1.0, max_cooldown_s=10, clock=clock)
    for _ in range(2):
        b.failure("p", "m")
    assert b.state("p", "m") == 0 and b.allow("p", "m")
    b.failure("p", "m", retry_after=4.0)
    assert b.state("p", "m") == 2 and not b.allow("p", "m")
    clock.now = 3.9
    assert not b.allow("p", "m") and b.retry_in("p", "m") > 0
    clock.now = 4.0
    assert b.state("p", "m") == 1
    assert b.allow("p", "m") and not b.allow("p", "m")  # one probe at a time
    b.failure("p", "m")  # the probe failed: open again, cooldown doubled
    clock.now = 4.0 + 7.9
    assert b.state("p", "m") == 2
    clock.now = 4.0 + 8.0
    assert b.allow("p", "m")
    b.success("p", "m")
    assert b.state("p", "m") == 0 and b.allow("p", "m") and b.allow("p", "m")


def test_breaker_keys_are_independent() -> None:
    """A failing model on one provider does not open another model's circuit."""
    b = CircuitBreaker(threshold=1)
    b.failure("p", "m1")
    assert b.state("p", "m1") == 2 and b.state("p", "m2") == 0 and b.state("q", "m1") == 0


@given(
    st.lists(st.floats(min_value=0.002, max_value=500.0), min_size=1, max_size=200),
    st.sampled_from([0.5, 0.9, 0.95, 0.99]),
)
def test_quantile_is_close_to_exact(samples: list[float], q: float) -> None:
    """Without decay, the estimate is within one bucket (≈15 %) of an order statistic."""
    h = DecayingQuantiles(half_life_s=1e9)
    for s in samples:
        h.add(s, now=0.0)  # no time passes
    est = h.quantile(q)
    ordered = sorted(samples)
    rank = max(0, math.ceil(q * len(ordered)) - 1)
    assert est is not None
    assert ordered[rank] / 1.2 <= est <= ordered[rank] * 1.2


def test_decay_forgets_the_past() -> None:
    """After many half-lives, recent samples dominate the quantile."""
    h = DecayingQuantiles(half_life_s=1.0)
    for _ in range(100):
        h.add(2.0, now=0.0)
    for _ in range(5):
        h.add(0.1, now=20.0)
    assert h.weight(now=20.0) < 6
    assert abs((h.quantile(0.5) or 0) - 0.1) < 0.02


def test_hedge_delay_from_live_quantile() -> None:
    """hedge_after='p90' waits for data, then uses that quantile of the primary's TTFT."""
    stats = LatencyStats()
    h = Hedging("p90", min_samples=3)
    assert h.delay(stats, "a", "m") is None
    for v in (0.1, 0.1, 0.1, 1.0):
        stats.record("a", "m", v)
    delay = h.delay(stats, "a", "m")
    assert delay is not None and 0.08 < delay < 1.2
    assert Hedging(0.25).delay(stats, "zz", "m") == 0.25


class _EagerQuantiles:
    """The decay applied to every bucket at each update (the plain definition the histogram's
    single decay factor must agree with)."""

    def __init__(self, half_life_s: float) -> None:
        self.h, self.w, self.last = half_life_s, [0.0] * 96, None

    def _decay(self, now: float) -> None:
        if self.last is not None and now > self.last:
            f = 0.5 ** ((now - self.last) / self.h)
            self.w = [x * f for x in self.w]
        self.last = now if self.last is None or now > self.last else self.last

    def add(self, bucket: int, now: float) -> None:
        self._decay(now)
        self.w[bucket] += 1.0


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=5000.0), st.floats(min_value=0.0005, max_value=900.0)
        ),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([0.5, 7.0, 60.0]),
)
def test_decay_factor_agrees_with_decaying_every_bucket(
    steps: list[tuple[float, float]], half_life: float
) -> None:
    """Samples at increasing times with gaps up to thousands of half-lives (the factor is then
    folded into the buckets): the decayed weights, total and quantiles match the eager
    definition."""
    h, ref = DecayingQuantiles(half_life_s=half_life), _EagerQuantiles(half_life)
    now = 0.0
    for gap, value in steps:
        now += gap
        h.add(value, now=now)
        ref.add(_bucket_of(value), now)
    got = dict(h.buckets(now))
    want = {i: w for i, w in enumerate(ref.w) if w > 0}
    for i in set(got) | set(want):
        g, w = got.get(i, 0.0), want.get(i, 0.0)
        assert math.isclose(g, w, rel_tol=1e-2, abs_tol=1e-9), (i, g, w)
    assert math.isclose(h.weight(now), sum(ref.w), rel_tol=1e-2, abs_tol=1e-9)


def _bucket_of(value: float) -> int:
    h = DecayingQuantiles(half_life_s=1e9)
    h.add(value, now=0.0)
    return h.buckets(0.0)[0][0]
