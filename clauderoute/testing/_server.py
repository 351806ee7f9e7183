"""The emulator framework: an ``aiohttp.web`` server that plays a Claude platform on loopback.

``EmulatorServer`` does what every platform shares — a deterministic model, latency, the fault
plan, recording requests — and leaves the platform's wire format to a subclass:

* ``routes()``: the platform's paths, each handler ending in ``self.answer(...)``;
* ``check_auth(request, body)``: ``None`` when the credential verifies, else the platform's
  own rejection;
* ``error_response(status, error_type, message, headers)``: the platform's error shape;
* ``frame(event)`` / ``error_frame(type, message)`` / ``malformed_frame()`` and
  ``stream_content_type``: the platform's stream framing;
* ``default_error_type(status)``: the platform's usual code for a status.

Usage in a test::

    async with AnthropicEmulator(api_key="test-key") as server:
        server.faults.add(Fault(status=529))
        client = AsyncClient(providers=[AnthropicProvider(base_url=server.url, api_key="test-key")])
"""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
from collections.abc import Callable
from typing import Any, ClassVar, Self

import msgspec
from aiohttp import web

from ._agent import count_tokens, default_reply
from ._capacity import CAPACITY_KEY, Capacity
from ._faults import Fault, FaultPlan, LatencyProfile

__all__ = ["EmulatorServer", "RecordedRequest", "count_tokens", "default_reply"]

_json = msgspec.json.Encoder()
_decode = msgspec.json.Decoder(dict[str, Any])


