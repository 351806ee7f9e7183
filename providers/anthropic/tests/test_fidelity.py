"""Fidelity with the official SDK on the Claude API: its client works against our emulator
(create, stream, count tokens, a 529 retried by the SDK's own policy), and the requests we
prepare match the ones it sends for the same parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec
import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpRequest
from clauderoute.testing import Fault, RecordedRequest, no_backoff, sdk_roundtrip
from tests.official_sdk import SDK_WORKER

if TYPE_CHECKING:
    import anthropic

pytestmark = SDK_WORKER  # every test drives the official SDK

KEY = "sk-ant-fidelity-" + "k" * 24
MESSAGES = [{"role": "user", "content": "Tell me about Claude"}]
TOOLS = [{"name": "lookup", "description": "d", "input_schema": {"type": "object"}}]
CREDENTIAL_HEADERS = ("x-api-key", "authorization")


@pytest.fixture
async def emulator() -> AsyncIterator[AnthropicEmulator]:
    async with AnthropicEmulator(api_key=KEY) as emu:
        yield emu


def _sdk_version() -> str:
    """SDK 2.x sends its own anthropic-version and the API key as `Authorization: Bearer`;
    ours default to 2023-06-01 and x-api-key, so comparisons use the SDK's forms."""
    import anthropic

    return anthropic._constants.ANTHROPIC_API_VERSION


def _sdk(emulator: AnthropicEmulator, retries: int = 0) -> anthropic.AsyncAnthropic:
    import anthropic

    return anthropic.AsyncAnthropic(api_key=KEY, base_url=emulator.url, max_retries=retries)


def _headers(recorded: RecordedRequest) -> dict[str, str]:
    return {k.lower(): v for k, v in recorded.headers.items()}


def _assert_same(ours: HttpRequest, sdk: RecordedRequest) -> None:
    """Path, credential, version, betas, content type and parsed body are equal."""
    theirs = _headers(sdk)
    assert urlsplit(ours.url).path == sdk.path
    for name in (*CREDENTIAL_HEADERS, "anthropic-version", "anthropic-beta", "content-type"):
        assert ours.headers.get(name) == theirs.get(name), name
    assert msgspec.json.decode(ours.body) == msgspec.json.decode(sdk.body)


async def test_sdk_client_works_against_the_emulator(emulator: AnthropicEmulator) -> None:
    """AsyncAnthropic creates, streams (text and final message) and counts tokens here."""
    sdk = _sdk(emulator)
    try:
        msg = await sdk.messages.create(model="claude-haiku-4-5", max_tokens=32,
                                        messages=MESSAGES)
        assert msg.content[0].text == "Echo: Tell me about Claude"  # type: ignore[union-attr]
        assert msg.usage.input_tokens > 0 and msg.stop_reason == "end_turn"
        async with sdk.messages.stream(model="claude-haiku-4-5", max_tokens=32,
                                       messages=MESSAGES) as stream:
            pieces = [t async for t in stream.text_stream]
            final = await stream.get_final_message()
        assert "".join(pieces) == "Echo: Tell me about Claude"
        assert final.content[0].text == "".join(pieces)  # type: ignore[union-attr]
        count = await sdk.messages.count_tokens(model="claude-haiku-4-5", messages=MESSAGES)
        assert count.input_tokens > 0
    finally:
        await sdk.close()
    assert [r.path for r in emulator.requests] == [
        "/v1/messages", "/v1/messages", "/v1/messages/count_tokens"]


