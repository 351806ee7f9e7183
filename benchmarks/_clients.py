"""The clients the benchmark compares, each behind the same three-method driver.

Every driver checks every answer (text and, for streams, the event count) and raises
``WrongAnswer`` on a mismatch, so a fast but broken client cannot post a good figure.

* ``aiohttp`` (the floor): one ``ClientSession``, a prebuilt body and headers, ``msgspec``
  decoding of the JSON (untyped) and a hand-written split of the SSE frames.
* ``clauderoute``: ``AsyncClient`` with one direct ``AnthropicProvider``.
* ``clauderoute-routed``: ``AsyncClient`` with a 4-provider failover route, all four direct
  providers on the same server (the happy path: the first one answers).
* ``sdk``: the official ``anthropic.AsyncAnthropic(base_url=...)`` (httpx underneath).
"""

from __future__ import annotations

from typing import Any

import msgspec
from _server import API_KEY, MODEL

PROMPT = "hello benchmark"
EXPECTED = "pong " + PROMPT
MAX_TOKENS = 1024
VERSION = "2023-06-01"


def _params() -> dict[str, Any]:
    # What an application builds per call (the floor alone gets to prebuild its bytes).
    return {"model": MODEL, "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": PROMPT}]}


class WrongAnswer(AssertionError):
    """A client got an answer other than the one the server sent for its request."""


class Driver:
    """``start`` / ``create`` / ``stream`` / ``close``; ``stream`` returns the events seen."""

    name = ""

    def __init__(self, url: str, stream_text: str, stream_events: int) -> None:
        self.url = url
        self.stream_text = stream_text
        self.stream_events = stream_events
        self.checked = {"create": 0, "stream": 0}

    async def start(self) -> None:
        raise NotImplementedError

    async def create(self) -> None:
        raise NotImplementedError

    async def stream(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def _check(self, kind: str, got: str, want: str, events: int | None = None) -> None:
        if got != want:
            raise WrongAnswer(f"{self.name} {kind}: text {got[:60]!r} != {want[:60]!r}")
        if events is not None and events != self.stream_events:
            raise WrongAnswer(f"{self.name} {kind}: {events} events != {self.stream_events}")
        self.checked[kind] += 1


class AiohttpFloor(Driver):
    name = "aiohttp"

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession()
        self._endpoint = self.url + "/v1/messages"
        self._headers = {"x-api-key": API_KEY, "anthropic-version": VERSION,
                         "content-type": "application/json"}
        self._body = msgspec.json.encode(_params())
        self._sbody = msgspec.json.encode(dict(_params(), stream=True))
        self._decode = msgspec.json.decode

    async def create(self) -> None:
        async with self._session.post(self._endpoint, data=self._body,
                                      headers=self._headers) as r:
            body = await r.read()
        if r.status != 200:
            raise WrongAnswer(f"aiohttp create: HTTP {r.status}")
        self._check("create", self._decode(body)["content"][0]["text"], EXPECTED)

    async def stream(self) -> None:
        decode, parts, events, buf = self._decode, [], 0, b""
        async with self._session.post(self._endpoint, data=self._sbody,
                                      headers=self._headers) as r:
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
        self._check("stream", "".join(parts), self.stream_text, events)

    async def close(self) -> None:
        await self._session.close()


class Clauderoute(Driver):
    name = "clauderoute"
    n_providers = 1

    async def start(self) -> None:
        from clauderoute import AsyncClient
        from clauderoute_anthropic import AnthropicProvider

        providers = [AnthropicProvider(name=f"p{i + 1}", base_url=self.url, api_key=API_KEY)
                     for i in range(self.n_providers)]
        self._client = AsyncClient(providers=providers)

    def _served(self, msg: Any) -> None:
        route = msg.route
        if route is None or route.provider != "p1" or len(route.attempts) != 1:
            raise WrongAnswer(f"{self.name}: not served by p1 in one attempt: {route!r}")

    async def create(self) -> None:
        msg = await self._client.messages.create(**_params())
        self._served(msg)
        self._check("create", msg.content[0].text, EXPECTED)

    async def stream(self) -> None:
        events = 0
        async with self._client.messages.stream(**_params()) as s:
            async for _ev in s:
                events += 1
            msg = await s.get_final_message()
        self._served(msg)
        self._check("stream", msg.content[0].text, self.stream_text, events)

    async def close(self) -> None:
        await self._client.close()


class ClauderouteRouted(Clauderoute):
    name = "clauderoute-routed"
    n_providers = 4


class OfficialSDK(Driver):
    name = "sdk"

    async def start(self) -> None:
        import anthropic

        self._client = anthropic.AsyncAnthropic(base_url=self.url, api_key=API_KEY)

    async def create(self) -> None:
        msg = await self._client.messages.create(**_params())
        self._check("create", _text(msg), EXPECTED)

    async def stream(self) -> None:
        events = 0
        async with self._client.messages.stream(**_params()) as s:
            async for ev in s:
                # The SDK adds derived events (``text``, ``input_json``...) to the wire ones.
                events += ev.type in _WIRE_EVENTS
            msg = await s.get_final_message()
        self._check("stream", _text(msg), self.stream_text, events)

    async def close(self) -> None:
        await self._client.close()


def _text(msg: Any) -> str:
    return str(msg.content[0].text)


_WIRE_EVENTS = frozenset({"message_start", "content_block_start", "content_block_delta",
                          "content_block_stop", "message_delta", "message_stop", "ping"})

DRIVERS: dict[str, type[Driver]] = {d.name: d for d in (AiohttpFloor, Clauderoute,
                                                        ClauderouteRouted, OfficialSDK)}
