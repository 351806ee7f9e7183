"""Benchmark statistics with the standard library only (no numpy or scipy).

Percentiles use linear interpolation between order statistics (numpy's default method): for
``n`` sorted samples the ``q`` quantile sits at index ``h = (n - 1) q``. A percentile's 95 %
confidence interval is the exact distribution-free one from order statistics: with ``B`` the
binomial(``n``, ``q``) count of samples below the true quantile, ``[x(l), x(u)]`` covers it with
probability ``P(l <= B < u)``; ``l`` and ``u`` are chosen from the binomial CDF (log-gamma terms)
so each tail holds at most 2.5 %, and the interval is ``None`` when ``n`` is too small for that.
The mean's interval uses Student's t (a Cornish-Fisher expansion of the normal quantile).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["QUANTILES", "describe", "percentile", "percentile_ci"]

#: The reported quantiles and their names.
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}

_Z975 = statistics.NormalDist().inv_cdf(0.975)


def percentile(sorted_xs: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of already sorted samples, by linear interpolation."""
    n = len(sorted_xs)
    if n == 0:
        return None
    h = (n - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_xs[lo] + (h - lo) * (sorted_xs[hi] - sorted_xs[lo])


def _binom_cdf(n: int, q: float) -> list[float]:
    """``[P(B <= k) for k in 0..n]`` for B ~ binomial(n, q), from log-gamma pmf terms."""
    if q <= 0.0 or q >= 1.0:
        return [1.0] * (n + 1) if q <= 0.0 else [0.0] * n + [1.0]
    lq, l1q, lgn = math.log(q), math.log1p(-q), math.lgamma(n + 1)
    out, acc = [], 0.0
    for k in range(n + 1):
        acc += math.exp(lgn - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lq
                        + (n - k) * l1q)
        out.append(min(acc, 1.0))
    return out


def percentile_ci(sorted_xs: Sequence[float], q: float,
                  level: float = 0.95) -> tuple[float, float] | None:
    """The exact order-statistic confidence interval of the ``q`` quantile, or ``None``."""
    n = len(sorted_xs)
    if n < 2:
        return None
    alpha = (1.0 - level) / 2
    cdf = _binom_cdf(n, q)
    # l (1-based): the largest with P(B <= l - 1) <= alpha; u: the smallest with
    # P(B <= u - 1) >= 1 - alpha.
    lows = [k for k in range(1, n + 1) if cdf[k - 1] <= alpha]
    highs = [k for k in range(1, n + 1) if cdf[k - 1] >= 1.0 - alpha]
    if not lows or not highs:
        return None
    return sorted_xs[lows[-1] - 1], sorted_xs[highs[0] - 1]


def _t975(df: int) -> float:
    z = _Z975
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def describe(values: Sequence[float | None]) -> dict[str, Any]:
    """n, mean (95 % CI), stddev, min, max and every reported percentile with its CI."""
    xs = sorted(v for v in values if v is not None)
    n = len(xs)
    out: dict[str, Any] = {"n": n}
    if n == 0:
        return out
    mean = statistics.fmean(xs)
    sd = statistics.stdev(xs) if n > 1 else None
    half = _t975(n - 1) * sd / math.sqrt(n) if sd is not None else None
    out.update(mean=mean, mean_ci=None if half is None else [mean - half, mean + half],
               stddev=sd, min=xs[0], max=xs[-1])
    for name, q in QUANTILES.items():
        out[name] = percentile(xs, q)
        ci = percentile_ci(xs, q)
        out[f"{name}_ci"] = None if ci is None else list(ci)
    return out
