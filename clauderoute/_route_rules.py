"""What a call must satisfy on the providers that may serve it, checked before the network.

Two rules depend on the provider as well as on the request: the API version it sends (2026-10-21
refuses sampling parameters and some content, ``_validate.validate_strict``) and the model's
lifecycle on its platform (``_catalog._lifecycle``). Both are checked against every provider the
route may use, since a failover may land on any of them: a request one of them would refuse
fails here, naming the field (or the model and its replacement) and the provider.

A provider's answer for a model is worked out once (``_Verdict``, kept per provider and name)
and only re-read when the day changes, so a call pays a plan lookup and one dict lookup per
candidate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from . import _errors as E
from ._catalog import model_facts
from ._catalog._lifecycle import retirement_problem, warn_deprecated
from ._validate import strict_version, validate_strict

if TYPE_CHECKING:
    from ._provider import Call, Provider
    from .routing._router import Router

__all__ = ["check_route", "request_version"]


class _Verdict(NamedTuple):
    day: dt.date
    strict: str | None  # the 2026-10-21-or-later version sent for the model, or None
    retired: str | None  # why the model cannot be called there any more
    deprecated: str | None  # the warning to give while it can


_verdicts: dict[tuple[Provider, str], _Verdict] = {}


def request_version(p: Provider, model: str) -> str:
    """The API version ``p`` sends for ``model``: its ``anthropic_version``, unless that is
    2026-10-21 or later and the catalog names the only version the model takes on that
    platform (``{platform}_version``: Bedrock's ARN-versioned InvokeModel models), which the
    provider then sends instead."""
    version = p.anthropic_version
    if not strict_version(version) or model in p.models:
        return version
    pinned = (model_facts(model) or {}).get(f"{p.platform}_version")
    return pinned if isinstance(pinned, str) else version


def _verdict(p: Provider, model: str, today: dt.date) -> _Verdict:
    key = (p, model)
    found = _verdicts.get(key)
    if found is not None and found.day == today:
        return found
    if len(_verdicts) >= 1024:
        _verdicts.clear()
    version = request_version(p, model)
    retired, deprecated = retirement_problem(p.platform, p.name, model, today)
    found = _verdicts[key] = _Verdict(today, version if strict_version(version) else None,
                                      retired, deprecated)
    return found


def check_route(call: Call, router: Router, only: Sequence[str] | None) -> None:
    """Check ``call`` against each provider the route may use for it.

    Raises:
        InvalidRequest: the model is retired on one of them (``field="model"``, naming the
            replacement), or a field is one a provider's API version refuses.
        CapabilityError, UnknownPlatformError: as the router's planning raises them.
    """
    model = call.params.get("model")
    if not isinstance(model, str):
        return
    today = dt.datetime.now(dt.UTC).date()
    strict: tuple[Provider, str] | None = None
    for p in router.plan(call, only):
        v = _verdict(p, model, today)
        if v.retired is not None:
            raise E.InvalidRequest(v.retired + ("; or pin a provider that still serves it "
                                                "(provider=)" if only is None else ""),
                                   field="model")
        if v.deprecated is not None:
            warn_deprecated(model, v.deprecated, stacklevel=3)
        if v.strict is not None and strict is None:
            strict = (p, v.strict)
    if strict is not None:
        validate_strict(call.params, f"(API version {strict[1]}, provider {strict[0].name!r})")
