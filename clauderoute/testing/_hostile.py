"""A hostile HTTP server: the adversary of every timer and every buffer.

The emulators (``EmulatorServer``) are ``aiohttp.web`` apps, and so too polite to test a client's
defences: they always finish their headers, frame their bodies and keep to the HTTP grammar.
``HostileServer`` is a raw ``asyncio.start_server`` that writes exactly the bytes a ``Hostile``
answer asks for, at the pace it asks for: headers one byte at a time, bodies that never end, a
status line that is not one, a stream cut in the middle of an event. It speaks the Claude API's
shapes (a JSON ``Message``, an SSE stream, an error body), so point an ``AnthropicProvider`` at
``server.url``; for other framings send raw bytes (``Hostile(body=..., headers=...)``).

It records what a test needs to assert that the client kept its promises: the requests it
received, the bytes it sent (a bound on what the client can have buffered), and how many times
the client left before an answer was complete (a timeout or a cancellation reached the socket).

Usage in a test::

    async with HostileServer(Hostile(mode="drip_head"), Hostile()) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k")
        ...  # the first request gets headers at one byte per 50 ms, later ones a polite answer
        await server.wait_disconnects(1)

``Blackhole`` is an address where connecting never completes (the connect phase's adversary).
This module holds the answers' description and wire helpers; the server is in
``_hostile_server.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import msgspec

from ._server import default_reply, message_events

__all__ = ["Blackhole", "Hostile", "HostileRequest"]

_json = msgspec.json.Encoder()
_decode = msgspec.json.Decoder(dict[str, Any])

# Every ``Hostile.mode`` and what the server does in it (public as ``Hostile.MODES``). "The
# answer" is the polite one: a JSON ``Message`` for a create, its SSE events for a stream
# (``"stream": true`` in the request), the Claude API's error body when ``status`` >= 400, or
# ``body`` when one is given.
_MODES: dict[str, str] = {
    "polite": "the answer, correctly framed, at once",
    "drip_head": "the status line and headers (padded with a 2 KB header) one byte per drip_s, "
                 "then the body",
    "drip_body": "the headers (and a stream's first after_events events) at once, then the "
                 "rest of the body one byte per drip_s",
    "endless_body": "a chunked body that never ends: the answer's opening (the error body's, "
                    "the JSON Message's, or after_events SSE events and a data: line), then "
                    "filler as fast as the client reads",
    "endless_line": "an SSE stream: after_events events, then one data: line that never ends",
    "pings": "an SSE stream: after_events events, then a ping event every drip_s, forever",
    "stall": "the headers, after_events events for a stream, then nothing (connection open)",
    "hang": "read the request, then send nothing at all (connection open)",
    "stop_mid_event": "an SSE stream delimited by the connection: after_events events and half "
                      "of the next one, then a clean close",
    "reset_before_headers": "read the request, then reset the connection (RST)",
    "reset_after_headers": "the headers, then reset the connection (RST)",
    "garbage_status": "a status line that is not HTTP, then close",
    "huge_header": "one header of size bytes, then the answer",
    "many_headers": "size bytes of small headers (about 30 bytes each), then the answer",
    "bad_chunked": "chunked transfer encoding with a chunk size that is not hex",
    "lying_gzip": "the answer, uncompressed, labelled content-encoding: gzip",
    "html": "an HTML page (text/html), with status",
}

_REASONS = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 529: "Overloaded"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                529: "overloaded_error"}
_FILL = b"a" * 65536
_HEAD_LIMIT = 65536  # a request's head, as asyncio.StreamReader's default limit
_PAD = "a" * 2000
_MESSAGE_OPENING = (b'{"id": "msg_hostile", "type": "message", "role": "assistant", '
                    b'"content": [{"type": "text", "text": "')


class Hostile(msgspec.Struct, frozen=True, kw_only=True):
    """How the server answers one request. Fields combine: any mode with ``status=529``, any
    mode with injected ``headers`` (``{"retry-after": "inf"}``), ``drip_body`` of raw ``body``.

    Attributes:
        mode: one of ``Hostile.MODES`` (its keys; the values say what each does).
        status: the HTTP status of the modes that send a status line.
        headers: added to (or replacing) the answer's own headers, e.g. an absurd
            ``retry-after`` or a lying ``content-length``; the content type of a raw ``body``.
        body: raw bytes to send instead of the Claude API answer (e.g. Bedrock event-stream
            frames with bad CRCs); content type ``application/octet-stream`` unless ``headers``
            give one.
        drip_s: seconds between two bytes (``drip_head``, ``drip_body``) or two pings.
        after_events: stream modes: complete SSE events sent before the misbehaviour.
        size: bytes of header in ``huge_header`` and ``many_headers``.

    .. versionadded:: 0.2
    """

    MODES: ClassVar[Mapping[str, str]] = MappingProxyType(_MODES)

    mode: str = "polite"
    status: int = 200
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: bytes | None = None
    drip_s: float = 0.05
    after_events: int = 1
    size: int = 1 << 20

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"unknown mode {self.mode!r}; known: {', '.join(_MODES)}")
        if not 100 <= self.status <= 999:
            raise ValueError(f"status must be 100-999, not {self.status}")


class HostileRequest(msgspec.Struct, frozen=True):
    """A request as the hostile server read it (``HostileServer.received``).

    .. versionadded:: 0.2
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: The request line's protocol, e.g. ``"HTTP/1.1"``.
    version: str = "HTTP/1.1"

    @property
    def params(self) -> dict[str, Any]:
        """The JSON body (empty when it is not a JSON object)."""
        try:
            return _decode.decode(self.body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return {}


class Blackhole:
    """An address where connecting never completes: a listening socket that never accepts,
    its accept queue kept full, so the kernel drops every new SYN and ``connect()`` hangs.

    ``async with Blackhole() as hole:`` then use ``hole.url``.

    .. versionadded:: 0.2
    """

    def __init__(self) -> None:
        self._listener: socket.socket | None = None
        self._fill: list[socket.socket] = []
        self.port = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port``."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Blackhole:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        for _ in range(3):  # a backlog of 0 still queues one connection: fill it, and more
            s = socket.socket()
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect(("127.0.0.1", self.port))
            self._fill.append(s)
        await asyncio.sleep(0.05)  # let the handshakes of the filling connections finish
        return self

    async def __aexit__(self, *exc: object) -> None:
        for s in (*self._fill, self._listener):
            if s is not None:
                s.close()
        self._fill = []


# --- wire helpers --------------------------------------------------------------------------------


async def _read_request(
    reader: asyncio.StreamReader, start: bytes = b""
) -> HostileRequest | None:
    """The next request; ``start``: its first bytes, already read (less than its head)."""
    try:
        if start:  # line by line, so as not to read past the head's end
            head = start
            while not head.endswith(b"\r\n\r\n"):
                head += await reader.readuntil(b"\n")
                if len(head) > _HEAD_LIMIT:
                    raise ValueError("request head too long")
        else:
            head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    line, *lines = head.decode("latin-1").split("\r\n")
    method, path, version = line.split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (x.partition(":") for x in lines if x)}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
            parts.append(await reader.readexactly(size + 2))
        await reader.readuntil(b"\r\n")
        body = b"".join(p[:-2] for p in parts)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return HostileRequest(method, path, headers, body, version)


