"""Bedrock's three endpoints today: the model's API version (ARN-versioned InvokeModel models
keep their body version when the provider sends 2026-10-21; the Messages-API endpoints take the
version as a header, with 2026-10-21's rules), betas checked per endpoint against a cited list
before sending, and our bedrock-mantle requests equal to the newest SDK's
AsyncAnthropicBedrockMantle (path, header version, SigV4 scope, body)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator
from importlib.resources import files
from typing import Any

import msgspec
import pytest
from clauderoute_bedrock import BedrockEmulator, BedrockMantleEmulator, BedrockProvider
from clauderoute_bedrock.emulator import ACCESS_KEY, SECRET_KEY, AwsKey

import clauderoute as cr
from clauderoute.testing import sdk_roundtrip
from tests.official_sdk import SDK_WORKER

HELLO = [{"role": "user", "content": "hi"}]
Emulators = tuple[BedrockEmulator, BedrockMantleEmulator]


@pytest.fixture
async def emulators() -> AsyncIterator[Emulators]:
    async with BedrockEmulator() as invoke, BedrockMantleEmulator(
            keys={ACCESS_KEY: AwsKey(SECRET_KEY)}) as mantle:
        yield invoke, mantle


def _provider(emulators: Emulators, **settings: Any) -> BedrockProvider:
    invoke, mantle = emulators
    return BedrockProvider(base_url=invoke.url, mantle_base_url=mantle.url, region="us-east-1",
                           access_key=ACCESS_KEY, secret_key=SECRET_KEY, **settings)


async def test_each_model_gets_the_version_it_takes(emulators: Emulators) -> None:
    """Set to 2026-10-21: Opus 4.6 (ARN-versioned, InvokeModel) keeps bedrock-2023-05-31 in its
    body and today's rules (temperature passes); Opus 4.7 on bedrock-mantle gets the header and
    2026-10-21's rules (temperature refused, naming the provider, before sending)."""
    invoke, mantle = emulators
    async with cr.AsyncClient(providers=[_provider(emulators,
                                                   anthropic_version="2026-10-21")]) as c:
        await c.messages.create(model="claude-opus-4-6", max_tokens=5, messages=HELLO,
                                temperature=0.3)
        await c.messages.create(model="claude-opus-4-7", max_tokens=5, messages=HELLO)
        with pytest.raises(cr.InvalidRequest) as info:
            await c.messages.create(model="claude-opus-4-7", max_tokens=5, messages=HELLO,
                                    temperature=0.3)
    assert info.value.field == "temperature" and "'bedrock'" in str(info.value)
    (inv,) = invoke.requests
    assert inv.path == "/model/us.anthropic.claude-opus-4-6-v1/invoke"
    assert msgspec.json.decode(inv.body)["anthropic_version"] == "bedrock-2023-05-31"
    (msg,) = mantle.requests
    assert msg.headers["anthropic-version"] == "2026-10-21"
    assert msgspec.json.decode(msg.body)["model"] == "anthropic.claude-opus-4-7"


async def test_default_version_on_the_messages_api_is_2023_06_01(
        emulators: Emulators) -> None:
    """The default body version is no header value: the Messages API gets 2023-06-01, and
    InvokeModel keeps bedrock-2023-05-31."""
    invoke, mantle = emulators
    async with cr.AsyncClient(providers=[_provider(emulators)]) as c:
        await c.messages.create(model="claude-opus-4-7", max_tokens=5, messages=HELLO,
                                temperature=0.3)
        await c.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HELLO)
    assert mantle.requests[0].headers["anthropic-version"] == "2023-06-01"
    body = msgspec.json.decode(invoke.requests[0].body)
    assert body["anthropic_version"] == "bedrock-2023-05-31"
    assert invoke.requests[0].path == "/model/us.anthropic.claude-haiku-4-5-20251001-v1:0/invoke"


