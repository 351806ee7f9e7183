"""Cost: the cheapest healthy provider first, by the call's expected cost on each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._cost import expected_cost
from .._provider import Call, Provider
from ._estimate import estimate_input_tokens
from ._policy import Policy

__all__ = ["Cost"]


class Cost(Policy):
    """Orders candidates by the call's expected cost: the catalog's price for the model times
    the provider's price multiplier, over the estimated input and ``max_tokens``. Ties (and a
    model without a price) keep the configured order. Unhealthy and exhausted providers are
    removed before the order matters (breakers and signals), so this is "the cheapest healthy
    provider first", the others as failover.

    Args:
        multipliers: provider name → price factor (default: the provider's
            ``price_multiplier``, 1.0 unless its platform declares otherwise).

    .. versionadded:: 0.2
    """

    name = "cost"

    def __init__(self, multipliers: Mapping[str, float] | None = None) -> None:
        self.multipliers = dict(multipliers or {})

    def _factor(self, p: Provider) -> float:
        got = self.multipliers.get(p.name)
        return got if got is not None else float(getattr(p, "price_multiplier", 1.0))

    def order(self, providers: Sequence[Provider], call: Call) -> list[Provider]:
        """Cheapest first; a stable sort keeps the configured order among equals."""
        model = str(call.params.get("model", ""))
        max_tokens = call.params.get("max_tokens")
        out = max_tokens if isinstance(max_tokens, int) else 0
        base = expected_cost(model, estimate_input_tokens(call.params), out)
        if base is None:
            return list(providers)
        return sorted(providers, key=lambda p: base * self._factor(p))
