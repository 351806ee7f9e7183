"""Routing across providers: the router, its policies, breakers, hedging, live statistics and
the signals (capacity, budgets, cache affinity, cost) with the state behind them."""

from ._breaker import CircuitBreaker
from ._budget import BudgetLimits
from ._cheapest import Cost
from ._hedge import Hedging
from ._latency import LatencyAware
from ._observe import AttemptContext, AttemptRecord, HookObserver, Observer, RouteContext
from ._pinned import Pinned
from ._policy import Failover, Policy
from ._router import Finisher, Router, error_category
from ._signals import Signals
from ._state import InProcessState, RouteState
from ._stats import DecayingQuantiles, LatencyStats
from ._weighted import Weighted

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
