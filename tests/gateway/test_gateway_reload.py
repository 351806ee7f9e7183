"""SIGHUP reloads ``clauderoute serve``'s configuration while a stream is open: keys, limits,
timeouts and ``[state]`` apply to new requests and connections, the stream goes on to its end,
a changed host or workers is reported and kept, and an invalid file is refused while the old
configuration keeps serving. The first test signals a ``clauderoute serve`` process; the others run
what the signal runs on a gateway in this process (a Python start each saved)."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from clauderoute.testing import LatencyProfile
from tests.gateway.test_serve_process import LISTEN, Serve, _serve
from tests.official_sdk import SDK_WORKER

KEY, NEW_KEY = "reload-key-0123456789", "reload-new-key-9876543210"
MODEL = "claude-haiku-4-5"
PROMPT = [{"role": "user", "content": "word " * 40}]
LONG = 3600  # a timeout the test would never see expire


@pytest.fixture
async def emulator(fleet_of: Any) -> Any:
    fleet = await fleet_of(kinds=["anthropic"])
    member = fleet.members[0]
    member.emulator.latency = LatencyProfile(per_token_s=0.02)  # a stream of ~1 s
    return member


def _write(path: Path, emulator: Any, extra: str = "", **gateway: Any) -> None:
    settings = {"api_keys": [KEY], "header_timeout_s": LONG, "idle_timeout_s": LONG, **gateway}
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
    path.write_text(
        f'[providers.direct]\nkind = "anthropic"\nbase_url = "{emulator.emulator.url}"\n'
        f'api_key = "{emulator.secret}"\nmax_retries = 0\n\n[gateway]\n{lines}{extra}'
    )


@asynccontextmanager
async def _running(cfg: Path) -> AsyncIterator[tuple[Serve, str]]:
    serve = await _serve(cfg)
    try:
        port = int((await serve.line(LISTEN.pattern)).group(2))
        yield serve, f"http://127.0.0.1:{port}"
    finally:
        assert await serve.stop() == 0


async def _hup(serve: Serve, outcome: bytes) -> int:
    """Send SIGHUP; wait for the worker's ``outcome`` line; the index the reload's lines
    start at."""
    mark = len(serve.lines)
    serve.proc.send_signal(signal.SIGHUP)
    await serve.line(outcome, after=mark)
    return mark


async def _closed_by_server(port: int, data: bytes) -> bytes:
    """Send ``data`` on a new connection and read until the server closes it; what it sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    got = await asyncio.wait_for(reader.read(), 60)  # EOF: closed (the old value: an hour)
    writer.close()
    return got


