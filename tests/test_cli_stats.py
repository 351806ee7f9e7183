"""The benchmark's statistics: percentiles as numpy's default, exact order-statistic CIs."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from clauderoute._cli._stats import describe, percentile, percentile_ci


def test_percentile_interpolates_between_order_statistics() -> None:
    xs = [1.0, 2.0, 3.0, 4.0]
    assert percentile(xs, 0.5) == 2.5
    assert percentile(xs, 0.9) == 3.7  # h = 2.7
    assert percentile(xs, 0.0) == 1.0 and percentile(xs, 1.0) == 4.0
    assert percentile([], 0.5) is None


def test_median_ci_matches_the_binomial_table() -> None:
    """n = 100: the distribution-free 95 % interval of the median is [x(40), x(61)]."""
    xs = [float(i) for i in range(1, 101)]
    assert percentile_ci(xs, 0.5) == (40.0, 61.0)


def test_tail_ci_is_null_when_n_cannot_support_it() -> None:
    xs = [float(i) for i in range(50)]
    assert percentile_ci(xs, 0.99) is None  # 50 samples cannot bound p99 from above
    assert percentile_ci(sorted(random.Random(1).random() for _ in range(1000)), 0.99) is not None


def test_ci_coverage_of_the_binomial_is_at_least_95_percent() -> None:
    """P(l <= B < u) >= 0.95 for the chosen order statistics (B ~ binomial(n, q))."""
    for n, q in ((30, 0.5), (200, 0.9), (1000, 0.99)):
        xs = [float(i) for i in range(1, n + 1)]  # x(k) = k, so the CI gives l and u directly
        ci = percentile_ci(xs, q)
        assert ci is not None
        lo, hi = int(ci[0]), int(ci[1])
        cover = sum(math.comb(n, k) * q**k * (1 - q) ** (n - k) for k in range(lo, hi))
        assert cover >= 0.95


@given(st.lists(st.floats(0, 1e3, allow_nan=False), min_size=2, max_size=300),
       st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_ci_brackets_the_estimate(xs: list[float], q: float) -> None:
    xs.sort()
    ci = percentile_ci(xs, q)
    p = percentile(xs, q)
    assert p is not None
    if ci is not None:
        assert ci[0] <= p <= ci[1]


def test_describe() -> None:
    d = describe([3.0, None, 1.0, 2.0])
    assert d["n"] == 3 and d["mean"] == 2.0 and d["p50"] == 2.0 and d["min"] == 1.0
    lo, hi = d["mean_ci"]
    assert lo < 2.0 < hi
    assert describe([None]) == {"n": 0}
