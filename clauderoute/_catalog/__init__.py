"""The model catalog: canonical Claude names → each platform's id, read from ``models.toml``.

The data is loaded on first use (never at import) and cached. Each platform id has a key in the
file of the same name; keys with a ``{platform}_`` prefix carry extra facts (Bedrock's
inference-profile need, Vertex's locations) that providers read through ``model_facts``.
``CLAUDEROUTE_CATALOG`` names a file of entries merged over the shipped ones.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Iterable
from importlib.resources import files
from typing import Any

from .._errors import ConfigurationError

__all__ = ["CATALOG_ENV", "ModelIds", "catalog", "model_facts", "resolve_model", "table"]

# Keys of a model entry that are facts, not a platform id ("dated": the Claude API dated id).
_FACTS = frozenset({"dated"})


#: A TOML file (same ``[models.NAME]`` tables as ``models.toml``) whose entries are merged over
#: the shipped ones: a model this version does not know yet, or a fact to change (e.g.
#: ``bedrock_endpoint = "mantle"``), without waiting for a release. A provider reads the catalog
#: once per model name, on first use, and keeps the answer: set this before the client's first
#: call (a later change reaches providers built after it).
CATALOG_ENV = "CLAUDEROUTE_CATALOG"


def catalog() -> dict[str, dict[str, Any]]:
    """The whole catalog: ``{canonical name: {key: value}}`` (the shipped data, then the file
    named by ``CLAUDEROUTE_CATALOG``, key by key).

    Raises:
        ConfigurationError: that file cannot be read or is not a catalog.
    """
    return _load(os.environ.get(CATALOG_ENV) or None)


@functools.cache
def _load(extra: str | None) -> dict[str, dict[str, Any]]:
    text = files(__package__ or __name__).joinpath("models.toml").read_text("utf-8")
    models = dict(tomllib.loads(text)["models"])
    if extra is None:
        return models
    try:
        with open(extra, "rb") as f:
            more = tomllib.load(f).get("models", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{CATALOG_ENV}: cannot read {extra!r}: {exc}") from exc
    if not isinstance(more, dict) or not all(isinstance(v, dict) for v in more.values()):
        raise ConfigurationError(f"{CATALOG_ENV}: {extra!r} must hold [models.NAME] tables")
    for name, facts in more.items():
        models[name] = {**models.get(name, {}), **facts}
    return models


def model_facts(model: str) -> dict[str, Any] | None:
    """Everything the catalog knows about a canonical name, or ``None``."""
    return catalog().get(model)


def resolve_model(platform: str, model: str, region: str | None = None) -> str:
    """The id ``platform`` uses for ``model``; an unknown name or platform passes through."""
    facts = catalog().get(model)
    if facts is None:
        return model
    value = facts.get(platform)
    return value if isinstance(value, str) else model


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