@SDK_WORKER
async def test_reload_applies_keys_limits_and_timeouts_across_a_stream(
    emulator: Any, tmp_path: Path
) -> None:
    import anthropic

    cfg = tmp_path / "c.toml"
    _write(cfg, emulator)
    async with _running(cfg) as (serve, url):
        port = int(url.rsplit(":", 1)[1])
        old = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)
        new = anthropic.AsyncAnthropic(api_key=NEW_KEY, base_url=url, max_retries=0)
        async with old.messages.stream(model=MODEL, max_tokens=40, messages=PROMPT) as s:
            await anext(s.text_stream)
            _write(
                cfg,
                emulator,
                api_keys=[NEW_KEY],
                max_body_mb=0.001,
                header_timeout_s=0.2,
                idle_timeout_s=0.2,
                host="127.0.0.2",
                workers=3,
            )
            mark = await _hup(serve, rb"reloaded its configuration")
            final = await s.get_final_message()  # the stream goes on to its end
        assert final.stop_reason == "max_tokens"
        said = b"".join(serve.lines[mark:])
        for name, value in ((b"host", b"'127.0.0.1'"), (b"workers", b"1")):
            assert b"gateway." + name + b" changed" in said and b"keeping " + value in said
        # keys: the new one in, the old one out
        assert (await new.messages.create(model=MODEL, max_tokens=4, messages=PROMPT)).content
        with pytest.raises(anthropic.AuthenticationError):
            await old.messages.create(model=MODEL, max_tokens=4, messages=PROMPT)
        # limits: a body over the new 1 KiB limit
        with pytest.raises(anthropic.APIStatusError) as caught:
            await new.messages.create(
                model=MODEL, max_tokens=4, messages=[{"role": "user", "content": "x" * 2000}]
            )
        assert caught.value.status_code == 413
        # the header timeout: a head that stops arriving is dropped
        assert await _closed_by_server(port, b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n") == b""
        # the idle timeout: a keep-alive connection with no next request is closed
        answer = await _closed_by_server(port, b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")
        await old.close()
        await new.close()


@asynccontextmanager
async def _in_process(
    emulator: Any, cfg: Path, kit: Any, capsys: pytest.CaptureFixture[str]
) -> AsyncIterator[tuple[Callable[[], Awaitable[str]], str]]:
    """A gateway in this process on ``cfg``'s settings, and ``reload()``: what SIGHUP runs in a
    ``clauderoute serve`` worker (``_reload``), returning what it wrote to stderr. The signal
    itself reaches a real process in the test above and in test_serve_process."""
    from clauderoute_anthropic import AnthropicProvider

    from clauderoute.gateway import _serve, load_settings

    # A reload in this process takes milliseconds: a stream of ~0.2 s still outlasts it.
    emulator.emulator.latency = LatencyProfile(per_token_s=0.005)
    direct = AnthropicProvider(
        name="direct", base_url=emulator.emulator.url, api_key=emulator.secret, max_retries=0
    )
    settings = load_settings(str(cfg))
    async with kit.run_gateway(
        [direct], keys=settings.api_keys, header_timeout_s=LONG, idle_timeout_s=LONG
    ) as g:
        running = {"host": "127.0.0.1", "port": g.port, "workers": 1}
        capsys.readouterr()

        async def reload() -> str:
            await _serve._reload(g.gateway, str(cfg), running, frozenset())
            return capsys.readouterr().err

        yield reload, g.url


@SDK_WORKER
async def test_an_invalid_file_is_refused_and_the_old_one_serves(
    emulator: Any, tmp_path: Path, kit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import anthropic

    cfg = tmp_path / "c.toml"
    _write(cfg, emulator)
    async with _in_process(emulator, cfg, kit, capsys) as (reload, url):
        client = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)
        async with client.messages.stream(model=MODEL, max_tokens=40, messages=PROMPT) as s:
            await anext(s.text_stream)
            cfg.write_text("[gateway\napi_keys = [")  # not TOML
            assert "reload refused, keeping the old configuration" in await reload()
            _write(cfg, emulator, api_keys=[NEW_KEY], max_body_mb=-1)
            said = await reload()
            assert "reload refused" in said and "gateway.max_body_mb" in said
            assert "reloaded" not in said
            final = await s.get_final_message()
        assert final.stop_reason == "max_tokens"
        assert (await client.messages.create(model=MODEL, max_tokens=4, messages=PROMPT)).content
        await client.close()


@pytest.fixture
def redis_url() -> Iterator[str]:
    pytest.importorskip("redis", reason="clauderoute[redis] (redis-py) is not installed")
    from tests.test_fleet import running_redis

    for server in running_redis():
        yield server.url


@SDK_WORKER
async def test_reload_adds_state(
    emulator: Any, tmp_path: Path, redis_url: str, kit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[state]`` added by a reload: ``/readyz`` shows the shared state syncing."""
    import anthropic

    cfg = tmp_path / "c.toml"
    _write(cfg, emulator)
    async with (
        _in_process(emulator, cfg, kit, capsys) as (reload, url),
        aiohttp.ClientSession() as http,
    ):
        async with http.get(url + "/readyz") as r:
            assert "state" not in await r.json()
        client = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)
        async with client.messages.stream(model=MODEL, max_tokens=40, messages=PROMPT) as s:
            await anext(s.text_stream)
            _write(cfg, emulator, extra=f'\n[state]\nurl = "{redis_url}"\nsync_ms = 50\n')
            assert "reloaded its configuration" in await reload()
            final = await s.get_final_message()
        assert final.stop_reason == "max_tokens"
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while True:
            async with http.get(url + "/readyz") as r:
                state = (await r.json()).get("state")
            if state is not None and state["state"] == "ok":
                break
            assert loop.time() < end, state
            await asyncio.sleep(0.05)
        assert (await client.messages.create(model=MODEL, max_tokens=4, messages=PROMPT)).content
        await client.close()
