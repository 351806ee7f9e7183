"""Fidelity with the official SDK (2.17): its ``AsyncAnthropicGoogleCloud`` works against our
emulator — messages, token counting, models, batches, files (GA and beta) and skills — and the
requests we prepare match the ones it sends (path, bearer token, version, betas, body), at the
emulator and at the real origin; the gateway root is derived exactly as the SDK derives it, for
any project, location and workspace."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec
import pytest
from clauderoute_google_cloud import GoogleCloudEmulator, GoogleCloudProvider
from hypothesis import given
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute.provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpRequest
from clauderoute.testing import default_reply, sdk_roundtrip
from tests.official_sdk import SDK_WORKER

if TYPE_CHECKING:
    import httpx2
    from anthropic import AsyncAnthropicGoogleCloud

pytestmark = SDK_WORKER  # every test drives the official SDK

TOKEN = "ya29.fidelity-" + "t" * 24
SDK_VERSION = "2026-10-21"  # what SDK 2.17 sends (anthropic/_constants.py)
MESSAGES = [{"role": "user", "content": "Tell me about Google Cloud"}]
TOOLS = [{"name": "lookup", "description": "d", "input_schema": {"type": "object"}}]
SKILL = [("helper/SKILL.md", b"---\nname: helper\ndescription: Helps\n---\nUse me.\n")]
SEGMENT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=12)


@pytest.fixture
async def emulator() -> AsyncIterator[GoogleCloudEmulator]:
    async with GoogleCloudEmulator(tokens=[TOKEN]) as emu:
        yield emu


def _sdk(emulator: GoogleCloudEmulator) -> AsyncAnthropicGoogleCloud:
    from anthropic import AsyncAnthropicGoogleCloud

    return AsyncAnthropicGoogleCloud(
        token_provider=lambda: TOKEN, base_url=emulator.url, max_retries=0
    )


def _assert_same(ours: HttpRequest, path: str, headers: Any, body: bytes) -> None:
    """Path, bearer token, version, betas, content type and parsed body are equal."""
    theirs = {k.lower(): v for k, v in dict(headers).items()}
    assert urlsplit(ours.url).path == path
    for name in (
        "authorization",
        "anthropic-version",
        "anthropic-beta",
        "content-type",
        "anthropic-workspace-id",
    ):
        assert ours.headers.get(name) == theirs.get(name), name
    assert msgspec.json.decode(ours.body) == msgspec.json.decode(body)


async def test_sdk_messages_against_the_emulator(emulator: GoogleCloudEmulator) -> None:
    """AsyncAnthropicGoogleCloud creates, streams and counts tokens under the workspace root."""
    sdk = _sdk(emulator)
    try:
        msg = await sdk.messages.create(model="claude-haiku-4-5", max_tokens=32, messages=MESSAGES)
        assert msg.content[0].text == "Echo: Tell me about Google Cloud"  # type: ignore[union-attr]
        async with sdk.messages.stream(
            model="claude-haiku-4-5", max_tokens=32, messages=MESSAGES
        ) as stream:
            pieces = [t async for t in stream.text_stream]
        assert "".join(pieces) == "Echo: Tell me about Google Cloud"
        count = await sdk.messages.count_tokens(model="claude-haiku-4-5", messages=MESSAGES)
        assert count.input_tokens == 8
    finally:
        await sdk.close()
    root = urlsplit(emulator.url).path
    assert [r.path for r in emulator.requests] == [
        root + "/v1/messages",
        root + "/v1/messages",
        root + "/v1/messages/count_tokens",
    ]


async def test_sdk_resources_against_the_emulator(emulator: GoogleCloudEmulator) -> None:
    """Models, batches (their results_url under the workspace root), files (GA and beta) and
    skills through the SDK, read back by our client."""
    emulator.require_betas = False  # Files and Skills are GA since 2026-08-19
    sdk = _sdk(emulator)
    try:
        models = [m.id async for m in sdk.models.list(limit=2)]
        assert (await sdk.models.retrieve(models[0])).id == models[0]
        batch = await sdk.messages.batches.create(
            requests=[
                {
                    "custom_id": "q",
                    "params": {"model": "claude-haiku-4-5", "max_tokens": 8, "messages": MESSAGES},
                }
            ]
        )
        assert (await sdk.messages.batches.retrieve(batch.id)).processing_status == "ended"
        results = [r async for r in await sdk.messages.batches.results(batch.id)]
        assert [r.result.type for r in results] == ["succeeded"]
        up = await sdk.files.upload(file=("n.txt", b"ga upload", "text/plain"))
        beta_up = await sdk.beta.files.upload(file=("b.txt", b"beta upload", "text/plain"))
        skill = await sdk.beta.skills.create(files=SKILL, betas=["skills-2025-10-02"])
    finally:
        await sdk.close()
    provider = GoogleCloudProvider(base_url=emulator.url, access_token=TOKEN)
    async with cr.AsyncClient(providers=[provider]) as client:
        assert (await client.beta.files.retrieve_metadata(up.id)).size_bytes == 9
        assert await (await client.beta.files.download(beta_up.id)).read() == b"beta upload"
        assert (await client.beta.skills.retrieve(skill.id)).id == skill.id
        assert (await client.messages.batches.retrieve(batch.id)).request_counts.succeeded == 1


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        (
            CREATE,
            {
                "model": "claude-haiku-4-5",
                "max_tokens": 32,
                "messages": MESSAGES,
                "system": "Be brief.",
                "metadata": {"user_id": "u-1"},
            },
        ),
        (
            STREAM,
            {
                "model": "claude-haiku-4-5",
                "max_tokens": 64,
                "messages": MESSAGES,
                "tools": TOOLS,
                "tool_choice": {"type": "auto"},
                "stop_sequences": ["END"],
            },
        ),
        (COUNT_TOKENS, {"model": "claude-opus-4-1", "messages": MESSAGES, "system": "Be brief."}),
    ],
)
async def test_request_matches_sdk(
    emulator: GoogleCloudEmulator, operation: str, params: dict[str, Any]
) -> None:
    """Our prepared request equals the SDK's for the same parameters and version."""
    await sdk_roundtrip(_sdk(emulator), operation, params)
    ours = await GoogleCloudProvider(
        base_url=emulator.url, access_token=TOKEN, anthropic_version=SDK_VERSION
    ).prepare(Call(operation=operation, params=dict(params)))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded.path, recorded.headers, recorded.body)


