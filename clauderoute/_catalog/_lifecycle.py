"""Model lifecycle: when a model retires on a platform, and what replaces it.

The catalog's ``retires`` date applies to the platforms whose ``lifecycle`` is ``"anthropic"``
(the Claude API and the platforms Anthropic runs; model-deprecations page), a
``{platform}_retires`` date to that platform alone (Bedrock and Vertex set their own). Before
the date a call warns, once per model per process (``ModelDeprecationWarning``); from the date
on it fails before the network, naming the replacement.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from . import model_facts, platform_facts

__all__ = ["ModelDeprecationWarning", "retirement", "retirement_problem", "warn_deprecated"]


class ModelDeprecationWarning(UserWarning):
    """A call names a model that is deprecated: it retires on a known date (a ``UserWarning``,
    so that it is shown by default; filter it with ``warnings.filterwarnings``).

    .. versionadded:: 0.3
    """


_warned: set[str] = set()


def retirement(platform: str, model: str,
               facts: dict[str, Any] | None = None) -> tuple[dt.date, str | None] | None:
    """``(retirement date, replacement)`` of ``model`` on ``platform``, or ``None``."""
    facts = model_facts(model) if facts is None else facts
    if not facts:
        return None
    date = facts.get(f"{platform}_retires")
    if date is None and platform_facts(platform).get("lifecycle") == "anthropic":
        date = facts.get("retires")
    if isinstance(date, dt.datetime):
        date = date.date()
    if not isinstance(date, dt.date):
        return None
    replacement = facts.get(f"{platform}_replacement", facts.get("replacement"))
    return date, replacement if isinstance(replacement, str) else None


def retirement_problem(platform: str, provider: str, model: str,
                       today: dt.date) -> tuple[str | None, str | None]:
    """``(error, warning)`` texts for a call to ``model`` on ``provider``: an error once the
    model has retired there, a warning while it is deprecated, else ``(None, None)``."""
    found = retirement(platform, model)
    if found is None:
        return None, None
    date, replacement = found
    use = f"; use {replacement!r} instead" if replacement else ""
    if today >= date:
        gone = (f"model {model!r} was retired on {date.isoformat()} on provider "
                f"{provider!r} ({platform}){use}")
        return gone, None
    return None, f"model {model!r} is deprecated and retires on {date.isoformat()}{use}"


def warn_deprecated(model: str, text: str, stacklevel: int) -> None:
    """Warn about ``model`` once per process."""
    if model in _warned:
        return
    _warned.add(model)
    warnings.warn(text, ModelDeprecationWarning, stacklevel=stacklevel + 1)
