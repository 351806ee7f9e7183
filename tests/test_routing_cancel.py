"""Cancelling a hedged call, before the hedge fires and after, leaves nothing behind: no task, no
open connection (each hostile server sees its client leave), no span that never ends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicProvider
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

import clauderoute as cr
from clauderoute.routing import Hedging
from clauderoute.testing import Hostile, HostileServer
from clauderoute.tracing import TracingObserver

KEY = "hedge-cancel-key"
HI = [{"role": "user", "content": "Hello hedge"}]


class Spans(SpanProcessor):
    """Which spans started and which ended (the SDK's public processor hook)."""

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


async def create(c: cr.AsyncClient) -> None:
    await c.messages.create(model="m", max_tokens=16, messages=HI)


async def stream(c: cr.AsyncClient) -> None:
    async with c.messages.stream(model="m", max_tokens=16, messages=HI) as s:
        await s.get_final_message()


Call = Callable[[cr.AsyncClient], Awaitable[None]]
# (after, which servers must have a request before the cancellation)
WHEN = {"before the hedge fires": (3600.0, 1), "after the hedge fired": (0.01, 2)}


@pytest.mark.parametrize("fn", [create, stream], ids=["create", "stream"])
@pytest.mark.parametrize("when", list(WHEN))
@pytest.mark.parametrize("traced", [True, False], ids=["traced", "untraced"])
async def test_cancel_hedged_call(spans: tuple[Spans, TracerProvider], fn: Call, when: str,
                                  traced: bool) -> None:
    recorder, tracer = spans
    after, reached = WHEN[when]
    async with HostileServer(Hostile(mode="hang")) as a, \
            HostileServer(Hostile(mode="hang")) as b:
        servers = [a, b]
        before = asyncio.all_tasks()
        provs = [AnthropicProvider(name=n, base_url=s.url, api_key=KEY, max_retries=0)
                 for n, s in zip("ab", servers, strict=True)]
        kw: dict[str, Any] = {"observers": [TracingObserver(tracer_provider=tracer)]} \
            if traced else {}
        async with cr.AsyncClient(providers=provs, tracing=False, deadline=60,
                                  hedging=Hedging(after=after, budget=1.0), **kw) as c:
            task = asyncio.create_task(fn(c))
            for s in servers[:reached]:
                await s.wait_until(lambda s: s.requests == 1)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
            for s in servers[:reached]:
                await s.wait_disconnects(1)  # the client left: its connection is closed
            assert b.requests == reached - 1  # before: the hedge never started
        for s in servers:
            await s.wait_idle()
        for _ in range(5):
            await asyncio.sleep(0)
        assert asyncio.all_tasks() - before == set()
    if traced:
        assert recorder.started and recorder.open() == []


@pytest.mark.parametrize("fn", [create, stream], ids=["create", "stream"])
@pytest.mark.parametrize("traced", [True, False], ids=["traced", "untraced"])
async def test_cancelled_call_gives_back_its_capacity(spans: tuple[Spans, TracerProvider],
                                                      fn: Call, traced: bool) -> None:
    """The routing signals count every attempt in flight until its answer ends: a call
    cancelled while its server hangs gives its slot back (with or without an observer beside
    the signals), so cancelled calls never make a provider look busy."""
    _, tracer = spans
    async with HostileServer(Hostile(mode="hang")) as a:
        kw: dict[str, Any] = {"observers": [TracingObserver(tracer_provider=tracer)]} \
            if traced else {}
        provider = AnthropicProvider(name="a", base_url=a.url, api_key=KEY, max_retries=0)
        async with cr.AsyncClient(providers=[provider], tracing=False, **kw) as c:
            state = c.router.signals.state
            task = asyncio.create_task(fn(c))
            await a.wait_until(lambda s: s.requests == 1)
            assert state.in_flight == {("a", "m"): 1}
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
            assert state.in_flight == {}


async def _timed_create(c: cr.AsyncClient, timeout: float) -> None:
    await c.messages.create(model="m", max_tokens=16, messages=HI, timeout=timeout)


async def _timed_stream(c: cr.AsyncClient, timeout: float) -> None:
    async with c.messages.stream(model="m", max_tokens=16, messages=HI, timeout=timeout) as s:
        await s.get_final_message()


@pytest.mark.parametrize("fn", [_timed_create, _timed_stream], ids=["create", "stream"])
async def test_attempt_timer_against_an_outside_cancellation(
    fn: Callable[[cr.AsyncClient, float], Awaitable[None]],
) -> None:
    """The attempt's own timer and a cancellation from outside, on a server that never answers:
    the timer's firing becomes ``ReadTimeout`` and leaves the caller's task with no
    cancellation pending (the next await runs); a cancellation from outside while the timer is
    armed stays a ``CancelledError``, also when the timer fires right after it (two cancel
    requests: the timer takes back only its own)."""
    async with HostileServer(Hostile(mode="hang")) as a:
        provider = AnthropicProvider(name="a", base_url=a.url, api_key=KEY, max_retries=0)
        async with cr.AsyncClient(providers=[provider], tracing=False) as c:

            async def timed_out() -> int:
                with pytest.raises(cr.ReadTimeout, match="within 0.05s"):
                    await fn(c, 0.05)
                await asyncio.sleep(0)  # no cancellation left pending on this task
                task = asyncio.current_task()
                assert task is not None
                return task.cancelling()

            assert await asyncio.create_task(timed_out()) == 0

            # The outside cancel long before the timer: once the server has the request, the
            # timer an hour away (an event, so a loaded machine cannot let the timer win).
            task = asyncio.create_task(fn(c, 3600))
            await a.wait_until(lambda s: s.requests == 2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)

            # Just before the timer: due before the timer is armed (once the task runs), so
            # never after the call has ended: the timer fires in the same loop pass or the next.
            task = asyncio.create_task(fn(c, 0.1))
            loop = asyncio.get_running_loop()
            loop.call_at(loop.time() + 0.1, task.cancel)
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
            assert a.requests == 3
