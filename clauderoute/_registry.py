"""Finding providers and emulators by platform id: entry points, scanned lazily and cached.

A platform plugs in through the entry-point groups ``clauderoute.providers`` (the ``Provider``
subclass) and ``clauderoute.emulators`` (its ``EmulatorServer``), under its platform id, the
``kind`` used in configuration. First-party platforms come in through the same door as third-party
ones: the Claude API is declared by the root ``pyproject.toml``, the others by
their own distributions, installed with an extra such as ``pip install "clauderoute[vertex]"``.

Nothing here runs at ``import clauderoute``: ``importlib.metadata`` costs 5-20 ms to import and a
scan of every installed distribution a few more, so both wait for the first lookup and the scan is
cached for the life of the process. An explicit mapping (``providers={"vertex": MyVertex}``)
bypasses discovery altogether, which suits tests and frozen applications.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import ConfigurationError, UnknownPlatformError
from ._provider import Provider

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from .testing import EmulatorServer

__all__ = [
    "EMULATORS",
    "PROVIDERS",
    "emulator_class",
    "installed",
    "provider_class",
]

PROVIDERS = "clauderoute.providers"
EMULATORS = "clauderoute.emulators"

_WHAT = {PROVIDERS: "provider", EMULATORS: "emulator"}


@functools.cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    """Every entry point of ``group`` by name (one scan per process)."""
    from importlib.metadata import entry_points  # lazy: see the module docstring

    return {ep.name: ep for ep in entry_points(group=group)}


@functools.cache
def _load(group: str, kind: str) -> Any:
    ep = _entry_points(group).get(kind)
    if ep is None:
        raise UnknownPlatformError(_unknown_message(group, kind, sorted(_entry_points(group))))
    try:
        return ep.load()
    except Exception as exc:  # an installed plugin that cannot import (a missing dependency)
        raise ConfigurationError(
            f"the {_WHAT[group]} {kind!r} is installed ({ep.value}) but could not be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def installed(group: str = PROVIDERS) -> list[str]:
    """The platform ids installed under ``group`` (an entry-point scan on first call).

    Args:
        group: ``PROVIDERS`` or ``EMULATORS``.

    .. versionadded:: 0.1
    """
    return sorted(_entry_points(group))


def provider_class(kind: str, registry: Mapping[str, type[Provider]] | None = None
                   ) -> type[Provider]:
    """The provider class registered under the platform id ``kind``.

    Args:
        kind: the platform id, as in a config file's ``kind``.
        registry: explicit ``{kind: class}``; when given, no entry point is scanned.

    Raises:
        UnknownPlatformError: nothing is registered under ``kind``; the message says what to
            install.
        ConfigurationError: the registered object cannot be imported or is not a ``Provider``.

    .. versionadded:: 0.1
    """
    cls = _lookup(PROVIDERS, kind, registry)
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigurationError(f"the provider registered as {kind!r} is not a Provider "
                                 f"subclass: {cls!r}")
    return cls


def emulator_class(kind: str, registry: Mapping[str, type[EmulatorServer]] | None = None
                   ) -> type[EmulatorServer]:
    """The emulator class registered under the platform id ``kind``.

    Args:
        kind: the platform id.
        registry: explicit ``{kind: class}``; when given, no entry point is scanned.

    Raises:
        UnknownPlatformError: nothing is registered under ``kind``.
        ConfigurationError: the registered object cannot be imported or is not an emulator.

    .. versionadded:: 0.1
    """
    from .testing import EmulatorServer  # lazy: the emulator framework imports aiohttp.web

    cls = _lookup(EMULATORS, kind, registry)
    if not (isinstance(cls, type) and issubclass(cls, EmulatorServer)):
        raise ConfigurationError(f"the emulator registered as {kind!r} is not an "
                                 f"EmulatorServer subclass: {cls!r}")
    return cls


def _lookup(group: str, kind: str, registry: Mapping[str, Any] | None) -> Any:
    if registry is None:
        return _load(group, kind)
    if kind not in registry:
        raise UnknownPlatformError(
            f"no {_WHAT[group]} {kind!r} in the explicit mapping given "
            f"(it has: {', '.join(sorted(registry)) or 'none'}); "
            "entry points are not scanned when a mapping is given"
        )
    return registry[kind]


_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def _extra_for(kind: str) -> str | None:
    """``kind`` if clauderoute declares an extra of that name installing a clauderoute plugin
    distribution (read from the installed metadata, so core names no platform)."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        reqs = requires("clauderoute") or []
    except PackageNotFoundError:  # running from a source tree that was never installed
        return None
    for req in reqs:
        m = _EXTRA.search(req)
        if m and m.group(1) == kind and req.lower().startswith("clauderoute-"):
            return kind
    return None


def _unknown_message(group: str, kind: str, have: list[str]) -> str:
    what = _WHAT[group]
    text = f"no {what} is installed for platform {kind!r} (installed: {', '.join(have) or 'none'})"
    extra = _extra_for(kind)
    if extra is not None:
        return f'{text}; install it with: pip install "clauderoute[{extra}]"'
    return (f"{text}; install a distribution that registers {kind!r} under the entry-point group "
            f"{group!r}")
