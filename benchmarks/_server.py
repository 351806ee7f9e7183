"""The benchmark's one loopback server: a canned Claude API ``POST /v1/messages``.

It runs in its own process (``python benchmarks/_server.py``) so that the client process's CPU
time is the client's alone. It does as little as possible per request, but checks what a real
API checks first (``x-api-key``, ``anthropic-version``, a JSON body with a model and messages), so
a client that sends a wrong request gets a 4xx, and echoes the last user text so that each answer
can be checked by the client that asked for it.

* non-streaming: ``{"type": "message", ... "content": [{"type": "text", "text": "pong <prompt>"}]}``
* ``"stream": true``: ``message_start``, ``content_block_start``, ``max_tokens`` text deltas
  (``" w0"``, ``" w1"``, ...), ``content_block_stop``, ``message_delta``, ``message_stop``
  (``max_tokens`` + 5 events). Two pacings, by path:

  - ``/v1/messages`` (bulk): the whole stream in one write, so the client reads it in large
    chunks whatever its speed: the figure is the client's own per-event processing;
  - ``/paced/v1/messages``: one write per event and ``PACE_S`` between events, as a model
    emits tokens, so every client reads one event per wake-up: the figure includes the
    per-read machinery (event loop, HTTP parser, stream iterators).

  A server that just writes each event as fast as it can would be neither: how many events a
  client finds per read would depend on its own speed, favouring the slower client.

On start it prints ``PORT <n>`` on stdout; it stops when stdin closes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import msgspec
from aiohttp import web

API_KEY = "bench-key"
MODEL = "claude-haiku-4-5"  # one the SDK does not warn about
MAX_DELTAS = 100_000
PACE_S = 0.001

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(dict[str, Any])
_HEADERS = {"request-id": "req_bench", "content-type": "application/json"}
if os.environ.get("BENCH_RATELIMIT_HEADERS"):  # what the Claude API adds to every answer
    _HEADERS |= {f"anthropic-ratelimit-{b}-{f}": v for b in
                 ("requests", "tokens", "input-tokens", "output-tokens")
                 for f, v in (("limit", "4000000"), ("remaining", "3999000"),
                              ("reset", "2027-01-01T00:00:00Z"))}
_USAGE = {"input_tokens": 12, "output_tokens": 3, "cache_creation_input_tokens": 0,
          "cache_read_input_tokens": 0}


def expected_stream_text(deltas: int) -> str:
    """The text a client must accumulate from one stream."""
    return "".join(f" w{i}" for i in range(deltas))


def stream_frames(deltas: int) -> list[bytes]:
    """Every SSE frame of one streamed answer, in order."""
    def frame(ev: dict[str, Any]) -> bytes:
        return b"event: " + ev["type"].encode() + b"\ndata: " + _enc.encode(ev) + b"\n\n"

    start = {"id": "msg_bench", "type": "message", "role": "assistant", "model": MODEL,
             "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": dict(_USAGE, output_tokens=1)}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [{"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": f" w{i}"}} for i in range(deltas)]
    events += [
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": deltas}},
        {"type": "message_stop"},
    ]
    return [frame(ev) for ev in events]


def _error(status: int, kind: str, message: str) -> web.Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return web.Response(status=status, body=_enc.encode(body), headers=_HEADERS)


def _prompt(params: dict[str, Any]) -> str | None:
    messages = params.get("messages")
    if not isinstance(params.get("model"), str) or not isinstance(messages, list) or not messages:
        return None
    content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return content if isinstance(content, str) else None


def make_app() -> web.Application:
    frames: dict[int, list[bytes]] = {}
    served = {"create": 0, "stream": 0}

    async def bulk(request: web.Request) -> web.StreamResponse:
        return await messages(request, paced=False)

    async def paced(request: web.Request) -> web.StreamResponse:
        return await messages(request, paced=True)

    async def messages(request: web.Request, paced: bool) -> web.StreamResponse:
        key = request.headers.get("x-api-key") or request.headers.get("authorization", "")[7:]
        if key != API_KEY:  # ``x-api-key``, or a bearer token as the SDK 2.x sends it
            return _error(401, "authentication_error", "invalid x-api-key")
        if "anthropic-version" not in request.headers:
            return _error(400, "invalid_request_error", "anthropic-version: header is required")
        try:
            params = _dec.decode(await request.read())
        except msgspec.DecodeError:
            return _error(400, "invalid_request_error", "body is not JSON")
        prompt = _prompt(params)
        if prompt is None:
            return _error(400, "invalid_request_error", "model and messages are required")
        if not params.get("stream"):
            served["create"] += 1
            msg = {"id": "msg_bench", "type": "message", "role": "assistant",
                   "model": params["model"],
                   "content": [{"type": "text", "text": "pong " + prompt}],
                   "stop_reason": "end_turn", "stop_sequence": None, "usage": _USAGE}
            return web.Response(body=_enc.encode(msg), headers=_HEADERS)
        deltas = params.get("max_tokens")
        if not isinstance(deltas, int) or not 0 < deltas <= MAX_DELTAS:
            return _error(400, "invalid_request_error", "max_tokens: out of range")
        if deltas not in frames:
            frames[deltas] = stream_frames(deltas)
        served["stream"] += 1
        resp = web.StreamResponse(headers={"request-id": "req_bench",
                                           "content-type": "text/event-stream",
                                           "cache-control": "no-cache"})
        await resp.prepare(request)
        if paced:
            for f in frames[deltas]:
                await resp.write(f)
                await asyncio.sleep(PACE_S)
        else:
            await resp.write(b"".join(frames[deltas]))
        await resp.write_eof()
        return resp

    async def stats(request: web.Request) -> web.Response:
        return web.Response(body=_enc.encode(served), headers=_HEADERS)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes([web.post("/v1/messages", bulk), web.post("/paced/v1/messages", paced),
                    web.get("/stats", stats)])
    return app


async def _main() -> None:
    runner = web.AppRunner(make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"PORT {port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # parent closed our stdin: stop
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(_main())
