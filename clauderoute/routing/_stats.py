"""Live latency statistics: time-decayed quantiles per (provider, model).

A mean of the last N samples hides the tail and forgets slowly after a change; instead each
sample lands in a log-spaced histogram whose weights halve every ``half_life_s`` seconds, so a
quantile reflects the recent past and a platform that slowed down is noticed within minutes.
Decay is applied lazily, on update, by one multiplication of the whole histogram.
"""

from __future__ import annotations

import math
import time

__all__ = ["DecayingQuantiles", "LatencyStats"]

_BUCKETS = 96
_MIN_S = 0.001  # 1 ms .. about 1000 s over 96 buckets
_RATIO = (1e6) ** (1 / (_BUCKETS - 1))
_LOG_RATIO = math.log(_RATIO)
# The decay factor below which it is folded into the buckets (a new sample weighs 1 / factor:
# this keeps every weight far from the floats' overflow at 1.8e308).
_FOLD = 1e-150


class DecayingQuantiles:
    """A histogram of samples whose weights decay with age.

    The decay is kept as one factor (``_scale``) rather than applied to every bucket: a
    bucket's weight is ``_w[i] * _scale``, and a new sample adds ``1 / _scale``. The buckets
    themselves are multiplied only when the factor nears the floats' range (hundreds of
    half-lives), so a sample costs the same however often time has moved on.
    """

    __slots__ = ("_last", "_scale", "_total", "_w", "half_life_s")

    def __init__(self, half_life_s: float = 60.0) -> None:
        self.half_life_s = half_life_s
        self._w = [0.0] * _BUCKETS
        self._total = 0.0
        self._scale = 1.0
        self._last: float | None = None

    @property
    def total(self) -> float:
        """The decayed number of samples as of the last update."""
        return self._total * self._scale

    def _decay(self, now: float) -> None:
        if self._last is None:
            self._last = now
            return
        age = now - self._last
        # f < 0.999 needs age > half_life * 0.00144 (log2(1/0.999)): skip the power below that
        if age > 0 and age > self.half_life_s * 0.00144:
            f = 0.5 ** (age / self.half_life_s)
            if f < 0.999:
                self._scale *= f
                self._last = now
                if self._scale < _FOLD:  # fold the factor in before 1/_scale nears overflow
                    scale, self._scale = self._scale, 1.0
                    self._w = [w * scale for w in self._w]
                    self._total *= scale

    def add(self, value: float, now: float | None = None) -> None:
        """Record one sample (seconds)."""
        # (runs on every successful attempt: _decay's first test inline; the log-spaced bucket,
        # 0 at or below 1 ms)
        if now is None:
            now = time.monotonic()
        last = self._last
        if last is None or now - last > self.half_life_s * 0.00144:
            self._decay(now)
        one = 1.0 / self._scale
        if value <= _MIN_S:
            i = 0
        else:  # (a test rather than min(): no builtin call per sample)
            i = int(math.log(value / _MIN_S) / _LOG_RATIO + 0.5)
            if i >= _BUCKETS:
                i = _BUCKETS - 1
        self._w[i] += one
        self._total += one

    def buckets(self, now: float | None = None) -> list[tuple[int, float]]:
        """The non-empty buckets as ``(index, decayed weight)``: a mergeable summary (the fleet
        state shares these, never raw samples).

        .. versionadded:: 0.2
        """
        self._decay(time.monotonic() if now is None else now)
        scale = self._scale
        return [(i, w * scale) for i, w in enumerate(self._w) if w > 0]

    def merge(self, buckets: list[tuple[int, float]], now: float | None = None) -> None:
        """Add another histogram's ``buckets`` (as ``buckets()`` gives them) to this one.

        .. versionadded:: 0.2
        """
        self._decay(time.monotonic() if now is None else now)
        scale = self._scale
        for i, w in buckets:
            if 0 <= i < _BUCKETS and w > 0 and math.isfinite(w):
                self._w[i] += w / scale
                self._total += w / scale

    def weight(self, now: float | None = None) -> float:
        """The decayed number of samples (how much the estimate is worth)."""
        self._decay(time.monotonic() if now is None else now)
        return self._total * self._scale

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile in seconds (bucket midpoint), or ``None`` with no samples."""
        if self._total <= 0:  # (the weights' common factor cancels out of the quantile)
            return None
        target, acc = q * self._total, 0.0
        for i, w in enumerate(self._w):
            acc += w
            if acc >= target and w > 0:
                return float(_MIN_S * _RATIO**i)
        return float(_MIN_S * _RATIO ** (_BUCKETS - 1))


class LatencyStats:
    """Time to first token per (provider name, model), fed by every successful attempt."""

    def __init__(self, half_life_s: float = 60.0) -> None:
        self.half_life_s = half_life_s
        self._by_key: dict[tuple[str, str], DecayingQuantiles] = {}

    def record(self, provider: str, model: str, seconds: float) -> None:
        """Add one time-to-first-token sample."""
        key = (provider, model)
        q = self._by_key.get(key)
        if q is None:
            q = self._by_key[key] = DecayingQuantiles(self.half_life_s)
        q.add(seconds)

    def histogram(self, provider: str, model: str) -> DecayingQuantiles:
        """The histogram for a key, created empty if needed.

        .. versionadded:: 0.2
        """
        key = (provider, model)
        q = self._by_key.get(key)
        if q is None:
            q = self._by_key[key] = DecayingQuantiles(self.half_life_s)
        return q

    def get(self, provider: str, model: str) -> DecayingQuantiles | None:
        """The histogram for a key, if any sample was seen."""
        return self._by_key.get((provider, model))

    def quantile(self, provider: str, model: str, q: float) -> float | None:
        """The ``q`` quantile for a key, or ``None``."""
        h = self._by_key.get((provider, model))
        return None if h is None else h.quantile(q)
