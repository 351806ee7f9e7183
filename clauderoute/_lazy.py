"""Names of a package loaded on first use: its module ``__getattr__`` (PEP 562)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str,
    names: Mapping[str, str],
    namespace: dict[str, Any],
    loaded: Callable[[Any], None] | None = None,
) -> Callable[[str], Any]:
    """A ``__getattr__`` for ``package`` that imports each of ``names`` (name -> module, relative
    to the package) on first use and keeps it in ``namespace`` (the package's globals), so the
    next look-up is a plain one; ``loaded`` sees each value first.

    The packages define it only when not type checking: a checker that sees a module
    ``__getattr__`` accepts any name of the module, a misspelt one too. Checkers read the
    names from the packages' ``TYPE_CHECKING`` imports instead."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        if loaded is not None:
            loaded(value)
        namespace[name] = value
        return value

    return __getattr__
