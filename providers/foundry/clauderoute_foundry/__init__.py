"""Claude in Microsoft Foundry (Azure AI Foundry) for clauderoute: provider and emulator.

``FoundryEmulator`` and ``EmulatorCredential`` load on first use (module ``__getattr__``): the
emulator pulls in ``aiohttp.web`` and ``clauderoute.testing``, which production code never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._provider import FoundryProvider

if TYPE_CHECKING:
    from .emulator import EmulatorCredential, FoundryEmulator

__all__ = ["EmulatorCredential", "FoundryEmulator", "FoundryProvider"]


def __getattr__(name: str) -> Any:
    if name in ("EmulatorCredential", "FoundryEmulator"):
        from . import emulator

        return getattr(emulator, name)
    raise AttributeError(f"module 'clauderoute_foundry' has no attribute {name!r}")
