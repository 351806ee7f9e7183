"""The clients the benchmark compares, each behind the same driver interface.

Every driver checks every answer (text and, for streams, the event count) and raises
``WrongAnswer`` on a mismatch, so a fast but broken client cannot post a good figure.

* ``aiohttp`` (the floor): one ``ClientSession``, a prebuilt body and headers, ``msgspec``
  decoding of the JSON (untyped) and a hand-written split of the SSE frames.
* ``clauderoute``: ``AsyncClient`` with one direct ``AnthropicProvider`` (defaults: OpenTelemetry
  tracing on, a no-op without an SDK installed — what a user gets).
* ``clauderoute-notrace``: the same with ``tracing=False`` (the cost of the default tracing).
* ``clauderoute-otel``: ``tracing=False`` plus an explicit ``TracingObserver`` on an
  OpenTelemetry SDK ``TracerProvider`` (``SimpleSpanProcessor`` into an in-memory exporter) and
  ``MeterProvider`` (in-memory reader): the cost of tracing when someone listens.
* ``clauderoute-nosignals``: ``tracing=False, signals=False`` (the cost of the routing signals:
  capacity, budgets, cache affinity, cost; compare with ``clauderoute-notrace``).
* ``clauderoute-routed``: ``AsyncClient`` with a 4-provider failover route, all four direct
  providers on the same server (the happy path: the first one answers).
* ``sdk``: the official ``anthropic.AsyncAnthropic(base_url=...)`` (its default HTTP client:
  ``httpx2`` in SDK 2.x).

A stream of ``n`` text deltas is asked for with ``max_tokens=n`` (the server's convention).
"""

from __future__ import annotations

from typing import Any

import msgspec
from _server import API_KEY, MODEL, expected_stream_text

PROMPT = "hello benchmark"
EXPECTED = "pong " + PROMPT
MAX_TOKENS = 1024
VERSION = "2023-06-01"


