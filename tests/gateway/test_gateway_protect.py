"""What protects the gateway: body limits before reading, head and body timeouts (slowloris),
the concurrency limit, deadlines against a hostile platform, and the server span as the parent
of the library's route span."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clauderoute.testing import Hostile, HostileServer
from clauderoute.tracing import TracingObserver
from tests.official_sdk import SDK_WORKER

PROMPT = [{"role": "user", "content": "hello"}]


async def _head(port: int, head: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    return reader, writer


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], dict[str, Any]]:
    status_line = await reader.readline()
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, json.loads(body)


def _post(key: str, extra: str) -> bytes:
    return (f"POST /v1/messages HTTP/1.1\r\nHost: gw\r\nx-api-key: {key}\r\n"
            f"content-type: application/json\r\n{extra}\r\n").encode()


async def test_413_on_content_length_before_any_body_byte(fleet_of: Any, kit: Any) -> None:
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers) as g:  # default limit: 32 MB
        reader, writer = await _head(g.port, _post(kit.KEY, "content-length: 40000000\r\n"))
        status, _headers, body = await _answer(reader)  # not one body byte was sent
        assert status == 413 and body["error"]["type"] == "request_too_large"
        assert await reader.read() == b""  # and the connection is closed: never read
        writer.close()
    assert fleet.members[0].emulator.requests == []


async def test_413_on_chunked_body_as_soon_as_it_passes(fleet_of: Any, kit: Any) -> None:
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers, max_body_mb=4 / 1024) as g:  # 4 KiB
        reader, writer = await _head(g.port, _post(kit.KEY, "transfer-encoding: chunked\r\n"))
        chunk = b"a" * 1024
        for _ in range(5):  # 5 KiB, and no final chunk: the body never ends
            writer.write(b"400\r\n" + chunk + b"\r\n")
        await writer.drain()
        status, _h, body = await _answer(reader)
        assert status == 413 and body["error"]["type"] == "request_too_large"
        assert await reader.read() == b""
        writer.close()


@pytest.mark.parametrize("head", [b"", b"POST /v1/messages HTTP/1.1\r\nHost: g"])
async def test_slow_head_is_dropped(fleet_of: Any, kit: Any, head: bytes) -> None:
    """A client that never finishes its request head (or never starts it) is disconnected."""
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers, header_timeout_s=0.1) as g:
        reader, writer = await _head(g.port, head)
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()


async def test_dripping_head_is_dropped(fleet_of: Any, kit: Any) -> None:
    """One byte at a time keeps no timer alive: the whole head has one limit."""
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers, header_timeout_s=0.15) as g:
        reader, writer = await _head(g.port, b"P")
        closed = asyncio.ensure_future(reader.read())
        for byte in _post(kit.KEY, "x-pad: " + "a" * 200 + "\r\n")[1:]:
            if closed.done():
                break
            try:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.01)
            except ConnectionError:
                break
        try:
            rest = await asyncio.wait_for(closed, 10)
        except ConnectionResetError:  # closed with our bytes unread: the kernel sends a reset
            rest = b""
        assert rest == b""  # dropped without an answer, by the head's one limit
        writer.close()


async def test_slow_body_gets_408(fleet_of: Any, kit: Any) -> None:
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers, body_timeout_s=0.1) as g:
        reader, writer = await _head(g.port, _post(kit.KEY, "content-length: 100\r\n") +
                                     b'{"model": ')
        status, _h, body = await _answer(reader)
        assert status == 408 and body["type"] == "error"
        writer.close()


@SDK_WORKER
async def test_529_when_saturated(kit: Any) -> None:
    import anthropic

    async with HostileServer(Hostile(mode="hang"), Hostile()) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", max_retries=0)
        async with kit.run_gateway([provider], max_concurrency=1, retry_after_s=2) as g:
            client = anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0)
            first = asyncio.ensure_future(client.messages.create(  # holds the only slot
                model=kit.MODEL, max_tokens=4, messages=PROMPT))
            await kit.until(lambda: g.gateway.in_flight == 1, "the first request is in flight")
            with pytest.raises(anthropic.APIStatusError) as info:
                await client.messages.create(model=kit.MODEL, max_tokens=4, messages=PROMPT)
            assert info.value.status_code == 529
            assert info.value.response.headers["retry-after"] == "2"
            assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
            assert len(server.received) == 1  # the refused request went nowhere
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
            await kit.until(lambda: g.gateway.in_flight == 0, "the slot is free again")
            await server.wait_disconnects(1)  # the cancelled request let go of its platform
            msg = await client.messages.create(model=kit.MODEL, max_tokens=4, messages=PROMPT)
            assert msg.content
            await client.close()


@SDK_WORKER
@pytest.mark.parametrize("mode", ["drip_head", "stall", "hang", "pings"])
async def test_deadline_holds_end_to_end_behind_hostile_platform(kit: Any, mode: str) -> None:
    """A platform that drips, stalls, hangs or pings forever: the gateway's deadline answers
    the client (504 timeout_error before content; an error event after it), and the platform's
    connection is dropped."""
    import anthropic

    async with HostileServer(Hostile(mode=mode, drip_s=0.02, after_events=3)) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", max_retries=0)
        async with kit.run_gateway([provider], client_kw={"deadline": 0.2}) as g:
            client = anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0,
                                              timeout=30)
            with pytest.raises(anthropic.APIStatusError) as info:
                async with client.messages.stream(model=kit.MODEL, max_tokens=16,
                                                  messages=PROMPT) as s:
                    async for _ in s:
                        pass
            body = info.value.body
            assert isinstance(body, dict)
            assert "timeout_error" in json.dumps(body) or "deadline" in json.dumps(body)
            await server.wait_disconnects(1)
            await client.close()


@SDK_WORKER
async def test_server_span_is_the_parent_of_the_route_span(fleet_of: Any, kit: Any) -> None:
    import anthropic

    exporter = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    mp = MeterProvider(metric_readers=[reader])
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers,
                               gateway_kw={"tracer_provider": tp, "meter_provider": mp},
                               client_kw={"observers": [TracingObserver(tracer_provider=tp)]},
                               ) as g:
        client = anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0)
        await client.messages.create(model=kit.MODEL, max_tokens=4, messages=PROMPT)
        async with client.messages.stream(model=kit.MODEL, max_tokens=4,
                                          messages=PROMPT) as s:
            await s.get_final_message()
        await client.close()
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind.name == "SERVER"]
    routes = [s for s in spans if s.name.startswith("clauderoute ")]
    assert len(servers) == 2 and len(routes) == 2
    for server, route in zip(servers, sorted(routes, key=lambda s: s.start_time or 0)):
        assert route.parent is not None and route.parent.span_id == server.context.span_id
        assert server.attributes["clauderoute.gateway.key"] == "key-1"
        assert server.attributes["http.response.status_code"] == 200
    dump = "".join(s.to_json() for s in spans)
    assert kit.KEY not in dump and fleet.members[0].secret not in dump
    data = reader.get_metrics_data()
    assert data is not None
    points = {(m.name, p.attributes.get("gen_ai.token.type", "")): (p.value, dict(p.attributes))
              for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
              for p in m.data.data_points}  # type: ignore[union-attr]
    calls, attrs = points[("clauderoute.gateway.requests", "")]
    assert calls == 2 and attrs["clauderoute.gateway.key"] == "key-1"
    assert points[("clauderoute.gateway.tokens", "output")][0] == 2 * 2  # "Echo: hello" twice
    assert points[("clauderoute.gateway.tokens", "input")][0] > 0
    assert kit.KEY not in data.to_json()


async def test_disconnect_before_any_content_cancels_upstream(kit: Any) -> None:
    """A client that leaves while the gateway still holds the stream back (nothing written to
    it yet): the upstream request is cancelled at once, not when a write would fail."""
    async with HostileServer(Hostile(mode="hang")) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", max_retries=0)
        async with kit.run_gateway([provider]) as g:
            _reader, writer = await _head(g.port, _post(kit.KEY, "content-length: 96\r\n") +
                                         b'{"model": "m", "max_tokens": 4, "stream": true, '
                                         b'"messages": [{"role": "user", "content": "hi"}]}')
            await kit.until(lambda: len(server.received) == 1, "the platform got the request")
            writer.close()
            await server.wait_disconnects(1)
            await kit.until(lambda: g.gateway.in_flight == 0, "the gateway let it go")
