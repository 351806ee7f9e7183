"""The shared provider battery, run against the Bedrock emulator with SigV4 (credentials from
boto3's chain: the environment) and with a Bedrock API key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from clauderoute_bedrock import BedrockEmulator, BedrockMantleEmulator, BedrockProvider
from clauderoute_bedrock.emulator import ACCESS_KEY, API_KEY, SECRET_KEY, AwsKey

from clauderoute import AsyncClient
from clauderoute.testing import EmulatorServer, ProviderContract

TEMP_KEY = "ASIAEMULATORTEMPKEY1"
TEMP_SECRET = "temporarySecret/EXAMPLE+abcdef0123456789"
TEMP_TOKEN = "IQoJb3JpZ2luX2VjEmulatorSessionToken" + "x" * 40


class TestBedrockSigV4Contract(ProviderContract):
    """SigV4 with static keys found by boto3 in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."""

    @pytest.fixture(autouse=True)
    def aws_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        yield

    def make_emulator(self) -> EmulatorServer:
        return BedrockEmulator()

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> BedrockProvider:
        return BedrockProvider(base_url=emulator.url, region="us-east-1", **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> BedrockProvider:
        return BedrockProvider(base_url=emulator.url, region="us-east-1",
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


class TestBedrockSessionTokenContract(ProviderContract):
    """SigV4 with temporary credentials: the session token is sent and checked."""

    @pytest.fixture(autouse=True)
    def aws_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEMP_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEMP_SECRET)
        monkeypatch.setenv("AWS_SESSION_TOKEN", TEMP_TOKEN)
        yield

    def make_emulator(self) -> EmulatorServer:
        return BedrockEmulator(keys={TEMP_KEY: AwsKey(TEMP_SECRET, TEMP_TOKEN)})

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> BedrockProvider:
        return BedrockProvider(base_url=emulator.url, region="us-east-1", **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> BedrockProvider:
        # The right key and secret without the session token they need.
        return BedrockProvider(base_url=emulator.url, region="us-east-1",
                               access_key=TEMP_KEY, secret_key=TEMP_SECRET)

    def secrets(self) -> list[str]:
        return [TEMP_SECRET, TEMP_TOKEN]


class TestBedrockApiKeyContract(ProviderContract):
    """A Bedrock API key (Authorization: Bearer) instead of SigV4."""

    def make_emulator(self) -> EmulatorServer:
        return BedrockEmulator()

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> BedrockProvider:
        return BedrockProvider(base_url=emulator.url, api_key=API_KEY, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> BedrockProvider:
        return BedrockProvider(base_url=emulator.url, api_key="ABSK-wrong-key")

    def secrets(self) -> list[str]:
        return [API_KEY]




class TestBedrockMantleContract(ProviderContract):
    """The Messages-API endpoint ("Mantle"): Claude API paths, SSE, SigV4 for bedrock-mantle."""

    def make_emulator(self) -> EmulatorServer:
        return BedrockMantleEmulator(keys={ACCESS_KEY: AwsKey(SECRET_KEY)})

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> BedrockProvider:
        return BedrockProvider(mantle_base_url=emulator.url, endpoint="mantle",
                               access_key=ACCESS_KEY, secret_key=SECRET_KEY, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> BedrockProvider:
        return BedrockProvider(mantle_base_url=emulator.url, endpoint="mantle",
                               access_key=ACCESS_KEY, secret_key="wrong-secret")

    def secrets(self) -> list[str]:
        return [SECRET_KEY]

    async def test_signed_for_bedrock_mantle(self, client: AsyncClient,
                                             emulator: EmulatorServer) -> None:
        """Requests carry the Claude API's body (model kept) and a bedrock-mantle scope."""
        await self._create(client)
        (req,) = emulator.requests
        assert req.path == "/anthropic/v1/messages"
        body = msgspec.json.decode(req.body)
        assert body["model"] == "anthropic.claude-haiku-4-5"  # the Messages-API id
        assert "anthropic_version" not in body and req.headers["anthropic-version"]
        assert "/us-east-1/bedrock-mantle/aws4_request" in req.headers["Authorization"]


class TestBedrockRuntimeMessagesContract(ProviderContract):
    """bedrock-runtime's Messages API: Claude API paths under /anthropic on the InvokeModel
    host, SSE, SigV4 for service bedrock (that host's signing name)."""

    def make_emulator(self) -> EmulatorServer:
        return BedrockEmulator()

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> BedrockProvider:
        return BedrockProvider(base_url=emulator.url, endpoint="runtime-messages",
                               access_key=ACCESS_KEY, secret_key=SECRET_KEY, **settings)

    def make_bad_provider(self, emulator: EmulatorServer) -> BedrockProvider:
        return BedrockProvider(base_url=emulator.url, endpoint="runtime-messages",
                               access_key=ACCESS_KEY, secret_key="wrong-secret")

    def secrets(self) -> list[str]:
        return [SECRET_KEY]

    async def test_signed_for_bedrock_on_the_runtime_host(self, client: AsyncClient,
                                                          emulator: EmulatorServer) -> None:
        """The Claude API's body with the Messages-API id and its inference profile, the
        version as a header, a bedrock scope."""
        await self._create(client)
        (req,) = emulator.requests
        assert req.path == "/anthropic/v1/messages"
        body = msgspec.json.decode(req.body)
        assert body["model"] == "us.anthropic.claude-haiku-4-5"
        assert "anthropic_version" not in body and req.headers["anthropic-version"] == (
            "2023-06-01")
        assert "/us-east-1/bedrock/aws4_request" in req.headers["Authorization"]