async def test_betas_match_sdk(emulator: GoogleCloudEmulator) -> None:
    """Betas travel as one comma-joined anthropic-beta header, as the SDK sends them."""
    params = {"model": "claude-haiku-4-5", "max_tokens": 16, "messages": MESSAGES}
    betas = ("context-1m-2025-08-07", "token-efficient-tools-2025-02-19")
    await sdk_roundtrip(_sdk(emulator), CREATE, params, betas)
    ours = await GoogleCloudProvider(
        base_url=emulator.url, access_token=TOKEN, anthropic_version=SDK_VERSION
    ).prepare(Call(operation=CREATE, params=dict(params), betas=betas))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded.path, recorded.headers, recorded.body)


async def test_real_origin_matches_sdk() -> None:
    """At the real origin (the SDK's request captured by an httpx transport, no network): the
    same derived URL for project, location and workspace, bearer token and body."""
    import httpx2
    from anthropic import AsyncAnthropicGoogleCloud

    seen: list[httpx2.Request] = []
    params = {"model": "claude-haiku-4-5", "max_tokens": 8, "messages": MESSAGES}

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=default_reply(params, "claude-haiku-4-5", "msg_1"))

    sdk = AsyncAnthropicGoogleCloud(
        project="my-proj",
        location="us-east5",
        workspace_id="wrkspc_01X",
        token_provider=lambda: TOKEN,
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )
    try:
        await sdk.messages.create(**params)  # type: ignore[arg-type]
    finally:
        await sdk.close()
    ours = await GoogleCloudProvider(
        project="my-proj",
        location="us-east5",
        workspace_id="wrkspc_01X",
        access_token=TOKEN,
        anthropic_version=SDK_VERSION,
    ).prepare(Call(operation=CREATE, params=dict(params)))
    (theirs,) = seen
    assert (
        ours.url
        == str(theirs.url)
        == (
            "https://claude.googleapis.com/v1/projects/my-proj/locations/us-east5/workspaces/"
            "wrkspc_01X/invoke/v1/messages"
        )
    )
    _assert_same(ours, theirs.url.raw_path.decode(), theirs.headers, theirs.content)


@functools.cache
def _unused_http() -> httpx2.AsyncClient:
    """One HTTP client for every SDK client of the property below: the SDK's default one loads
    the system's CA certificates (~30 ms of CPU each time, 3 s over the examples); none sends.
    Made by the first example, not while collecting (the SDK's HTTP library is its own)."""
    import httpx2

    return httpx2.AsyncClient()


@given(project=SEGMENT, location=SEGMENT, workspace=SEGMENT)
def test_derivation_equals_the_sdks(project: str, location: str, workspace: str) -> None:
    """For any project, location and workspace, our gateway root is the SDK client's
    ``base_url``, or both refuse the values (empty, or a dot segment)."""
    from anthropic import AnthropicError, AsyncAnthropicGoogleCloud

    try:
        sdk = AsyncAnthropicGoogleCloud(
            project=project,
            location=location,
            workspace_id=workspace,
            token_provider=lambda: "t",
            http_client=_unused_http(),
        )
    except (ValueError, AnthropicError):
        theirs = None
    else:
        theirs = str(sdk.base_url).rstrip("/")
    try:
        ours = GoogleCloudProvider(
            project=project, location=location, workspace_id=workspace, access_token="t"
        ).base_url
    except cr.ConfigurationError:
        ours = None
    assert ours == theirs
