"""The shared provider battery, run against the Claude on Google Cloud emulator with a fixed access
token and with Application Default Credentials (a service-account key whose tokens google-auth
fetches from the emulator's token endpoint, the project taken from the key, the gateway root
derived on the first call); plus the whole API (models, batches, files, skills)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clauderoute_google_cloud import GoogleCloudEmulator, GoogleCloudProvider

from clauderoute import AsyncClient
from clauderoute.testing import EmulatorServer, ProviderContract

TOKEN = "ya29.google-cloud-contract-" + "t" * 24
PROJECT = "contract-project"
LOCATION = "us-east5"
WORKSPACE = "wrkspc_01Contract"
SKILL = [("helper/SKILL.md", b"---\nname: helper\ndescription: Helps\n---\nUse me.\n")]


class TestGoogleCloudContract(ProviderContract):
    """An access token, the emulator's gateway root as base_url."""

    def make_emulator(self) -> EmulatorServer:
        return GoogleCloudEmulator(project=PROJECT, locations=[LOCATION],
                                   workspaces=[WORKSPACE], tokens=[TOKEN])

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> GoogleCloudProvider:
        return GoogleCloudProvider(base_url=emulator.url, access_token=TOKEN, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> GoogleCloudProvider:
        return GoogleCloudProvider(base_url=emulator.url, access_token="ya29.expired-or-wrong")

    def secrets(self) -> list[str]:
        return [TOKEN]

    async def test_whole_api(self, client: AsyncClient, emulator: EmulatorServer) -> None:
        """Models, batches (results_url under the workspace root), files and skills, all under
        the gateway's workspace root."""
        assert [m.id async for m in client.models.list(limit=2, source="api")]
        batch = await client.messages.batches.create(requests=[
            {"custom_id": "a", "params": {"model": self.model, "max_tokens": 8,
                                          "messages": [{"role": "user", "content": "hi"}]}}])
        ended = await client.messages.batches.retrieve(batch.id)
        assert ended.results_url is not None and ended.results_url.startswith(emulator.url)
        results = [r async for r in await client.messages.batches.results(batch.id)]
        assert [r.result.type for r in results] == ["succeeded"]
        up = await client.beta.files.upload(file=("d.txt", b"some text"))
        assert await (await client.beta.files.download(up.id)).read() == b"some text"
        skill = await client.beta.skills.create(files=SKILL)
        assert [s.id async for s in client.beta.skills.list()] == [skill.id]
        root = emulator.url.removeprefix(emulator.root)
        assert all(r.path.startswith(root + "/v1/") for r in emulator.requests)


class TestGoogleCloudADCContract(ProviderContract):
    """Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS names a service-account
    key; google-auth signs a JWT and the emulator's /token answers it)."""

    key_dir: Path
    private_key = ""

    @pytest.fixture(autouse=True)
    def _key_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.key_dir = tmp_path
        self.monkeypatch = monkeypatch

    def make_emulator(self) -> EmulatorServer:
        return GoogleCloudEmulator(project=PROJECT, locations=[LOCATION],
                                   workspaces=[WORKSPACE], tokens=())

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> GoogleCloudProvider:
        assert isinstance(emulator, GoogleCloudEmulator)
        info = emulator.service_account_info(PROJECT)
        self.private_key = info["private_key"]
        path = self.key_dir / "key.json"
        path.write_text(json.dumps(info))
        self.monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
        self.emu = emulator
        return GoogleCloudProvider(base_url=emulator.url, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> GoogleCloudProvider:
        return GoogleCloudProvider(base_url=emulator.url, access_token="ya29.not-minted-here")

    def secrets(self) -> list[str]:
        key_lines = [ln for ln in self.private_key.splitlines() if "PRIVATE KEY" not in ln]
        return [*self.emu.minted, *key_lines[:3]]

    async def test_one_token_serves_many_calls(self, client: AsyncClient) -> None:
        """Creates, streams and token counts share one token from one JWT grant, for the
        cloud-platform scope."""
        await self._create(client)
        async with client.messages.stream(model=self.model, max_tokens=8,
                                          messages=[{"role": "user", "content": "hi"}]) as s:
            await s.get_final_message()
        await client.messages.count_tokens(model=self.model,
                                           messages=[{"role": "user", "content": "hi"}])
        assert len(self.emu.grants) == 1
        assert self.emu.grants[0]["scope"] == "https://www.googleapis.com/auth/cloud-platform"
        assert {r.headers["Authorization"] for r in self.emu.requests} == {
            "Bearer " + self.emu.minted[0]}
