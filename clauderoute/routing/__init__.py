"""Routing across providers: the router, its policies, breakers, hedging, live statistics and
the signals (capacity, budgets, cache affinity, cost) with the state behind them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._breaker import CircuitBreaker
from ._budget import BudgetLimits
from ._cheapest import Cost
from ._hedge import Hedging
from ._latency import LatencyAware
from ._observe import AttemptContext, AttemptRecord, HookObserver, Observer, RouteContext
from ._pinned import Pinned
from ._policy import Failover, Policy
from ._signals import Signals
from ._state import InProcessState, RouteState
from ._stats import DecayingQuantiles, LatencyStats
from ._weighted import Weighted

if TYPE_CHECKING:
    from ._router import Finisher, Router, error_category

__all__ = [
    "AttemptContext",
    "AttemptRecord",
    "BudgetLimits",
    "CircuitBreaker",
    "Cost",
    "DecayingQuantiles",
    "Failover",
    "Finisher",
    "Hedging",
    "HookObserver",
    "InProcessState",
    "LatencyAware",
    "LatencyStats",
    "Observer",
    "Pinned",
    "Policy",
    "RouteContext",
    "RouteState",
    "Router",
    "Signals",
    "Weighted",
    "error_category",
]


# Loaded on first use: the router runs calls (the engine, aiohttp: ~0.25 s of CPU at import),
# which checking a configuration's policies and signals never does.
_LAZY = frozenset({"Finisher", "Router", "error_category"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import _router

        value = getattr(_router, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'clauderoute.routing' has no attribute {name!r}")
