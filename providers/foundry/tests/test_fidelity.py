"""Fidelity with the official SDK: its Foundry client works against our emulator, and the
requests we prepare match the ones it sends for the same parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from clauderoute_foundry import FoundryEmulator, FoundryProvider

import clauderoute as cr
from clauderoute._provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpRequest
from clauderoute.testing import RecordedRequest, sdk_roundtrip
from tests.official_sdk import SDK_WORKER

pytestmark = SDK_WORKER  # every test drives the official SDK

KEY = "foundry-fidelity-key-" + "s" * 20
TOKEN = "entra-fidelity-token-" + "t" * 20
SDK_VERSION = "2026-10-21"  # what SDK 2.13 sends; we set ours to it before comparing
MESSAGES = [{"role": "user", "content": "Tell me about Azure"}]
TOOLS = [{"name": "lookup", "description": "d", "input_schema": {"type": "object"}}]
AUTH = ("api-key", "x-api-key", "authorization")


@pytest.fixture
async def emulator() -> AsyncIterator[FoundryEmulator]:
    async with FoundryEmulator(api_key=KEY, tokens=[TOKEN]) as emu:
        yield emu


def _headers(recorded: RecordedRequest) -> dict[str, str]:
    return {k.lower(): v for k, v in recorded.headers.items()}


def _assert_same(ours: HttpRequest, sdk: RecordedRequest) -> None:
    """Path, query, credential headers, version, betas, content type and parsed body are equal."""
    theirs = _headers(sdk)
    assert urlsplit(ours.url).path == sdk.path  # path and (empty) query
    for name in (*AUTH, "anthropic-version", "anthropic-beta", "content-type"):
        assert ours.headers.get(name) == theirs.get(name), name
    assert msgspec.json.decode(ours.body) == msgspec.json.decode(sdk.body)


async def test_sdk_client_works_against_the_emulator(emulator: FoundryEmulator) -> None:
    """AsyncAnthropicFoundry creates, streams and counts tokens through the emulator."""
    from anthropic import AsyncAnthropicFoundry

    sdk = AsyncAnthropicFoundry(api_key=KEY, base_url=emulator.url, max_retries=0)
    try:
        msg = await sdk.messages.create(model="sonnet-prod", max_tokens=32,
                                        messages=MESSAGES)
        assert msg.content[0].text == "Echo: Tell me about Azure"  # type: ignore[union-attr]
        async with sdk.messages.stream(model="sonnet-prod", max_tokens=32,
                                       messages=MESSAGES) as stream:
            pieces = [t async for t in stream.text_stream]
            final = await stream.get_final_message()
        assert "".join(pieces) == "Echo: Tell me about Azure"
        assert final.stop_reason == "end_turn" and final.usage.output_tokens == 5
        count = await sdk.messages.count_tokens(model="sonnet-prod", messages=MESSAGES)
        assert count.input_tokens == 7
    finally:
        await sdk.close()
    assert [r.path for r in emulator.requests] == [
        "/anthropic/v1/messages", "/anthropic/v1/messages", "/anthropic/v1/messages/count_tokens"]


@pytest.mark.parametrize(("operation", "params"), [
    (CREATE, {"model": "sonnet-prod", "max_tokens": 32, "messages": MESSAGES,
              "system": "Be brief.", "metadata": {"user_id": "u-1"}}),
    (STREAM, {"model": "haiku-prod", "max_tokens": 64, "messages": MESSAGES,
              "tools": TOOLS, "tool_choice": {"type": "auto"}, "stop_sequences": ["END"]}),
    (COUNT_TOKENS, {"model": "opus-prod", "messages": MESSAGES, "system": "Be brief."}),
])
async def test_api_key_request_matches_sdk(emulator: FoundryEmulator, operation: str,
                                           params: dict[str, Any]) -> None:
    """With an API key, our prepared request equals the SDK's for the same parameters."""
    from anthropic import AsyncAnthropicFoundry

    sdk = AsyncAnthropicFoundry(api_key=KEY, base_url=emulator.url, max_retries=0)
    await sdk_roundtrip(sdk, operation, params)
    ours = await FoundryProvider(base_url=emulator.url, api_key=KEY,
                                 anthropic_version=SDK_VERSION).prepare(
        Call(operation=operation, params=dict(params)))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded)
    assert ours.headers["api-key"] == ours.headers["x-api-key"] == KEY


async def test_entra_and_beta_request_matches_sdk(emulator: FoundryEmulator) -> None:
    """With an Entra token provider and betas, the bearer header and anthropic-beta match."""
    from anthropic import AsyncAnthropicFoundry

    params = {"model": "sonnet-prod", "max_tokens": 16, "messages": MESSAGES}
    betas = ["context-1m-2025-08-07", "token-efficient-tools-2025-02-19"]
    sdk = AsyncAnthropicFoundry(azure_ad_token_provider=lambda: TOKEN, base_url=emulator.url,
                                max_retries=0)
    try:
        await sdk.beta.messages.create(**params, betas=betas)  # type: ignore[arg-type]
    finally:
        await sdk.close()
    ours = await FoundryProvider(base_url=emulator.url, credential=lambda: TOKEN,
                                 anthropic_version=SDK_VERSION).prepare(
        Call(operation=CREATE, params=dict(params), betas=tuple(betas)))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded)
    assert ours.headers["authorization"] == "Bearer " + TOKEN


async def test_client_and_sdk_send_the_same_body(emulator: FoundryEmulator) -> None:
    """Through the whole clauderoute client, the body on the wire equals the SDK's."""
    from anthropic import AsyncAnthropicFoundry

    params = {"model": "sonnet-prod", "max_tokens": 24, "messages": MESSAGES,
              "stop_sequences": ["END"], "extra_body": {"future_field": {"x": 1}}}
    sdk = AsyncAnthropicFoundry(api_key=KEY, base_url=emulator.url, max_retries=0)
    try:
        await sdk.messages.create(**params)  # type: ignore[call-overload]
    finally:
        await sdk.close()
    provider = FoundryProvider(base_url=emulator.url, api_key=KEY)
    async with cr.AsyncClient(providers=[provider]) as client:
        await client.messages.create(**params)
    sdk_req, our_req = emulator.requests
    assert msgspec.json.decode(our_req.body) == msgspec.json.decode(sdk_req.body)
    assert (our_req.path, _headers(our_req)["api-key"]) == (sdk_req.path, KEY)
