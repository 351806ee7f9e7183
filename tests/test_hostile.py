"""Every hostile answer, on create and stream, alone and with a healthy provider behind it: the
documented error (or a failover that succeeds), within the time the call was given, and the
connection dropped when the client gives up on it (``clauderoute.testing.HostileServer``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute.testing import Hostile, HostileServer, no_backoff

KEY = "hostile-test-key"
HI = [{"role": "user", "content": "Hello hostile world"}]
MIB = 1024 * 1024
# No upper bound on elapsed time (a loaded machine would fail it): the answers that never end
# by themselves (OPEN_ENDED) are guarded by a 20 s wait, so only the limit under test can end
# such a call with the documented error in time; a limit that restarted on each dripped byte or
# was ignored fails the test with TimeoutError instead.
# The limit under test is short so the suite is fast; the dripping servers drip in step (a byte
# or a ping every DRIP, ~40 of them within LIMIT), so every limit is still reached while bytes
# keep arriving, which aiohttp's per-read timeout alone would never notice. Only answers that a
# timer must end (TIMED) get the short limit; every other answer ends by itself (an error, a
# size cap) and gets ROOMY, so a loaded machine cannot turn its documented error into a timeout.
LIMIT = 0.1
DRIP = LIMIT / 40
ROOMY = 10.0

# mode (or mode and its fields) -> the error a lone provider raises (create, stream).
OUTCOMES: dict[str, tuple[Hostile, type[Exception], type[Exception]]] = {
    "drip_head": (Hostile(mode="drip_head", drip_s=DRIP), cr.ReadTimeout, cr.ReadTimeout),
    "drip_body": (Hostile(mode="drip_body", drip_s=DRIP), cr.ReadTimeout, cr.ReadTimeout),
    "drip_body 529": (
        Hostile(mode="drip_body", status=529, drip_s=DRIP),
        cr.ReadTimeout,
        cr.ReadTimeout,
    ),
    "endless_body": (
        Hostile(mode="endless_body"),
        cr.ResponseTooLargeError,
        cr.ResponseTooLargeError,
    ),
    "endless_body 529": (
        Hostile(mode="endless_body", status=529),
        cr.OverloadedError,
        cr.OverloadedError,
    ),
    "endless_line": (
        Hostile(mode="endless_line"),
        cr.ResponseTooLargeError,
        cr.ResponseTooLargeError,
    ),
    "pings": (Hostile(mode="pings", drip_s=DRIP), cr.ReadTimeout, cr.ReadTimeout),
    "stall": (Hostile(mode="stall"), cr.ReadTimeout, cr.ReadTimeout),
    "hang": (Hostile(mode="hang"), cr.ReadTimeout, cr.ReadTimeout),
    "stop_mid_event": (Hostile(mode="stop_mid_event"), cr.MalformedResponse, cr.MalformedResponse),
    "reset_before_headers": (
        Hostile(mode="reset_before_headers"),
        cr.ConnectError,
        cr.ConnectError,
    ),
    "reset_after_headers": (Hostile(mode="reset_after_headers"), cr.ConnectError, cr.ConnectError),
    "garbage_status": (Hostile(mode="garbage_status"), cr.MalformedResponse, cr.MalformedResponse),
    "huge_header": (Hostile(mode="huge_header"), cr.MalformedResponse, cr.MalformedResponse),
    "many_headers": (Hostile(mode="many_headers"), cr.MalformedResponse, cr.MalformedResponse),
    "bad_chunked": (Hostile(mode="bad_chunked"), cr.MalformedResponse, cr.MalformedResponse),
    "lying_gzip": (Hostile(mode="lying_gzip"), cr.ConnectError, cr.ConnectError),
    "html": (Hostile(mode="html"), cr.MalformedResponse, cr.MalformedResponse),
    "retry-after absurd": (
        Hostile(
            status=529, headers={"retry-after": "99999999999999999999", "retry-after-ms": "inf"}
        ),
        cr.OverloadedError,
        cr.OverloadedError,
    ),
    "retry-after garbage": (
        Hostile(status=429, headers={"retry-after": "soon, \x7f maybe", "retry-after-ms": "nan"}),
        cr.RateLimitError,
        cr.RateLimitError,
    ),
}
# Answers that never end by themselves: the client must be the one to hang up.
OPEN_ENDED = {
    "drip_head",
    "drip_body",
    "drip_body 529",
    "endless_body",
    "endless_line",
    "pings",
    "stall",
    "hang",
}
# Of those, the ones only a timer ends (the others are cut by max_response_bytes).
TIMED = OPEN_ENDED - {"endless_body", "endless_line"}


@pytest.fixture
async def emu() -> AsyncIterator[AnthropicEmulator]:
    async with AnthropicEmulator(api_key=KEY) as server:
        yield server


def hostile(server: HostileServer, **kw: Any) -> AnthropicProvider:
    return AnthropicProvider(name="hostile", base_url=server.url, api_key=KEY, **kw)


def healthy(emu: AnthropicEmulator, **kw: Any) -> AnthropicProvider:
    return AnthropicProvider(name="healthy", base_url=emu.url, api_key=KEY, **kw)


async def call(client: cr.AsyncClient, op: str, **kw: Any) -> cr.types.Message:
    """One create or stream; a hang fails the test (``TimeoutError``) rather than the suite."""

    async def go() -> cr.types.Message:
        if op == "create":
            return await client.messages.create(
                model="claude-haiku-4-5", max_tokens=16, messages=HI, **kw
            )
        async with client.messages.stream(
            model="claude-haiku-4-5", max_tokens=16, messages=HI, **kw
        ) as stream:
            return await stream.get_final_message()

    return await asyncio.wait_for(go(), 20)


@pytest.mark.parametrize("op", ["create", "stream"])
@pytest.mark.parametrize("name", list(OUTCOMES))
async def test_alone_the_documented_error_within_the_deadline(name: str, op: str) -> None:
    """One hostile provider: the call raises the documented error type, ended by its deadline
    where the answer never ends (the only short limit: the timeout is the 600 s default, the
    guard 20 s), and a connection the server would have kept open is closed by the client."""
    answer, create_error, stream_error = OUTCOMES[name]
    deadline = LIMIT if name in TIMED else ROOMY
    async with HostileServer(answer) as server:
        async with cr.AsyncClient(
            providers=[hostile(server, max_retries=0)], deadline=deadline, max_response_bytes=MIB
        ) as client:
            with pytest.raises(create_error if op == "create" else stream_error):
                await call(client, op)
        assert server.requests == 1
        if name in OPEN_ENDED:
            await server.wait_disconnects(1)


@pytest.mark.parametrize("op", ["create", "stream"])
@pytest.mark.parametrize("name", list(OUTCOMES))
async def test_failover_to_a_healthy_provider(emu: AnthropicEmulator, name: str, op: str) -> None:
    """Hostile first, healthy second: every hostile answer fails over, and the call succeeds
    on the second provider. An answer that never ends is cut by the first attempt's timeout
    (the client's): without it the 10 s deadline would end the call with DeadlineExceeded
    instead. The healthy provider's own timeout is roomy, so a loaded machine cannot time out
    the attempt that must succeed."""
    answer = OUTCOMES[name][0]
    timeout = LIMIT
    async with HostileServer(answer) as server:
        providers = [hostile(server, max_retries=0), healthy(emu, timeout_s=ROOMY)]
        async with cr.AsyncClient(
            providers=providers, timeout=timeout, deadline=10, max_response_bytes=MIB
        ) as client:
            with no_backoff():
                msg = await call(client, op)
        assert msg.route.provider == "healthy"
        assert msg.content[0].text == "Echo: Hello hostile world"  # type: ignore[union-attr]
        assert server.requests == 1 and len(emu.requests) == 1
        if name in OPEN_ENDED:
            await server.wait_disconnects(1)


# --- each timer against a server that drips ---------------------------------------------------


@pytest.mark.parametrize("mode", ["drip_head", "drip_body"])
@pytest.mark.parametrize("op", ["create", "stream"])
@pytest.mark.parametrize("timer", ["deadline", "timeout", "first_token_timeout"])
async def test_every_timer_bounds_a_dripping_server(timer: str, op: str, mode: str) -> None:
    """A server that sends its headers or its body one byte at a time (aiohttp's read timeout
    restarts on each byte) is stopped by the deadline, the per-attempt timeout and, for a
    stream, the first-token timeout, each alone and measured over the whole phase."""
    if timer == "first_token_timeout" and op == "create":
        pytest.skip("first_token_timeout is a stream setting")
    limit = LIMIT
    settings: dict[str, Any] = {"timeout": None, timer: limit}
    async with HostileServer(Hostile(mode=mode, drip_s=DRIP)) as server:
        async with cr.AsyncClient(providers=[hostile(server, max_retries=0)], **settings) as c:
            start = time.monotonic()
            with pytest.raises((cr.ReadTimeout, cr.DeadlineExceeded)):
                await call(c, op)
            elapsed = time.monotonic() - start
        await server.wait_disconnects(1)
    assert elapsed > limit * 0.9  # not early: the whole phase, however many bytes arrived
    assert server.bytes_sent > 10  # it was dripping, not silent, all along


async def test_connect_timeout_bounds_a_blackhole() -> None:
    """An address that never completes the TCP handshake raises ConnectTimeout after the
    connect timeout, however long the call's other limits. The default connect timeout (5 s)
    would also end it well within the 20 s guard, so a call to the same address on the default,
    started first, must still be connecting when this one has given up: ``connect_timeout``,
    not the default, ended it (an order of events, no wall-clock bound)."""
    from clauderoute.testing import Blackhole

    async with Blackhole() as hole:

        def provider() -> AnthropicProvider:
            return AnthropicProvider(base_url=hole.url, api_key=KEY, max_retries=0)

        async with (
            cr.AsyncClient(providers=[provider()]) as on_default,
            cr.AsyncClient(providers=[provider()], connect_timeout=LIMIT) as client,
        ):
            control = asyncio.create_task(call(on_default, "create"))
            await asyncio.sleep(0)  # the control's connect starts first
            try:
                with pytest.raises(cr.ConnectTimeout):
                    await call(client, "create")
                assert not control.done()
            finally:
                control.cancel()
                await asyncio.gather(control, return_exceptions=True)


@pytest.mark.parametrize("mode", ["pings", "drip_body"])
async def test_deadline_bounds_a_stream_after_its_content(mode: str) -> None:
    """Content, then pings forever (or the rest dripped a byte at a time): the deadline still
    ends the stream, with the partial message."""
    deadline = LIMIT
    answer = Hostile(mode=mode, after_events=3, drip_s=DRIP)
    async with HostileServer(answer) as server:
        async with cr.AsyncClient(providers=[hostile(server)], deadline=deadline) as client:
            with pytest.raises(cr.StreamInterrupted) as info:
                await call(client, "stream")
        await server.wait_disconnects(1)
    assert isinstance(info.value.cause_error, cr.DeadlineExceeded)
    assert info.value.partial.content[0].text.startswith("Echo:")


async def test_a_stream_of_pings_without_content_is_bounded() -> None:
    """Events forever but never content: the first-token timeout ends it, and fails over."""
    async with HostileServer(Hostile(mode="pings", drip_s=DRIP)) as server:
        async with cr.AsyncClient(
            providers=[hostile(server, max_retries=0)], timeout=None, first_token_timeout=LIMIT
        ) as client:
            with pytest.raises(cr.ReadTimeout, match=f"no content within {LIMIT:g}s"):
                await call(client, "stream")
        await server.wait_disconnects(1)


# --- resources: the header phase of downloads and results, and their error bodies ----------


@pytest.mark.parametrize("what", ["download", "results", "metadata"])
async def test_resource_calls_bound_the_header_phase(what: str) -> None:
    """A file download, batch results (streamed answers) and a metadata call (a whole JSON
    answer) to a server that drips its headers time out after the call's timeout."""
    async with HostileServer(Hostile(mode="drip_head", drip_s=DRIP)) as server:
        async with cr.AsyncClient(providers=[hostile(server, max_retries=0)]) as client:
            with pytest.raises(cr.ReadTimeout):
                if what == "download":
                    fut: Any = client.beta.files.download("file_1", timeout=LIMIT)
                elif what == "results":
                    fut = client.messages.batches.results("msgbatch_1", timeout=LIMIT)
                else:
                    fut = client.beta.files.retrieve_metadata("file_1", timeout=LIMIT)
                await asyncio.wait_for(fut, 20)
        await server.wait_disconnects(1)


@pytest.mark.parametrize("mode", ["endless_body", "drip_body"])
async def test_resource_error_body_is_capped_and_timed(mode: str) -> None:
    """A 529 whose body never ends (or drips) on a streamed resource call: an OverloadedError
    from the first 64 KiB, within the timeout, the rest never read."""
    timeout = LIMIT if mode == "drip_body" else ROOMY  # only the drip needs the timer to end
    async with HostileServer(Hostile(mode=mode, status=529, drip_s=DRIP)) as server:
        async with cr.AsyncClient(providers=[hostile(server, max_retries=0)]) as client:
            with pytest.raises((cr.OverloadedError, cr.ReadTimeout)) as info:
                await asyncio.wait_for(client.beta.files.download("file_1", timeout=timeout), 20)
        await server.wait_disconnects(1)
    if mode == "endless_body":
        assert isinstance(info.value, cr.OverloadedError)
        assert server.bytes_sent < 64 * MIB


async def test_batch_results_line_that_never_ends() -> None:
    """Batch results whose one JSON line never ends stop at max_response_bytes with a typed
    error instead of buffering it all."""
    async with HostileServer(Hostile(mode="endless_body")) as server:
        async with cr.AsyncClient(
            providers=[hostile(server, max_retries=0)], max_response_bytes=MIB
        ) as client:
            results = await client.messages.batches.results("msgbatch_1")

            async def read_all() -> None:
                async for _ in results:
                    pass

            with pytest.raises(cr.ResponseTooLargeError) as info:
                await asyncio.wait_for(read_all(), 20)
        await server.wait_disconnects(1)
    assert info.value.limit == MIB


async def test_many_hostile_calls_leave_no_connection_open(emu: AnthropicEmulator) -> None:
    """A burst of concurrent calls against a mix of hostile answers: every one ends with our
    own error (the deadline the only short limit; a call it missed would end at the 20 s guard
    with TimeoutError) and the server ends with no connection being served."""
    answers = [
        OUTCOMES[n][0]
        for n in (
            "drip_head",
            "endless_body 529",
            "stall",
            "hang",
            "endless_line",
            "pings",
            "reset_after_headers",
        )
    ]
    async with HostileServer(*answers) as server:
        async with cr.AsyncClient(
            providers=[hostile(server, max_retries=0)], deadline=LIMIT, max_response_bytes=MIB
        ) as client:
            out = await asyncio.gather(
                *(call(client, op) for op in ("create", "stream") for _ in answers),
                return_exceptions=True,
            )
        assert all(isinstance(e, cr.ClauderouteError) for e in out)
        await server.wait_idle()


def test_the_kit_refuses_an_unknown_mode() -> None:
    """A typo in a mode or an impossible status fails where the answer is written, listing the
    modes, rather than serving something else."""
    with pytest.raises(ValueError, match="drip_head"):
        Hostile(mode="drip_heads")
    with pytest.raises(ValueError, match="status"):
        Hostile(status=42)
    assert set(Hostile.MODES) >= {"drip_head", "endless_body", "reset_before_headers"}
