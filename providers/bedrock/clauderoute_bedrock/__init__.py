"""Claude on Amazon Bedrock for clauderoute: provider (SigV4 or a Bedrock API key, InvokeModel,
AWS event-stream, CountTokens, the Messages-API endpoint) and a signature-verifying emulator.

The emulators load on first use (module ``__getattr__``): they pull in ``aiohttp.web`` and
``clauderoute.testing``, which production code never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._provider import BedrockProvider

if TYPE_CHECKING:
    from ._emulator_mantle import BedrockMantleEmulator
    from .emulator import BedrockEmulator

__all__ = ["BedrockEmulator", "BedrockMantleEmulator", "BedrockProvider"]


def __getattr__(name: str) -> Any:
    if name == "BedrockEmulator":
        from .emulator import BedrockEmulator

        return BedrockEmulator
    if name == "BedrockMantleEmulator":
        from ._emulator_mantle import BedrockMantleEmulator

        return BedrockMantleEmulator
    raise AttributeError(f"module 'clauderoute_bedrock' has no attribute {name!r}")
