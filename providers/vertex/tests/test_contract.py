"""The shared provider battery, run against the Vertex emulator with a fixed access token and
with Application Default Credentials (a service-account key whose tokens google-auth fetches
from the emulator's token endpoint)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clauderoute_vertex import VertexEmulator, VertexProvider

from clauderoute import AsyncClient
from clauderoute.testing import EmulatorServer, ProviderContract

TOKEN = "ya29.vertex-contract-" + "t" * 24
PROJECT = "contract-project"
REGION = "us-east5"


class TestVertexContract(ProviderContract):
    """Vertex provider with an access token vs its emulator."""

    def make_emulator(self) -> EmulatorServer:
        return VertexEmulator(project=PROJECT, locations={REGION}, tokens=[TOKEN])

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> VertexProvider:
        return VertexProvider(base_url=emulator.url, project=PROJECT, region=REGION,
                              access_token=TOKEN, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> VertexProvider:
        return VertexProvider(base_url=emulator.url, project=PROJECT, region=REGION,
                              access_token="ya29.expired-or-wrong")

    def secrets(self) -> list[str]:
        return [TOKEN]


class TestVertexADCContract(ProviderContract):
    """Vertex provider on Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS names
    a service-account key; google-auth signs a JWT and the emulator's /token answers it), with
    the project taken from the credentials."""

    key_dir: Path
    private_key = ""

    @pytest.fixture(autouse=True)
    def _key_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.key_dir = tmp_path
        self.monkeypatch = monkeypatch

    def make_emulator(self) -> EmulatorServer:
        return VertexEmulator(project=PROJECT, tokens=())

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> VertexProvider:
        assert isinstance(emulator, VertexEmulator)
        info = emulator.service_account_info()
        self.private_key = info["private_key"]
        path = self.key_dir / "key.json"
        path.write_text(json.dumps(info))
        self.monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
        self.emu = emulator
        return VertexProvider(base_url=emulator.url, region=REGION, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> VertexProvider:
        return VertexProvider(base_url=emulator.url, project=PROJECT, region=REGION,
                              access_token="ya29.not-minted-here")

    def secrets(self) -> list[str]:
        key_lines = [ln for ln in self.private_key.splitlines() if "PRIVATE KEY" not in ln]
        return [*self.emu.minted, *key_lines[:3]]

    async def test_one_token_serves_many_calls(self, client: AsyncClient) -> None:
        """Creates, streams and token counts share one token from one JWT grant, for the
        cloud-platform scope, and the project comes from the key file."""
        await self._create(client)
        async with client.messages.stream(model=self.model, max_tokens=8,
                                          messages=[{"role": "user", "content": "hi"}]) as s:
            await s.get_final_message()
        await client.messages.count_tokens(model=self.model,
                                           messages=[{"role": "user", "content": "hi"}])
        assert len(self.emu.grants) == 1
        assert self.emu.grants[0]["scope"] == "https://www.googleapis.com/auth/cloud-platform"
        assert {r.path.split("/")[3] for r in self.emu.requests} == {PROJECT}
        assert {r.headers["Authorization"] for r in self.emu.requests} == {
            "Bearer " + self.emu.minted[0]}
