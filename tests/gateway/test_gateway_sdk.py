"""The official Python SDK (async and sync) against ``clauderoute serve``'s application, fronting
every platform's emulator on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest

from clauderoute.gateway import GatewayKey
from clauderoute.testing import Fault, FaultPlan
from tests.official_sdk import SDK_WORKER

KINDS = ["anthropic", "aws", "bedrock", "foundry", "google-cloud", "vertex"]
PROMPT = [{"role": "user", "content": "hello through the gateway"}]


def _headers(raw: Any) -> dict[str, str]:
    return {k: v for k, v in raw.headers.items() if k.startswith("x-clauderoute")}


@SDK_WORKER
async def test_async_sdk_every_platform(fleet_of: Any, kit: Any) -> None:
    """Each platform pinned in turn: create, stream, count_tokens, in the Claude API's shapes;
    the gateway key never reaches a platform (each got its own credential)."""
    import anthropic

    fleet = await fleet_of(kinds=KINDS)
    async with kit.run_gateway(fleet.providers) as g:
        client = anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0)
        for m in fleet.members:
            pin = {"x-clauderoute-provider": m.name}
            raw = await client.messages.with_raw_response.create(
                model=kit.MODEL, max_tokens=16, messages=PROMPT, extra_headers=pin)
            msg = await raw.parse()
            assert msg.content[0].text == "Echo: hello through the gateway", m.kind
            assert _headers(raw)["x-clauderoute-provider"] == m.name
            assert _headers(raw)["x-clauderoute-attempts"] == "1"
            assert float(_headers(raw)["x-clauderoute-overhead-ms"]) >= 0
            assert raw.headers["request-id"]
            async with client.messages.stream(model=kit.MODEL, max_tokens=16, messages=PROMPT,
                                              extra_headers=pin) as s:
                texts = [t async for t in s.text_stream]
                final = await s.get_final_message()
            assert "".join(texts) == "Echo: hello through the gateway", m.kind
            assert final.usage.output_tokens == 5 and final.stop_reason == "end_turn"
            count = await client.messages.count_tokens(model=kit.MODEL, messages=PROMPT,
                                                       extra_headers=pin)
            assert count.input_tokens > 0
            seen = [r for r in m.emulator.requests]
            assert seen and all(kit.KEY not in json.dumps(r.headers) and
                                kit.KEY.encode() not in r.body for r in seen), m.kind
        await client.close()


@SDK_WORKER
async def test_sync_sdk_bearer_and_x_api_key(fleet_of: Any, kit: Any) -> None:
    """The synchronous SDK, with the key as x-api-key and as Authorization: Bearer."""
    import anthropic

    fleet = await fleet_of(kinds=["anthropic", "bedrock"])
    async with kit.run_gateway(fleet.providers) as g:
        def work() -> list[str]:
            out = []
            for kw in ({"api_key": kit.KEY}, {"auth_token": kit.KEY}):
                with anthropic.Anthropic(base_url=g.url, max_retries=0, **kw) as c:
                    out.append(c.messages.create(model=kit.MODEL, max_tokens=16,
                                                 messages=PROMPT).content[0].text)
                    with c.messages.stream(model=kit.MODEL, max_tokens=16, messages=PROMPT,
                                           extra_headers={"x-clauderoute-provider": "bedrock"}
                                           ) as s:
                        out.append(s.get_final_text())
            return out
        texts = await asyncio.to_thread(work)
    assert texts == ["Echo: hello through the gateway"] * 4


@SDK_WORKER
async def test_invisible_failover(fleet_of: Any, kit: Any) -> None:
    """The first platform answers 529, then overloads mid-stream before content: the SDK (no
    retries of its own) never sees either; the headers count the attempts."""
    import anthropic

    def faults(pos: int, kind: str) -> FaultPlan:
        plan = FaultPlan()
        if pos == 0:
            plan.add(Fault(status=529, operations=frozenset({"messages.create"})),
                     Fault(stream_error="overloaded_error", after_events=1,
                           operations=frozenset({"messages.stream"})))
        return plan
    fleet = await fleet_of(kinds=["anthropic", "bedrock"], faults=faults)
    async with kit.run_gateway(fleet.providers) as g:
        client = anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0)
        raw = await client.messages.with_raw_response.create(model=kit.MODEL, max_tokens=16,
                                                             messages=PROMPT)
        assert (await raw.parse()).content[0].text.startswith("Echo:")
        assert _headers(raw)["x-clauderoute-provider"] == "bedrock"
        assert _headers(raw)["x-clauderoute-attempts"] == "2"
        async with client.messages.with_streaming_response.create(
                model=kit.MODEL, max_tokens=16, messages=PROMPT, stream=True) as r:
            assert r.headers["x-clauderoute-provider"] == "bedrock"
            assert r.headers["x-clauderoute-attempts"] == "2"
            body = b"".join([c async for c in r.iter_bytes()])
        assert b"overloaded_error" not in body and b"event: message_stop" in body
        await client.close()


@SDK_WORKER
async def test_401_without_and_with_wrong_key(fleet_of: Any, kit: Any) -> None:
    import anthropic

    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers,
                               keys=[GatewayKey(name="team-a", key=kit.KEY)]) as g:
        for kw in ({"api_key": "wrong-key"}, {"auth_token": "wrong-key"}):
            client = anthropic.AsyncAnthropic(base_url=g.url, max_retries=0, **kw)
            with pytest.raises(anthropic.AuthenticationError) as info:
                await client.messages.create(model=kit.MODEL, max_tokens=16, messages=PROMPT)
            assert info.value.status_code == 401
            assert info.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
            await client.close()
        async with (
            aiohttp.ClientSession() as s,  # no key at all
            s.post(g.url + "/v1/messages", json={}) as r,
        ):
            assert r.status == 401
            assert (await r.json())["error"]["type"] == "authentication_error"
        assert fleet.members[0].emulator.requests == []  # refused before any upstream call


async def test_malformed_json_and_unknown_route(fleet_of: Any, kit: Any) -> None:
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers) as g, aiohttp.ClientSession(
            headers={"x-api-key": kit.KEY}) as s:
        for body in (b"{not json", b"[1, 2]", b""):
            async with s.post(g.url + "/v1/messages", data=body) as r:
                assert r.status == 400
                answer = await r.json()
                assert answer["type"] == "error"
                assert answer["error"]["type"] == "invalid_request_error"
                assert answer["request_id"] == r.headers["request-id"]
        async with s.post(g.url + "/v1/messages", json={"model": kit.MODEL, "max_tokens": 1,
                                                         "messages": PROMPT,
                                                         "provider": "x"}) as r:
            assert r.status == 400 and "provider" in (await r.json())["error"]["message"]
        async with s.post(g.url + "/v1/messages", json={"model": kit.MODEL, "max_tokens": 16,
                                                         "messages": PROMPT},
                          headers={"x-clauderoute-provider": "nowhere"}) as r:
            assert r.status == 400
            assert "x-clauderoute-provider" in (await r.json())["error"]["message"]
        async with s.get(g.url + "/v1/nothing-here") as r:
            assert r.status == 404
            assert (await r.json())["error"]["type"] == "not_found_error"
        async with s.post(g.url + "/v1/messages", json={"model": kit.MODEL, "max_tokens": 16,
                                                         "messages": PROMPT},
                          headers={"anthropic-version": "yesterday"}) as r:
            assert r.status == 400
    assert fleet.members[0].emulator.requests == []


@SDK_WORKER
async def test_mid_stream_cut_ends_with_error_event(fleet_of: Any, kit: Any) -> None:
    """After content, a cut connection cannot fail over: the SSE ends with an ``error`` event,
    which the SDK raises."""
    import anthropic

    def faults(pos: int, kind: str) -> FaultPlan:
        return FaultPlan().add(Fault(cut=True, after_events=4,
                                     operations=frozenset({"messages.stream"})))
    fleet = await fleet_of(kinds=["anthropic"], faults=faults)
    async with kit.run_gateway(fleet.providers) as g:
        client = anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0)
        got: list[str] = []
        with pytest.raises(anthropic.APIStatusError) as info:
            async with client.messages.stream(model=kit.MODEL, max_tokens=16,
                                              messages=PROMPT) as s:
                async for t in s.text_stream:
                    got.append(t)
        assert got, "content arrived before the cut"
        assert "error" in str(info.value.body)
        await client.close()


async def test_bedrock_event_stream_becomes_sse(fleet_of: Any, kit: Any) -> None:
    fleet = await fleet_of(kinds=["bedrock"])
    async with (
        kit.run_gateway(fleet.providers) as g,
        aiohttp.ClientSession() as s,
        s.post(g.url + "/v1/messages", headers={"x-api-key": kit.KEY},
               json={"model": kit.MODEL, "max_tokens": 16, "messages": PROMPT,
                     "stream": True}) as r,
    ):
        assert r.headers["content-type"].startswith("text/event-stream")
        body = await r.read()
    events = [line[len(b"event: "):] for line in body.split(b"\n")
              if line.startswith(b"event: ")]
    assert events[0] == b"message_start" and events[-1] == b"message_stop"
    assert b"content_block_delta" in events


async def test_sse_bytes_forwarded_unchanged(fleet_of: Any, kit: Any) -> None:
    """On an SSE platform the client gets the platform's bytes exactly (two fresh emulators
    number their messages alike)."""
    direct = (await fleet_of(kinds=["anthropic"])).members[0]
    behind = (await fleet_of(kinds=["anthropic"])).members[0]
    body = {"model": kit.MODEL, "max_tokens": 16, "messages": PROMPT, "stream": True}
    async with kit.run_gateway([behind.provider]) as g, aiohttp.ClientSession() as s:
        async with s.post(direct.emulator.url + "/v1/messages", json=body,
                          headers={"x-api-key": direct.secret,
                                   "anthropic-version": "2023-06-01"}) as r:
            assert r.status == 200
            expected = await r.read()
        async with s.post(g.url + "/v1/messages", json=body,
                          headers={"x-api-key": kit.KEY}) as r:
            got = await r.read()
    assert got == expected


async def test_client_disconnect_cancels_upstream(fleet_of: Any, kit: Any) -> None:
    """A client that leaves mid-stream: the gateway drops the upstream connection at once
    (the emulator sees the disconnect while it still had tokens to send)."""
    fleet = await fleet_of(kinds=["anthropic"])
    emu = fleet.members[0].emulator
    from clauderoute.testing import LatencyProfile
    emu.latency = LatencyProfile(per_token_s=0.05)  # 200 tokens: ~10 s if not cancelled
    async with kit.run_gateway(fleet.providers) as g:
        async with aiohttp.ClientSession() as s:
            r = await s.post(g.url + "/v1/messages", headers={"x-api-key": kit.KEY},
                             json={"model": kit.MODEL, "max_tokens": 200, "stream": True,
                                   "messages": [{"role": "user",
                                                 "content": "word " * 300}]})
            await r.content.readuntil(b"content_block_delta")
            await kit.until(lambda: emu.open_streams == 1, "the upstream stream is open")
            r.close()  # leave mid-stream
        await kit.until(lambda: emu.disconnects == 1, "the emulator saw the disconnect")
        await kit.until(lambda: g.gateway.in_flight == 0, "the gateway let the request go")
        assert emu.open_streams == 0


@SDK_WORKER
async def test_access_log_and_metrics_name_the_key_never_the_secret(
        fleet_of: Any, kit: Any, caplog: pytest.LogCaptureFixture) -> None:
    import anthropic

    fleet = await fleet_of(kinds=["anthropic"])
    caplog.set_level(logging.INFO, logger="clauderoute.gateway.access")
    async with kit.run_gateway(fleet.providers,
                               keys=[GatewayKey(name="team-a", key=kit.KEY)]) as g:
        client = anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0)
        await client.messages.create(model=kit.MODEL, max_tokens=16, messages=PROMPT)
        bad = anthropic.AsyncAnthropic(api_key=kit.KEY[:-1] + "X", base_url=g.url,
                                       max_retries=0)
        with pytest.raises(anthropic.AuthenticationError):
            await bad.messages.create(model=kit.MODEL, max_tokens=16, messages=PROMPT)
        await client.close()
        await bad.close()
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "clauderoute.gateway.access"]
    assert [(x["key"], x["status"]) for x in lines] == [("team-a", 200), ("-", 401)]
    ok = lines[0]
    assert ok["model"] == kit.MODEL and ok["provider"] == "anthropic" and ok["attempts"] == 1
    assert ok["input_tokens"] > 0 and ok["output_tokens"] == 5
    assert ok["duration_ms"] >= ok["overhead_ms"] >= 0
    assert kit.KEY not in caplog.text and kit.KEY[:-1] not in caplog.text
    assert fleet.members[0].secret not in caplog.text


async def test_health_and_ready(fleet_of: Any, kit: Any) -> None:
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers) as g, aiohttp.ClientSession() as s:
        for path in ("/healthz", "/readyz"):  # no key needed
            async with s.get(g.url + path) as r:
                assert r.status == 200
        g.gateway.draining = True
        async with s.get(g.url + "/readyz") as r:
            assert r.status == 503
