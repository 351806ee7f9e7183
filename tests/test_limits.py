"""Every buffer has a bound: answers over ``max_response_bytes`` (also after decompression),
error bodies cut at 64 KiB, one stream event or JSON line that never ends; the SSE decoder is
linear in what it is fed; zero and negative time limits are refused; the mid-stream snapshot
holds the text so far."""

from __future__ import annotations

import asyncio
import gzip
import re
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
from hypothesis import example, given, settings
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute._sse import SSEDecoder
from clauderoute.testing import Hostile, HostileServer, LatencyProfile, split_at
from tests.examples import examples

KEY = "limits-test-key"
HI = [{"role": "user", "content": "one two three four five six seven"}]
MIB = 1024 * 1024


def provider(url: str, **kw: Any) -> AnthropicProvider:
    return AnthropicProvider(base_url=url, api_key=KEY, max_retries=0, **kw)


async def call(client: cr.AsyncClient, op: str = "create", **kw: Any) -> Any:
    """One create or stream; a hang fails the test rather than the suite."""

    async def go() -> Any:
        if op == "create":
            return await client.messages.create(model="m", max_tokens=16, messages=HI, **kw)
        async with client.messages.stream(model="m", max_tokens=16, messages=HI, **kw) as s:
            return await s.get_final_message()

    return await asyncio.wait_for(go(), 20)


@pytest.fixture
def traced() -> Iterator[None]:
    """Trace allocations during the test (``start_peak`` / ``peak_since``)."""
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def start_peak() -> int:
    """Forget the peak so far; the memory in use now (the base of ``peak_since``)."""
    tracemalloc.reset_peak()
    return tracemalloc.get_traced_memory()[0]


def peak_since(base: int) -> int:
    """The most memory in use since ``start_peak`` returned ``base``, above ``base``."""
    return tracemalloc.get_traced_memory()[1] - base


# --- whole bodies ----------------------------------------------------------------------------


async def test_default_limit_refuses_an_80_mib_answer(traced: None) -> None:
    """With the default limit (64 MiB), an 80 MiB answer that says its length is refused at
    its headers: ResponseTooLargeError naming the limit, and none of the body in memory."""
    body = b"{" + b" " * (80 * MIB)
    async with HostileServer(
        Hostile(body=body, headers={"content-type": "application/json"})
    ) as server:
        base = start_peak()
        async with cr.AsyncClient(providers=[provider(server.url)]) as client:
            with pytest.raises(cr.ResponseTooLargeError, match="max_response_bytes") as info:
                await call(client)
            used = peak_since(base)
    assert info.value.limit == 64 * MIB
    assert used < 8 * MIB


