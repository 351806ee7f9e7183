"""Fidelity of the resources with the official SDK: its models, batches, files and skills calls
work against our emulator, our client reads what the SDK wrote (and the reverse) with equal
results, and our requests match the SDK's (method, path, query, beta header, body)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute.testing import RecordedRequest
from tests.official_sdk import SDK_WORKER

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

pytestmark = SDK_WORKER  # every test drives the official SDK

KEY = "test-anthropic-key"
FILES = ["files-api-2025-04-14"]
SKILLS = ["skills-2025-10-02"]
SKILL = [("helper/SKILL.md", b"---\nname: helper\ndescription: Helps\n---\nUse me.\n"),
         ("helper/notes.txt", b"notes")]


def _params(text: str) -> dict[str, Any]:
    return {"model": "claude-haiku-4-5", "max_tokens": 32,
            "messages": [{"role": "user", "content": text}]}


@pytest.fixture
async def emu() -> AsyncIterator[AnthropicEmulator]:
    async with AnthropicEmulator(api_key=KEY) as server:
        yield server


@pytest.fixture
async def sdk(emu: AnthropicEmulator) -> AsyncIterator[AsyncAnthropic]:
    from anthropic import AsyncAnthropic

    client = AsyncAnthropic(base_url=emu.url, api_key=KEY, max_retries=0)
    yield client
    await client.close()


@pytest.fixture
async def ours(emu: AnthropicEmulator) -> AsyncIterator[cr.AsyncClient]:
    async with cr.AsyncClient(providers=[AnthropicProvider(base_url=emu.url, api_key=KEY)]) as c:
        yield c


def _shape(r: RecordedRequest) -> tuple[str, str, list[tuple[str, str]], str | None]:
    u = urlsplit(r.path)
    beta = {k.lower(): v for k, v in r.headers.items()}.get("anthropic-beta")
    return r.method, u.path, sorted(parse_qsl(u.query)), beta


async def test_models_equal(sdk: AsyncAnthropic, ours: cr.AsyncClient,
                            emu: AnthropicEmulator) -> None:
    theirs = [m async for m in sdk.models.list(limit=1)]
    mine = [m async for m in ours.models.list(limit=1)]
    assert [(m.id, m.display_name, m.created_at) for m in theirs] == [
        (m.id, m.display_name, m.created_at) for m in mine]
    pages = [r for r in emu.requests if r.operation == "models.list"]
    half = len(pages) // 2
    assert [_shape(r) for r in pages[:half]] == [_shape(r) for r in pages[half:]]
    one = await sdk.models.retrieve("claude-haiku-4-5")
    assert one.id == (await ours.models.retrieve("claude-haiku-4-5")).id


async def test_batches_equal(sdk: AsyncAnthropic, ours: cr.AsyncClient,
                             emu: AnthropicEmulator) -> None:
    requests: list[Any] = [{"custom_id": "q1", "params": _params("one two")},
                           {"custom_id": "q2", "params": {**_params("x"), "model": "invalid-x"}}]
    made = await sdk.messages.batches.create(requests=requests)
    theirs_req = emu.requests[-1]
    mine_made = await ours.messages.batches.create(requests=requests)
    mine_req = emu.requests[-1]
    assert _shape(theirs_req) == _shape(mine_req)
    assert msgspec.json.decode(theirs_req.body) == msgspec.json.decode(mine_req.body)
    assert made.processing_status == mine_made.processing_status == "in_progress"
    ended = await sdk.messages.batches.retrieve(made.id)
    assert ended.processing_status == "ended" and ended.request_counts.errored == 1
    mine = await ours.messages.batches.retrieve(made.id)  # the SDK's batch, read by us
    assert (mine.processing_status, mine.request_counts.succeeded, mine.ended_at) == (
        "ended", ended.request_counts.succeeded, ended.ended_at)
    theirs = [r async for r in await sdk.messages.batches.results(made.id)]
    mine_results = [r async for r in await ours.messages.batches.results(made.id)]
    assert [(r.custom_id, r.result.type) for r in theirs] == [
        (r.custom_id, r.result.type) for r in mine_results] == [("q1", "succeeded"),
                                                                ("q2", "errored")]
    assert theirs[0].result.message.content[0].text == (  # type: ignore[union-attr]
        mine_results[0].result.message.text)  # type: ignore[union-attr]
    listed = [b.id async for b in sdk.messages.batches.list(limit=1)]
    assert listed == [b.id async for b in ours.messages.batches.list(limit=1)]
    assert listed == [mine_made.id, made.id]
    await ours.messages.batches.retrieve(mine_made.id)
    canceled = await sdk.messages.batches.cancel(mine_made.id)  # already ended: unchanged
    assert canceled.processing_status == "ended"
    assert (await sdk.messages.batches.delete(mine_made.id)).type == "message_batch_deleted"
    assert (await ours.messages.batches.delete(made.id)).id == made.id


async def test_files_equal(sdk: AsyncAnthropic, ours: cr.AsyncClient,
                           emu: AnthropicEmulator) -> None:
    blob = bytes(range(256)) * 1000
    up = await sdk.beta.files.upload(file=("data.bin", blob, "application/octet-stream"),
                                     betas=FILES)
    theirs_req = emu.requests[-1]
    theirs_form = emu.last_form
    mine_up = await ours.beta.files.upload(file=("data.bin", blob, "application/octet-stream"))
    assert _shape(theirs_req) == _shape(emu.requests[-1])
    assert theirs_form == emu.last_form == [("file", "data.bin", "application/octet-stream",
                                             len(blob))]
    assert (up.filename, up.size_bytes, up.mime_type) == (
        mine_up.filename, mine_up.size_bytes, mine_up.mime_type)
    assert await (await ours.beta.files.download(up.id)).read() == blob
    theirs_dl = await sdk.beta.files.download(mine_up.id, betas=FILES)
    assert await theirs_dl.read() == blob
    meta = await sdk.beta.files.retrieve_metadata(mine_up.id, betas=FILES)
    assert meta.id == (await ours.beta.files.retrieve_metadata(mine_up.id)).id
    theirs_list = [f.id async for f in sdk.beta.files.list(limit=1, betas=FILES)]
    assert theirs_list == [f.id async for f in ours.beta.files.list(limit=1)]
    assert theirs_list == [mine_up.id, up.id]
    assert (await sdk.beta.files.delete(up.id, betas=FILES)).id == up.id
    assert [f.id async for f in ours.beta.files.list()] == [mine_up.id]


async def test_skills_equal(sdk: AsyncAnthropic, ours: cr.AsyncClient,
                            emu: AnthropicEmulator) -> None:
    made = await sdk.beta.skills.create(files=SKILL, betas=SKILLS)
    sdk_req, sdk_form = emu.requests[-1], emu.last_form
    mine = await ours.beta.skills.create(files=SKILL)
    assert _shape(sdk_req) == _shape(emu.requests[-1])
    assert [f[:2] + f[3:] for f in sdk_form] == [f[:2] + f[3:] for f in emu.last_form] == [
        ("files[]", "helper/SKILL.md", len(SKILL[0][1])), ("files[]", "helper/notes.txt", 5)]
    got = await ours.beta.skills.retrieve(made.id)
    assert (got.display_name, got.latest_version_id) == (made.display_name,
                                                         made.latest_version_id)
    theirs = await sdk.beta.skills.retrieve(mine.id, betas=SKILLS)
    assert theirs.latest_version_id == mine.latest_version_id
    listed = [s.id async for s in sdk.beta.skills.list(limit=1, betas=SKILLS)]
    assert listed == [s.id async for s in ours.beta.skills.list(limit=1)] == [mine.id, made.id]
    version = await sdk.beta.skills.versions.create(made.id, files=SKILL, betas=SKILLS)
    versions = [v.id async for v in ours.beta.skills.versions.list(made.id)]
    assert versions[0] == version.id and len(versions) == 2
    assert (await sdk.beta.skills.delete(mine.id, betas=SKILLS)).type == "skill_deleted"
    assert [s.id async for s in ours.beta.skills.list()] == [made.id]
