"""Claude on Google Vertex AI for clauderoute: provider and emulator.

``VertexEmulator`` loads on first use (module ``__getattr__``): it pulls in ``aiohttp.web`` and
``clauderoute.testing``, which production code never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._provider import VertexProvider

if TYPE_CHECKING:
    from .emulator import VertexEmulator

__all__ = ["VertexEmulator", "VertexProvider"]


def __getattr__(name: str) -> Any:
    if name == "VertexEmulator":
        from .emulator import VertexEmulator

        return VertexEmulator
    raise AttributeError(f"module 'clauderoute_vertex' has no attribute {name!r}")