async def test_sdk_errors_and_retries_match_ours(emulator: AnthropicEmulator) -> None:
    """A 529 from the emulator is retried by the SDK and by us; a 400 is an error of the same
    name, status, type and request id in both."""
    import anthropic

    # (a short retry-after, which the SDK honours, instead of its own backoff of ~0.5 s)
    emulator.faults.add(Fault(status=529, retry_after=0.01))
    sdk = _sdk(emulator, retries=1)
    try:
        msg = await sdk.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                        messages=MESSAGES)
        assert msg.stop_reason == "end_turn"
        assert len(emulator.requests) == 2  # the SDK retried the 529 once
        emulator.faults.add(Fault(status=400, error_type="invalid_request_error",
                                  message="bad thing"))
        with pytest.raises(anthropic.BadRequestError) as sdk_err:
            await sdk.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                      messages=MESSAGES)
    finally:
        await sdk.close()

    emulator.faults.add(Fault(status=529))
    provider = AnthropicProvider(api_key=KEY, base_url=emulator.url, max_retries=2)
    with no_backoff():
        client = cr.AsyncClient(providers=[provider])
        async with client:
            ours = await client.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                                messages=MESSAGES)
            assert [a.status for a in ours.route.attempts] == [529, 200]
            emulator.faults.add(Fault(status=400, error_type="invalid_request_error",
                                      message="bad thing"))
            with pytest.raises(cr.BadRequestError) as our_err:
                await client.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                             messages=MESSAGES)
    assert our_err.value.status_code == sdk_err.value.status_code == 400
    assert our_err.value.error_type == sdk_err.value.body["error"]["type"]  # type: ignore[index]
    assert "bad thing" in str(our_err.value) and "bad thing" in str(sdk_err.value)
    assert our_err.value.request_id and sdk_err.value.request_id
    assert our_err.value.request_id != sdk_err.value.request_id  # each its own request


@pytest.mark.parametrize(("operation", "params"), [
    (CREATE, {"model": "claude-haiku-4-5", "max_tokens": 32, "messages": MESSAGES,
              "system": "Be brief.", "metadata": {"user_id": "u-1"}}),
    (STREAM, {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": MESSAGES,
              "tools": TOOLS, "tool_choice": {"type": "auto"}, "stop_sequences": ["END"]}),
    (COUNT_TOKENS, {"model": "claude-opus-4-8", "messages": MESSAGES, "system": "Be brief."}),
])
async def test_request_matches_sdk(emulator: AnthropicEmulator, operation: str,
                                   params: dict[str, Any]) -> None:
    """Our prepared request equals the SDK's for the same parameters and version."""
    sdk = _sdk(emulator)
    await sdk_roundtrip(sdk, operation, params)
    provider = AnthropicProvider(auth_token=KEY, base_url=emulator.url,
                                 anthropic_version=_sdk_version())
    ours = await provider.prepare(Call(operation=operation, params=dict(params)))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded)


async def test_betas_match_sdk(emulator: AnthropicEmulator) -> None:
    """Betas travel as one comma-joined anthropic-beta header, as the SDK sends them."""
    params = {"model": "claude-haiku-4-5", "max_tokens": 16, "messages": MESSAGES}
    betas = ["context-1m-2025-08-07", "token-efficient-tools-2025-02-19"]
    sdk = _sdk(emulator)
    try:
        await sdk.beta.messages.create(**params, betas=betas)  # type: ignore[arg-type]
    finally:
        await sdk.close()
    provider = AnthropicProvider(auth_token=KEY, base_url=emulator.url,
                                 anthropic_version=_sdk_version())
    ours = await provider.prepare(Call(operation=CREATE, params=dict(params), betas=tuple(betas)))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded)
    assert ours.headers["anthropic-beta"] == ",".join(betas)


async def test_client_and_sdk_send_the_same_body(emulator: AnthropicEmulator) -> None:
    """Through the whole client, unknown fields included, the body equals the SDK's, and both
    parse the same answer into the same content and usage."""
    params = {"model": "claude-haiku-4-5", "max_tokens": 24, "messages": MESSAGES,
              "stop_sequences": ["END"], "extra_body": {"future_field": {"x": 1}}}
    sdk = _sdk(emulator)
    try:
        theirs = await sdk.messages.create(**params)  # type: ignore[call-overload]
    finally:
        await sdk.close()
    async with cr.AsyncClient(providers=[AnthropicProvider(api_key=KEY,
                                                           base_url=emulator.url)]) as client:
        ours = await client.messages.create(**params)
    sdk_req, our_req = emulator.requests
    assert msgspec.json.decode(our_req.body) == msgspec.json.decode(sdk_req.body)
    assert ours.text == theirs.content[0].text  # type: ignore[union-attr]
    assert (ours.usage.input_tokens, ours.usage.output_tokens) == (
        theirs.usage.input_tokens, theirs.usage.output_tokens)
