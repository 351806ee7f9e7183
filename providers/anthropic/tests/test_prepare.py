"""Shaping of Claude API requests (pure), credentials from the environment, and per-call
headers, body fields and betas reaching the wire."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._provider import COUNT_TOKENS, CREATE, STREAM, Call
from clauderoute.testing import Fault

KEY = "sk-ant-prepare-" + "x" * 20
PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 9,
          "messages": [{"role": "user", "content": "hi"}], "future_field": [1]}


async def test_create_request_shape() -> None:
    """URL, headers and body of a create: model mapped, no stream key, unknown kept."""
    p = AnthropicProvider(api_key=KEY, base_url="https://example.test/")
    req = await p.prepare(Call(operation=CREATE, params=dict(PARAMS), betas=("b1", "b2"),
                               extra_headers={"x-trace": "t"}))
    assert (req.method, req.url) == ("POST", "https://example.test/v1/messages")
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["anthropic-beta"] == "b1,b2"
    assert req.headers["x-api-key"] == KEY and req.headers["x-trace"] == "t"
    assert msgspec.json.decode(req.body) == PARAMS
    assert KEY not in repr(req) and "[secure]" in repr(req)


async def test_stream_and_count_tokens_shape() -> None:
    """A stream adds stream: true; count_tokens goes to its own path."""
    p = AnthropicProvider(api_key=KEY, anthropic_version="2026-10-21")
    req = await p.prepare(Call(operation=STREAM, params=dict(PARAMS)))
    assert msgspec.json.decode(req.body)["stream"] is True
    assert req.headers["anthropic-version"] == "2026-10-21"
    assert req.url == "https://api.anthropic.com/v1/messages"
    req = await p.prepare(Call(operation=COUNT_TOKENS, params={"model": "m", "messages": []}))
    assert req.url.endswith("/v1/messages/count_tokens")


async def test_environment_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN and ANTHROPIC_BASE_URL are read when unset."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok-123")
    req = await AnthropicProvider().prepare(Call(operation=CREATE, params=dict(PARAMS)))
    assert req.url == "http://127.0.0.1:9/v1/messages"
    assert req.headers["authorization"] == "Bearer tok-123" and "x-api-key" not in req.headers
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    req = await AnthropicProvider().prepare(Call(operation=CREATE, params=dict(PARAMS)))
    assert req.headers["x-api-key"] == KEY


def test_missing_credential_is_a_configuration_error() -> None:
    """No key and no token: a ConfigurationError that names the settings, before any call."""
    with pytest.raises(cr.ConfigurationError, match="api_key"):
        AnthropicProvider()


async def test_per_call_options_reach_the_wire() -> None:
    """extra_headers, extra_body and betas arrive at the platform; the bearer token works."""
    async with AnthropicEmulator(api_key=None, auth_token="tok-abc") as emu:
        provider = AnthropicProvider(base_url=emu.url, auth_token="tok-abc")
        async with cr.AsyncClient(providers=[provider]) as client:
            await client.messages.create(**PARAMS, extra_headers={"x-team": "ml"},
                                         extra_body={"service_tier": "auto"},
                                         betas=["token-efficient-tools-2025-02-19"])
        got = emu.requests[0]
        assert got.headers["x-team"] == "ml"
        assert got.headers["anthropic-beta"] == "token-efficient-tools-2025-02-19"
        assert got.headers["Authorization"] == "Bearer tok-abc"
        body = msgspec.json.decode(got.body)
        assert body["service_tier"] == "auto" and body["future_field"] == [1]


async def test_emulator_limits_and_headers() -> None:
    """The emulator answers 413 above its size limit and sends rate-limit headers on success."""
    async with AnthropicEmulator(api_key=KEY, max_body_bytes=200) as emu:
        provider = AnthropicProvider(base_url=emu.url, api_key=KEY)
        async with cr.AsyncClient(providers=[provider]) as client:
            with pytest.raises(cr.RequestTooLargeError) as info:
                await client.messages.create(model="m", max_tokens=5, messages=[
                    {"role": "user", "content": "y" * 300}])
            assert info.value.error_type == "request_too_large"
            emu.faults.add(Fault(status=429, retry_after=0.01))
            msg = await client.messages.create(model="m", max_tokens=5, messages=[
                {"role": "user", "content": "ok"}])
        assert msg.route.attempts[0].error_type == "rate_limit_error"
        async with aiohttp.ClientSession() as raw, raw.post(
                emu.url + "/v1/messages", data=b'{"model":"m","max_tokens":1,"messages":[]}',
                headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"}) as resp:
            assert resp.status == 200
            assert resp.headers["anthropic-ratelimit-requests-limit"] == "4000"
            assert resp.headers["request-id"].startswith("req_")
