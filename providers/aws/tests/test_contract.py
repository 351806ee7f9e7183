"""The shared provider battery, run against the Claude Platform on AWS emulator with SigV4
(credentials from boto3's chain: the environment), with temporary credentials (a session token),
and with an API key; plus the whole API (models, batches, files, skills) through SigV4."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clauderoute_aws import AWSEmulator, AWSProvider
from clauderoute_aws.emulator import ACCESS_KEY, API_KEY, SECRET_KEY, WORKSPACE, AwsKey

from clauderoute import AsyncClient
from clauderoute.testing import EmulatorServer, ProviderContract

REGION = "us-west-2"
TEMP_KEY = "ASIAEMULATORTEMPKEY2"
TEMP_SECRET = "temporaryPlatformSecret/EXAMPLE+abcdef0123"
TEMP_TOKEN = "IQoJb3JpZ2luX2VjPlatformSessionToken" + "y" * 40
SKILL = [("helper/SKILL.md", b"---\nname: helper\ndescription: Helps\n---\nUse me.\n")]


class TestAWSSigV4Contract(ProviderContract):
    """SigV4 with static keys found by boto3 in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."""

    @pytest.fixture(autouse=True)
    def aws_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        yield

    def make_emulator(self) -> EmulatorServer:
        return AWSEmulator(region=REGION)

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> AWSProvider:
        return AWSProvider(base_url=emulator.url, region=REGION, workspace_id=WORKSPACE,
                           **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> AWSProvider:
        return AWSProvider(base_url=emulator.url, region=REGION, workspace_id=WORKSPACE,
                           access_key=ACCESS_KEY, secret_key="not-the-secret")

    def secrets(self) -> list[str]:
        return [SECRET_KEY]

    async def test_one_resolution_serves_many_calls(self, emulator: EmulatorServer) -> None:
        """Creates, streams and counts share one credential resolution (boto3's chain)."""
        provider = self.make_provider(emulator)
        async with AsyncClient(providers=[provider]) as client:
            await asyncio.gather(*(self._create(client) for _ in range(10)))
            await client.messages.count_tokens(model=self.model, messages=[
                {"role": "user", "content": "hi"}])
        assert provider.auth.resolutions == 1  # type: ignore[attr-defined]

    async def test_whole_api_signed(self, client: AsyncClient, emulator: EmulatorServer) -> None:
        """Models, batches, files (a signed multipart upload) and skills all verify: every
        request the emulator saw carried a SigV4 signature for the workspace."""
        assert [m.id async for m in client.models.list(limit=2, source="api")]
        batch = await client.messages.batches.create(requests=[
            {"custom_id": "a", "params": {"model": self.model, "max_tokens": 8,
                                          "messages": [{"role": "user", "content": "hi"}]}}])
        assert (await client.messages.batches.retrieve(batch.id)).processing_status == "ended"
        results = [r async for r in await client.messages.batches.results(batch.id)]
        assert [r.result.type for r in results] == ["succeeded"]
        blob = bytes(range(256)) * 64
        up = await client.beta.files.upload(file=("d.bin", blob, "application/octet-stream"))
        assert await (await client.beta.files.download(up.id)).read() == blob
        skill = await client.beta.skills.create(files=SKILL)
        assert [s.id async for s in client.beta.skills.list()] == [skill.id]
        assert {r.headers["anthropic-workspace-id"] for r in emulator.requests} == {WORKSPACE}
        assert all(r.headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")
                   for r in emulator.requests)


class TestAWSSessionTokenContract(ProviderContract):
    """SigV4 with temporary credentials: the session token is sent and checked."""

    @pytest.fixture(autouse=True)
    def aws_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEMP_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEMP_SECRET)
        monkeypatch.setenv("AWS_SESSION_TOKEN", TEMP_TOKEN)
        yield

    def make_emulator(self) -> EmulatorServer:
        return AWSEmulator(region=REGION, keys={TEMP_KEY: AwsKey(TEMP_SECRET, TEMP_TOKEN)})

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> AWSProvider:
        return AWSProvider(base_url=emulator.url, region=REGION, workspace_id=WORKSPACE,
                           **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> AWSProvider:
        # The right key and secret without the session token they need.
        return AWSProvider(base_url=emulator.url, region=REGION, workspace_id=WORKSPACE,
                           access_key=TEMP_KEY, secret_key=TEMP_SECRET)

    def secrets(self) -> list[str]:
        return [TEMP_SECRET, TEMP_TOKEN]


class TestAWSApiKeyContract(ProviderContract):
    """An API key (ANTHROPIC_AWS_API_KEY) as a bearer token."""

    @pytest.fixture(autouse=True)
    def key_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        monkeypatch.setenv("ANTHROPIC_AWS_API_KEY", API_KEY)
        monkeypatch.setenv("ANTHROPIC_AWS_WORKSPACE_ID", WORKSPACE)
        yield

    def make_emulator(self) -> EmulatorServer:
        return AWSEmulator(region=REGION)

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> AWSProvider:
        return AWSProvider(base_url=emulator.url, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> AWSProvider:
        return AWSProvider(base_url=emulator.url, api_key="sk-ant-aws-wrong")

    def secrets(self) -> list[str]:
        return [API_KEY]

    async def test_upload_streams_with_an_api_key(self, client: AsyncClient, tmp_path: Path,
                                                  emulator: EmulatorServer) -> None:
        """With an API key nothing signs the body, so a file upload is streamed from disk
        rather than read whole first, and arrives whole."""
        assert client.providers[0].signs_body is False  # type: ignore[attr-defined]
        path = tmp_path / "big.bin"
        path.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
        up = await client.beta.files.upload(file=path)
        assert up.size_bytes == 1024 * 1024
        assert await (await client.beta.files.download(up.id)).read() == path.read_bytes()
        assert emulator.requests[0].headers["Authorization"] == "Bearer " + API_KEY
