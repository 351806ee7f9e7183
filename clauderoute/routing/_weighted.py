"""Weighted: spread traffic across providers in proportion to configured weights."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from .._errors import ConfigurationError
from .._provider import Call, Provider
from ._policy import Policy

__all__ = ["Weighted"]


class Weighted(Policy):
    """The first provider is drawn by weight; the others follow as failover, also by weight.

    Args:
        weights: provider name → weight (> 0); a provider not listed weighs 1.
        seed: seed for the draw (reproducible tests).
    """

    name = "weighted"

    def __init__(self, weights: Mapping[str, float] | None = None, *,
                 seed: int | None = None) -> None:
        self.weights = dict(weights or {})
        for key, w in self.weights.items():
            if not w > 0:
                raise ConfigurationError(f"route.weights.{key}: weight must be > 0")
        self._rng = random.Random(seed)

    def order(self, providers: Sequence[Provider], call: Call) -> list[Provider]:
        """A weighted random order without replacement."""
        # Efraimidis-Spirakis: sort by u^(1/w) descending gives a weighted sample order.
        keyed = [(self._rng.random() ** (1.0 / self.weights.get(p.name, 1.0)), p)
                 for p in providers]
        keyed.sort(key=lambda kp: kp[0], reverse=True)
        return [p for _, p in keyed]