async def test_runtime_messages_endpoint(emulators: Emulators) -> None:
    """Forced to bedrock-runtime's Messages API: /anthropic on the InvokeModel host, the
    Messages-API id with the region's profile, SSE streams, token counts."""
    invoke, mantle = emulators
    provider = _provider(emulators, endpoint="runtime-messages")
    async with cr.AsyncClient(providers=[provider]) as c:
        async with c.messages.stream(model="claude-haiku-4-5", max_tokens=5,
                                     messages=HELLO) as stream:
            final = await stream.get_final_message()
        count = await c.messages.count_tokens(model="claude-haiku-4-5", messages=HELLO)
    assert final.text and count.input_tokens > 0 and not mantle.requests
    assert [r.path for r in invoke.requests] == ["/anthropic/v1/messages",
                                                 "/anthropic/v1/messages/count_tokens"]
    assert msgspec.json.decode(invoke.requests[0].body)["model"] == (
        "us.anthropic.claude-haiku-4-5")
    with pytest.raises(cr.ConfigurationError, match="runtime-messages"):
        _provider(emulators, endpoint="runtime")


async def test_betas_are_checked_per_endpoint_before_sending(emulators: Emulators) -> None:
    """A beta on the Messages-API list but not InvokeModel's is sent for a mantle model and
    refused for an InvokeModel one, naming the endpoint and how to extend the list; forced
    with betas=, it is sent (and the emulator, like Bedrock, answers invalid beta flag)."""
    invoke, mantle = emulators
    beta = "interleaved-thinking-2025-05-14"
    async with cr.AsyncClient(providers=[_provider(emulators)]) as c:
        await c.messages.create(model="claude-opus-4-7", max_tokens=5, messages=HELLO,
                                betas=[beta])
        with pytest.raises(cr.CapabilityError) as info:
            await c.messages.create(model="claude-opus-4-6", max_tokens=5, messages=HELLO,
                                    betas=[beta])
    text = str(info.value)
    assert "invoke endpoint" in text and beta in text and "betas setting" in text
    assert mantle.requests[0].headers["anthropic-beta"] == beta and not invoke.requests
    forced = _provider(emulators, betas=[beta])
    async with cr.AsyncClient(providers=[forced]) as c:
        with pytest.raises(cr.BadRequestError, match="invalid beta flag"):
            await c.messages.create(model="claude-opus-4-6", max_tokens=5, messages=HELLO,
                                    betas=[beta])
    assert msgspec.json.decode(invoke.requests[0].body)["anthropic_beta"] == [beta]


def test_beta_lists_cite_their_source() -> None:
    """betas.toml names its source and lists each endpoint's betas, sorted, without repeats."""
    data = tomllib.loads(files("clauderoute_bedrock").joinpath("betas.toml").read_text())
    assert "litellm" in data["source"] and "2026-12-04" in data["source"]
    for kind in ("invoke", "messages"):
        names = data[kind]
        assert names and names == sorted(set(names)), kind
        assert all(re.search(r"-\d{4}-?\d{2}-?\d{2}$", n) for n in names), kind  # dated


@SDK_WORKER
async def test_mantle_request_equals_the_sdks(emulators: Emulators) -> None:
    """The newest SDK's AsyncAnthropicBedrockMantle and our provider, both sending
    2026-10-21: same path, header version, SigV4 scope and body (the emulator verified both
    signatures)."""
    from anthropic import AsyncAnthropicBedrockMantle

    _invoke, mantle = emulators
    params = {"model": "anthropic.claude-opus-4-7", "max_tokens": 16, "messages": HELLO,
              "system": "Be brief."}
    sdk = AsyncAnthropicBedrockMantle(aws_access_key=ACCESS_KEY, aws_secret_key=SECRET_KEY,
                                      aws_region="us-east-1", base_url=mantle.url,
                                      max_retries=0)
    await sdk_roundtrip(sdk, "messages.create", params)
    theirs = mantle.requests[-1]
    ours = _provider(emulators, anthropic_version="2026-10-21", endpoint="mantle")
    async with cr.AsyncClient(providers=[ours]) as c:
        await c.messages.create(**params)
    mine = mantle.requests[-1]
    assert (theirs.method, theirs.path) == (mine.method, mine.path) == (
        "POST", "/anthropic/v1/messages")
    assert theirs.headers["anthropic-version"] == mine.headers["anthropic-version"] == (
        "2026-10-21")
    scope = "/us-east-1/bedrock-mantle/aws4_request"
    assert scope in theirs.headers["Authorization"] and scope in mine.headers["Authorization"]
    assert msgspec.json.decode(theirs.body) == msgspec.json.decode(mine.body)
