"""The platforms refuse the gateway's own credentials (401, 403): once failover to the other
providers is exhausted the client gets 500 ``api_error`` saying the gateway's upstream
credentials for those providers were refused — never a 401/403 (its gateway key was fine), and
never the platform's text, which may echo a key."""

from __future__ import annotations

from typing import Any

import msgspec
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

from clauderoute.testing import Hostile, HostileServer
from tests.official_sdk import SDK_WORKER

pytestmark = SDK_WORKER  # every test drives the official SDK

PROMPT = [{"role": "user", "content": "hello"}]
ECHO = "sk-ant-upstream-SECRET-0123456789"
# A 403 whose message echoes what it was sent (as a careless platform might).
FORBIDDEN = Hostile(
    status=403,
    headers={"content-type": "application/json"},
    body=msgspec.json.encode(
        {
            "type": "error",
            "error": {
                "type": "permission_error",
                "message": f"key {ECHO} may not use this workspace",
            },
        }
    ),
)


async def test_refused_upstream_credentials_are_the_gateway_s_500(kit: Any) -> None:
    import anthropic

    emu = AnthropicEmulator(api_key="the-right-key")
    await emu.start()
    try:
        async with HostileServer(FORBIDDEN) as server:
            providers = [
                AnthropicProvider(name="wrong-key", base_url=emu.url, api_key=ECHO, max_retries=0),
                AnthropicProvider(
                    name="forbidden", base_url=server.url, api_key="k", max_retries=0
                ),
            ]
            async with (
                kit.run_gateway(providers) as g,
                anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0) as client,
            ):
                for call in (
                    client.messages.create(model=kit.MODEL, max_tokens=8, messages=PROMPT),
                    client.messages.create(
                        model=kit.MODEL, max_tokens=8, messages=PROMPT, stream=True
                    ),
                    client.messages.count_tokens(model=kit.MODEL, messages=PROMPT),
                ):
                    try:
                        await call
                    except anthropic.InternalServerError as exc:
                        caught = exc
                    else:
                        raise AssertionError("the call succeeded")
                    assert caught.status_code == 500
                    body = caught.body
                    assert isinstance(body, dict) and body["error"]["type"] == "api_error"
                    text = body["error"]["message"]
                    assert "upstream credentials" in text
                    assert "wrong-key" in text and "forbidden" in text
                    assert ECHO not in text and "workspace" not in text
                    assert ECHO not in str(caught.response.headers)
                # One provider alone: named alone, and a 401 never reaches the client as 401.
                try:
                    await client.messages.create(
                        model=kit.MODEL,
                        max_tokens=8,
                        messages=PROMPT,
                        extra_headers={"x-clauderoute-provider": "wrong-key"},
                    )
                except anthropic.InternalServerError as exc:
                    assert "provider wrong-key were refused" in exc.message
                else:
                    raise AssertionError("the call succeeded")
    finally:
        await emu.stop()


async def test_failover_past_refused_credentials_is_invisible(kit: Any) -> None:
    import anthropic

    emu = AnthropicEmulator(api_key="the-right-key")
    await emu.start()
    try:
        providers = [
            AnthropicProvider(name="wrong-key", base_url=emu.url, api_key="nope", max_retries=0),
            AnthropicProvider(
                name="right", base_url=emu.url, api_key="the-right-key", max_retries=0
            ),
        ]
        async with (
            kit.run_gateway(providers) as g,
            anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0) as client,
        ):
            raw = await client.messages.with_raw_response.create(
                model=kit.MODEL, max_tokens=8, messages=PROMPT
            )
            assert (await raw.parse()).content
            assert raw.headers["x-clauderoute-provider"] == "right"
            assert raw.headers["x-clauderoute-attempts"] == "2"
    finally:
        await emu.stop()
