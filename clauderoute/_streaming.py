"""Streaming calls: open an attempt up to its first content, then hand events to the caller.

Everything a stream does before its first content event — an HTTP error, an in-stream
``overloaded_error``, a stall, a cut, a malformed frame — is an attempt failure that the router
fails over invisibly: the events are held back until the first ``content_block_delta`` (or a
``message_stop`` of an empty answer). After that, an interruption raises ``StreamInterrupted``
carrying the partial message, because the caller has already seen content.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from . import _errors as E
from ._accumulate import MessageAccumulator
from ._attempt import open_answer
from ._engine import StreamResponse
from ._provider import Provider, StreamDecoder
from ._sse import sse_frame
from ._timer import ReadDeadline
from .routing._observe import AttemptContext
from .routing._router import Finisher
from .types._content import TextBlock
from .types._messages import Message, RouteInfo
from .types._stream import ErrorEvent, StreamEvent, TextDelta

__all__ = ["MessageStream", "OpenStream", "as_sse", "open_stream_attempt"]

_CONTENT = frozenset({"content_block_delta", "message_stop"})


class OpenStream:
    """One attempt's stream, open and past its first content."""

    __slots__ = ("acc", "chunks", "ctx", "deadline", "decoder", "held", "held_bytes", "provider",
                 "response")

    def __init__(self, provider: Provider, response: StreamResponse, decoder: StreamDecoder,
                 chunks: AsyncIterator[bytes], held: list[StreamEvent],
                 acc: MessageAccumulator, deadline: float | None, ctx: AttemptContext,
                 held_bytes: list[bytes] | None = None) -> None:
        self.held_bytes = held_bytes or []  # the bytes the held events came in (raw())
        self.provider = provider
        self.response = response
        self.decoder = decoder
        self.chunks = chunks
        self.held = held
        self.acc = acc
        self.deadline = deadline
        self.ctx = ctx


async def open_stream_attempt(ctx: AttemptContext) -> OpenStream:
    """One attempt: send, check status, read until the first content event.

    From sending to the first content, one time limit holds — the smaller of the attempt's
    timeout (already cut to what is left of the deadline) and ``first_token_timeout`` —
    measured over the whole phase, so a server that drips its headers or its early events a
    byte at a time cannot stretch it.
    """
    p = ctx.provider
    limit, first = ctx.timeout, ctx.router.first_token_timeout_s
    if first is not None and (limit is None or first < limit):
        limit = first
    response = await open_answer(ctx, limit)
    # The phase began when the request was handed to the engine (``ctx.sent``).
    start = asyncio.get_running_loop().time() - (time.perf_counter() - (ctx.sent or 0.0))
    try:
        decoder = p.stream_decoder(ctx.call)
        acc = MessageAccumulator()
        chunks = response.chunks().__aiter__()
        raw: list[bytes] = []
        try:
            async with asyncio.timeout_at(None if limit is None else start + limit):
                held = await _until_content(ctx, response, decoder, chunks, acc, raw)
        except TimeoutError:
            raise E.ReadTimeout(f"no content within {limit:g}s", platform=p.name) from None
        return OpenStream(p, response, decoder, chunks, held, acc, ctx.deadline, ctx, raw)
    except BaseException:
        response.close()
        raise


async def _until_content(ctx: AttemptContext, response: StreamResponse,
                         decoder: StreamDecoder, chunks: AsyncIterator[bytes],
                         acc: MessageAccumulator, raw: list[bytes]) -> list[StreamEvent]:
    p = ctx.provider
    held: list[StreamEvent] = []
    limit, pending = ctx.router.engine.max_response_bytes, 0
    sse = getattr(decoder, "claude_sse", False)
    async for chunk in chunks:
        if sse:
            raw.append(chunk)
        seen = False
        events = decoder.feed(chunk)
        pending = 0 if events else pending + len(chunk)
        if pending > limit:
            raise E.ResponseTooLargeError(limit, what="a stream event", platform=p.name)
        if events and not sse:  # for raw(): as SSE, before the accumulator takes events over
            raw.append(as_sse(decoder, events))
        for ev in events:
            if ctx.first_chunk is None:
                ctx.first_chunk = time.perf_counter()
            if isinstance(ev, ErrorEvent):
                raise p.error_from_event(ev, response.headers)
            acc.add(ev)
            held.append(ev)
            ctx.chunks += 1
            if ctx.chunk_times is not None:
                ctx.chunk_times.append(time.perf_counter())
            seen = seen or ev.type in _CONTENT
        if seen:
            ctx.first_token = time.perf_counter()
            return held
    decoder.end()
    raise E.ConnectError("stream ended before any content", platform=p.name)


