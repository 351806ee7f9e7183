"""Claude on Google Cloud for clauderoute: provider (Google OAuth tokens, the gateway root derived
from project, location and workspace, the whole Claude API) and emulator.

``GoogleCloudEmulator`` loads on first use (module ``__getattr__``): it pulls in ``aiohttp.web``
and ``clauderoute.testing``, which production code never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._provider import GoogleCloudProvider

if TYPE_CHECKING:
    from .emulator import GoogleCloudEmulator

__all__ = ["GoogleCloudEmulator", "GoogleCloudProvider"]


def __getattr__(name: str) -> Any:
    if name == "GoogleCloudEmulator":
        from .emulator import GoogleCloudEmulator

        return GoogleCloudEmulator
    raise AttributeError(f"module 'clauderoute_google_cloud' has no attribute {name!r}")
