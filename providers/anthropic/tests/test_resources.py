"""Models, Message Batches, Files and Skills through our client against the Claude API emulator
(loopback): pagination, a batch's whole life, streamed results in bounded memory, a byte-exact
file round trip, skills, validation and size limits before any network call, and routing of
these calls to the one provider that holds the object."""

from __future__ import annotations

import io
import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._provider import Capabilities
from clauderoute.testing import Fault, no_backoff
from clauderoute.types import (
    MessageBatchCanceledResult,
    MessageBatchErroredResult,
    MessageBatchSucceededResult,
)

KEY = "test-anthropic-key"
SKILL_MD = b"---\nname: pdf-helper\ndescription: Reads PDFs carefully\n---\n# PDF helper\n"


def _req(cid: str, text: str = "hello there", **extra: Any) -> dict[str, Any]:
    params = {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }
    return {"custom_id": cid, "params": params}


@pytest.fixture
async def emu() -> AsyncIterator[AnthropicEmulator]:
    async with AnthropicEmulator(api_key=KEY) as server:
        yield server


@pytest.fixture
async def client(emu: AnthropicEmulator) -> AsyncIterator[cr.AsyncClient]:
    async with cr.AsyncClient(
        providers=[AnthropicProvider(base_url=emu.url, api_key=KEY)], breaker=False
    ) as c:
        yield c


# --- models ---------------------------------------------------------------------------------------


async def test_models_paginate_across_pages(client: cr.AsyncClient, emu: AnthropicEmulator) -> None:
    """limit=1 walks every model one page at a time with after_id; pages carry the cursors."""
    first = await client.models.list(limit=1)
    assert len(first.data) == 1 and first.has_more and first.has_next_page()
    assert first.first_id == first.last_id == first.data[0].id
    second = await first.get_next_page()
    assert second.data[0].id != first.data[0].id
    assert f"after_id={first.last_id}" in emu.requests[-1].path
    every = [m.id async for m in client.models.list(limit=1)]
    assert every == [m["id"] for m in emu.models] and len(every) >= 3
    pages = [p async for p in first.iter_pages()]
    assert len(pages) == len(every) and not pages[-1].has_next_page()
    back = await client.models.list(limit=2, before_id=every[-1])
    assert [m.id for m in back.data] == every[-3:-1]


