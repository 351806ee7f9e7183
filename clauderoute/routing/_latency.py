"""LatencyAware: send each call where time to first token has recently been lowest."""

from __future__ import annotations

import random
from collections.abc import Sequence

from .._provider import Call, Provider
from ._policy import Policy
from ._stats import LatencyStats

__all__ = ["LatencyAware"]


class LatencyAware(Policy):
    """Order providers by a live quantile of their time to first token for the call's model.

    A provider with too little recent data (decayed weight under ``min_samples``) is *cold*: it
    is tried first with probability ``explore``, so that a platform that was slow once, or was
    never tried, gets measured again instead of being starved forever. With no data at all the
    configured order stands.

    Args:
        quantile: which quantile ranks providers (0.5 = median; 0.9 weighs the tail).
        explore: chance per call of probing a cold provider first.
        min_samples: decayed sample weight under which a provider counts as cold.
        seed: seed for exploration (reproducible tests).
    """

    name = "latency"

    def __init__(self, *, quantile: float = 0.5, explore: float = 0.05,
                 min_samples: float = 3.0, seed: int | None = None) -> None:
        self.quantile = quantile
        self.explore = explore
        self.min_samples = min_samples
        self.stats = LatencyStats()  # replaced by the router's shared stats when attached
        self._rng = random.Random(seed)

    def order(self, providers: Sequence[Provider], call: Call) -> list[Provider]:
        """Warm providers fastest first; cold ones after, or first when exploring."""
        model = str(call.params.get("model", ""))
        warm: list[tuple[float, int, Provider]] = []
        cold: list[Provider] = []
        for i, p in enumerate(providers):
            h = self.stats.get(p.name, model)
            q = h.quantile(self.quantile) if h is not None else None
            if h is None or q is None or h.weight() < self.min_samples:
                cold.append(p)
            else:
                warm.append((q, i, p))
        warm.sort(key=lambda t: (t[0], t[1]))
        ranked = [p for _, _, p in warm]
        if cold and ranked and self._rng.random() < self.explore:
            return cold + ranked
        return ranked + cold
