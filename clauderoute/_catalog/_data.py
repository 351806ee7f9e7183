"""Reading the catalog's layers: the shipped ``models.toml``, then overlay files over it.

A layer is a TOML file of ``[models.NAME]`` tables (keys merged over the layers below, key by
key), optionally ``[platforms.NAME]`` tables (how a platform names models and whose lifecycle
dates apply to it) and ``[sources]`` (names of the documents the data comes from, which an
entry's ``[models.NAME.sources]`` table refers to). The shipped file has all three; an overlay
written by ``clauderoute models --sync`` has ``models`` and ``sources``.

A model's ``dated`` id (the Claude API's snapshot name, such as ``claude-haiku-4-5-20251001``)
is an alias: the same facts, with that id on the Claude API.
"""

from __future__ import annotations

import difflib
import tomllib
from importlib.resources import files
from typing import Any, NamedTuple

from .._errors import ConfigurationError

__all__ = ["FACTS", "SHIPPED", "Layers", "load_layers"]

#: The name of the layer that ships with clauderoute, in ``Layers.origins``.
SHIPPED = "shipped"


class Layers(NamedTuple):
    """Every layer merged."""

    #: canonical name → facts (platform ids and ``{platform}_`` facts).
    models: dict[str, dict[str, Any]]
    #: dated id → the facts of its model, with ``anthropic`` = the dated id.
    aliases: dict[str, dict[str, Any]]
    #: platform id → ``ids`` ("own", or "anthropic": the Claude API's ids) and ``lifecycle``.
    platforms: dict[str, dict[str, Any]]
    #: source name → what it is (document or URL, and when it was checked).
    sources: dict[str, str]
    #: canonical name → the layers that set it, bottom first (``SHIPPED`` or a file path).
    origins: dict[str, tuple[str, ...]]


def _tables(doc: dict[str, Any], key: str, where: str) -> dict[str, dict[str, Any]]:
    found = doc.get(key, {})
    if not isinstance(found, dict) or not all(isinstance(v, dict) for v in found.values()):
        raise ConfigurationError(f"{where} must hold [{key}.NAME] tables")
    return found


def _read(path: str, where: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{where}: cannot read {path!r}: {exc}") from exc
    except RecursionError:  # tomllib recurses per nesting level
        raise ConfigurationError(f"{where}: cannot read {path!r}: nested too deeply") from None


# Keys of a model entry that are facts, not a platform id ("dated": the Claude API dated id).
FACTS = frozenset({"dated", "retires", "replacement", "alias_of", "display_name", "sources"})


def _check_keys(base: Layers, doc: dict[str, Any], where: str) -> None:
    """An overlay's model keys are facts, platform ids or ``{platform}_`` facts: a typo such as
    ``bedrok = "..."`` would otherwise become a platform of its own, silently unused. Known
    platforms: the shipped ones, those the overlay declares (``[platforms.NAME]``) and the
    installed providers."""
    declared = _tables(doc, "platforms", where)
    _check_platforms(base, declared, where)
    known = set(base.platforms) | set(declared)
    installed: set[str] | None = None
    for name, facts in _tables(doc, "models", where).items():
        for key in facts:
            platform = key.split("_", 1)[0]
            if key in FACTS or key in known or ("_" in key and platform in known):
                continue
            if installed is None:
                from .._registry import installed as names  # lazy: scans entry points

                installed = set(names())
            if platform in installed:
                continue
            close = difflib.get_close_matches(platform, sorted(known | installed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigurationError(
                f"{where}: [models.{name}] {key[:60]!r} is neither a fact ("
                f"{', '.join(sorted(FACTS - {'alias_of'}))}) nor a platform id or "
                f"'{{platform}}_' fact of a known platform ({', '.join(sorted(known))}){hint}; "
                "declare a new platform with a [platforms.NAME] table")


_PLATFORM_KEYS = frozenset({"ids", "lifecycle"})


def _check_platforms(base: Layers, declared: dict[str, dict[str, Any]], where: str) -> None:
    """An overlay's ``[platforms.NAME]`` tables: known keys only, and a new platform whose name
    is a near miss of a known or installed one (``[platforms.bedrok]``) is refused as the typo
    it almost surely is, since it would make a misspelt model key look valid."""
    for name, facts in declared.items():
        unknown = sorted(set(facts) - _PLATFORM_KEYS)
        if unknown:
            raise ConfigurationError(f"{where}: [platforms.{name[:60]}] {unknown[0][:60]!r} is "
                                     f"not a platform setting (ids, lifecycle)")
        if name in base.platforms:
            continue
        from .._registry import installed as names  # lazy: scans entry points

        others = set(base.platforms) | set(names())
        if name in others:
            continue
        close = difflib.get_close_matches(name, sorted(others), n=1, cutoff=0.8)
        if close:
            raise ConfigurationError(
                f"{where}: [platforms.{name[:60]}] declares a new platform whose name is close "
                f"to the known platform {close[0]!r}; did you mean [platforms.{close[0]}]?")


def _merge(base: Layers, doc: dict[str, Any], origin: str, where: str) -> None:
    if origin != SHIPPED:
        _check_keys(base, doc, where)
    for name, facts in _tables(doc, "models", where).items():
        base.models[name] = {**base.models.get(name, {}), **facts}
        base.origins[name] = (*base.origins.get(name, ()), origin)
    for name, facts in _tables(doc, "platforms", where).items():
        base.platforms[name] = {**base.platforms.get(name, {}), **facts}
    sources = doc.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise ConfigurationError(f"{where}: [sources] must map names to strings")
    base.sources.update(sources)


def _aliases(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, facts in models.items():
        dated = facts.get("dated")
        if isinstance(dated, str) and dated not in models:
            out[dated] = {**facts, "anthropic": dated, "alias_of": name}
    return out


def load_layers(overlays: tuple[tuple[str, str], ...]) -> Layers:
    """The shipped data with each ``(path, label for errors)`` overlay merged over it in order.

    Raises:
        ConfigurationError: an overlay cannot be read or is not a catalog (the message names
            the label, e.g. the environment variable that named the file).
    """
    text = files(__package__ or __name__).joinpath("models.toml").read_text("utf-8")
    layers = Layers({}, {}, {}, {}, {})
    _merge(layers, tomllib.loads(text), SHIPPED, "models.toml")
    for path, label in overlays:
        _merge(layers, _read(path, label), path, f"{label}: {path!r}")
    layers.aliases.update(_aliases(layers.models))
    return layers
