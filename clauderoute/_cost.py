"""What a call cost, from its usage and the catalog's prices (``_catalog/prices.toml``).

``cost(usage, model)`` prices each usage field at its own rate: ``input_tokens`` (which on the
wire excludes cached tokens) at the input price, ``output_tokens`` at the output price, cache
writes at the 5-minute or 1-hour write price (``usage.cache_creation`` splits them; without
the split every write is priced as a 5-minute write, the default lifetime), and
``cache_read_input_tokens`` at the cache-read price. A provider's ``price_multiplier`` scales
the whole (a platform that charges differently; 1.0 unless configured), and a batch call takes
the Batch API's discount on input and output. A model without a price gives ``None``, never a
guess.

The prices file also holds what a request for a model may ask (``ModelLimits``): the largest
``max_tokens`` and the ``thinking`` types it takes; model fallback adapts a request with it.

.. versionadded:: 0.2
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

import msgspec

from ._catalog import model_facts
from .types._messages import Usage

__all__ = ["ModelLimits", "Price", "cost", "expected_cost", "model_limits", "price", "price_sources"]

_PER = 1_000_000.0


class Price(msgspec.Struct, frozen=True, kw_only=True):
    """USD per million tokens of each kind, and where the numbers come from.

    .. versionadded:: 0.2
    """

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    source: str = ""


class ModelLimits(msgspec.Struct, frozen=True, kw_only=True):
    """What a request for a model may ask: ``max_output`` (largest ``max_tokens``) and the
    ``thinking`` types it takes (``None``: not known, leave the request alone).

    .. versionadded:: 0.2
    """

    max_output: int | None = None
    thinking: tuple[str, ...] | None = None
    source: str = ""


class _File(msgspec.Struct):
    schema_version: int
    batch_discount: float
    batch_source: str
    sources: dict[str, str]
    prices: dict[str, Price]
    limits: dict[str, ModelLimits] = msgspec.field(default_factory=dict)


@functools.cache
def _data() -> _File:
    text = files(__package__ or "clauderoute").joinpath("_catalog/prices.toml").read_text("utf-8")
    return msgspec.convert(tomllib.loads(text), _File)


def _canonical(model: str) -> str:
    facts = model_facts(model)
    alias = facts.get("alias_of") if facts else None
    return alias if isinstance(alias, str) else model


def price(model: str) -> Price | None:
    """The price of ``model`` (a canonical name or a dated id), or ``None`` if not known.

    .. versionadded:: 0.2
    """
    prices = _data().prices
    return prices.get(model) or prices.get(_canonical(model))


def model_limits(model: str) -> ModelLimits | None:
    """What a request for ``model`` may ask, or ``None`` if the catalog does not say.

    .. versionadded:: 0.2
    """
    limits = _data().limits
    return limits.get(model) or limits.get(_canonical(model))


def price_sources() -> dict[str, str]:
    """Where the prices come from: source id → the page and the date it was read."""
    return dict(_data().sources)


def _field(usage: Any, name: str) -> int:
    v = usage.get(name) if type(usage) is dict else getattr(usage, name, None)
    return v if type(v) is int and v > 0 else 0  # not a bool, a float or junk


def _writes(usage: Any) -> tuple[int, int]:
    """Cache-write tokens as (5-minute, 1-hour)."""
    total = _field(usage, "cache_creation_input_tokens")
    split = (usage.get("cache_creation") if type(usage) is dict
             else getattr(usage, "cache_creation", None))
    if isinstance(split, Mapping):
        five, hour = (_field(split, "ephemeral_5m_input_tokens"),
                      _field(split, "ephemeral_1h_input_tokens"))
        if five or hour:
            return five, hour
    return total, 0


def cost(usage: Any, model: str, *, multiplier: float = 1.0,
         batch: bool = False) -> float | None:
    """USD for one answer's ``usage`` (a ``Usage`` or its dict) on ``model``.

    Args:
        usage: the answer's usage.
        model: the canonical model name (or a dated id).
        multiplier: the provider's price multiplier.
        batch: priced as a Message Batches result.

    Returns:
        The cost in USD, or ``None`` when the model has no price in the catalog.

    .. versionadded:: 0.2
    """
    data = _data()
    p = data.prices.get(model) or price(model)  # (a canonical name: one look-up, no call)
    if p is None:
        return None
    discount = data.batch_discount if batch else 0.0
    if type(usage) is Usage and not usage.cache_creation_input_tokens and \
            not usage.cache_read_input_tokens and usage.cache_creation is None:
        # the usual answer without cache use: the same sum with fewer lookups
        i, o = usage.input_tokens, usage.output_tokens
        if type(i) is not int or i < 0:
            i = 0
        if type(o) is not int or o < 0:
            o = 0
        return (i * p.input + o * p.output) * (1.0 - discount) / _PER * multiplier
    five, hour = _writes(usage)
    total = ((_field(usage, "input_tokens") * p.input
              + _field(usage, "output_tokens") * p.output) * (1.0 - discount)
             + five * p.cache_write_5m + hour * p.cache_write_1h
             + _field(usage, "cache_read_input_tokens") * p.cache_read)
    return total / _PER * multiplier


def expected_cost(model: str, input_tokens: int, output_tokens: int,
                  multiplier: float = 1.0) -> float | None:
    """A call's cost before it is sent (input at the input price, output as estimated)."""
    p = price(model)
    if p is None:
        return None
    return (input_tokens * p.input + output_tokens * p.output) / _PER * multiplier
