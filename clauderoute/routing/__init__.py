"""Routing across providers: the router, its policies, breakers, hedging and live statistics."""

from ._breaker import CircuitBreaker
from ._hedge import Hedging
from ._latency import LatencyAware
from ._observe import AttemptContext, Observer, RouteContext
from ._pinned import Pinned
from ._policy import Failover, Policy
from ._router import Finisher, Router, error_category
from ._stats import DecayingQuantiles, LatencyStats
from ._weighted import Weighted

__all__ = [
    "AttemptContext",
    "CircuitBreaker",
    "DecayingQuantiles",
    "Failover",
    "Finisher",
    "Hedging",
    "LatencyAware",
    "LatencyStats",
    "Observer",
    "Pinned",
    "Policy",
    "RouteContext",
    "Router",
    "Weighted",
    "error_category",
]