@pytest.mark.parametrize("how", ["chunked", "gzip bomb"])
async def test_body_without_a_usable_length_stops_at_the_limit(traced: None, how: str) -> None:
    """A body without a length (chunked, never ending) or whose length is its compressed size
    (a gzip bomb: 32 MiB of zeros in ~32 KB) is read only up to the limit, decompressed."""
    answer = (
        Hostile(mode="endless_body")
        if how == "chunked"
        else Hostile(
            body=gzip.compress(b"\0" * (32 * MIB)),
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
    )
    async with HostileServer(answer) as server:
        base = start_peak()
        async with cr.AsyncClient(
            providers=[provider(server.url)], max_response_bytes=MIB
        ) as client:
            with pytest.raises(cr.ResponseTooLargeError) as info:
                await call(client)
            used = peak_since(base)
        await server.wait_idle()
    assert info.value.limit == MIB
    assert used < 8 * MIB


@pytest.mark.parametrize("op", ["create", "stream"])
async def test_error_body_is_cut_at_64_kib(traced: None, op: str) -> None:
    """A 529 whose body never ends: OverloadedError at once, built from the first 64 KiB (its
    message from the first 200 bytes); the rest is never read."""
    async with HostileServer(Hostile(mode="endless_body", status=529)) as server:
        base = start_peak()
        async with cr.AsyncClient(providers=[provider(server.url)], deadline=5) as client:
            with pytest.raises(cr.OverloadedError) as info:
                await call(client, op)
            used = peak_since(base)
        await server.wait_idle()
    assert len(info.value.message) <= 200
    assert used < 8 * MIB
    assert server.bytes_sent < 64 * MIB  # what socket buffers hold, not what it could send


# --- streams ----------------------------------------------------------------------------------


async def test_endless_event_before_content_fails_over(traced: None) -> None:
    """One SSE line that never ends, before any content: ResponseTooLargeError (an attempt failure
    that fails over), with memory bounded by the limit."""
    async with HostileServer(Hostile(mode="endless_line")) as server:
        base = start_peak()
        async with cr.AsyncClient(
            providers=[provider(server.url)], max_response_bytes=MIB
        ) as client:
            with pytest.raises(cr.ResponseTooLargeError):
                await call(client, "stream")
            used = peak_since(base)
    assert used < 8 * MIB


async def test_endless_event_after_content_interrupts(traced: None) -> None:
    """The same after content was delivered: StreamInterrupted with the partial message,
    caused by ResponseTooLargeError."""
    async with HostileServer(Hostile(mode="endless_line", after_events=3)) as server:
        base = start_peak()
        async with cr.AsyncClient(
            providers=[provider(server.url)], max_response_bytes=MIB
        ) as client:
            with pytest.raises(cr.StreamInterrupted) as info:
                await call(client, "stream")
            used = peak_since(base)
    assert isinstance(info.value.cause_error, cr.ResponseTooLargeError)
    assert info.value.partial.content[0].text == "Echo:"
    assert used < 8 * MIB


def test_one_long_line_costs_linear_time() -> None:
    """A 20 MB line fed in 4 KB pieces is decoded in linear time (it was quadratic: every
    piece re-copied and re-scanned the whole line, ~10 s of CPU here)."""
    dec = SSEDecoder()
    piece = b"a" * 4096
    start = time.process_time()
    dec.feed(b"data: ")
    for _ in range(5000):
        assert dec.feed_data(piece) == []
    (data,) = dec.feed_data(b"\n\n")
    assert len(data) == 5000 * 4096
    assert time.process_time() - start < 3.0  # linear: ~0.05 s here


def test_many_lines_of_one_event_cost_linear_time() -> None:
    """20,000 data lines of one event, one line per piece, decode in linear time (every piece
    used to write the event's earlier lines back out: quadratic)."""
    dec = SSEDecoder()
    start = time.process_time()
    for _ in range(20_000):
        assert dec.feed(b"data: " + b"x" * 100 + b"\n") == []
    ((_, data),) = dec.feed(b"\n")
    assert data.count(b"\n") == 19_999
    assert time.process_time() - start < 3.0  # linear: ~0.2 s here


def _reference(data: bytes) -> list[tuple[str, bytes]]:
    """The WHATWG event-stream rules applied to the whole text at once (no chunks)."""
    lines = re.split(rb"\r\n|\r|\n", data)[:-1]  # the last piece has no line end yet
    out, event, buf = [], b"", []
    for line in lines:
        if not line:
            if buf:
                out.append((event.decode() or "message", b"\n".join(buf)))
            event, buf = b"", []
            continue
        if line.startswith(b":"):
            continue
        field, _, value = line.partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if field == b"data":
            buf.append(value)
        elif field == b"event":
            event = value
    return out


_piece = st.sampled_from(
    [
        b"data: ",
        b"event: delta\n",
        b"data: x\n",
        b"\n",
        b"\r\n",
        b"\r",
        b": c\n",
        b"y" * 300,
        b"data: " + b"z" * 5000 + b"\n\n",
        b"id: 1\n",
    ]
)


@settings(max_examples=examples(200))
@given(
    parts=st.lists(_piece, max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=60),
)
# Always, whatever the count: a long line cut several times, a CR cut from its LF, and the
# blank line that ends a long event cut in two.
@example(
    parts=[
        b"data: ",
        b"y" * 300,
        b"\r",
        b"\n",
        b"data: " + b"z" * 5000 + b"\n\n",
        b"id: 1\n",
        b"\n",
    ],
    cuts=[3, 150, 306, 307, 1000, 2500, 5314, 5315],
)
def test_any_split_of_long_lines_matches_the_reference(parts: list[bytes], cuts: list[int]) -> None:
    """Long lines and events spread over many pieces, cut anywhere: the same events as the
    rules applied to the whole text, through both feed and feed_data."""
    data = b"".join(parts)
    dec, data_only = SSEDecoder(), SSEDecoder()
    got: list[tuple[str, bytes]] = []
    payloads: list[bytes] = []
    for piece in split_at(data, cuts):
        got += dec.feed(piece)
        payloads += data_only.feed_data(piece)
    want = _reference(data)
    assert got == want
    assert payloads == [d for _, d in want]


# --- time limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["create", "stream", "count_tokens"])
@pytest.mark.parametrize(
    "limits",
    [
        {"timeout": 0},
        {"timeout": -1.5},
        {"deadline": 0},
        {"timeout": float("nan")},
        {"deadline": "5"},
    ],
)
async def test_zero_or_negative_time_limits_are_refused(op: str, limits: dict[str, Any]) -> None:
    """timeout=0 (it crashed with a TypeError while formatting), negative, NaN or non-number
    limits raise InvalidRequest naming the field, before any request."""
    (field,) = limits
    async with AnthropicEmulator(api_key=KEY) as emu:
        async with cr.AsyncClient(providers=[provider(emu.url)]) as client:
            with pytest.raises(cr.InvalidRequest) as info:
                if op == "count_tokens":
                    await client.messages.count_tokens(model="m", messages=HI, **limits)
                else:
                    await call(client, op, **limits)
        assert emu.requests == []
    assert info.value.field == field


@pytest.mark.parametrize(
    "setting",
    ["timeout", "deadline", "connect_timeout", "first_token_timeout", "max_response_bytes"],
)
def test_client_settings_are_checked(setting: str) -> None:
    """AsyncClient refuses a zero limit with a ConfigurationError naming the setting."""
    with pytest.raises(cr.ConfigurationError, match=setting):
        cr.AsyncClient(providers=[provider("http://127.0.0.1:9")], **{setting: 0})


async def test_provider_timeout_of_zero_is_a_deadline_error() -> None:
    """A provider whose own timeout is 0 gives DeadlineExceeded, not a formatting crash."""
    async with AnthropicEmulator(api_key=KEY) as emu:
        async with cr.AsyncClient(providers=[provider(emu.url, timeout_s=0)]) as client:
            with pytest.raises(cr.DeadlineExceeded, match="time limit"):
                await call(client)
        assert emu.requests == []


# --- the snapshot -----------------------------------------------------------------------------


@pytest.fixture
async def slow_emu() -> AsyncIterator[AnthropicEmulator]:
    async with AnthropicEmulator(api_key=KEY, latency=LatencyProfile(per_token_s=0.001)) as server:
        yield server


async def test_snapshot_holds_the_text_streamed_so_far(slow_emu: AnthropicEmulator) -> None:
    """current_message_snapshot after three text deltas holds those three fragments (it held
    '' while the accumulator kept them aside), and reading on still gives the whole answer."""
    seen: list[str] = []
    snapshots: list[str] = []
    async with (
        cr.AsyncClient(providers=[provider(slow_emu.url)]) as client,
        client.messages.stream(model="m", max_tokens=16, messages=HI) as stream,
    ):
        async for ev in stream:
            if ev.type == "content_block_delta":
                seen.append(ev.delta.text)  # type: ignore[union-attr]
                snap = stream.current_message_snapshot
                assert snap is not None
                snapshots.append(snap.content[0].text)  # type: ignore[union-attr]
        final = await stream.get_final_message()
    assert snapshots[2] == "".join(seen[:3]) == "Echo: one two"
    assert snapshots == ["".join(seen[: i + 1]) for i in range(len(seen))]
    assert final.content[0].text == "".join(seen)  # type: ignore[union-attr]
