"""``HostileServer``: the raw asyncio server that plays a ``Hostile`` answer (see ``_hostile``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

import msgspec

from ._hostile import (
    _FILL,
    _MESSAGE_OPENING,
    _PAD,
    Hostile,
    HostileRequest,
    _answer_body,
    _chunk,
    _error_body,
    _events,
    _head,
    _is_stream,
    _read_request,
    _reset,
    _sse,
    _sse_opening,
)

# Answer headers that set the framing or the connection's fate: a mode with one of them in its
# ``headers`` (a lying content-length, say) is served as told, on a connection of its own.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})

# Modes that write their whole answer at once (no drip, no wait, nothing endless): served
# without the watch for an early disconnect, which costs two tasks per answer.
_AT_ONCE = frozenset(
    {"polite", "html", "lying_gzip", "garbage_status", "bad_chunked", "stop_mid_event",
     "reset_before_headers", "reset_after_headers"}
)

__all__ = ["HostileServer"]


class HostileServer:
    """A raw asyncio HTTP/1.1 server on loopback that answers each request as told.

    Args:
        *answers: the ``Hostile`` answer of each request in turn; the last one answers every
            later request (none: always ``Hostile()``, polite).
        host, port: where to listen; loopback and an ephemeral port by default.
        keep_alive: serve the client's next request on the same connection after an answer
            that ended complete and framed by its length (the modes in ``KEEP_ALIVE_MODES``,
            unless the answer's ``headers`` set its framing or ``connection`` themselves), as a
            real HTTP/1.1 server does: the client's pool then reuses connections across
            polite and hostile answers alike. A client that asks to close (or speaks HTTP/1.0)
            is served one request. No pipelining: a connection on which the client sent the
            whole head of its next request before the answer ended is closed after it.

    By default every connection carries one request (``connection: close``). With
    ``keep_alive``, a connection waiting for its next request is open (``open_connections``,
    ``wait_idle``) until the client closes it.

    .. versionadded:: 0.2
    .. versionchanged:: 0.3 ``keep_alive``; ``connections``; ``HostileRequest.version``.
    """

    #: The modes whose answer is complete and framed by its ``content-length``.
    KEEP_ALIVE_MODES: ClassVar[frozenset[str]] = frozenset(
        {"polite", "drip_head", "drip_body", "huge_header", "many_headers", "lying_gzip", "html"}
    )

    def __init__(self, *answers: Hostile, host: str = "127.0.0.1", port: int = 0,
                 keep_alive: bool = False) -> None:
        self.answers = list(answers) or [Hostile()]
        self.host, self.port = host, port
        self.keep_alive = keep_alive
        #: Every request received, in order.
        self.received: list[HostileRequest] = []
        #: Connections accepted (one per request unless ``keep_alive``).
        self.connections = 0
        #: Connections the client closed (or reset) before its answer was complete.
        self.disconnects = 0
        #: Bytes written to clients, headers included.
        self.bytes_sent = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()
        self._watched = False  # whether a wait_until waits on _changed

    @property
    def url(self) -> str:
        """``http://host:port``: the ``base_url`` to give a provider."""
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> int:
        """How many requests arrived."""
        return len(self.received)

    @property
    def open_connections(self) -> int:
        """Connections still being served."""
        return len(self._tasks)

    async def start(self) -> HostileServer:
        """Start listening; ``url`` is valid afterwards."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and drop every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> HostileServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_until(self, predicate: Callable[[HostileServer], bool],
                         timeout: float = 5.0) -> None:
        """Wait until ``predicate(server)`` holds, re-checked whenever a request, a write or
        the end of a connection is recorded (``TimeoutError`` after ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self._watched = True
                await self._changed.wait()

    async def wait_disconnects(self, n: int = 1, timeout: float = 5.0) -> None:
        """Wait until the client has left ``n`` answers early."""
        await self.wait_until(lambda s: s.disconnects >= n, timeout)

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no connection is being served."""
        await self.wait_until(lambda s: not s._tasks, timeout)

    def _bump(self) -> None:
        if self._watched:  # a new event only when someone waits (the storm writes ~60,000 times)
            self._watched = False
            self._changed.set()
            self._changed = asyncio.Event()

    # --- one connection -------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            start: bytes | None = b""  # what the client already sent of its next request
            while start is not None:
                request = await _read_request(reader, start)
                if request is None:
                    break
                self.received.append(request)
                self._bump()
                answer = self.answers[min(len(self.received), len(self.answers)) - 1]
                left, start = await self._serve(answer, request, reader, writer,
                                                self._keeps(answer, request))
                if left:
                    self.disconnects += 1
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:  # a client that sent garbage or left while we read its request
            exc.__traceback__ = None  # (the reader keeps exc; exc's frames, the reader: a cycle)
        except asyncio.CancelledError:
            pass  # ``stop()``: the handler's task is ours, nobody awaits its result
        finally:
            writer.transport.abort()
            self._tasks.discard(task)
            self._bump()

    def _keeps(self, h: Hostile, request: HostileRequest) -> bool:
        """Whether the connection carries another request after the answer ``h``."""
        return (
            self.keep_alive
            and h.mode in self.KEEP_ALIVE_MODES
            and request.version == "HTTP/1.1"
            and "close" not in request.headers.get("connection", "").lower()
            and not any(k.lower() in _FRAMING for k in h.headers)
        )

    async def _serve(self, h: Hostile, request: HostileRequest, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter, keep: bool) -> tuple[bool, bytes | None]:
        """Answer; whether the client left before the answer was complete, and, when the
        connection carries another request (``keep``), the bytes the client sent of it while
        the answer was going out (``None``: close the connection)."""
        if keep:  # the answer's own headers say so (they replace the default "close")
            h = msgspec.structs.replace(h, headers={**h.headers, "connection": "keep-alive"})
        if h.mode in _AT_ONCE:
            # Written at once, nothing to watch for: the client cannot leave mid-answer
            # (writing to a client already gone raises ConnectionError).
            try:
                await self._answer(h, request, writer)
            except Exception as error:  # as below: never raised, only counted
                error.__traceback__ = None
                return isinstance(error, ConnectionError), None
            return False, b"" if keep else None
        answer = asyncio.ensure_future(self._answer(h, request, writer))
        gone = asyncio.ensure_future(reader.read(1))  # b"" once the client closes
        early = b""
        try:
            while True:
                done, _ = await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
                if answer in done:
                    failed = answer.exception()
                    if failed is not None or not keep:
                        return isinstance(failed, ConnectionError), None
                    if gone.done():  # the client wrote (or left) just as the answer ended
                        if gone.exception() is not None or not (byte := gone.result()):
                            return False, None
                        early += byte
                    # The start of the next request, read while the answer went out; a whole
                    # head of it (pipelining, which the server does not do) ends the connection.
                    return False, None if b"\r\n\r\n" in early else early
                if gone.exception() is not None or (byte := gone.result()) == b"":
                    return True, None
                if keep:
                    early += byte  # stray bytes: kept (the next request's start), and watched
                gone = asyncio.ensure_future(reader.read(1))
        finally:
            for t in (answer, gone):
                t.cancel()
            for exc in await asyncio.gather(answer, gone, return_exceptions=True):
                if isinstance(exc, BaseException):  # never raised: its traceback (through the
                    exc.__traceback__ = None  # writer's frames) would make the writer a cycle

    async def _answer(self, h: Hostile, request: HostileRequest,
                      writer: asyncio.StreamWriter) -> None:
        await getattr(self, "_" + h.mode)(h, request, writer)

    async def _send(self, writer: asyncio.StreamWriter, data: bytes, drip: float = 0.0) -> None:
        if drip:
            for i in range(len(data)):
                if i:
                    await asyncio.sleep(drip)
                writer.write(data[i:i + 1])
                self.bytes_sent += 1
                self._bump()
                await writer.drain()
            return
        view = memoryview(data)
        for i in range(0, len(data), 65536):  # drain() after each piece: bytes_sent counts
            piece = view[i:i + 65536]         # what the client took, give or take its buffers
            writer.write(piece)
            self.bytes_sent += len(piece)
            self._bump()
            await writer.drain()

    # --- the modes (one method each, named after the mode) ----------------------------------

    async def _polite(self, h: Hostile, req: HostileRequest, w: asyncio.StreamWriter) -> None:
        ctype, body = _answer_body(h, req)
        await self._send(w, _head(h, ctype, {"content-length": str(len(body))}))
        await self._send(w, body)

    async def _drip_head(self, h: Hostile, req: HostileRequest, w: asyncio.StreamWriter) -> None:
        ctype, body = _answer_body(h, req)
        head = _head(h, ctype, {"content-length": str(len(body)), "x-hostile-padding": _PAD})
        await self._send(w, head, h.drip_s)
        await self._send(w, body)

    async def _drip_body(self, h: Hostile, req: HostileRequest, w: asyncio.StreamWriter) -> None:
        ctype, body = _answer_body(h, req)
        sent = 0
        if ctype == "text/event-stream":  # a stream's first after_events events come at once
            sent = len(_sse(_events(req)[:h.after_events]))
        await self._send(w, _head(h, ctype, {"content-length": str(len(body))}) + body[:sent])
        await self._send(w, body[sent:], h.drip_s)

    async def _endless_body(self, h: Hostile, req: HostileRequest,
                            w: asyncio.StreamWriter) -> None:
        if h.status >= 400:
            ctype, opening = "application/json", _error_body(h.status)[:-3]  # inside "message"
        elif _is_stream(req):
            ctype, opening = "text/event-stream", _sse_opening(h, req)
        else:
            ctype, opening = "application/json", _MESSAGE_OPENING
        await self._send(w, _head(h, ctype, {"transfer-encoding": "chunked"}) + _chunk(opening))
        await self._forever(w, _chunk(_FILL))

    async def _endless_line(self, h: Hostile, req: HostileRequest,
                            w: asyncio.StreamWriter) -> None:
        await self._send(w, _head(h, "text/event-stream", {"transfer-encoding": "chunked"}) +
                         _chunk(_sse_opening(h, req)))
        await self._forever(w, _chunk(_FILL))

    async def _forever(self, w: asyncio.StreamWriter, data: bytes) -> None:
        while True:  # drain() waits while the client does not read: the server buffers little
            await self._send(w, data)

    async def _pings(self, h: Hostile, req: HostileRequest, w: asyncio.StreamWriter) -> None:
        await self._send(w, _head(h, "text/event-stream", {"transfer-encoding": "chunked"}) +
                         _chunk(_sse(_events(req)[:h.after_events])))
        ping = _chunk(_sse([{"type": "ping"}]))
        while True:
            await asyncio.sleep(h.drip_s)
            await self._send(w, ping)

    async def _stall(self, h: Hostile, req: HostileRequest, w: asyncio.StreamWriter) -> None:
        if _is_stream(req) and h.status < 400:
            await self._send(w, _head(h, "text/event-stream", {"transfer-encoding": "chunked"}) +
                             _chunk(_sse(_events(req)[:h.after_events])))
        else:
            ctype, body = _answer_body(h, req)
            await self._send(w, _head(h, ctype, {"content-length": str(len(body))}))
        await asyncio.Future()  # until the client leaves or the server stops

    async def _hang(self, h: Hostile, req: HostileRequest, w: asyncio.StreamWriter) -> None:
        await asyncio.Future()

    async def _stop_mid_event(self, h: Hostile, req: HostileRequest,
                              w: asyncio.StreamWriter) -> None:
        events = _events(req)
        cut = _sse(events[h.after_events:h.after_events + 1])
        await self._send(w, _head(h, "text/event-stream", {}) +
                         _sse(events[:h.after_events]) + cut[:len(cut) // 2])

    async def _reset_before_headers(self, h: Hostile, req: HostileRequest,
                                    w: asyncio.StreamWriter) -> None:
        _reset(w)

    async def _reset_after_headers(self, h: Hostile, req: HostileRequest,
                                   w: asyncio.StreamWriter) -> None:
        ctype, body = _answer_body(h, req)
        await self._send(w, _head(h, ctype, {"content-length": str(len(body))}))
        _reset(w)

    async def _garbage_status(self, h: Hostile, req: HostileRequest,
                              w: asyncio.StreamWriter) -> None:
        await self._send(w, b"HTTP/1.1 two-hundred OK\r\n\x00\xff\xfe\r\n\r\n{}")

    async def _huge_header(self, h: Hostile, req: HostileRequest,
                           w: asyncio.StreamWriter) -> None:
        ctype, body = _answer_body(h, req)
        head = _head(h, ctype, {"content-length": str(len(body))})
        # The huge header goes last, joined as bytes: built in the str head, it was copied
        # four times (format, join, encode, concatenation) for every answer.
        huge = (head[:-2], b"x-huge: ", b"a" * h.size, b"\r\n\r\n", body)
        await self._send(w, b"".join(huge))

    async def _many_headers(self, h: Hostile, req: HostileRequest,
                            w: asyncio.StreamWriter) -> None:
        ctype, body = _answer_body(h, req)
        extra = {f"x-many-{i:08d}": "a" * 10 for i in range(max(1, h.size // 30))}
        extra["content-length"] = str(len(body))
        await self._send(w, _head(h, ctype, extra) + body)

    async def _bad_chunked(self, h: Hostile, req: HostileRequest,
                           w: asyncio.StreamWriter) -> None:
        ctype, _body = _answer_body(h, req)
        await self._send(w, _head(h, ctype, {"transfer-encoding": "chunked"}) +
                         b"zz\r\nnot a chunk size\r\n0\r\n\r\n")

    async def _lying_gzip(self, h: Hostile, req: HostileRequest,
                          w: asyncio.StreamWriter) -> None:
        ctype, body = _answer_body(h, req)
        extra = {"content-length": str(len(body)), "content-encoding": "gzip"}
        await self._send(w, _head(h, ctype, extra) + body)

    async def _html(self, h: Hostile, req: HostileRequest, w: asyncio.StreamWriter) -> None:
        body = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
        await self._send(w, _head(h, "text/html", {"content-length": str(len(body))}) + body)