class RecordedRequest(msgspec.Struct, frozen=True):
    """A request as the emulator received it (for assertions in tests)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    operation: str


def message_events(msg: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream events that deliver ``msg``, as the Claude API sends them."""
    usage = msg["usage"]
    start = dict(msg, content=[], stop_reason=None,
                 usage=dict(usage, output_tokens=1))
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for i, block in enumerate(msg["content"]):
        kind = block["type"]
        if kind == "text":
            events.append({"type": "content_block_start", "index": i,
                           "content_block": {"type": "text", "text": ""}})
            words = block["text"].split(" ")
            for j, w in enumerate(words):
                piece = w if j == 0 else " " + w
                events.append({"type": "content_block_delta", "index": i,
                               "delta": {"type": "text_delta", "text": piece}})
        elif kind == "tool_use":
            events.append({"type": "content_block_start", "index": i,
                           "content_block": dict(block, input={})})
            raw = _json.encode(block["input"]).decode()
            for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
                events.append({"type": "content_block_delta", "index": i,
                               "delta": {"type": "input_json_delta", "partial_json": part}})
        elif kind == "thinking":
            events.append({"type": "content_block_start", "index": i,
                           "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
            events.append({"type": "content_block_delta", "index": i,
                           "delta": {"type": "thinking_delta", "thinking": block["thinking"]}})
            events.append({"type": "content_block_delta", "index": i,
                           "delta": {"type": "signature_delta", "signature": block["signature"]}})
        else:
            events.append({"type": "content_block_start", "index": i, "content_block": block})
        events.append({"type": "content_block_stop", "index": i})
    events.append({"type": "message_delta",
                   "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                   "usage": {"output_tokens": usage["output_tokens"]}})
    events.append({"type": "message_stop"})
    return events


class EmulatorServer:
    """Base of every platform emulator; see the module docstring for what a subclass adds.

    Args:
        latency: how fast the emulated model answers.
        faults: the fault plan (one is created if not given; reach it as ``server.faults``).
        host, port: where to listen; loopback and an ephemeral port by default.
        seed: seed for latency jitter.
        strict: answer a model the platform does not serve (``model_known``) with the
            platform's own rejection (``unknown_model``), so a test catches a typo in a model
            name. Off by default: any model name is served.

    .. versionchanged:: 0.2
       ``strict``.
    """

    platform: ClassVar[str] = ""
    stream_content_type: ClassVar[str] = "text/event-stream"
    id_prefix: ClassVar[str] = "msg_"

    def __init__(
        self,
        *,
        latency: LatencyProfile | None = None,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        strict: bool = False,
    ) -> None:
        self.latency = latency or LatencyProfile()
        self.faults = faults if faults is not None else FaultPlan(seed=seed)
        self.host, self.port = host, port
        self.requests: list[RecordedRequest] = []
        self.responder: Callable[[dict[str, Any], str, str], dict[str, Any]] = default_reply
        self._rng = random.Random(seed)
        self.strict = strict
        self._known: frozenset[str] | None = None
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.open_streams = 0
        self.disconnects = 0
        #: Fake rate limits: headers on every answer and a 429 when spent (``_capacity.py``).
        self.capacity: Capacity | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> Self:
        """Start listening; ``url`` is valid afterwards."""
        app = web.Application(client_max_size=1024**3, middlewares=[self._track_handler])
        app.add_routes(self.routes())
        # A stopped emulator cancels the handlers still running (a stalled stream, say) at once
        # rather than waiting for them: tests end when their assertions are done.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=0.01)  # 0 would mean "no limit"
        await self._runner.setup()
        # Bind the socket ourselves so the port chosen for port=0 is known through public API.
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.port = sock.getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening, close open connections and end the handlers still running."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # cleanup() cancels the handlers of the connections still open, but aiohttp does not
        # cancel a handler whose client left (a timed-out stall, a delayed answer): it would
        # sleep its pause out. Cancel every handler still running and wait for it to end, so a
        # stopped emulator leaves no task behind and a test does not wait out its stalls.
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.wait(handlers)

    @web.middleware
    async def _track_handler(self, request: web.Request, handler: Any) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - aiohttp always runs a handler in a task
            return await handler(request)  # type: ignore[no-any-return]
        self._handlers.add(task)
        try:
            return await handler(request)  # type: ignore[no-any-return]
        finally:
            self._handlers.discard(task)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The ``base_url`` to give this platform's provider."""
        return self.root

    # --- what a subclass provides ---------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The platform's paths."""
        raise NotImplementedError

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """``None`` if the request's credential verifies, else the platform's rejection."""
        return None

    def error_response(self, status: int, error_type: str, message: str,
                       headers: dict[str, str]) -> web.Response:
        """The platform's error answer."""
        raise NotImplementedError

    def default_error_type(self, status: int) -> str:
        """The platform's usual error code for ``status``."""
        raise NotImplementedError

    def frame(self, event: dict[str, Any]) -> bytes:
        """One stream event in the platform's framing."""
        data = _json.encode(event)
        name = str(event["type"]).encode()
        return b"event: " + name + b"\ndata: " + data + b"\n\n"

    def error_frame(self, error_type: str, message: str) -> bytes:
        """An in-stream error in the platform's framing."""
        return self.frame({"type": "error", "error": {"type": error_type, "message": message}})

    def malformed_frame(self) -> bytes:
        """A frame the client cannot decode."""
        return b"event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"ind\n\n"

    def response_headers(self) -> dict[str, str]:
        """Headers every answer carries (request ids and the like)."""
        return {}

    def known_models(self) -> frozenset[str]:
        """The model ids this platform serves, from the model catalog (the id the catalog
        resolves for it, its other ids, canonical names and dated ids); read once."""
        if self._known is None:
            from .._catalog import catalog, resolve_model

            known: set[str] = set()
            for name, facts in catalog().items():
                known.add(resolve_model(self.platform, name))
                known.add(name)
                for key, value in facts.items():
                    mine = key == self.platform or key.startswith(self.platform + "_")
                    if isinstance(value, str) and (mine or key == "dated"):
                        known.add(value)
            self._known = frozenset(known)
        return self._known

    def model_known(self, model: str) -> bool:
        """Whether ``model`` is served here (consulted only when ``strict``)."""
        return model in self.known_models()

    def unknown_model(self, model: str) -> web.StreamResponse:
        """The platform's answer to a model it does not serve (the Claude API's: 404
        ``not_found_error``, ``model: NAME``)."""
        return self.error_response(404, self.default_error_type(404), f"model: {model[:200]}",
                                   self.response_headers())

    # --- shared machinery -----------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh message id with the platform's prefix."""
        return f"{self.id_prefix}{next(self._ids):024d}"

    def record(self, request: web.Request, body: bytes, operation: str) -> None:
        """Keep the request for the test to inspect."""
        self.requests.append(RecordedRequest(request.method, request.path_qs,
                                             dict(request.headers), body, operation))

    async def _wait(self, seconds: float) -> None:
        if self.latency.jitter_s:
            seconds += self._rng.uniform(0, self.latency.jitter_s)
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _error(self, fault: Fault) -> web.Response:
        assert fault.status is not None
        headers = self.response_headers()
        if fault.retry_after is not None:
            headers["retry-after"] = f"{fault.retry_after:g}"
        if fault.should_retry is not None:
            headers["x-should-retry"] = "true" if fault.should_retry else "false"
        etype = fault.error_type or self.default_error_type(fault.status)
        return self.error_response(fault.status, etype, fault.message, headers)

    @staticmethod
    def _reset(request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)

    async def answer(self, request: web.Request, body: bytes, *, operation: str,
                     params: dict[str, Any], model: str, stream: bool,
                     count: Callable[[int], Any] | None = None) -> web.StreamResponse:
        """Serve one Messages-API operation: auth, faults, latency, then the answer.

        ``count`` turns a token count into the platform's count_tokens body; when given, the
        request is a token count.
        """
        self.record(request, body, operation)
        denied = self.check_auth(request, body)
        if denied is not None:
            return denied
        if self.strict and not self.model_known(model):
            return self.unknown_model(model)
        fault = self.faults.next(operation)
        if fault is not None:
            if fault.reset:
                return self._reset(request)
            await self._wait(fault.delay_s)
            if fault.status is not None:
                return self._error(fault)
        if count is not None:
            return web.json_response(count(count_tokens(params)), headers=self.response_headers())
        msg = self.responder(params, model, self.new_id())
        extra = {} if self.capacity is None else self.capacity.answer(
            request, count_tokens(params), msg)
        if extra is None:  # spent: the platform's own 429, with the bucket's headers
            return self.error_response(429, self.default_error_type(429), "rate limited "
                                       "(emulated capacity)", {**self.response_headers(),
                                                               **request[CAPACITY_KEY]})
        if not stream:
            await self._wait(self.latency.ttft_s + self.latency.per_token_s *
                             msg["usage"]["output_tokens"])
            data = _json.encode(msg)
            if fault is not None and fault.truncate_body:
                data = data[: len(data) // 2]
            return web.Response(body=data, content_type="application/json",
                                headers={**self.response_headers(), **extra})
        return await self._stream(request, msg, fault)

    async def _stream(self, request: web.Request, msg: dict[str, Any],
                      fault: Fault | None) -> web.StreamResponse:
        resp = web.StreamResponse(headers={**self.response_headers(),
                                           **request.get(CAPACITY_KEY, {})})
        resp.content_type = self.stream_content_type
        await resp.prepare(request)
        self.open_streams += 1
        # Events go out in one write until the stream pauses (latency) or a fault strikes: the
        # same bytes before each pause, without a send and a client wake-up per event.
        ready: list[bytes] = []
        try:
            first_content = True
            for i, event in enumerate(message_events(msg)):
                if fault is not None and fault.is_stream_fault and i == fault.after_events:
                    if ready:
                        await resp.write(b"".join(ready))
                        ready.clear()
                    if await self._stream_fault(request, resp, fault):
                        return resp
                if event["type"] == "content_block_delta":
                    pause = self.latency.ttft_s if first_content else self.latency.per_token_s
                    if ready and (pause > 0 or self.latency.jitter_s):
                        await resp.write(b"".join(ready))
                        ready.clear()
                    await self._wait(pause)
                    first_content = False
                ready.append(self.frame(event))
            await resp.write(b"".join(ready))  # at least message_stop
            await resp.write_eof()
        except (ConnectionResetError, ConnectionError):
            self.disconnects += 1  # the client went away (a hedge loser, a cancelled stream)
        finally:
            self.open_streams -= 1
        return resp

    async def _stream_fault(self, request: web.Request, resp: web.StreamResponse,
                            fault: Fault) -> bool:
        """Apply a mid-stream fault; ``True`` if the stream is over."""
        if fault.stall_s:
            await asyncio.sleep(fault.stall_s)
        if fault.malformed:
            await resp.write(self.malformed_frame())
        if fault.stream_error:
            await resp.write(self.error_frame(fault.stream_error, fault.message))
            await resp.write_eof()
            return True
        if fault.cut:
            if request.transport is not None:
                request.transport.abort()
            return True
        return False

    @staticmethod
    def decode_json(body: bytes) -> dict[str, Any] | None:
        """The JSON object in ``body``, or ``None`` if it is not one."""
        try:
            return _decode.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