async def test_models_retrieve_by_alias_and_unknown_fields_kept(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    (model,) = [m for m in emu.models if m["id"] == "claude-haiku-4-5-20251001"]
    model["capabilities"] = {"vision": {"supported": True}}
    info = await client.models.retrieve("claude-haiku-4-5")  # the alias of that dated id
    assert info.id == model["id"] and info.origin == "api"
    assert info.extra == {"capabilities": {"vision": {"supported": True}}}
    assert info.provider == "anthropic" and info.created_at is not None
    with pytest.raises(cr.NotFoundError):
        await client.models.retrieve("claude-nonexistent-9")


# --- batches --------------------------------------------------------------------------------------


async def test_batch_lifecycle(client: cr.AsyncClient, emu: AnthropicEmulator) -> None:
    """create → in_progress → ended → typed results (succeeded and errored) → delete."""
    emu.batch_polls_to_end = 2
    reqs = [_req("ok-1", "first one"), _req("bad-2"), _req("ok-3")]
    reqs[1]["params"]["model"] = "invalid-model"  # the emulator errors this one
    batch = await client.messages.batches.create(requests=reqs)
    assert batch.processing_status == "in_progress" and batch.provider == "anthropic"
    assert batch.request_counts.processing == 3 and batch.results_url is None
    with pytest.raises(cr.BadRequestError):  # results are not there before the end
        await client.messages.batches.results(batch.id)
    polled = await client.messages.batches.retrieve(batch.id)
    assert polled.processing_status == "in_progress"
    ended = await client.messages.batches.wait_until_ended(
        batch.id, poll_interval=0, max_interval=0
    )
    assert ended.processing_status == "ended" and ended.ended_at is not None
    counts = ended.request_counts
    assert (counts.succeeded, counts.errored, counts.processing) == (2, 1, 0)
    async with await client.messages.batches.results(batch.id) as results:
        got = {r.custom_id: r.result async for r in results}
    assert list(got) == ["ok-1", "bad-2", "ok-3"]
    ok = got["ok-1"]
    assert isinstance(ok, MessageBatchSucceededResult) and ok.message.text == "Echo: first one"
    bad = got["bad-2"]
    assert isinstance(bad, MessageBatchErroredResult)
    assert bad.error_type == "invalid_request_error"
    listed = [b.id async for b in client.messages.batches.list()]
    assert listed == [batch.id]
    deleted = await client.messages.batches.delete(batch.id)
    assert deleted.id == batch.id and deleted.type == "message_batch_deleted"
    assert [b async for b in client.messages.batches.list()] == []


async def test_batch_cancel_gives_canceled_results(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    emu.batch_polls_to_end = 100
    batch = await client.messages.batches.create(requests=[_req("a"), _req("b")])
    with pytest.raises(cr.BadRequestError):  # an in-progress batch cannot be deleted
        await client.messages.batches.delete(batch.id)
    canceling = await client.messages.batches.cancel(batch.id)
    assert canceling.processing_status == "canceling"
    assert canceling.cancel_initiated_at is not None
    ended = await client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.request_counts.canceled == 2
    results = [r async for r in await client.messages.batches.results(batch.id)]
    assert all(isinstance(r.result, MessageBatchCanceledResult) for r in results)


async def test_batch_list_paginates(client: cr.AsyncClient) -> None:
    made = [(await client.messages.batches.create(requests=[_req(f"r{i}")])).id for i in range(5)]
    page = await client.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == made[::-1][:2] and page.has_more
    assert [b.id async for b in client.messages.batches.list(limit=2)] == made[::-1]


async def test_batch_results_stream_in_bounded_memory(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    """A results file of ~24 MB is walked while the process holds well under 4 MB at once."""
    big = "word " * 40_000  # 200 kB per answer

    def responder(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        return {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": big}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }

    emu.responder = responder
    n = 120
    batch = await client.messages.batches.create(requests=[_req(f"r{i}") for i in range(n)])
    await client.messages.batches.wait_until_ended(batch.id, poll_interval=0)
    results = await client.messages.batches.results(batch.id)
    tracemalloc.start()
    try:
        seen, total = 0, 0
        async for r in results:
            assert isinstance(r.result, MessageBatchSucceededResult)
            total += len(r.result.message.text)
            seen += 1
            del r
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == n and total == n * len(big) > 20 * 1024 * 1024
    assert peak < 4 * 1024 * 1024, peak


async def test_batch_validation_names_the_field_before_any_network_call(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    cases: list[tuple[Any, str]] = [
        ([], "requests"),
        ([{"custom_id": "bad id!", "params": _req("x")["params"]}], "requests[0].custom_id"),
        ([_req("a"), _req("a")], "requests[1].custom_id"),
        (
            [_req("a"), {"custom_id": "b", "params": {"model": "m", "max_tokens": 5}}],
            "requests[1].params.messages",
        ),
        ([{"custom_id": "a", "params": "nope"}], "requests[0].params"),
    ]
    for requests, field in cases:
        with pytest.raises(cr.InvalidRequest) as info:
            await client.messages.batches.create(requests=requests)
        assert info.value.field == field, (requests, info.value)
    with pytest.raises(cr.InvalidRequest) as info:
        await client.messages.batches.create(requests=[_req(f"r{i}") for i in range(100_001)])
    assert info.value.field == "requests" and "100000" in str(info.value)
    with pytest.raises(cr.InvalidRequest) as info:
        await client.messages.batches.retrieve("")
    assert info.value.field == "batch_id"
    with pytest.raises(cr.InvalidRequest) as info:
        client.models.list(limit=0)
    assert info.value.field == "limit"
    assert emu.requests == []


async def test_batch_over_the_size_limit_is_refused_before_sending(emu: AnthropicEmulator) -> None:
    provider = AnthropicProvider(base_url=emu.url, api_key=KEY)
    limits = dict(provider.capabilities.max_body_bytes)
    assert limits["batches.create"] == 256 * 1024 * 1024
    provider.capabilities = Capabilities(
        operations=provider.capabilities.operations,
        max_body_bytes={**limits, "batches.create": 4096},
    )
    async with cr.AsyncClient(providers=[provider]) as c:
        with pytest.raises(cr.RequestTooLarge):
            await c.messages.batches.create(requests=[_req("a", "long " * 2000)])
    assert emu.requests == []


# --- files ----------------------------------------------------------------------------------------


async def test_file_round_trip_byte_for_byte(
    client: cr.AsyncClient, emu: AnthropicEmulator, tmp_path: Path
) -> None:
    """A 3 MB binary file uploaded from a path streams back to disk unchanged (GA: no beta
    header on any call)."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    meta = await client.files.upload(file=src)
    assert meta.size_bytes == len(data) and meta.filename == "blob.bin"
    recorded = emu.requests[-1]
    assert int(recorded.headers["Content-Length"]) > len(data)  # length known up front
    assert (await client.files.retrieve_metadata(meta.id)).size_bytes == len(data)
    out = tmp_path / "back.bin"
    download = await client.files.download(meta.id)
    assert await download.write_to_file(out) == len(data)
    assert out.read_bytes() == data
    with src.open("rb") as f:  # a file object, content type given
        meta2 = await client.files.upload(file=("notes.txt", f, "text/plain"))
    assert meta2.mime_type == "text/plain"
    assert await (await client.files.download(meta2.id)).read() == data
    deleted = await client.files.delete(meta.id)
    assert deleted.type == "file_deleted"
    with pytest.raises(cr.NotFoundError):
        await client.files.retrieve_metadata(meta.id)
    assert all("anthropic-beta" not in r.headers for r in emu.requests)


async def test_beta_files_send_the_beta_header_and_share_objects(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    """client.beta.files is the same API with the SDK's beta header; a file uploaded through
    one namespace is read through the other."""
    meta = await client.beta.files.upload(file=("b.txt", b"beta"))
    assert emu.requests[-1].headers["anthropic-beta"] == "files-api-2025-04-14"
    assert await (await client.files.download(meta.id)).read() == b"beta"
    assert "anthropic-beta" not in emu.requests[-1].headers
    await client.beta.files.delete(meta.id, betas=["files-api-2025-04-14", "x-2026"])
    assert emu.requests[-1].headers["anthropic-beta"] == "files-api-2025-04-14,x-2026"


async def test_file_expiry_and_id_filter(client: cr.AsyncClient, emu: AnthropicEmulator) -> None:
    """expires_in_seconds sets expires_at, and an expired file's content is gone (404
    file_expired); ids= lists only those files, in one page."""
    keep = await client.files.upload(file=("k.txt", b"keep"))
    short = await client.files.upload(
        file=("s.txt", b"short"), expires_in_seconds=3600, workspace_id="wrkspc_1"
    )
    assert keep.expires_at is None and short.expires_at is not None
    assert 3590 < (short.expires_at - short.created_at).total_seconds() <= 3601
    assert emu.last_form[0] == ("expires_in_seconds", None, None, 4)
    assert emu.requests[-1].headers["anthropic-workspace-id"] == "wrkspc_1"
    page = await client.files.list(ids=[short.id, "file_unknown"])
    assert [f.id for f in page.data] == [short.id] and not page.has_next_page()
    emu.file_clock_s = 3600.0
    with pytest.raises(cr.NotFoundError) as info:
        await client.files.download(short.id)
    assert "expired" in str(info.value)
    assert await (await client.files.download(keep.id)).read() == b"keep"


async def test_file_arguments_are_checked_before_sending(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    """Out-of-range expiry, a bad id list or ids with a cursor fail naming the field."""
    for bad in (3599, 7_776_001, True, "3600"):
        with pytest.raises(cr.InvalidRequest) as info:
            await client.files.upload(file=("a.txt", b"a"), expires_in_seconds=bad)
        assert info.value.field == "expires_in_seconds"
    for ids, more in (
        (["f"] * 0, {}),
        ("file_1", {}),
        ([f"f{i}" for i in range(101)], {}),
        (["f1"], {"limit": 5}),
        (["f1"], {"page": "page_x"}),
    ):
        with pytest.raises(cr.InvalidRequest) as info:
            client.files.list(ids=ids, **more)
        assert info.value.field == "ids"
    with pytest.raises(cr.InvalidRequest) as info:
        await client.files.retrieve_metadata("f", workspace_id="")
    assert info.value.field == "workspace_id"
    assert emu.requests == []


async def test_files_list_paginates_with_cursor(client: cr.AsyncClient) -> None:
    ids = [(await client.files.upload(file=(f"f{i}.txt", b"x" * i))).id for i in range(5)]
    page = await client.files.list(limit=2)
    assert page.next_page and [f.id for f in page.data] == ids[::-1][:2]
    assert [f.id async for f in client.files.list(limit=2)] == ids[::-1]


async def test_upload_over_the_limit_is_refused_before_any_byte(
    emu: AnthropicEmulator, tmp_path: Path
) -> None:
    provider = AnthropicProvider(base_url=emu.url, api_key=KEY)
    assert provider.capabilities.body_limit("files.upload") == 500 * 1024 * 1024
    big = tmp_path / "big.bin"
    with big.open("wb") as f:  # sparse: 501 MB on paper, nothing on disk
        f.truncate(501 * 1024 * 1024)
    async with cr.AsyncClient(providers=[provider]) as c:
        with pytest.raises(cr.RequestTooLarge) as info:
            await c.beta.files.upload(file=big)
        with pytest.raises(cr.InvalidRequest) as bad:
            await c.beta.files.upload(file=12345)
        with pytest.raises(cr.InvalidRequest) as missing:
            await c.beta.files.upload(file=tmp_path / "absent.bin")
    assert info.value.limit == 500 * 1024 * 1024
    assert bad.value.field == "file" and missing.value.field == "file"
    assert emu.requests == []


# --- skills ---------------------------------------------------------------------------------------


async def test_skills_create_list_retrieve_versions_delete(
    client: cr.AsyncClient, emu: AnthropicEmulator, tmp_path: Path
) -> None:
    root = tmp_path / "pdf-helper"
    (root / "scripts").mkdir(parents=True)
    (root / "SKILL.md").write_bytes(SKILL_MD)
    (root / "scripts" / "run.py").write_text("print('hi')\n")
    skill = await client.skills.create(files=root, display_name="PDF helper")
    assert skill.display_name == "PDF helper" and skill.latest_version_id
    assert skill.source_type == "custom"
    assert "anthropic-beta" not in emu.requests[-1].headers
    other = await client.skills.create(
        files=[("other/SKILL.md", SKILL_MD.replace(b"pdf-helper", b"other"))]
    )
    assert [s.id async for s in client.skills.list(limit=1)] == [other.id, skill.id]
    assert [s.id async for s in client.skills.list(source="anthropic")] == []
    got = await client.skills.retrieve(skill.id)
    assert got.id == skill.id and got.extra == {}
    v2 = await client.skills.versions.create(skill.id, files=root)
    assert v2.skill_id == skill.id and v2.name == "pdf-helper"
    assert v2.description == "Reads PDFs carefully" and v2.extra == {}
    versions = [v.id async for v in client.skills.versions.list(skill.id)]
    assert versions[0] == v2.id and len(versions) == 2
    assert (await client.skills.retrieve(skill.id)).latest_version_id == v2.id
    assert (await client.skills.versions.retrieve("latest", skill_id=skill.id)).id == v2.id
    one = await client.beta.skills.versions.retrieve(v2.id, skill_id=skill.id)
    assert one.id == v2.id and emu.requests[-1].headers["anthropic-beta"] == "skills-2025-10-02"
    gone = await client.skills.versions.delete(v2.id, skill_id=skill.id)
    assert gone.type == "skill_version_deleted"
    deleted = await client.skills.delete(skill.id)
    assert deleted.type == "skill_deleted"
    assert [s.id async for s in client.beta.skills.list()] == [other.id]


async def test_skill_files_are_checked_before_sending(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    for files in (
        [("a/SKILL.md", SKILL_MD), ("b/x.txt", b"x")],
        [("a/readme.md", b"x")],
        [],
        "not-a-dir",
    ):
        with pytest.raises(cr.InvalidRequest) as info:
            await client.beta.skills.create(files=files)
        assert info.value.field == "files"
    with pytest.raises(cr.InvalidRequest) as info:
        await client.beta.skills.create(files=[("a/SKILL.md", SKILL_MD)], display_title="x" * 300)
    assert info.value.field == "display_title"
    with pytest.raises(cr.InvalidRequest) as info:
        await client.skills.create(files=[("a/SKILL.md", SKILL_MD)], display_name="x" * 256)
    assert info.value.field == "display_name"
    with pytest.raises(cr.InvalidRequest) as info:
        await client.skills.create(
            files=[("a/SKILL.md", SKILL_MD)], display_name="a", display_title="b"
        )
    assert info.value.field == "display_name"
    assert emu.requests == []


async def test_emulator_serves_files_and_skills_with_or_without_the_beta_header(
    emu: AnthropicEmulator,
) -> None:
    """GA endpoints: the beta header is accepted, not required; auth still is."""
    import aiohttp

    async with aiohttp.ClientSession() as s:
        headers = {"x-api-key": KEY, "anthropic-version": "2026-10-21"}
        for path in ("/v1/files", "/v1/skills"):
            async with s.get(emu.url + path, headers=headers) as r:
                assert r.status == 200
        async with s.get(
            emu.url + "/v1/files", headers={**headers, "anthropic-beta": "files-api-2025-04-14"}
        ) as r:
            assert r.status == 200
        async with s.get(emu.url + "/v1/skills", headers={**headers, "x-api-key": "wrong"}) as r:
            assert r.status == 401


# --- routing and faults ---------------------------------------------------------------------------


async def test_objects_stay_with_the_provider_that_holds_them() -> None:
    """Two Claude API accounts: a batch made on the second is retrieved from the second."""
    async with AnthropicEmulator(api_key=KEY) as e1, AnthropicEmulator(api_key=KEY) as e2:
        providers = [
            AnthropicProvider(name="east", base_url=e1.url, api_key=KEY),
            AnthropicProvider(name="west", base_url=e2.url, api_key=KEY),
        ]
        async with cr.AsyncClient(providers=providers) as c:
            made = await c.messages.batches.create(requests=[_req("a")], provider="west")
            assert made.provider == "west" and e1.requests == []
            got = await c.messages.batches.retrieve(made.id)
            assert got.provider == "west" and len(e2.requests) == 2 and e1.requests == []
            up = await c.beta.files.upload(file=("a.txt", b"abc"))  # unpinned: first able
            assert up.provider == "east"
            assert await (await c.beta.files.download(up.id)).read() == b"abc"
            with pytest.raises(cr.NotFoundError):  # pinned to the wrong one: no failover
                await c.messages.batches.retrieve(made.id, provider="east")


async def test_transient_errors_are_retried_on_the_same_provider(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    emu.faults.add(
        Fault(status=529, operations=frozenset({"batches.list"})),
        Fault(status=500, operations=frozenset({"files.upload"})),
    )
    with no_backoff():
        assert [b async for b in client.messages.batches.list()] == []
        meta = await client.beta.files.upload(file=("r.bin", b"\x00retry\xff"))
    assert await (await client.beta.files.download(meta.id)).read() == b"\x00retry\xff"
    ops = [r.operation for r in emu.requests]
    assert ops.count("batches.list") == 2 and ops.count("files.upload") == 2


async def test_unseekable_upload_is_not_resent_empty(
    client: cr.AsyncClient, emu: AnthropicEmulator
) -> None:
    """A pipe-like file object streams once (chunked); after a failure it is not replayed."""

    class Pipe:
        def __init__(self, data: bytes) -> None:
            self._buf = io.BytesIO(data)

        def read(self, n: int = -1) -> bytes:
            return self._buf.read(n)

        def seekable(self) -> bool:
            return False

    meta = await client.beta.files.upload(file=("p.bin", Pipe(b"\x01" * 1000)))
    assert meta.size_bytes == 1000
    assert "Content-Length" not in emu.requests[-1].headers
    emu.faults.add(Fault(status=500, operations=frozenset({"files.upload"})))
    with no_backoff(), pytest.raises(cr.InvalidRequest) as info:
        await client.beta.files.upload(file=("p.bin", Pipe(b"\x02" * 10)))
    assert info.value.field == "file" and len(emu.files) == 1
