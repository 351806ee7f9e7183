"""The direct Claude API provider for clauderoute, bundled with the core distribution."""

from ._provider import AnthropicProvider
from .emulator import AnthropicEmulator

__all__ = ["AnthropicEmulator", "AnthropicProvider"]
