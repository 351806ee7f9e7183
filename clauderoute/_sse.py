"""A sans-I/O Server-Sent Events decoder, shared by the Claude API, Vertex and Foundry.

Bytes arrive in chunks cut anywhere — inside a line, inside a UTF-8 character, between the
``\\r`` and ``\\n`` of a line ending — and the decoder must give the same events for every split.
It follows the WHATWG event-stream rules that matter here: lines end in CRLF, LF or CR; a blank
line dispatches the event; ``data:`` lines join with ``\\n``; one space after the colon is
dropped; lines starting with ``:`` are comments; unknown fields are ignored.

The work is linear in the bytes fed, however they are cut: a line that arrives in many chunks
is kept as a list of pieces and joined once, when it ends, and an event's earlier lines are
not looked at again until a chunk that can end it arrives. (The caller bounds how much may
be fed without an event completing: ``_streaming`` and ``max_response_bytes``.)
"""

from __future__ import annotations

import re
from typing import ClassVar

import msgspec

from ._errors import MalformedResponse
from ._provider import StreamDecoder
from .types._stream import StreamEvent, UnknownEvent, decode_event
from .types._stream import _fast as _fast_events  # the deltas/stops/pings union

__all__ = ["SSEDecoder", "SSEEventDecoder", "sse_frame"]

# The form every platform sends: ``event: <name>`` (optional), one ``data: <payload>`` line, a
# blank line, LF endings. ``split`` on it gives [gap, name, payload, gap, ...]; when every gap is
# empty the events tile the text and are exactly what the line-by-line parser would give (the
# name is ASCII, so its decode cannot fail; a payload is one line, after one dropped space).
_STD = re.compile(rb"(?:event: (\w*)\n)?data: ([^\n]*)\n\n")
_STD_DATA = re.compile(rb"(?:event: \w*\n)?data: ([^\n]*)\n\n")


class SSEDecoder:
    """Incremental SSE parser: ``feed(bytes) -> [(event name, data bytes)]``."""

    __slots__ = ("_buf", "_data", "_event", "_more", "_skip_lf")

    def __init__(self) -> None:
        self._buf = b""  # the unfinished line...
        self._more: list[bytes] = []  # ...and its further pieces, joined when it ends
        self._event = b""
        self._data: list[bytes] = []
        self._skip_lf = False

    def _partial(self, chunk: bytes) -> bool:
        """With a line unfinished: keep ``chunk`` aside (``True``) if it does not end it either;
        else join the line's pieces, for the chunk to be parsed after them."""
        if b"\n" in chunk or b"\r" in chunk:
            if self._more:
                self._buf = b"".join([self._buf, *self._more])
                self._more = []
            return False
        self._more.append(chunk)
        return True

    def feed(self, chunk: bytes) -> list[tuple[str, bytes]]:
        """Consume a chunk; return the events it completed."""
        if self._buf and self._partial(chunk):
            return []
        parts = self._fast(chunk, _STD)
        if parts is not None:
            return [(n.decode() if n else "message", d)
                    for n, d in zip(parts[1::3], parts[2::3], strict=True)]
        return self._feed(chunk)

    def feed_data(self, chunk: bytes) -> list[bytes]:
        """``feed`` without the event names: the ``data`` of each completed event."""
        if self._buf and self._partial(chunk):
            return []
        parts = self._fast(chunk, _STD_DATA)
        if parts is not None:
            return parts[1::2]
        return [d for _, d in self._feed(chunk)]

    def _fast(self, chunk: bytes, pattern: re.Pattern[bytes]) -> list[bytes] | None:
        """Split the complete events of ``chunk`` in one pass when they all have the usual form;
        ``None`` (state untouched) sends the chunk down the general path."""
        if self._skip_lf or not chunk:
            return None
        if self._event or self._data:  # the lines of this event already read, written back
            if b"\n\n" not in chunk and (self._buf or chunk[:1] != b"\n"):
                return None  # this chunk cannot end the event: do not copy its lines again
            buf = b"".join([b"event: " + self._event + b"\n" if self._event else b"",
                            *[b"data: " + d + b"\n" for d in self._data], self._buf, chunk])
        else:
            buf = self._buf + chunk if self._buf else chunk
        end = buf.rfind(b"\n\n") + 2
        if end < 2 or b"\r" in buf:
            return None
        parts = pattern.split(buf[:end] if end < len(buf) else buf)
        if any(parts[::pattern.groups + 1]):
            return None  # something else in there (comments, multi-line data, other fields)
        self._buf, self._event, self._data = b"", b"", []
        # The rest holds no blank line, so no event: the general path only keeps its state.
        self._feed(buf[end:])
        return parts

    def _feed(self, chunk: bytes) -> list[tuple[str, bytes]]:
        if not chunk:
            return []
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]  # the LF of a CRLF split across two chunks
        self._skip_lf = chunk[-1:] == b"\r"
        buf = self._buf + chunk if self._buf else chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buf.split(b"\n")
        self._buf = lines.pop()
        out: list[tuple[str, bytes]] = []
        for line in lines:
            if not line:
                if self._data:
                    out.append((self._event.decode() or "message", b"\n".join(self._data)))
                self._event, self._data = b"", []
                continue
            if line[0] == 0x3A:  # ":" comment
                continue
            field, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if field == b"data":
                self._data.append(value)
            elif field == b"event":
                self._event = value
        return out

    @property
    def pending(self) -> bool:
        """Whether part of an event is buffered (the stream ended mid-event)."""
        return bool(self._buf or self._data)


class SSEEventDecoder(StreamDecoder):
    """``StreamDecoder`` for streams of Claude API events carried as SSE (JSON in ``data:``)."""

    __slots__ = ("_platform", "_sse")
    #: The bytes read are the Claude API's own SSE: ``MessageStream.raw()`` forwards them
    #: unchanged (a decoder without this attribute has its events re-encoded).
    #:
    #: .. versionadded:: 0.3
    claude_sse: ClassVar[bool] = True

    def __init__(self, platform: str | None = None) -> None:
        self._sse = SSEDecoder()
        self._platform = platform

    def feed(self, data: bytes) -> list[StreamEvent]:
        """Decode every complete event in ``data``."""
        out: list[StreamEvent] = []
        fast = _fast_events.decode
        for payload in self._sse.feed_data(data):
            try:
                # Most events are deltas: try their union first (one decode, where
                # ``decode_event`` peeks at the type, then decodes); the rest, and anything
                # unknown or malformed, takes ``decode_event``'s path, with the same result.
                out.append(fast(payload))
                continue
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass
            try:
                out.append(decode_event(payload))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                snippet = payload[:80].decode("utf-8", "replace")
                raise MalformedResponse(
                    f"undecodable stream event {snippet!r}: {exc}", platform=self._platform
                ) from exc
        return out

    def end(self) -> list[StreamEvent]:
        """Raise if the stream stopped in the middle of an event."""
        if self._sse.pending:
            raise MalformedResponse("stream ended in the middle of an event",
                                    platform=self._platform)
        return []


_frame_encode = msgspec.json.Encoder().encode


def sse_frame(event: StreamEvent) -> bytes:
    """One event in the Claude API's SSE framing (``event:`` and ``data:`` lines).

    .. versionadded:: 0.3
    """
    data = _frame_encode(event.data if isinstance(event, UnknownEvent) else event)
    return b"event: " + event.type.encode() + b"\ndata: " + data + b"\n\n"
