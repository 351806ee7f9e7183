"""``clauderoute serve --workers 2`` with ``[state]``: the workers share one rpm budget through a
real redis-server, ``/readyz`` shows the state backend (never its password), and Redis killed
mid-run loses no call. Skips without redis-server unless ``CLAUDEROUTE_REQUIRE_REDIS=1``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

pytest.importorskip("redis", reason="clauderoute[redis] (redis-py) is not installed")

from tests.gateway.test_serve_process import LISTEN, Serve, _serve
from tests.official_sdk import SDK_WORKER
from tests.test_fleet import MARGIN_S, RedisServer, running_redis

pytestmark = SDK_WORKER  # the test drives the official SDK

GW_KEY = "fleet-gw-key-0123456789"
MODEL = "claude-haiku-4-5"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    yield from running_redis()


async def _readyz(url: str) -> tuple[int, str]:
    """One probe on a new connection (so probes reach different workers)."""
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s,
        s.get(url + "/readyz") as r,
    ):
        return r.status, await r.text()


async def _until_ready(url: str, state: str, within: float) -> dict[str, Any]:
    """Probe until a worker's ``/readyz`` shows ``state``; every answer is 200 and keeps the
    password out."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        status, text = await _readyz(url)
        assert status == 200, text
        body: dict[str, Any] = json.loads(text)
        if body["state"]["state"] == state or loop.time() > end:
            return body
        await asyncio.sleep(0.05)


async def _listening(serve: Serve, workers: int) -> int:
    """The port, once ``workers`` distinct worker pids said they are listening."""
    loop = asyncio.get_running_loop()
    end = loop.time() + 60
    while True:
        found = {
            m.group(1): int(m.group(2))
            for line in serve.lines
            if (m := LISTEN.search(line)) is not None
        }
        if len(found) >= workers:
            assert len(set(found.values())) == 1, found  # one port for all
            return next(iter(found.values()))
        assert loop.time() < end and serve.proc.returncode is None, serve.lines
        await asyncio.sleep(0.05)


def _origins(url: str) -> set[str]:
    """The processes that published a latency summary (one per worker that served a call)."""
    import redis

    r = redis.Redis.from_url(url)
    try:
        keys = r.keys("clauderoute:lat:*")
    finally:
        r.close()
    return {k.decode().split(":", 2)[2].split("\x1f", 1)[0] for k in keys}


async def test_workers_share_one_budget_and_survive_redis(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    import anthropic
    from clauderoute_anthropic import AnthropicEmulator

    async with (
        AnthropicEmulator(api_key="fleet-key") as ea,
        AnthropicEmulator(api_key="fleet-key") as eb,
    ):
        cfg = tmp_path / "serve.toml"
        cfg.write_text(
            f'[providers.a]\nkind = "anthropic"\napi_key = "fleet-key"\nbase_url = "{ea.url}"\n'
            f'[providers.b]\nkind = "anthropic"\napi_key = "fleet-key"\nbase_url = "{eb.url}"\n'
            f'[route.budgets.a]\nrpm = 10\n[gateway]\napi_keys = ["{GW_KEY}"]\n'
            f'[state]\nurl = "{redis_server.url}"\nsync_ms = 50\n'
        )
        # Two workers (a third cost ~0.8 s of CPU and checked nothing more): without the shared
        # budget each would admit up to 10 calls to a.
        serve: Serve = await _serve(cfg, "--workers", "2")
        try:
            port = await _listening(serve, 2)
            url = f"http://127.0.0.1:{port}"
            body = await _until_ready(url, "ok", MARGIN_S)
            assert body["state"]["state"] == "ok" and body["state"]["live"], body
            assert redis_server.password not in json.dumps(body)

            client = anthropic.AsyncAnthropic(api_key=GW_KEY, base_url=url, max_retries=0)
            sem = asyncio.Semaphore(5)

            async def one() -> str:
                async with sem:
                    msg = await client.messages.with_raw_response.create(
                        model=MODEL,
                        max_tokens=8,
                        messages=[{"role": "user", "content": "x"}],
                        extra_headers={"connection": "close"},
                    )  # spread over the workers
                    return msg.headers.get("x-clauderoute-provider", "")

            served = await asyncio.gather(*(one() for _ in range(45)))
            assert len(served) == 45 and set(served) <= {"a", "b"}, served
            # one rpm = 10 budget for the two workers: each alone would admit 10 to a
            assert 1 <= len(ea.requests) <= 10, len(ea.requests)
            assert len(ea.requests) + len(eb.requests) == 45
            loop = asyncio.get_running_loop()
            end = loop.time() + MARGIN_S
            while len(_origins(redis_server.url)) < 2 and loop.time() < end:
                await asyncio.sleep(0.05)
            assert len(_origins(redis_server.url)) >= 2  # several workers served and synced

            # Redis killed mid-run: every call still succeeds, on each worker's own state.
            before = len(ea.requests) + len(eb.requests)
            run = asyncio.gather(*(one() for _ in range(30)))
            while len(ea.requests) + len(eb.requests) < before + 10:
                await asyncio.sleep(0.01)
            redis_server.stop()
            assert len(await run) == 30
            body = await _until_ready(url, "degraded", MARGIN_S)
            assert body["state"]["state"] == "degraded" and not body["state"]["live"], body
            assert body["state"]["outages"] >= 1 and body["status"] == "ready"
            assert redis_server.password not in json.dumps(body)
            await client.close()
        finally:
            assert await serve.stop() == 0