def _head(h: Hostile, ctype: str, extra: dict[str, str]) -> bytes:
    if h.body is not None:
        ctype = "application/octet-stream"
    headers = {"content-type": ctype, "request-id": "req_hostile", "connection": "close",
               **extra, **h.headers}
    lines = [f"HTTP/1.1 {h.status} {_REASONS.get(h.status, 'Status')}",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:  # SO_LINGER 0: close() sends RST instead of FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _is_stream(req: HostileRequest) -> bool:
    return req.params.get("stream") is True


def _message(req: HostileRequest) -> dict[str, Any]:
    params = req.params
    return default_reply(params, str(params.get("model", "claude-hostile")), "msg_hostile")


def _events(req: HostileRequest) -> list[dict[str, Any]]:
    return message_events(_message(req))


def _sse(events: list[dict[str, Any]]) -> bytes:
    return b"".join(b"event: %s\ndata: %s\n\n" % (e["type"].encode(), _json.encode(e))
                    for e in events)


def _sse_opening(h: Hostile, req: HostileRequest) -> bytes:
    return _sse(_events(req)[:h.after_events]) + b'event: ping\ndata: {"type": "ping", "pad": "'


def _error_body(status: int) -> bytes:
    error = {"type": _ERROR_TYPES.get(status, "api_error"), "message": "hostile server"}
    return _json.encode({"type": "error", "error": error})


def _answer_body(h: Hostile, req: HostileRequest) -> tuple[str, bytes]:
    if h.body is not None:
        return "application/octet-stream", h.body
    if h.status >= 400:
        return "application/json", _error_body(h.status)
    if _is_stream(req):
        return "text/event-stream", _sse(_events(req))
    return "application/json", _json.encode(_message(req))
