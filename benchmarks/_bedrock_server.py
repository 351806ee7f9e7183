"""The Bedrock benchmark server: ``clauderoute_bedrock.BedrockEmulator`` in its own process.

The emulator as the provider's tests use it (zero latency; every SigV4 signature verified with
botocore, Bedrock API keys accepted as bearer tokens, real event-stream framing with CRCs),
with three changes for benchmarking:

* requests are counted (``GET /stats``), not recorded, so memory stays flat;
* the answer to ``max_tokens=n`` is ``"pong <prompt>"`` followed by ``n`` words ``" w0"`` …
  (``n`` = 0 when ``max_tokens`` ≥ 1024, the non-streaming calls), one text delta per word, so
  every answer proves the request carried the prompt and the size;
* a signature that verified is remembered (by everything it was computed from: method, host,
  path, headers, body and the minute; the verifier is for one service), so a request repeated
  within the same second — the same signature — is not re-verified with botocore (~100 µs of
  the 2 shared cores that the client's CPU figure should not depend on: a server slowed by
  verification answers in fewer, larger batches, and the client's CPU per call at concurrency
  32 changes with it);
* a stream is written in one write (the *bulk* regime of ``_server.py``: the client's own
  per-event work, whatever its speed).

On start it prints ``PORT <n>`` on stdout; it stops when stdin closes.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import msgspec
from aiohttp import web
from clauderoute_bedrock import BedrockEmulator

from clauderoute._provider import CREATE, STREAM
from clauderoute.testing import Fault, count_tokens, default_reply, message_events

CREATE_MAX_TOKENS = 1024
_KINDS = {CREATE: "create", STREAM: "stream"}


def reply(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
    msg = default_reply(params, model, msg_id)
    prompt = params["messages"][-1]["content"]
    n = int(params["max_tokens"])
    words = "".join(f" w{i}" for i in range(n if n < CREATE_MAX_TOKENS else 0))
    msg["content"] = [{"type": "text", "text": f"pong {prompt}{words}"}]
    msg["usage"] = dict(msg["usage"], input_tokens=count_tokens(params),
                        output_tokens=3 + (n if n < CREATE_MAX_TOKENS else 0))
    msg["stop_reason"] = "end_turn"
    return msg


class BenchBedrock(BedrockEmulator):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.responder = reply
        self.served = {"create": 0, "stream": 0}
        verify = self.verifier.verify
        verified: dict[tuple[Any, ...], None] = {}

        def remembered(**kw: Any) -> tuple[str, str] | None:
            key = (int(self.clock() // 60), kw["method"], kw["host"], kw["raw_path"],
                   tuple(kw["headers"].items()), kw["body"])
            if key in verified:
                return None
            problem = verify(**kw)
            if problem is None:
                if len(verified) > 1024:
                    verified.clear()
                verified[key] = None
            return problem

        self.verifier.verify = remembered  # type: ignore[method-assign]

    def record(self, request: web.Request, body: bytes, operation: str) -> None:
        kind = _KINDS.get(operation)
        if kind is not None and request.get("counted") is None:
            request["counted"] = True
            self.served[kind] += 1

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/stats", self._stats), *super().routes()]

    async def _stats(self, request: web.Request) -> web.Response:
        return web.Response(body=msgspec.json.encode(self.served),
                            content_type="application/json")

    async def _stream(self, request: web.Request, msg: dict[str, Any],
                      fault: Fault | None) -> web.StreamResponse:
        if fault is not None:
            return await super()._stream(request, msg, fault)
        resp = web.StreamResponse(headers=self.response_headers())
        resp.content_type = self.stream_content_type
        await resp.prepare(request)
        await resp.write(b"".join(self.frame(ev) for ev in message_events(msg)))
        await resp.write_eof()
        return resp


async def _main() -> None:
    server = await BenchBedrock().start()
    print(f"PORT {server.port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()


if __name__ == "__main__":
    asyncio.run(_main())
