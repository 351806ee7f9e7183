"""The direct Claude API provider for clauderoute, bundled with the core distribution.

``AnthropicEmulator`` loads on first use (module ``__getattr__``): it pulls in ``aiohttp.web``
and ``clauderoute.testing``, which production code never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._provider import AnthropicProvider

if TYPE_CHECKING:
    from .emulator import AnthropicEmulator

__all__ = ["AnthropicEmulator", "AnthropicProvider"]


def __getattr__(name: str) -> Any:
    if name == "AnthropicEmulator":
        from .emulator import AnthropicEmulator

        return AnthropicEmulator
    raise AttributeError(f"module 'clauderoute_anthropic' has no attribute {name!r}")
