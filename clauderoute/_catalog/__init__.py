"""The model catalog: canonical Claude names → each platform's id, read from ``models.toml``.

The data is loaded on first use (never at import) and cached. Each platform id has a key in the
file of the same name; keys with a ``{platform}_`` prefix carry extra facts (Bedrock's
inference-profile need and endpoint, Vertex's locations, a platform's own retirement date)
that providers read through ``model_facts``. ``[platforms.NAME]`` says how a platform names
models: ``ids = "anthropic"`` for a platform that uses the Claude API's own ids (an entry's
``anthropic`` value, unless the entry names the platform itself), and whose retirement dates
apply (``lifecycle = "anthropic"``: the dates Anthropic publishes for the platforms it runs).

Two overlay files are merged over the shipped data, key by key: the user cache file
``clauderoute models --sync`` writes (``overlay_path()``), then the file named by
``CLAUDEROUTE_CATALOG``. ``origins`` says which layers set each entry.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._data import SHIPPED, Layers, load_layers

__all__ = ["CACHE_ENV", "CATALOG_ENV", "SHIPPED", "ModelIds", "catalog", "model_facts",
           "origins", "overlay_path", "platform_facts", "reload", "resolve_model", "sources",
           "table"]

# Keys of a model entry that are facts, not a platform id ("dated": the Claude API dated id).
_FACTS = frozenset({"dated", "retires", "replacement", "alias_of", "display_name"})


#: A TOML file (same ``[models.NAME]`` tables as ``models.toml``) whose entries are merged over
#: the shipped ones: a model this version does not know yet, or a fact to change (e.g.
#: ``bedrock_endpoint = "mantle"``), without waiting for a release. A provider reads the catalog
#: once per model name, on first use, and keeps the answer: set this before the client's first
#: call (a later change reaches providers built after it).
CATALOG_ENV = "CLAUDEROUTE_CATALOG"
#: The directory of clauderoute's user cache (default: the platform's cache directory, e.g.
#: ``~/.cache/clauderoute``); ``catalog.toml`` there is the overlay ``models --sync`` writes.
CACHE_ENV = "CLAUDEROUTE_CACHE_DIR"


def _cache_dir(explicit: str | None) -> Path:
    """The user cache directory, as platformdirs computes it (stdlib only)."""
    if explicit:
        return Path(explicit)
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "clauderoute" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "clauderoute"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "clauderoute"


def overlay_path() -> Path:
    """Where ``clauderoute models --sync`` writes by default, and the catalog reads from."""
    return _cache_dir(os.environ.get(CACHE_ENV)) / "catalog.toml"


@functools.cache
def _overlays(cache_dir: str | None, extra: str | None) -> tuple[tuple[str, str], ...]:
    # Which overlay files apply, looked at once per setting (``reload`` looks again).
    found: list[tuple[str, str]] = []
    cached = _cache_dir(cache_dir) / "catalog.toml"
    if cached.is_file():
        found.append((str(cached), "the catalog cache"))
    if extra:
        found.append((extra, CATALOG_ENV))
    return tuple(found)


@functools.cache
def _load(overlays: tuple[tuple[str, str], ...]) -> Layers:
    return load_layers(overlays)


def _layers() -> Layers:
    env = os.environ
    return _load(_overlays(env.get(CACHE_ENV) or None, env.get(CATALOG_ENV) or None))


def reload() -> None:
    """Read the catalog files again on next use (after ``models --sync`` rewrote one).
    Providers built before keep the ids they already looked up."""
    _overlays.cache_clear()
    _load.cache_clear()


def catalog() -> dict[str, dict[str, Any]]:
    """The whole catalog: ``{canonical name: {key: value}}`` (the shipped data, then the
    overlay files, key by key).

    Raises:
        ConfigurationError: an overlay file cannot be read or is not a catalog.
    """
    return _layers().models


def model_facts(model: str) -> dict[str, Any] | None:
    """Everything the catalog knows about a canonical name or a dated id, or ``None``."""
    layers = _layers()
    return layers.models.get(model) or layers.aliases.get(model)


def platform_facts(platform: str) -> dict[str, Any]:
    """How the catalog treats ``platform`` (``ids``, ``lifecycle``; empty if unknown)."""
    return _layers().platforms.get(platform, {})


def origins(model: str) -> tuple[str, ...]:
    """The layers that set ``model``'s entry, bottom first: ``SHIPPED`` and/or file paths."""
    layers = _layers()
    name = (layers.aliases.get(model) or {}).get("alias_of", model)
    return layers.origins.get(name, ())


def sources() -> dict[str, str]:
    """The documents the catalog's data comes from, by the names entries cite."""
    return _layers().sources


def resolve_model(platform: str, model: str, region: str | None = None) -> str:
    """The id ``platform`` uses for ``model``; an unknown name or platform passes through. A
    platform whose ``ids`` are the Claude API's takes the entry's ``anthropic`` id."""
    facts = model_facts(model)
    if facts is None:
        return model
    value = facts.get(platform)
    if isinstance(value, str):
        return value
    if platform_facts(platform).get("ids") == "anthropic":
        first_party = facts.get("anthropic")
        if isinstance(first_party, str):
            return first_party
    return model


class ModelIds(dict[str, str]):
    """One provider's catalog answers, ``{canonical name: platform id}``, each looked up once.

    ``Provider.model_id`` runs on every call (twice: the attempt's record and the request);
    ``resolve_model`` reads the environment each time, this reads it once per name. Bounded:
    callers may send arbitrary names."""

    __slots__ = ("platform",)

    def __init__(self, platform: str) -> None:
        super().__init__()
        self.platform = platform

    def __missing__(self, model: str) -> str:
        if len(self) >= 256:
            self.clear()
        found = self[model] = resolve_model(self.platform, model)
        return found


def table(platforms: Iterable[str] | None = None) -> list[tuple[str, dict[str, str]]]:
    """Every canonical name with the id each platform uses for it, for ``clauderoute models``.

    Args:
        platforms: the platform ids to show; each gets the id ``resolve_model`` gives (so a
            platform the data does not list, such as Foundry's deployment names, shows the
            canonical name). Default: the platforms named in the data, each only where listed.

    Returns:
        ``[(canonical name, {platform: id})]`` in catalog order.

    .. versionadded:: 0.1
    """
    rows: list[tuple[str, dict[str, str]]] = []
    for name, facts in catalog().items():
        if platforms is None:
            ids = {k: v for k, v in facts.items()
                   if isinstance(v, str) and "_" not in k and k not in _FACTS}
        else:
            ids = {p: resolve_model(p, name) for p in platforms}
        rows.append((name, ids))
    return rows
