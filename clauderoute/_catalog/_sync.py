"""Keeping the catalog current without a release: ask each configured platform which models it
serves and write what the shipped data lacks (or has wrong) to an overlay file.

A platform that speaks the Claude API's ``GET /v1/models`` (its provider offers
``models.list``: the Claude API, Claude Platform on AWS, Claude on Google Cloud) is listed
through ``client.models``. A platform with its own listing gives it through an optional
provider method, ``def served_models(self) -> list[ServedModel]``: blocking, since a provider
does no I/O of its own (only its ``auth`` object may); it is run off the event loop after
``auth.refresh()`` (Bedrock: ListFoundationModels and ListInferenceProfiles through boto3).
Others are skipped, and said to be.

The overlay has one ``[models.NAME]`` table per model that is new or whose ids or facts the
platforms state differently, each key citing the provider it came from (``[sources]``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .._operations import MODELS_LIST
from . import model_facts, resolve_model

if TYPE_CHECKING:
    from .._client import AsyncClient
    from .._provider import Provider

__all__ = ["Listing", "ServedModel", "listing", "overlay_entries", "write_overlay"]


class ServedModel(NamedTuple):
    """One model a platform says it serves.

    Attributes:
        platform_id: the id the platform uses for it.
        canonical: the catalog name it is (an existing entry's, or a new one).
        facts: further ``{platform}_`` facts the platform states (e.g. ``bedrock_profile``).
        display_name: the platform's name for it, if it gives one.

    .. versionadded:: 0.3
    """

    platform_id: str
    canonical: str
    facts: Mapping[str, Any] = {}
    display_name: str | None = None


class Listing(NamedTuple):
    """What one provider answered: its models, or why there are none."""

    provider: str
    platform: str
    via: str
    models: list[ServedModel] | None
    error: str | None = None


async def _v1_models(client: AsyncClient, p: Provider) -> list[ServedModel]:
    out = []
    async for m in client.models.list(provider=p.name, source="api"):
        # The Claude API's ids are the catalog's names (a dated one is its model's alias).
        out.append(ServedModel(m.id, m.id, {}, m.display_name or None))
    return out


async def listing(client: AsyncClient, p: Provider) -> Listing:
    """Ask ``p``'s platform what it serves (errors are reported, not raised)."""
    from .._errors import ClauderouteError

    hook: Callable[[], Iterable[ServedModel]] | None = getattr(p, "served_models", None)
    if callable(hook):
        via = getattr(p, "served_models_via", "the platform's model listing")
    elif MODELS_LIST in p.capabilities.operations:
        via = "GET /v1/models"
    else:
        return Listing(p.name, p.platform, "none", None, "the platform offers no model listing")
    try:
        if callable(hook):
            await p.auth.refresh()
            models: Iterable[ServedModel] = await asyncio.to_thread(hook)
        else:
            models = await _v1_models(client, p)
    except ClauderouteError as exc:
        return Listing(p.name, p.platform, via, None, f"{type(exc).__name__}: {exc}")
    return Listing(p.name, p.platform, via, list(models))


def _changes(platform: str, served: ServedModel) -> dict[str, Any]:
    """The keys the overlay needs for one served model: all of them for a model the catalog
    lacks; for a known one, its id if the platform's differs and the facts the entry already
    states that the platform states otherwise (a platform's listing may not tell everything
    the entry's sources do, e.g. which endpoint serves it: those keys are kept)."""
    known = model_facts(served.canonical)
    if known is None:
        wanted = {platform: served.platform_id, **served.facts}
        if served.display_name:
            wanted["display_name"] = served.display_name
        return wanted
    out = {k: v for k, v in served.facts.items() if k in known and known[k] != v}
    if resolve_model(platform, served.canonical) != served.platform_id:
        out[platform] = served.platform_id
    return out


def overlay_entries(listings: Iterable[Listing]) -> tuple[dict[str, dict[str, Any]],
                                                          dict[str, str]]:
    """``({name: keys}, {source name: text})`` for the overlay: per model, the keys that are new
    or differ from the catalog, each citing ``sync:<provider>``."""
    entries: dict[str, dict[str, Any]] = {}
    sources: dict[str, str] = {}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for found in listings:
        if not found.models:
            continue
        source = f"sync:{found.provider}"
        sources[source] = (f"{found.via} of provider {found.provider!r} ({found.platform}), "
                           f"read by clauderoute models --sync at {stamp}")
        for served in found.models:
            keys = _changes(found.platform, served)
            if not keys:
                continue
            entry = entries.setdefault(served.canonical, {})
            entry.update(keys)
            entry.setdefault("sources", {}).update(dict.fromkeys(keys, source))
    return entries, sources


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def _key(k: str) -> str:
    bare = k and all(c.isalnum() or c in "-_" for c in k) and k.isascii()
    return k if bare else json.dumps(k)


def write_overlay(path: Path, entries: Mapping[str, Mapping[str, Any]],
                  sources: Mapping[str, str], header: str) -> None:
    """Write the overlay TOML (replacing the file; its directory is made if missing)."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += ["", "[sources]"] + [f"{_key(k)} = {_value(v)}" for k, v in sources.items()]
    for name, keys in entries.items():
        lines += ["", f"[models.{_key(name)}]"]
        lines += [f"{_key(k)} = {_value(v)}" for k, v in keys.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", "utf-8")
    tmp.replace(path)
