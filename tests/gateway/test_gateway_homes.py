"""Objects across gateways: a file, skill or batch made through one gateway is found through
another that never saw it (two ``clauderoute serve`` processes with ``[state]``, a real
redis-server, skipped without one unless ``CLAUDEROUTE_REQUIRE_REDIS=1``; the processes of
``--workers 2`` and two gateways in this process without it). Messages and batch requests that
name a file go where the file lives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from clauderoute_anthropic import AnthropicEmulator

from tests.gateway.test_serve_process import LISTEN, Serve, _serve
from tests.official_sdk import SDK_WORKER

if TYPE_CHECKING:
    import anthropic

KEY = "homes-gw-key-0123456789"
MODEL = "claude-haiku-4-5"
SKILL_MD = b"---\nname: helper\ndescription: Helps with things\n---\nUse me.\n"
ON_TWO = {"x-clauderoute-provider": "two"}


@pytest.fixture
async def emus() -> AsyncIterator[list[AnthropicEmulator]]:
    """Two platforms with the Files, Skills and Batches APIs: ``one`` (first in the route, where
    an unplaced call goes) and ``two``."""
    pair = [AnthropicEmulator(api_key="k1"), AnthropicEmulator(api_key="k2")]
    for e in pair:
        await e.start()
    yield pair
    for e in pair:
        await e.stop()


@pytest.fixture
def redis_url() -> Iterator[str]:
    pytest.importorskip("redis", reason="clauderoute[redis] (redis-py) is not installed")
    from tests.test_fleet import running_redis

    for server in running_redis():
        yield server.url


def _config(path: Path, emus: list[AnthropicEmulator], state: str | None = None) -> Path:
    text = "".join(
        f'[providers.{name}]\nkind = "anthropic"\nbase_url = "{e.url}"\napi_key = "k{i}"\n'
        f"max_retries = 0\n"
        for i, (name, e) in enumerate(zip(("one", "two"), emus, strict=True), 1)
    )
    text += f'[gateway]\napi_keys = ["{KEY}"]\n'
    if state:
        text += f'[state]\nurl = "{state}"\nsync_ms = 50\n'
    path.write_text(text)
    return path


async def _started(cfg: Path, *args: str) -> tuple[Serve, str]:
    serve = await _serve(cfg, *args)
    port = int((await serve.line(LISTEN.pattern)).group(2))
    return serve, f"http://127.0.0.1:{port}"


def _client(url: str) -> anthropic.AsyncAnthropic:
    import anthropic

    # A new connection per call: with --workers, the kernel spreads them over the workers.
    return anthropic.AsyncAnthropic(
        api_key=KEY, base_url=url, max_retries=0, default_headers={"connection": "close"}
    )


def _ops(emu: AnthropicEmulator, op: str) -> list[str]:
    return [r.path for r in emu.requests if r.operation == op]


def _file_message(file_id: str) -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "summarise"},
                {"type": "document", "source": {"type": "file", "file_id": file_id}},
            ],
        }
    ]


async def _made_on_a_found_on_b(
    a: anthropic.AsyncAnthropic, b: anthropic.AsyncAnthropic, emus: list[AnthropicEmulator]
) -> None:
    """What both set-ups (with and without state) must do."""
    up = await a.files.upload(file=("a.txt", b"lives on two"), extra_headers=ON_TWO)
    meta = await b.files.with_raw_response.retrieve_metadata(up.id)
    assert meta.headers["x-clauderoute-provider"] == "two"
    assert await (await b.files.download(up.id)).read() == b"lives on two"
    # A message naming the file goes to the file's platform (unplaced, it would go to one).
    raw = await b.messages.with_raw_response.create(
        model=MODEL, max_tokens=8, messages=_file_message(up.id)
    )
    assert raw.headers["x-clauderoute-provider"] == "two"
    # So does a batch whose requests name it; the batch is then found from the other side.
    batch = await b.messages.batches.create(
        requests=[
            {
                "custom_id": "r1",
                "params": {"model": MODEL, "max_tokens": 8, "messages": _file_message(up.id)},
            }
        ]  # type: ignore[list-item]
    )
    assert _ops(emus[1], "batches.create") and not _ops(emus[0], "batches.create")
    assert (await a.messages.batches.retrieve(batch.id)).id == batch.id
    # A skill likewise.
    skill = await a.skills.create(files=[("helper/SKILL.md", SKILL_MD)], extra_headers=ON_TWO)
    assert (await b.skills.retrieve(skill.id)).id == skill.id
    assert not _ops(emus[0], "skills.create")


@SDK_WORKER
async def test_two_gateways_without_state(emus: list[AnthropicEmulator], kit: Any) -> None:
    """Two gateways in this process: nothing but the platforms connects them (the processes
    of ``--workers`` below, and of the test with state, cross a process boundary)."""
    import anthropic
    from clauderoute_anthropic import AnthropicProvider

    def providers() -> list[AnthropicProvider]:
        return [
            AnthropicProvider(name=name, base_url=e.url, api_key=f"k{i}", max_retries=0)
            for i, (name, e) in enumerate(zip(("one", "two"), emus, strict=True), 1)
        ]

    async with (
        kit.run_gateway(providers(), keys=[KEY]) as ga,
        kit.run_gateway(providers(), keys=[KEY]) as gb,
        _client(ga.url) as a,
        _client(gb.url) as b,
    ):
        await _made_on_a_found_on_b(a, b, emus)
        # B asked one (404: not here) then two for each object it did not know, once.
        probes = _ops(emus[0], "files.retrieve_metadata")
        assert len(probes) == 1, probes
        # An id no provider holds: asked of each once, then remembered as unknown.
        before = [len(e.requests) for e in emus]
        for _ in range(3):
            with pytest.raises(anthropic.NotFoundError):
                await b.files.retrieve_metadata("file_nowhere")
        asked = [len(e.requests) - n for e, n in zip(emus, before, strict=True)]
        # one: the probe and the three calls (unplaced calls go there); two: the probe only
        assert asked == [4, 1], asked


@SDK_WORKER
async def test_two_gateways_with_state(
    emus: list[AnthropicEmulator], tmp_path: Path, redis_url: str
) -> None:
    """With ``[state]`` the home comes from Redis: nothing is probed."""
    import redis.asyncio as aioredis

    cfg = _config(tmp_path / "c.toml", emus, redis_url)
    (sa, ua), (sb, ub) = await _started(cfg), await _started(cfg)
    r = aioredis.from_url(redis_url)
    try:
        async with _client(ua) as a, _client(ub) as b:
            up = await a.files.upload(file=("a.txt", b"x"), extra_headers=ON_TWO)
            loop = asyncio.get_running_loop()
            end = loop.time() + 30
            while await r.get(f"clauderoute:home:{up.id}") != b"two":  # A's next sync
                assert loop.time() < end, "the home was never published"
                await asyncio.sleep(0.02)
            assert (await b.files.retrieve_metadata(up.id)).id == up.id
            await _made_on_a_found_on_b(a, b, emus)
            # Every object was found through the state: no provider was asked "is it here?"
            assert _ops(emus[0], "files.retrieve_metadata") == []
            assert _ops(emus[0], "skills.retrieve") == []
            # two: one retrieve per file (the client's own), none asked "is it here?"
            assert len(_ops(emus[1], "files.retrieve_metadata")) == 2
    finally:
        await r.aclose()
        assert await sa.stop() == 0
        assert await sb.stop() == 0


@SDK_WORKER
async def test_workers_find_each_other_s_objects(
    emus: list[AnthropicEmulator], tmp_path: Path
) -> None:
    """``--workers 2``, no state: every call about a file made on one worker succeeds on
    whichever worker the connection reaches."""
    cfg = _config(tmp_path / "c.toml", emus)
    serve = await _serve(cfg, "--workers", "2")
    try:
        # Both workers listening (from the line after the first's: both may be in already).
        first = await serve.line(LISTEN.pattern)
        after = next(i for i, line in enumerate(serve.lines) if LISTEN.search(line)) + 1
        second = await serve.line(LISTEN.pattern, after=after)
        assert first.group(2) == second.group(2) and first.group(1) != second.group(1)
        url = f"http://127.0.0.1:{int(first.group(2))}"
        async with _client(url) as c:
            ids = [
                (await c.files.upload(file=(f"{i}.txt", b"x"), extra_headers=ON_TWO)).id
                for i in range(4)
            ]
            for file_id in ids * 3:  # 12 new connections over two workers
                assert (await c.files.retrieve_metadata(file_id)).id == file_id
            assert not _ops(emus[0], "files.upload")
    finally:
        assert await serve.stop() == 0


@SDK_WORKER
async def test_a_caller_leaving_does_not_fail_the_others_waiting_on_its_search(
    emus: list[AnthropicEmulator], kit: Any
) -> None:
    """Two calls about an id this gateway does not know share one search; the first client
    leaves mid-search (its handler is cancelled): the search goes on (it was cancelled with the
    first caller, and the second had to start it again) and the second gets its answer."""
    import aiohttp
    import anthropic
    from clauderoute_anthropic import AnthropicProvider

    from clauderoute.testing import Hostile, HostileServer

    # "slow" answers its probe with a 404 dripped a byte at a time: the search takes a while
    # (~0.4 s: many times what the second call takes to arrive and the first to leave).
    slow = Hostile(mode="drip_body", status=404, drip_s=0.004)
    async with HostileServer(slow) as server:
        two = AnthropicProvider(name="two", base_url=emus[1].url, api_key="k2", max_retries=0)
        maker = [AnthropicProvider(name="two", base_url=emus[1].url, api_key="k2")]
        async with (
            kit.run_gateway(maker) as g0,
            anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g0.url, max_retries=0) as c0,
        ):
            up = await c0.files.upload(file=("a.txt", b"x"))  # made elsewhere
        providers = [
            AnthropicProvider(name="slow", base_url=server.url, api_key="k", max_retries=0),
            two,
        ]
        async with kit.run_gateway(providers) as g, aiohttp.ClientSession() as http:
            url, headers = f"{g.url}/v1/files/{up.id}", {"x-api-key": kit.KEY}
            first = asyncio.ensure_future(http.get(url, headers=headers))
            await kit.until(lambda: len(server.received) == 1, "the search began")
            second = asyncio.ensure_future(http.get(url, headers=headers))
            await kit.until(lambda: g.gateway.in_flight == 2, "the second call is waiting")
            first.cancel()  # the first client leaves: its connection closes mid-search
            await asyncio.gather(first, return_exceptions=True)
            async with await second as r:
                assert r.status == 200, await r.text()
                assert (await r.json())["id"] == up.id
            assert len(server.received) == 1  # one search, not restarted by the second call
