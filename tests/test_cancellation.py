"""Cancelling the caller's task at every await of a call's I/O leaves nothing behind: no task,
no open connection (the hostile server sees the client leave), no span that never ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicProvider
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

import clauderoute as cr
from clauderoute.testing import Blackhole, Hostile, HostileServer
from clauderoute.tracing import TracingObserver

KEY = "cancel-test-key"
HI = [{"role": "user", "content": "Hello cancel"}]


class Spans(SpanProcessor):
    """Records which spans started and which ended (the SDK's public processor hook)."""

    def __init__(self) -> None:
        self.started: dict[int, str] = {}
        self.ended: set[int] = set()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.started[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.ended.add(span.context.span_id)

    def open(self) -> list[str]:
        return [name for sid, name in self.started.items() if sid not in self.ended]


@pytest.fixture
def spans() -> Iterator[tuple[Spans, TracerProvider]]:
    recorder = Spans()
    provider = TracerProvider()
    provider.add_span_processor(recorder)
    yield recorder, provider
    provider.shutdown()


def client(url: str, tracer: TracerProvider, **kw: Any) -> cr.AsyncClient:
    provider = AnthropicProvider(base_url=url, api_key=KEY, max_retries=0)
    return cr.AsyncClient(
        providers=[provider],
        tracing=False,
        observers=[TracingObserver(tracer_provider=tracer)],
        **kw,
    )


async def create(c: cr.AsyncClient, reached: asyncio.Event) -> None:
    await c.messages.create(model="m", max_tokens=16, messages=HI)


async def stream(c: cr.AsyncClient, reached: asyncio.Event) -> None:
    async with c.messages.stream(model="m", max_tokens=16, messages=HI) as s:
        async for ev in s:
            if ev.type == "content_block_delta":
                reached.set()  # content in the caller's hands: now cancel mid-stream


Call = Callable[[cr.AsyncClient, asyncio.Event], Awaitable[None]]


async def cancel_when(
    c: cr.AsyncClient, fn: Call, ready: Callable[[asyncio.Event], Awaitable[Any]]
) -> None:
    """Start the call in its own task, wait for ``ready``, cancel the task: it must end
    cancelled (not with an error of ours, not still running)."""
    reached = asyncio.Event()
    task = asyncio.create_task(fn(c, reached))
    await asyncio.wait_for(ready(reached), 5)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def left_behind(before: set[asyncio.Task[Any]]) -> list[str]:
    """The tasks started since ``before`` that are still there once the cancellation settled.
    One in its last steps (a server handler returning after ``wait_idle``, a callback the
    cancellation scheduled) is given up to 2 s on a loaded machine; one left behind stays, and
    is named in the failure."""
    loop = asyncio.get_running_loop()
    end = loop.time() + 2.0
    while True:
        extra = asyncio.all_tasks() - before
        if not extra or loop.time() >= end:
            return sorted(getattr(t.get_coro(), "__qualname__", repr(t)) for t in extra)
        await asyncio.sleep(0.005)


# A byte every millisecond: still a drip (the call is cancelled while bytes keep coming, a few
# hundred of them still to come), and the few hundred bytes before each cancellation point
# take a tenth of a second, not one.
DRIP = 0.001
# Answers whose bodies drip for seconds after the cancellation point (the usual 275-byte
# message and 79-byte error end 30-200 ms after it: on a loaded machine the call could read one
# whole before the cancellation lands, and the connection, answered in full, would rightly stay
# in the pool).
LONG_MESSAGE = json.dumps(
    {
        "id": "msg_long",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": "long " * 600}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 600},
    }
).encode()
LONG_ERROR = json.dumps(
    {"type": "error", "error": {"type": "overloaded_error", "message": "overloaded " * 300}}
).encode()
JSON = {"content-type": "application/json"}
# (call, hostile answer, when to cancel: a predicate on the server once it has sent that much)
POINTS: dict[str, tuple[Call, Hostile, Callable[[HostileServer], bool]]] = {
    "create, waiting for headers": (create, Hostile(mode="hang"), lambda s: s.requests == 1),
    "create, headers dripping": (
        create,
        Hostile(mode="drip_head", drip_s=DRIP),
        lambda s: s.bytes_sent > 20,
    ),
    "create, mid-body": (
        create,
        Hostile(mode="drip_body", body=LONG_MESSAGE, headers=JSON, drip_s=DRIP),
        lambda s: s.bytes_sent > 200,
    ),
    "stream, waiting for headers": (stream, Hostile(mode="hang"), lambda s: s.requests == 1),
    "stream, headers dripping": (
        stream,
        Hostile(mode="drip_head", drip_s=DRIP),
        lambda s: s.bytes_sent > 20,
    ),
    "stream, error body dripping": (
        stream,
        Hostile(mode="drip_body", status=529, body=LONG_ERROR, headers=JSON, drip_s=DRIP),
        lambda s: s.bytes_sent > 200,
    ),
    "stream, waiting for first content": (
        stream,
        Hostile(mode="stall"),
        lambda s: s.bytes_sent > 300,
    ),
    "stream, first content dripping": (
        stream,
        Hostile(mode="drip_body", drip_s=DRIP),
        lambda s: s.bytes_sent > 500,
    ),
}


@pytest.mark.parametrize("point", list(POINTS))
async def test_cancel_at_each_await(spans: tuple[Spans, TracerProvider], point: str) -> None:
    """Cancelled at this await, the call leaves no task, the server sees the connection
    closed, and every span it started has ended."""
    recorder, tracer = spans
    fn, answer, ready = POINTS[point]
    async with HostileServer(answer) as server:
        before = asyncio.all_tasks()
        async with client(server.url, tracer) as c:
            await cancel_when(c, fn, lambda _: server.wait_until(ready))
            await server.wait_disconnects(1)
        await server.wait_idle()
        assert await left_behind(before) == []
    assert recorder.started and recorder.open() == []


async def test_cancel_mid_stream(spans: tuple[Spans, TracerProvider]) -> None:
    """Cancelled while the caller iterates a stream that delivered content (the server then
    pings forever): the connection closes and the call's spans end."""
    recorder, tracer = spans
    async with HostileServer(Hostile(mode="pings", after_events=3, drip_s=DRIP)) as server:
        before = asyncio.all_tasks()
        async with client(server.url, tracer) as c:
            await cancel_when(c, stream, lambda reached: reached.wait())
            await server.wait_disconnects(1)
        await server.wait_idle()
        assert await left_behind(before) == []
    assert recorder.started and recorder.open() == []


@pytest.mark.parametrize("fn", [create, stream], ids=["create", "stream"])
async def test_cancel_while_connecting(spans: tuple[Spans, TracerProvider], fn: Call) -> None:
    """Cancelled while the TCP handshake hangs: no task left and every span ended."""
    recorder, tracer = spans

    async def connecting(_: asyncio.Event) -> None:
        # The attempt's span started (the call's and the attempt's: two): the connect, which
        # never completes, follows without waiting on anything; a moment more to be inside it.
        while len(recorder.started) < 2:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.02)

    async with Blackhole() as hole:
        before = asyncio.all_tasks()
        async with client(hole.url, tracer, connect_timeout=30) as c:
            await cancel_when(c, fn, connecting)
        assert await left_behind(before) == []
    assert recorder.started and recorder.open() == []