def _params(max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
    # What an application builds per call (the floor alone gets to prebuild its bytes).
    return {"model": MODEL, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": PROMPT}]}


def _text(msg: Any) -> str:
    return str(msg.content[0].text)


class WrongAnswer(AssertionError):
    """A client got an answer other than the one the server sent for its request."""


class Driver:
    """``start`` / ``create`` / ``stream(deltas)`` / ``close``."""

    name = ""

    def __init__(self, url: str) -> None:
        self.url = url
        self.checked = {"create": 0, "stream": 0}

    def expect(self, deltas: int) -> tuple[str, int]:
        """The text and the number of wire events of a stream of ``deltas`` deltas."""
        return expected_stream_text(deltas), deltas + 5

    async def start(self) -> None:
        raise NotImplementedError

    async def create(self) -> None:
        raise NotImplementedError

    async def stream(self, deltas: int) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def _check_create(self, got: str) -> None:
        if got != EXPECTED:
            raise WrongAnswer(f"{self.name} create: {got[:60]!r} != {EXPECTED!r}")
        self.checked["create"] += 1

    def _check_stream(self, deltas: int, got: str, events: int) -> None:
        text, n = self.expect(deltas)
        if got != text or events != n:
            raise WrongAnswer(f"{self.name} stream: {events} events (want {n}), "
                              f"text {got[:40]!r}... (want {text[:40]!r}...)")
        self.checked["stream"] += 1


_WIRE_EVENTS = frozenset({"message_start", "content_block_start", "content_block_delta",
                          "content_block_stop", "message_delta", "message_stop", "ping"})


class MessagesDriver(Driver):
    """A driver over a Messages client (clauderoute's or the SDK's): ``start`` sets
    ``self._client``; ``params`` gives the request, ``_served`` checks who served it."""

    #: count only the wire events (the SDK's stream adds derived ``text``, ``input_json``...)
    wire_only = False

    def params(self, max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
        return _params(max_tokens)

    def _served(self, msg: Any) -> None:
        """Check the message's route; nothing to check by default."""

    async def create(self) -> None:
        msg = await self._client.messages.create(**self.params())
        self._served(msg)
        self._check_create(_text(msg))

    async def stream(self, deltas: int) -> None:
        events = 0
        async with self._client.messages.stream(**self.params(deltas)) as s:
            if self.wire_only:  # chosen once, not per event: the loop is what is measured
                async for ev in s:
                    events += ev.type in _WIRE_EVENTS
            else:
                async for _ev in s:
                    events += 1
            msg = await s.get_final_message()
        self._served(msg)
        self._check_stream(deltas, _text(msg), events)

    async def close(self) -> None:
        await self._client.close()


class AiohttpFloor(Driver):
    name = "aiohttp"

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession()
        self._endpoint = self.url + "/v1/messages"
        self._headers = {"x-api-key": API_KEY, "anthropic-version": VERSION,
                         "content-type": "application/json"}
        self._body = msgspec.json.encode(_params())
        self._sbodies: dict[int, bytes] = {}
        self._decode = msgspec.json.decode

    async def create(self) -> None:
        async with self._session.post(self._endpoint, data=self._body,
                                      headers=self._headers) as r:
            body = await r.read()
        if r.status != 200:
            raise WrongAnswer(f"aiohttp create: HTTP {r.status}")
        self._check_create(self._decode(body)["content"][0]["text"])

    async def stream(self, deltas: int) -> None:
        sbody = self._sbodies.get(deltas)
        if sbody is None:  # prebuilt once per size, outside the measured calls after warm-up
            sbody = self._sbodies[deltas] = msgspec.json.encode(dict(_params(deltas), stream=True))
        decode, parts, events, buf = self._decode, [], 0, b""
        async with self._session.post(self._endpoint, data=sbody, headers=self._headers) as r:
            if r.status != 200:
                raise WrongAnswer(f"aiohttp stream: HTTP {r.status}")
            async for chunk in r.content.iter_any():
                frames = (buf + chunk).split(b"\n\n")
                buf = frames.pop()
                for frame in frames:
                    ev = decode(frame[frame.index(b"data: ") + 6:])
                    events += 1
                    if ev["type"] == "content_block_delta":
                        parts.append(ev["delta"]["text"])
        self._check_stream(deltas, "".join(parts), events)

    async def close(self) -> None:
        await self._session.close()


class Clauderoute(MessagesDriver):
    name = "clauderoute"
    n_providers = 1
    tracing = True
    signals = True

    async def start(self) -> None:
        from clauderoute_anthropic import AnthropicProvider

        from clauderoute import AsyncClient

        providers = [AnthropicProvider(name=f"p{i + 1}", base_url=self.url, api_key=API_KEY)
                     for i in range(self.n_providers)]
        self._client = AsyncClient(providers=providers, tracing=self.tracing,
                                   signals=None if self.signals else False)

    def _served(self, msg: Any) -> None:
        route = msg.route
        if route is None or route.provider != "p1" or len(route.attempts) != 1:
            raise WrongAnswer(f"{self.name}: not served by p1 in one attempt: {route!r}")



class ClauderouteNoTrace(Clauderoute):
    name = "clauderoute-notrace"
    tracing = False


class ClauderouteNoSignals(Clauderoute):
    name = "clauderoute-nosignals"
    tracing = False
    signals = False


class ClauderouteRouted(Clauderoute):
    name = "clauderoute-routed"
    n_providers = 4


class ClauderouteOtel(Clauderoute):
    """The OpenTelemetry SDK in use: spans through a ``SimpleSpanProcessor`` into an in-memory
    exporter (emptied every ``CLEAR_EVERY`` calls so memory stays bounded) and metrics into an
    ``InMemoryMetricReader``, via an explicit ``TracingObserver`` (the default one off)."""

    name = "clauderoute-otel"
    tracing = False
    CLEAR_EVERY = 512

    async def start(self) -> None:
        from clauderoute_anthropic import AnthropicProvider
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        from clauderoute import AsyncClient
        from clauderoute.tracing import TracingObserver

        self.exporter = InMemorySpanExporter()
        self._tracer_provider = TracerProvider()
        self._tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self._meter_provider = MeterProvider(metric_readers=[self.reader])
        self.spans = 0
        self._calls = 0
        observer = TracingObserver(tracer_provider=self._tracer_provider,
                                   meter_provider=self._meter_provider)
        self._client = AsyncClient(providers=[AnthropicProvider(name="p1", base_url=self.url,
                                                                api_key=API_KEY)],
                                   tracing=False, observers=[observer])

    def _served(self, msg: Any) -> None:
        super()._served(msg)
        self._calls += 1
        if self._calls % self.CLEAR_EVERY == 0:
            self._drain()

    def _drain(self) -> None:
        self.spans += len(self.exporter.get_finished_spans())
        self.exporter.clear()

    async def close(self) -> None:
        await super().close()
        self._drain()
        self._tracer_provider.shutdown()
        self._meter_provider.shutdown()


class OfficialSDK(MessagesDriver):
    name = "sdk"
    wire_only = True

    async def start(self) -> None:
        import anthropic

        self._client = anthropic.AsyncAnthropic(base_url=self.url, api_key=API_KEY)



DRIVERS: dict[str, type[Driver]] = {d.name: d for d in (
    AiohttpFloor, Clauderoute, ClauderouteNoTrace, ClauderouteNoSignals, ClauderouteOtel,
    ClauderouteRouted, OfficialSDK)}
