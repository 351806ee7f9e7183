"""The cost side of the routing signals: what an answer cost, on its route and in the metrics.

``Signals`` (``_signals.py``) takes these methods from ``Costs``; the prices come from the
catalog (``_cost.py``), scaled by each provider's price multiplier.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._cost import cost
from .._provider import Provider
from ..types._messages import Message, RouteInfo
from ._affinity import has_marks
from ._observe import AttemptContext

__all__ = ["Costs"]


class Costs:
    """Cost half of ``Signals`` (the attribute it reads is the signals')."""

    price_multipliers: dict[str, float]

    def multiplier(self, provider: Provider) -> float:
        """The price factor of ``provider``."""
        got = self.price_multipliers.get(provider.name)
        return got if got is not None else float(getattr(provider, "price_multiplier", 1.0))

    def record_metrics(self, metrics: Any, ctx: AttemptContext, usage: Any) -> None:
        """``clauderoute.cost`` and ``clauderoute.cache_affinity.hits`` for one answer (called
        by the tracing observer, only when a meter provider is set)."""
        model = str(ctx.call.params.get("model", ""))
        attrs = {"clauderoute.deployment": ctx.provider.name, "gen_ai.request.model": model}
        usd = cost(usage, model, multiplier=self.multiplier(ctx.provider))
        if usd is not None:
            metrics.cost.add(usd, attrs)
        params = ctx.call.params
        if getattr(usage, "cache_read_input_tokens", None) and (
            "cache_control" in params or has_marks(params)
        ):
            metrics.affinity_hits.add(1, attrs)

    def cost_of(self, ctx: AttemptContext, result: Any) -> float | None:
        """What the answer ``result`` of the attempt ``ctx`` cost (``None``: not a message, or
        its model has no price)."""
        if not isinstance(result, Message):
            return None
        return cost(
            result.usage,
            ctx.requested_model,
            multiplier=self.multiplier(ctx.provider),
        )

    def finish(self, route: RouteInfo, ctx: AttemptContext, result: Any) -> RouteInfo:
        """``route`` with the answer's cost on it and on its winning attempt."""
        usd = self.cost_of(ctx, result)
        if usd is None:
            return route
        attempts = route.attempts
        if len(attempts) == 1:  # the usual case, without a generator
            attempts = (msgspec.structs.replace(attempts[0], cost_usd=usd),)
        else:
            attempts = tuple(
                msgspec.structs.replace(a, cost_usd=usd) if a.number == ctx.number else a
                for a in attempts
            )
        return msgspec.structs.replace(route, cost_usd=usd, attempts=attempts)
