"""The shared provider battery, run against the Foundry emulator with an API key and with
Microsoft Entra ID tokens."""

from __future__ import annotations

from typing import Any

from clauderoute_foundry import EmulatorCredential, FoundryEmulator, FoundryProvider

from clauderoute import AsyncClient
from clauderoute.testing import EmulatorServer, ProviderContract

KEY = "foundry-test-key-" + "f" * 24


class TestFoundryContract(ProviderContract):
    """Foundry provider with an API key vs its emulator."""

    def make_emulator(self) -> EmulatorServer:
        return FoundryEmulator(api_key=KEY)

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> FoundryProvider:
        return FoundryProvider(base_url=emulator.url, api_key=KEY, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> FoundryProvider:
        return FoundryProvider(base_url=emulator.url, api_key="wrong-key")

    def secrets(self) -> list[str]:
        return [KEY]


class TestFoundryEntraContract(ProviderContract):
    """Foundry provider with Entra ID tokens from a TokenCredential vs its emulator."""

    minted: list[str]

    def make_emulator(self) -> EmulatorServer:
        return FoundryEmulator(api_key=None)

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> FoundryProvider:
        assert isinstance(emulator, FoundryEmulator)
        credential = _RecordingCredential(emulator)
        self.minted = credential.minted
        return FoundryProvider(base_url=emulator.url, credential=credential, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> FoundryProvider:
        # A token provider callable (the SDK's azure_ad_token_provider form) with a token the
        # front door does not know.
        return FoundryProvider(base_url=emulator.url, credential=lambda: "not-an-entra-token")

    def secrets(self) -> list[str]:
        return self.minted

    async def test_one_token_serves_many_calls(self, client: AsyncClient) -> None:
        """Creates, streams and token counts on one provider share one Entra token fetch."""
        await self._create(client)
        async with client.messages.stream(model=self.model, max_tokens=8,
                                          messages=[{"role": "user", "content": "hi"}]) as s:
            await s.get_final_message()
        await client.messages.count_tokens(model=self.model,
                                           messages=[{"role": "user", "content": "hi"}])
        assert len(self.minted) == 1


class _RecordingCredential(EmulatorCredential):
    """An EmulatorCredential that also remembers the tokens it minted (for the secret canary)."""

    def __init__(self, emulator: FoundryEmulator) -> None:
        super().__init__(emulator)
        self.minted: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        token = super().get_token(*scopes, **kwargs)
        self.minted.append(token.token)
        return token
