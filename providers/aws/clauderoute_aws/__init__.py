"""Claude Platform on AWS for clauderoute: provider (SigV4 or an API key, the workspace header,
the whole Claude API) and an emulator that verifies signatures.

``AWSEmulator`` loads on first use (module ``__getattr__``): it pulls in ``aiohttp.web`` and
``clauderoute.testing``, which production code never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._provider import AWSProvider

if TYPE_CHECKING:
    from .emulator import AWSEmulator

__all__ = ["AWSEmulator", "AWSProvider"]


def __getattr__(name: str) -> Any:
    if name == "AWSEmulator":
        from .emulator import AWSEmulator

        return AWSEmulator
    raise AttributeError(f"module 'clauderoute_aws' has no attribute {name!r}")
