"""Fidelity with the official SDK (2.17): its ``AsyncAnthropicAWS`` works against our emulator —
messages, token counting, models, batches, files (GA and beta) and skills, signed with SigV4 (the
emulator verifies the SDK's signatures) or with an API key — and the requests we prepare match
the ones it sends: path, auth scheme, SigV4 scope (key, date, region, service), workspace
header, version, betas and body, at the emulator and at the real regional endpoint."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec
import pytest
from clauderoute_aws import AWSEmulator, AWSProvider
from clauderoute_aws.emulator import ACCESS_KEY, API_KEY, SECRET_KEY, WORKSPACE

import clauderoute as cr
from clauderoute.provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpRequest
from clauderoute.testing import RecordedRequest, default_reply, sdk_roundtrip
from tests.official_sdk import SDK_WORKER

if TYPE_CHECKING:
    from anthropic import AsyncAnthropicAWS

pytestmark = SDK_WORKER  # every test drives the official SDK

REGION = "us-west-2"
SDK_VERSION = "2026-10-21"  # what SDK 2.17 sends (anthropic/_constants.py)
MESSAGES = [{"role": "user", "content": "Tell me about AWS"}]
TOOLS = [{"name": "lookup", "description": "d", "input_schema": {"type": "object"}}]
SKILL = [("helper/SKILL.md", b"---\nname: helper\ndescription: Helps\n---\nUse me.\n")]
_SCOPE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,"
                    r" ?SignedHeaders=([^,]+),")


@pytest.fixture
async def emulator() -> AsyncIterator[AWSEmulator]:
    async with AWSEmulator(region=REGION) as emu:
        yield emu


def _sdk(emulator: AWSEmulator, *, sigv4: bool = True) -> AsyncAnthropicAWS:
    from anthropic import AsyncAnthropicAWS

    if sigv4:
        return AsyncAnthropicAWS(aws_access_key=ACCESS_KEY, aws_secret_key=SECRET_KEY,
                                 aws_region=REGION, workspace_id=WORKSPACE,
                                 base_url=emulator.url, max_retries=0)
    return AsyncAnthropicAWS(api_key=API_KEY, workspace_id=WORKSPACE, base_url=emulator.url,
                             max_retries=0)


def _ours(emulator: AWSEmulator, *, sigv4: bool = True) -> AWSProvider:
    creds: dict[str, Any] = ({"access_key": ACCESS_KEY, "secret_key": SECRET_KEY} if sigv4
                             else {"api_key": API_KEY})
    return AWSProvider(base_url=emulator.url, region=REGION, workspace_id=WORKSPACE,
                       anthropic_version=SDK_VERSION, **creds)


def _headers(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in dict(headers).items()}


def _scope(auth: str) -> tuple[tuple[str, ...], set[str]]:
    m = _SCOPE.match(auth)
    assert m is not None, auth[:30]
    return m.groups()[:4], set(m.group(5).split(";"))


def _assert_same(ours: HttpRequest, path: str, headers: dict[str, str], body: bytes) -> None:
    """Path, auth scheme (SigV4 scope, or the bearer key), workspace, version, betas, content
    type and parsed body are equal."""
    mine = _headers(ours.headers)
    assert urlsplit(ours.url).path == path
    for name in ("anthropic-workspace-id", "anthropic-version", "anthropic-beta",
                 "content-type", "x-amz-security-token"):
        assert mine.get(name) == headers.get(name), name
    if headers["authorization"].startswith("Bearer "):
        assert mine["authorization"] == headers["authorization"]
    else:
        (theirs_scope, theirs_signed), (our_scope, our_signed) = (
            _scope(headers["authorization"]), _scope(mine["authorization"]))
        assert our_scope == theirs_scope
        # The SDK signs its telemetry headers too (x-stainless-*); both sign these.
        common = {"host", "x-amz-date", "anthropic-workspace-id", "anthropic-version",
                  "content-type"}
        assert common <= our_signed and common <= theirs_signed
    assert msgspec.json.decode(ours.body) == msgspec.json.decode(body)


def _recorded(r: RecordedRequest) -> tuple[str, dict[str, str], bytes]:
    return r.path, _headers(r.headers), r.body


@pytest.mark.parametrize("sigv4", [True, False])
async def test_sdk_messages_against_the_emulator(emulator: AWSEmulator, sigv4: bool) -> None:
    """AsyncAnthropicAWS creates, streams and counts tokens here (its signatures verified)."""
    sdk = _sdk(emulator, sigv4=sigv4)
    try:
        msg = await sdk.messages.create(model="claude-haiku-4-5", max_tokens=32,
                                        messages=MESSAGES)
        assert msg.content[0].text == "Echo: Tell me about AWS"  # type: ignore[union-attr]
        async with sdk.messages.stream(model="claude-haiku-4-5", max_tokens=32,
                                       messages=MESSAGES) as stream:
            pieces = [t async for t in stream.text_stream]
            final = await stream.get_final_message()
        assert "".join(pieces) == "Echo: Tell me about AWS" and final.stop_reason == "end_turn"
        count = await sdk.messages.count_tokens(model="claude-haiku-4-5", messages=MESSAGES)
        assert count.input_tokens == 7
    finally:
        await sdk.close()
    assert [r.path for r in emulator.requests] == [
        "/v1/messages", "/v1/messages", "/v1/messages/count_tokens"]
    assert {r.headers["anthropic-workspace-id"] for r in emulator.requests} == {WORKSPACE}


async def test_sdk_resources_against_the_emulator(emulator: AWSEmulator) -> None:
    """Models, batches, files (GA client.files and beta) and skills through the SDK with SigV4
    — its signed multipart uploads verify — and read back by our client."""
    emulator.require_betas = False  # Files and Skills are GA since 2026-08-19
    sdk = _sdk(emulator)
    try:
        models = [m.id async for m in sdk.models.list(limit=2)]
        assert (await sdk.models.retrieve(models[0])).id == models[0]
        batch = await sdk.messages.batches.create(requests=[{"custom_id": "q", "params": {
            "model": "claude-haiku-4-5", "max_tokens": 8, "messages": MESSAGES}}])
        assert (await sdk.messages.batches.retrieve(batch.id)).processing_status == "ended"
        results = [r async for r in await sdk.messages.batches.results(batch.id)]
        assert [r.result.type for r in results] == ["succeeded"]
        up = await sdk.files.upload(file=("n.txt", b"ga upload", "text/plain"))
        beta_up = await sdk.beta.files.upload(file=("b.txt", b"beta upload", "text/plain"))
        skill = await sdk.beta.skills.create(files=SKILL, betas=["skills-2025-10-02"])
    finally:
        await sdk.close()
    async with cr.AsyncClient(providers=[_ours(emulator)]) as client:
        assert (await client.beta.files.retrieve_metadata(up.id)).size_bytes == 9
        assert await (await client.beta.files.download(beta_up.id)).read() == b"beta upload"
        assert (await client.beta.skills.retrieve(skill.id)).id == skill.id
        assert (await client.messages.batches.retrieve(batch.id)).request_counts.succeeded == 1
    assert all(r.headers["Authorization"].startswith("AWS4-HMAC-SHA256")
               for r in emulator.requests)


@pytest.mark.parametrize("sigv4", [True, False])
@pytest.mark.parametrize(("operation", "params"), [
    (CREATE, {"model": "claude-haiku-4-5", "max_tokens": 32, "messages": MESSAGES,
              "system": "Be brief.", "metadata": {"user_id": "u-1"}}),
    (STREAM, {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": MESSAGES,
              "tools": TOOLS, "tool_choice": {"type": "auto"}, "stop_sequences": ["END"]}),
    (COUNT_TOKENS, {"model": "claude-opus-4-1", "messages": MESSAGES, "system": "Be brief."}),
])
async def test_request_matches_sdk(emulator: AWSEmulator, operation: str,
                                   params: dict[str, Any], sigv4: bool) -> None:
    """Our prepared request equals the SDK's for the same parameters, version and credential."""
    await sdk_roundtrip(_sdk(emulator, sigv4=sigv4), operation, params)
    ours = await _ours(emulator, sigv4=sigv4).prepare(
        Call(operation=operation, params=dict(params)))
    (recorded,) = emulator.requests
    _assert_same(ours, *_recorded(recorded))


