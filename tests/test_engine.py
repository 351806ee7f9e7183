"""The engine closes everything it opens: sessions, pooled connections, abandoned streams."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute.testing import LatencyProfile

KEY = "engine-key"
HI = [{"role": "user", "content": "one two three four five six"}]


@pytest.fixture
async def emu() -> AsyncIterator[AnthropicEmulator]:
    """Tokens 50 ms apart: a stream is still being written when the client leaves it."""
    async with AnthropicEmulator(api_key=KEY, latency=LatencyProfile(per_token_s=0.05)) as s:
        yield s


@pytest.fixture
async def quick() -> AsyncIterator[AnthropicEmulator]:
    """Answers at once, for the tests whose calls run to their end."""
    async with AnthropicEmulator(api_key=KEY) as s:
        yield s


def _client(emu: AnthropicEmulator) -> cr.AsyncClient:
    return cr.AsyncClient(providers=[AnthropicProvider(base_url=emu.url, api_key=KEY)])


async def _until_disconnected(emu: AnthropicEmulator, timeout: float = 10.0) -> None:
    """Wait until the emulator has seen the client hang up (at its next write, a token away)."""
    async with asyncio.timeout(timeout):
        while emu.disconnects < 1:
            await asyncio.sleep(0.01)


async def test_close_closes_the_session(quick: AnthropicEmulator) -> None:
    """close() closes the one session and its connector."""
    client = _client(quick)
    await client.messages.create(model="m", max_tokens=4, messages=HI)
    session = client.engine.session
    connector = session.connector
    assert not session.closed and connector is not None
    await client.close()
    assert session.closed and connector.closed


async def test_keep_alive_reuses_one_socket(quick: AnthropicEmulator) -> None:
    """Five sequential calls arrive over a single TCP connection."""
    ports: list[int] = []
    orig = quick.record

    def spy(request, body, operation):  # type: ignore[no-untyped-def]
        ports.append(request.transport.get_extra_info("peername")[1])
        orig(request, body, operation)

    quick.record = spy  # type: ignore[method-assign]
    async with _client(quick) as client:
        for _ in range(5):
            await client.messages.create(model="m", max_tokens=4, messages=HI)
    assert len(ports) == 5 and len(set(ports)) == 1


async def test_early_exit_closes_the_stream(emu: AnthropicEmulator) -> None:
    """Leaving a stream's block after the first event drops its connection."""
    async with _client(emu) as client:
        async with client.messages.stream(model="m", max_tokens=20, messages=HI) as stream:
            async for _event in stream:
                break
        await _until_disconnected(emu)
    assert emu.disconnects == 1 and emu.open_streams == 0


async def test_abandoned_stream_is_closed_by_gc(emu: AnthropicEmulator) -> None:
    """A stream dropped without close is closed when collected, not leaked."""
    async with _client(emu) as client:
        manager = client.messages.stream(model="m", max_tokens=20, messages=HI)
        stream = await manager.__aenter__()
        it = stream.__aiter__()
        await anext(it)
        await it.aclose()
        del stream, manager, it
        gc.collect()
        await _until_disconnected(emu)
    assert emu.disconnects == 1 and emu.open_streams == 0


async def test_session_is_recreated_after_close(quick: AnthropicEmulator) -> None:
    """A closed client can be used again (a new session is opened) and closed again."""
    client = _client(quick)
    await client.messages.create(model="m", max_tokens=4, messages=HI)
    await client.close()
    await client.messages.create(model="m", max_tokens=4, messages=HI)
    await client.close()
    assert len(quick.requests) == 2


async def test_foreign_errors_in_prepare_are_translated(quick: AnthropicEmulator) -> None:
    """A credential source that raises its own exception surfaces as ConfigurationError naming
    the provider; one that hangs times out as ConnectTimeout."""
    class Broken(AnthropicProvider):
        async def prepare(self, call):  # type: ignore[no-untyped-def]
            raise KeyError("token cache corrupt")

    class Hanging(AnthropicProvider):
        async def prepare(self, call):  # type: ignore[no-untyped-def]
            await asyncio.Event().wait()  # never set: only the timeout ends it

    class BrokenNeverBlocks(Broken):  # create's own inlined prepare path
        prepare_may_block = False

    for broken in (Broken, BrokenNeverBlocks):
        assert broken.prepare_may_block is (broken is Broken)
        provider = broken(name="b", base_url=quick.url, api_key=KEY)
        async with cr.AsyncClient(providers=[provider]) as c:
            with pytest.raises(cr.ConfigurationError, match="'b'.*KeyError") as info:
                await c.messages.create(model="m", max_tokens=4, messages=HI)
        assert isinstance(info.value.__cause__, KeyError)  # chained, its text not in ours
        assert "token cache corrupt" not in str(info.value)
    hanging = Hanging(name="h", base_url=quick.url, api_key=KEY, max_retries=0)
    async with cr.AsyncClient(providers=[hanging], timeout=0.05) as c:
        with pytest.raises(cr.ConnectTimeout, match=r"\[h\]"):
            # the guard: a timeout that missed prepare() fails the test instead of hanging it
            await asyncio.wait_for(c.messages.create(model="m", max_tokens=4, messages=HI), 20)
    assert quick.requests == []


async def test_user_agent_is_clauderoute_unless_the_caller_sets_one(
        quick: AnthropicEmulator) -> None:
    """Every request names clauderoute as its user agent (never aiohttp's default), and a
    ``User-Agent`` the caller passes replaces it rather than joining it."""
    async with _client(quick) as client:
        await client.messages.create(model="m", max_tokens=4, messages=HI)
        await client.messages.create(model="m", max_tokens=4, messages=HI,
                                     extra_headers={"User-Agent": "mine/1.0"})
    agents = [[v for k, v in r.headers.items() if k.lower() == "user-agent"]
              for r in quick.requests]
    assert agents == [["clauderoute"], ["mine/1.0"]]
