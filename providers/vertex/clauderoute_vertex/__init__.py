"""Claude on Google Vertex AI for clauderoute: provider and emulator."""

from ._provider import VertexProvider
from .emulator import VertexEmulator

__all__ = ["VertexEmulator", "VertexProvider"]
