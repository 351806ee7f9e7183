"""The model catalog: canonical Claude names → each platform's id, read from ``models.toml``.

The data is loaded on first use (never at import) and cached. Each platform id has a key in the
file of the same name; keys with a ``{platform}_`` prefix carry extra facts (Bedrock's
inference-profile need, Vertex's locations) that providers read through ``model_facts``.
"""

from __future__ import annotations

import functools
import tomllib
from importlib.resources import files
from typing import Any

__all__ = ["catalog", "model_facts", "resolve_model"]


@functools.cache
def catalog() -> dict[str, dict[str, Any]]:
    """The whole catalog: ``{canonical name: {key: value}}``."""
    text = files(__package__).joinpath("models.toml").read_text("utf-8")
    return dict(tomllib.loads(text)["models"])


def model_facts(model: str) -> dict[str, Any] | None:
    """Everything the catalog knows about a canonical name, or ``None``."""
    return catalog().get(model)


def resolve_model(platform: str, model: str, region: str | None = None) -> str:  # noqa: ARG001
    """The id ``platform`` uses for ``model``; an unknown name or platform passes through."""
    facts = catalog().get(model)
    if facts is None:
        return model
    value = facts.get(platform)
    return value if isinstance(value, str) else model
