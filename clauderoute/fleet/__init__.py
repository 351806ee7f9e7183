"""Routing state shared by a fleet of processes through Redis (or Valkey): ``[state] url``.

Install with ``pip install 'clauderoute[redis]'``. Every process keeps a local copy that the
request path reads without a round trip; a background task per event loop merges changes
within ``sync_ms``. Redis trouble never fails a call: the process routes on its own state until
Redis is back, then re-syncs. ``FleetState.status()`` is what a readiness probe shows.

.. versionadded:: 0.2
"""

from __future__ import annotations

from typing import Any

from ._breaker import SharedBreaker
from ._budget import FleetBudget
from ._fleet import FleetState
from ._settings import STATE_URL_ENV, StateSettings, redacted, state_settings
from ._shared import FleetHedging, FleetLatencyStats, FleetRouteState

__all__ = [  # noqa: RUF022  (plain sorted(), as tests/test_layout.py wants)
    "FleetBudget",
    "FleetHedging",
    "FleetLatencyStats",
    "FleetRouteState",
    "FleetState",
    "STATE_URL_ENV",
    "SharedBreaker",
    "StateSettings",
    "configure",
    "fleet_breaker",
    "redacted",
    "state_settings",
]


def fleet_breaker(settings: StateSettings, **breaker: Any) -> SharedBreaker:
    """A ``SharedBreaker`` on a new ``FleetState``, carrying the fleet's latency statistics as
    ``.stats`` (the router adopts them) — what ``[state]`` in a config file builds.

    Raises:
        ConfigurationError: redis-py is not installed (``pip install 'clauderoute[redis]'``).

    .. versionadded:: 0.2
    """
    try:
        import redis  # noqa: F401  (fail at configuration, not on the first call)
    except ImportError:
        from .._errors import ConfigurationError

        raise ConfigurationError("state.url: needs redis-py: pip install 'clauderoute[redis]'"
                                 ) from None
    fleet = FleetState(settings)
    b = SharedBreaker(fleet, **breaker)
    b.stats = FleetLatencyStats(fleet)
    return b


def configure(out: dict[str, Any], table: dict[str, Any]) -> None:
    """Turn a config file's ``[state]`` table (or ``$CLAUDEROUTE_STATE_URL``) into the client
    settings ``out``: a fleet-wide ``breaker`` (with shared latency statistics), the routing
    signals' state (``out["signals"].state``, when the router has signals) wrapped in a
    ``FleetRouteState``, and, when hedging is configured, a fleet-wide hedging budget. Used by
    ``AsyncClient.from_config``.

    .. versionadded:: 0.2
    """
    settings = state_settings(table)
    if settings is None:
        return
    breaker = fleet_breaker(settings)
    out["breaker"] = breaker
    signals = out.get("signals")  # the routing signals (rate limits, budgets, affinity)
    local = getattr(signals, "state", None)
    if local is not None:
        budgets = {name: getattr(b, "limits", b)
                   for name, b in getattr(local, "budgets", {}).items()}
        shared = FleetRouteState(breaker.fleet, local, budgets=budgets)
        shared.breaker, shared.latency = breaker, breaker.stats  # the whole state is the fleet's
        setattr(signals, "state", shared)  # noqa: B010
    h = out.get("hedging")
    if h is not None:
        after: float | str = h.fixed if h.fixed is not None else f"p{h.quantile * 100:g}"
        out["hedging"] = FleetHedging(breaker.fleet, after, budget=h.budget,
                                      min_samples=h.min_samples)