async def test_betas_match_sdk(emulator: AWSEmulator) -> None:
    """Betas travel as one comma-joined anthropic-beta header, signed, as the SDK sends them."""
    params = {"model": "claude-haiku-4-5", "max_tokens": 16, "messages": MESSAGES}
    betas = ("context-1m-2025-08-07", "token-efficient-tools-2025-02-19")
    await sdk_roundtrip(_sdk(emulator), CREATE, params, betas)
    ours = await _ours(emulator).prepare(Call(operation=CREATE, params=dict(params),
                                              betas=betas))
    (recorded,) = emulator.requests
    _assert_same(ours, *_recorded(recorded))
    assert "anthropic-beta" in _scope(ours.headers["Authorization"])[1]


async def test_real_endpoint_matches_sdk() -> None:
    """At the real regional endpoint (the SDK's request captured by an httpx transport, no
    network): the same URL, host and SigV4 scope — region eu-west-1, service
    aws-external-anthropic — session token, workspace header and body."""
    import httpx2
    from anthropic import AsyncAnthropicAWS

    seen: list[httpx2.Request] = []
    params = {"model": "claude-haiku-4-5", "max_tokens": 8, "messages": MESSAGES}

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=default_reply(params, "claude-haiku-4-5", "msg_1"))

    sdk = AsyncAnthropicAWS(aws_access_key=ACCESS_KEY, aws_secret_key=SECRET_KEY,
                            aws_session_token="tok-1", aws_region="eu-west-1",
                            workspace_id=WORKSPACE, max_retries=0,
                            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)))
    try:
        await sdk.messages.create(**params)  # type: ignore[arg-type]
    finally:
        await sdk.close()
    ours = await AWSProvider(region="eu-west-1", workspace_id=WORKSPACE, access_key=ACCESS_KEY,
                             secret_key=SECRET_KEY, session_token="tok-1",
                             anthropic_version=SDK_VERSION).prepare(
        Call(operation=CREATE, params=dict(params)))
    (theirs,) = seen
    assert ours.url == str(theirs.url) == (
        "https://aws-external-anthropic.eu-west-1.api.aws/v1/messages")
    _assert_same(ours, theirs.url.path, _headers(theirs.headers), theirs.content)
    assert _scope(ours.headers["Authorization"])[0][2:] == ("eu-west-1", "aws-external-anthropic")
