"""What a call must satisfy on the providers that may serve it, checked before the network.

Two rules depend on the provider as well as on the request: the API version it sends (2026-10-21
refuses sampling parameters and some content, ``_validate.validate_strict``) and the model's
lifecycle on its platform (``_catalog._lifecycle``). Both are checked against every provider the
route may use, since a failover may land on any of them: a request one of them would refuse
fails here, naming the field (or the model and its replacement) and the provider.

A provider's answer for a model is worked out once (``_Verdict``, kept per provider and name)
and only re-read when the day changes; so is the whole route's (``check_route``), so the usual
call pays one dict look-up (planning the route costs ~1.6-2.5 us, which only calls with
something to check pay).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

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


_day: list[Any] = [0.0, dt.date.min]  # [UTC midnight ending the cached day, that day]


def _today() -> dt.date:
    """Today (UTC), with one ``time.time()`` per call rather than a datetime."""
    now = time.time()
    if now >= _day[0]:
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC)
        _day[:] = [midnight.timestamp(), today]
    return _day[1]  # type: ignore[no-any-return]


def _pool(router: Router, only: Sequence[str] | None) -> Sequence[Provider]:
    if only is None:
        return router.providers
    by_name = router.by_name
    return [by_name[n] for n in only if n in by_name]  # unknown names: plan() says so


# The verdict of a whole route for a model: CLEAN (nothing to check), STRICT (every provider
# sends 2026-10-21 or later: check its rules, the text saying which), or PLANNED (some provider
# has something to say: plan the route, then check the providers the call could reach).
_CLEAN, _STRICT, _PLANNED = 0, 1, 2
_routes: dict[tuple[Any, ...], tuple[dt.date, Any, int, str]] = {}


def _route_verdict(router: Router, only: Sequence[str] | None, model: str,
                   today: dt.date) -> tuple[dt.date, Any, int, str]:
    pool = _pool(router, only)
    verdicts = [_verdict(p, model, today) for p in pool]
    if any(v.retired is not None or v.deprecated is not None for v in verdicts):
        return today, router.providers, _PLANNED, ""
    strict = [v.strict for v in verdicts if v.strict is not None]
    if not strict:
        return today, router.providers, _CLEAN, ""
    if len(strict) < len(verdicts):  # mixed versions: it depends on who can serve the call
        return today, router.providers, _PLANNED, ""
    return today, router.providers, _STRICT, (f"(API version {strict[0]}, provider "
                                               f"{pool[0].name!r})")


def check_route(call: Call, router: Router, only: Sequence[str] | None) -> None:
    """Check ``call`` against each provider the route may use for it.

    The route's verdict for a model is kept (per router, model and ``only``, for the day): the
    usual call costs one dict look-up. Only when a provider has something to say (a retired or
    deprecated model, a 2026-10-21 version next to older ones) is the route planned, so that
    providers the call could not reach anyway stay out of it.

    Raises:
        InvalidRequest: the model is retired on one of them (``field="model"``, naming the
            replacement), or a field is one a provider's API version refuses.
        CapabilityError, UnknownPlatformError: as the router's planning raises them.
    """
    model = call.params.get("model")
    if not isinstance(model, str):
        return
    key = (router, model) if only is None else (router, model, *only)
    hit = _routes.get(key)
    if hit is None or time.time() >= _day[0] or hit[0] != _day[1] or (
            hit[1] is not router.providers):
        if len(_routes) >= 1024:
            _routes.clear()
        hit = _routes[key] = _route_verdict(router, only, model, _today())
    if hit[2] == _CLEAN:
        return
    if hit[2] == _STRICT:
        validate_strict(call.params, hit[3])
        return
    _check_planned(call, router.plan(call, only), model, hit[0], only is None)


def _check_planned(call: Call, plan: Sequence[Provider], model: str, today: dt.date,
                   unpinned: bool) -> None:
    strict: tuple[Provider, str] | None = None
    for p in plan:
        v = _verdict(p, model, today)
        if v.retired is not None:
            raise E.InvalidRequest(v.retired + ("; or pin a provider that still serves it "
                                                "(provider=)" if unpinned else ""),
                                   field="model")
        if v.deprecated is not None:
            warn_deprecated(model, v.deprecated, stacklevel=4)
        if v.strict is not None and strict is None:
            strict = (p, v.strict)
    if strict is not None:
        validate_strict(call.params, f"(API version {strict[1]}, provider {strict[0].name!r})")
