"""Routing across providers: the router, its policies, breakers, hedging, live statistics and
the signals (capacity, budgets, cache affinity, cost) with the state behind them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names
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
_LAZY = {"Finisher": "._router", "Router": "._router", "error_category": "._router"}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _LAZY, globals())
