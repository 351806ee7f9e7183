"""Files and Skills, generally available: the newest official SDK's top-level ``client.files``
and ``client.skills`` work against our emulator without a beta header, our ``client.files`` /
``client.skills`` send the same requests (method, path, query, no beta header, the same form
parts), and each reads what the other wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute.testing import RecordedRequest
from tests.official_sdk import SDK_WORKER

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

pytestmark = SDK_WORKER  # every test drives the official SDK

KEY = "test-anthropic-key"
SKILL = [("helper/SKILL.md", b"---\nname: helper\ndescription: Helps\n---\nUse me.\n"),
         ("helper/notes.txt", b"notes")]


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
    provider = AnthropicProvider(base_url=emu.url, api_key=KEY, anthropic_version="2026-10-21")
    async with cr.AsyncClient(providers=[provider]) as c:
        yield c


def _shape(r: RecordedRequest) -> tuple[str, str, list[tuple[str, str]], str | None, str]:
    u = urlsplit(r.path)
    h = {k.lower(): v for k, v in r.headers.items()}
    return r.method, u.path, sorted(parse_qsl(u.query)), h.get("anthropic-beta"), h.get(
        "anthropic-version", "")


def test_the_reference_sdk_has_the_ga_namespaces() -> None:
    """The installed reference is the SDK whose files/skills are GA (a guard on the test
    requirements, >=2.17)."""
    import anthropic
    from anthropic import AsyncAnthropic

    major, minor = (int(x) for x in anthropic.__version__.split(".")[:2])
    assert (major, minor) >= (2, 17)
    assert hasattr(AsyncAnthropic, "files") and hasattr(AsyncAnthropic, "skills")


async def test_files_ga_equal(sdk: AsyncAnthropic, ours: cr.AsyncClient,
                              emu: AnthropicEmulator) -> None:
    blob = bytes(range(256)) * 300
    up = await sdk.files.upload(file=("data.bin", blob, "application/octet-stream"),
                                expires_in_seconds=7200)
    theirs_req, theirs_form = emu.requests[-1], emu.last_form
    mine = await ours.files.upload(file=("data.bin", blob, "application/octet-stream"),
                                   expires_in_seconds=7200)
    assert _shape(theirs_req) == _shape(emu.requests[-1])
    assert _shape(theirs_req)[3] is None  # no beta header
    assert theirs_form == emu.last_form == [("expires_in_seconds", None, None, 4),
                                            ("file", "data.bin", "application/octet-stream",
                                             len(blob))]
    assert (up.filename, up.size_bytes, up.expires_at is not None) == (
        mine.filename, mine.size_bytes, mine.expires_at is not None)
    # Each reads what the other wrote.
    assert await (await ours.files.download(up.id)).read() == blob
    assert await (await sdk.files.download(mine.id)).read() == blob
    meta = await sdk.files.retrieve_metadata(mine.id)
    assert (meta.id, meta.expires_at) == (mine.id, mine.expires_at)
    assert (await ours.files.retrieve_metadata(up.id)).expires_at == up.expires_at
    theirs_pages = [f.id async for f in sdk.files.list(limit=1)]
    assert theirs_pages == [f.id async for f in ours.files.list(limit=1)] == [mine.id, up.id]
    listing = [r for r in emu.requests if r.operation == "files.list"]  # theirs, then ours
    half = len(listing) // 2
    assert [_shape(r) for r in listing[:half]] == [_shape(r) for r in listing[half:]]
    only = await sdk.files.list(ids=[up.id])
    assert [f.id for f in only.data] == [up.id]
    assert [f.id for f in (await ours.files.list(ids=[up.id])).data] == [up.id]
    assert _shape(emu.requests[-1])[:3] == _shape(emu.requests[-2])[:3]
    assert (await sdk.files.delete(mine.id)).id == mine.id
    assert (await ours.files.delete(up.id)).type == "file_deleted"
    assert [f.id async for f in sdk.files.list()] == []


async def test_expired_file_is_the_sdks_file_expired_error(
        sdk: AsyncAnthropic, ours: cr.AsyncClient, emu: AnthropicEmulator) -> None:
    """The emulator's expiry answer is what the SDK maps to FileExpiredError (404
    error.details.error_code = file_expired); ours is a NotFoundError."""
    import anthropic

    made = await ours.files.upload(file=("e.txt", b"e"), expires_in_seconds=3600)
    emu.file_clock_s = 3600.0
    with pytest.raises(anthropic.types.FileExpiredError):
        await sdk.files.download(made.id)
    with pytest.raises(cr.NotFoundError):
        await ours.files.download(made.id)


async def test_skills_ga_equal(sdk: AsyncAnthropic, ours: cr.AsyncClient,
                               emu: AnthropicEmulator) -> None:
    made = await sdk.skills.create(files=SKILL, display_name="Helper")
    sdk_req, sdk_form = emu.requests[-1], emu.last_form
    mine = await ours.skills.create(files=SKILL, display_name="Helper")
    assert _shape(sdk_req) == _shape(emu.requests[-1]) and _shape(sdk_req)[3] is None
    assert [f[:2] + f[3:] for f in sdk_form] == [f[:2] + f[3:] for f in emu.last_form] == [
        ("display_name", None, 6), ("files[]", "helper/SKILL.md", len(SKILL[0][1])),
        ("files[]", "helper/notes.txt", 5)]
    got = await ours.skills.retrieve(made.id)
    assert (got.display_name, got.latest_version_id, got.source_type) == (
        made.display_name, made.latest_version_id, made.source.type)
    theirs = await sdk.skills.retrieve(mine.id)
    assert (theirs.latest_version_id, theirs.source.type) == (mine.latest_version_id,
                                                                mine.source_type)
    listed = [s.id async for s in sdk.skills.list(limit=1)]
    assert listed == [s.id async for s in ours.skills.list(limit=1)] == [mine.id, made.id]
    version = await sdk.skills.versions.create(made.id, files=SKILL)
    ours_versions = [v.id async for v in ours.skills.versions.list(made.id)]
    theirs_versions = [v.id async for v in sdk.skills.versions.list(made.id)]
    assert ours_versions == theirs_versions and ours_versions[0] == version.id
    latest = await sdk.skills.versions.retrieve("latest", skill_id=made.id)
    assert latest.id == version.id == (
        await ours.skills.versions.retrieve(version.id, skill_id=made.id)).id
    assert (await ours.skills.versions.delete(version.id, skill_id=made.id)).id == version.id
    assert (await sdk.skills.delete(mine.id)).type == "skill_deleted"
    assert [s.id async for s in ours.skills.list()] == [made.id]
