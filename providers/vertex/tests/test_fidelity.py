"""Fidelity with the official SDK: its Vertex client works against our emulator, and the
requests we prepare match the ones it sends for the same parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec
import pytest
from clauderoute_vertex import VertexEmulator, VertexProvider

import clauderoute as cr
from clauderoute._provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpRequest
from clauderoute.testing import RecordedRequest, sdk_roundtrip
from tests.official_sdk import SDK_WORKER

if TYPE_CHECKING:
    from anthropic import AsyncAnthropicVertex

pytestmark = SDK_WORKER  # every test drives the official SDK

TOKEN = "ya29.vertex-fidelity-" + "t" * 24
PROJECT = "fidelity-project"
REGION = "us-east5"
MODEL = "claude-sonnet-4-5@20250929"
# SDK 2.x puts its own API version in the body; ours defaults to the documented
# vertex-2023-10-16, so comparisons set ours to the SDK's, as a user may.
SDK_VERSION = "2026-10-21"
MESSAGES = [{"role": "user", "content": "Tell me about Vertex"}]
TOOLS = [{"name": "lookup", "description": "d", "input_schema": {"type": "object"}}]


@pytest.fixture
async def emulator() -> AsyncIterator[VertexEmulator]:
    async with VertexEmulator(project=PROJECT, locations={REGION, "global"},
                              tokens=[TOKEN]) as emu:
        yield emu


def _sdk(emulator: VertexEmulator, region: str = REGION) -> AsyncAnthropicVertex:
    from anthropic import AsyncAnthropicVertex

    return AsyncAnthropicVertex(region=region, project_id=PROJECT, access_token=TOKEN,
                                base_url=emulator.url, max_retries=0)


def _provider(emulator: VertexEmulator, region: str = REGION, **kw: Any) -> VertexProvider:
    kw.setdefault("anthropic_version", SDK_VERSION)
    return VertexProvider(base_url=emulator.url, project=PROJECT, region=region,
                          access_token=TOKEN, **kw)


def _assert_same(ours: HttpRequest, sdk: RecordedRequest) -> None:
    """Path, bearer token, betas, content type and parsed body (version included) are equal."""
    theirs = {k.lower(): v for k, v in sdk.headers.items()}
    assert urlsplit(ours.url).path == sdk.path
    for name in ("authorization", "anthropic-beta", "content-type"):
        assert ours.headers.get(name) == theirs.get(name), name
    assert msgspec.json.decode(ours.body) == msgspec.json.decode(sdk.body)


async def test_sdk_client_works_against_the_emulator(emulator: VertexEmulator) -> None:
    """AsyncAnthropicVertex creates, streams and counts tokens through the emulator."""
    sdk = _sdk(emulator)
    try:
        msg = await sdk.messages.create(model=MODEL, max_tokens=32, messages=MESSAGES)
        assert msg.content[0].text == "Echo: Tell me about Vertex"  # type: ignore[union-attr]
        assert msg.id.startswith("msg_vrtx_")
        async with sdk.messages.stream(model=MODEL, max_tokens=32, messages=MESSAGES) as stream:
            pieces = [t async for t in stream.text_stream]
            final = await stream.get_final_message()
        assert "".join(pieces) == "Echo: Tell me about Vertex"
        assert final.stop_reason == "end_turn"
        count = await sdk.messages.count_tokens(model=MODEL, messages=MESSAGES)
        assert count.input_tokens > 0
    finally:
        await sdk.close()
    base = f"/v1/projects/{PROJECT}/locations/{REGION}/publishers/anthropic/models/"
    assert [r.path for r in emulator.requests] == [
        base + MODEL + ":rawPredict", base + MODEL + ":streamRawPredict",
        base + "count-tokens:rawPredict"]


@pytest.mark.parametrize(("operation", "params"), [
    (CREATE, {"model": MODEL, "max_tokens": 32, "messages": MESSAGES,
              "system": "Be brief.", "metadata": {"user_id": "u-1"}}),
    (STREAM, {"model": MODEL, "max_tokens": 64, "messages": MESSAGES,
              "tools": TOOLS, "tool_choice": {"type": "auto"}, "stop_sequences": ["END"]}),
    (COUNT_TOKENS, {"model": MODEL, "messages": MESSAGES, "system": "Be brief."}),
])
async def test_request_matches_sdk(emulator: VertexEmulator, operation: str,
                                   params: dict[str, Any]) -> None:
    """Our prepared request equals the SDK's: URL model, body without model (kept for
    count-tokens), anthropic_version in the body, the bearer token."""
    sdk = _sdk(emulator)
    await sdk_roundtrip(sdk, operation, params)
    ours = await _provider(emulator).prepare(Call(operation=operation, params=dict(params)))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded)
    assert ("model" in msgspec.json.decode(ours.body)) is (operation == COUNT_TOKENS)
    default = await _provider(emulator, anthropic_version=None).prepare(
        Call(operation=operation, params=dict(params)))
    assert msgspec.json.decode(default.body)["anthropic_version"] == "vertex-2023-10-16"


async def test_global_region_and_betas_match_sdk(emulator: VertexEmulator) -> None:
    """In the global location with betas, path and anthropic-beta header match the SDK's."""
    params = {"model": MODEL, "max_tokens": 16, "messages": MESSAGES}
    betas = ["context-1m-2025-08-07", "token-efficient-tools-2025-02-19"]
    sdk = _sdk(emulator, "global")
    try:
        await sdk.beta.messages.create(**params, betas=betas)  # type: ignore[arg-type]
    finally:
        await sdk.close()
    ours = await _provider(emulator, "global").prepare(
        Call(operation=CREATE, params=dict(params), betas=tuple(betas)))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded)
    assert "/locations/global/" in recorded.path


async def test_client_and_sdk_send_the_same_body(emulator: VertexEmulator) -> None:
    """Through the whole clauderoute client, the body on the wire equals the SDK's, unknown
    fields included."""
    params = {"model": MODEL, "max_tokens": 24, "messages": MESSAGES,
              "stop_sequences": ["END"], "extra_body": {"future_field": {"x": 1}}}
    sdk = _sdk(emulator)
    try:
        await sdk.messages.create(**params)  # type: ignore[call-overload]
    finally:
        await sdk.close()
    async with cr.AsyncClient(providers=[_provider(emulator)]) as client:
        msg = await client.messages.create(**params)
    assert msg.route.provider == "vertex"
    sdk_req, our_req = emulator.requests
    assert msgspec.json.decode(our_req.body) == msgspec.json.decode(sdk_req.body)
    assert our_req.path == sdk_req.path