def as_sse(decoder: StreamDecoder, events: list[StreamEvent]) -> bytes:
    """``events`` (just returned by ``decoder.feed``) in the Claude API's SSE framing: each
    event's own JSON when the decoder keeps it (``payloads``, as Bedrock's does), else the
    event encoded (fields at their default value are then left out)."""
    payloads: list[bytes] = getattr(decoder, "payloads", None) or []
    out = []
    for i, ev in enumerate(events):
        data = payloads[i] if i < len(payloads) else b""
        out.append(b"event: " + ev.type.encode() + b"\ndata: " + data + b"\n\n" if data
                   else sse_frame(ev))
    return b"".join(out)


def _cut(data: bytes) -> tuple[bytes, bytes]:
    """``data`` split after its last SSE event boundary (a blank line): the complete events,
    and the start of the next one. ``\\r\\n`` and ``\\r`` line ends (SSE allows all three) become
    ``\\n`` first. A ``\\r\\n`` split between two chunks then gives one blank line too many,
    which SSE ignores (a blank line with no data dispatches nothing)."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    i = data.rfind(b"\n\n")
    return (data[:i + 2], data[i + 2:]) if i >= 0 else (b"", data)


class MessageStream:
    """A routed stream, shaped like the SDK's ``MessageStream``.

    Iterate it for every ``StreamEvent``, or use ``text_stream`` for text; ``get_final_message``
    reads to the end and returns the accumulated ``Message``. Leaving the ``async with`` block
    (or ``close()``) before the end closes the connection.
    """

    def __init__(self, opened: OpenStream, route: RouteInfo,
                 finisher: Finisher | None = None) -> None:
        self._o = opened
        self.route = route
        self._finish = finisher
        self._done = False
        self._closed = False
        self._iter: AsyncIterator[StreamEvent] | None = None

    @property
    def request_id(self) -> str | None:
        """The serving platform's request id (its ``request-id`` header or equivalent).

        .. versionadded:: 0.3
        """
        return self._o.response.headers.get(self._o.provider.request_id_header)

    @property
    def current_message_snapshot(self) -> Message | None:
        """The message accumulated so far: the text and thinking streamed up to now (a tool
        input appears when its block ends, as only then is its JSON whole)."""
        return self._o.acc.current()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._iter is None:
            self._iter = self._events()
        return self._iter

    async def _events(self) -> AsyncIterator[StreamEvent]:
        o = self._o
        held, o.held = o.held, []
        for ev in held:
            yield ev
        # Per-event work kept to local names (this loop runs once per token).
        ctx, add, feed, chunks, times = o.ctx, o.acc.add, o.decoder.feed, o.chunks, None
        # Bytes fed since the last complete event: what the decoder may be holding. One line
        # that never ends must not grow memory without bound.
        limit, pending = ctx.router.engine.max_response_bytes, 0
        deadline = None if o.deadline is None else ReadDeadline(o.deadline)  # one timer
        try:
            while True:
                try:
                    if deadline is None:
                        chunk = await anext(chunks)
                    else:
                        chunk = await deadline.read(chunks)
                except StopAsyncIteration:
                    break
                times = ctx.chunk_times
                events = feed(chunk)
                if not events:
                    pending += len(chunk)
                    if pending > limit:
                        raise E.ResponseTooLargeError(limit, what="a stream event",
                                                 platform=o.provider.name)
                    continue
                pending = 0
                for ev in events:
                    if isinstance(ev, ErrorEvent):
                        raise o.provider.error_from_event(ev, o.response.headers)
                    add(ev)
                    ctx.chunks += 1
                    if times is not None:
                        times.append(time.perf_counter())
                    yield ev
            o.decoder.end()
            if not o.acc.stopped:
                raise E.ConnectError("stream ended before message_stop", platform=o.provider.name)
        except (E.APIError, E.TransportError, TimeoutError) as exc:
            raise self._interrupted(exc) from exc
        finally:
            if deadline is not None:
                deadline.close()
        self._done = True
        o.response.release()
        self._end(self._final(), None, "success")

    def raw(self) -> AsyncIterator[tuple[bytes, list[StreamEvent]]]:
        """The stream as ``(data, events)`` pairs of the Claude API's SSE, for a gateway.

        Where the serving platform speaks that SSE, ``data`` is the platform's own bytes, cut
        at event boundaries so each pair's bytes hold exactly its ``events`` (line ends made
        ``\\n`` if the platform used ``\\r``): forward them without decoding or re-encoding. Other
        framings (Bedrock's event-stream) have their events encoded as SSE. An in-stream
        ``error`` event comes as the last event of a pair, its bytes included, and the next
        step raises ``StreamInterruptedError``. Everything else is as iterating the stream:
        the same accounting, errors and end. Use either this or iteration, not both.

        .. versionadded:: 0.3
        """
        if self._iter is not None:
            raise RuntimeError("this stream is already being read")
        pairs = self._raw_pairs()
        self._iter = pairs  # type: ignore[assignment]  # so that aclose() closes it
        return pairs

    async def _raw_pairs(self) -> AsyncIterator[tuple[bytes, list[StreamEvent]]]:
        o = self._o
        held, o.held = o.held, []
        sse = bool(getattr(o.decoder, "claude_sse", False))
        first, tail = b"".join(o.held_bytes), b""
        o.held_bytes = []
        if sse:
            first, tail = _cut(first)
        yield first, held
        ctx, add, feed, chunks = o.ctx, o.acc.add, o.decoder.feed, o.chunks
        limit = ctx.router.engine.max_response_bytes
        deadline = None if o.deadline is None else ReadDeadline(o.deadline)  # one timer
        try:
            while True:
                try:
                    if deadline is None:
                        chunk = await anext(chunks)
                    else:
                        chunk = await deadline.read(chunks)
                except StopAsyncIteration:
                    break
                events = feed(chunk)
                if not events:
                    tail += chunk
                    if len(tail) > limit:
                        raise E.ResponseTooLargeError(limit, what="a stream event",
                                                      platform=o.provider.name)
                    continue
                if sse:
                    data, tail = _cut(tail + chunk if tail else chunk)
                else:
                    data = as_sse(o.decoder, events)
                times = ctx.chunk_times
                for ev in events:
                    if isinstance(ev, ErrorEvent):
                        # Forwarded as the platform sent it; then the stream ends.
                        yield data, events[:events.index(ev) + 1]
                        raise o.provider.error_from_event(ev, o.response.headers)
                    add(ev)
                    ctx.chunks += 1
                    if times is not None:
                        times.append(time.perf_counter())
                yield data, events
            o.decoder.end()
            if not o.acc.stopped:
                raise E.ConnectError("stream ended before message_stop", platform=o.provider.name)
        except (E.APIError, E.TransportError, TimeoutError) as exc:
            raise self._interrupted(exc) from exc
        finally:
            if deadline is not None:
                deadline.close()
        self._done = True
        o.response.release()
        self._end(self._final(), None, "success")

    def _interrupted(self, exc: BaseException) -> E.StreamInterrupted:
        self._drop()
        if isinstance(exc, TimeoutError):
            exc = E.DeadlineExceeded("deadline exceeded mid-stream")
        o = self._o
        # The cause's own text without its "[provider] (request id)": ours adds them once.
        why = exc.message if isinstance(exc, E.APIError) else str(exc)
        err = E.StreamInterrupted(
            f"stream interrupted after content was delivered: {why}",
            partial=self._final(), cause=exc, platform=o.provider.name,
            request_id=o.response.headers.get(o.provider.request_id_header),
        )
        self._end(None, err, "error")
        return err

    def _end(self, result: Any, error: BaseException | None, outcome: str) -> None:
        if self._finish is not None:
            self._finish(result, error, outcome, self.route)

    def _drop(self) -> None:
        if not self._done and not self._closed:
            self._o.response.close()
        self._closed = True

    @property
    async def text_stream(self) -> AsyncIterator[str]:
        """Only the text, fragment by fragment."""
        async for ev in self:
            if ev.type == "content_block_delta" and isinstance(ev.delta, TextDelta):  # type: ignore[union-attr]
                yield ev.delta.text  # type: ignore[union-attr]

    async def until_done(self) -> None:
        """Read every remaining event."""
        async for _ in self:
            pass

    async def get_final_message(self) -> Message:
        """Read to the end; the complete ``Message`` (with ``.route``)."""
        await self.until_done()
        return self._final()

    async def get_final_text(self) -> str:
        """Read to the end; the text of every ``text`` block, joined (as the SDK's).

        Raises:
            RuntimeError: the answer has no text block (e.g. only a tool call).
        """
        msg = await self.get_final_message()
        texts = [b.text for b in msg.content if isinstance(b, TextBlock)]
        if not texts:
            kinds = ", ".join(b.type for b in msg.content) or "no"
            raise RuntimeError(f"get_final_text(): the answer has {kinds} content block(s) and "
                               "no text; read get_final_message().content")
        return "".join(texts)

    def _final(self) -> Message:
        o = self._o
        msg = o.acc.snapshot()
        assert msg is not None  # the first content came after message_start
        extra = getattr(o.decoder, "message_extra", None)  # (a duck-typed decoder has none)
        if o.acc.stopped and extra is not None:  # the platform's notes on the answer
            o.acc.keep_extra(extra())
        f = self._finish
        if f is not None and f.router.signals is not None and msg.stop_reason is not None:
            self.route = f.router.signals.finish(self.route, f.ctx, msg)  # the cost, once whole
        msg.route = self.route
        return msg

    def close(self) -> None:
        """Drop the connection if the stream has not ended (outcome ``cancelled``)."""
        if not self._done and not self._closed:
            self._end(self._o.acc.snapshot(), None, "cancelled")
        self._drop()

    async def aclose(self) -> None:
        """Async spelling of ``close``."""
        if self._iter is not None:
            await self._iter.aclose()  # type: ignore[attr-defined]
        self.close()

    def __del__(self) -> None:
        # Abandoned without close: end its telemetry and drop the connection rather than leak it.
        if not self._done and not self._closed:
            self._end(None, None, "abandoned")
            self._o.response.close()

    async def __aenter__(self) -> MessageStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
