"""The ``[route]`` settings of the routing signals, checked and built into a ``Signals``.

::

    [route]
    cache_affinity = true                       # default: on
    on_refusal = "fallback"                     # default "return": a refusal is an answer
    price_multipliers = { bedrock-us = 1.1 }    # factor on the catalog's prices
    [route.budgets.bedrock-us]                  # client-side limits of one provider
    rpm = 100
    input_tpm = 400000
    output_tpm = 80000
    [route.fallback_models]
    "claude-opus-4-7" = ["claude-sonnet-4-6"]

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import msgspec

from ._errors import ConfigurationError
from ._provider import Provider

if TYPE_CHECKING:
    from ._config import RouteConfig
    from .routing._signals import Signals

__all__ = ["signals_settings"]

_REFUSAL = ("return", "fallback")


def signals_settings(route: RouteConfig, providers: Sequence[Provider],
                     at: Callable[[tuple[str | int, ...]], AbstractContextManager[None]],
                     ) -> Signals:
    """The ``Signals`` the ``[route]`` table describes (errors name the key)."""
    from .routing._budget import BudgetLimits  # lazy: routing imports the client's pieces
    from .routing._signals import Signals
    from .routing._state import InProcessState

    names = {p.name for p in providers}
    budgets: dict[str, BudgetLimits] = {}
    for name, table in route.budgets.items():
        with at(("route", "budgets", name)):
            if name not in names:
                raise ConfigurationError(f"no provider named {name!r} in the route")
            try:
                budgets[name] = msgspec.convert(table, BudgetLimits)
            except msgspec.ValidationError as exc:
                raise ConfigurationError(str(exc)) from None
    for name, factor in route.price_multipliers.items():
        with at(("route", "price_multipliers", name)):
            if not factor > 0:
                raise ConfigurationError("a price multiplier must be > 0")
    with at(("route", "on_refusal")):
        if route.on_refusal not in _REFUSAL:
            raise ConfigurationError(f"must be one of {', '.join(_REFUSAL)}, "
                                     f"not {route.on_refusal!r}")
    chains: dict[str, Any] = {}
    for model, chain in route.fallback_models.items():
        with at(("route", "fallback_models", model)):
            if model in chain or len(set(chain)) != len(chain):
                raise ConfigurationError("a fallback chain may not repeat a model")
            chains[model] = tuple(chain)
    return Signals(InProcessState(budgets), cache_affinity=route.cache_affinity,
                   price_multipliers=route.price_multipliers, fallback_models=chains,
                   on_refusal=route.on_refusal)
