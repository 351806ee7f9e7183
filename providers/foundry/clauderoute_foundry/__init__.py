"""Claude in Microsoft Foundry (Azure AI Foundry) for clauderoute: provider and emulator."""

from ._provider import FoundryProvider
from .emulator import EmulatorCredential, FoundryEmulator

__all__ = ["EmulatorCredential", "FoundryEmulator", "FoundryProvider"]
