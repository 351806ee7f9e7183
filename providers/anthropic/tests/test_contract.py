"""The shared provider battery, run against the Claude API emulator."""

from __future__ import annotations

from typing import Any

from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

from clauderoute.testing import EmulatorServer, ProviderContract

KEY = "sk-ant-test-" + "k" * 24


class TestAnthropicContract(ProviderContract):
    """Claude API provider vs its emulator."""

    def make_emulator(self) -> EmulatorServer:
        return AnthropicEmulator(api_key=KEY)

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> AnthropicProvider:
        return AnthropicProvider(base_url=emulator.url, api_key=KEY, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> AnthropicProvider:
        return AnthropicProvider(base_url=emulator.url, api_key="sk-ant-wrong")

    def secrets(self) -> list[str]:
        return [KEY]
