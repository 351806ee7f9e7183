"""Claude on Amazon Bedrock for clauderoute: provider (SigV4 or a Bedrock API key, InvokeModel,
AWS event-stream, CountTokens, the Messages-API endpoint) and a signature-verifying emulator."""

from ._emulator_mantle import BedrockMantleEmulator
from ._provider import BedrockProvider
from .emulator import BedrockEmulator

__all__ = ["BedrockEmulator", "BedrockMantleEmulator", "BedrockProvider"]
