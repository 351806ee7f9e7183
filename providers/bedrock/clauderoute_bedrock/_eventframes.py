"""An incremental decoder of AWS event-stream frames (``application/vnd.amazon.eventstream``).

A frame (AWS docs, "Event stream encoding") is a 12-byte prelude — total length, headers
length (big-endian uint32 each) and the CRC32 of those 8 bytes — then the headers, the payload,
and the CRC32 of everything before it. A header is its name (uint8 length, UTF-8), a type byte
and a value: 0/1 true/false (no bytes), 2/3/4/5 int8/16/32/64, 6 bytes and 7 string (uint16
length), 8 timestamp (int64 ms), 9 UUID (16 bytes).

Why not botocore's ``EventStreamBuffer``: it copies everything it holds for every frame it
parses and every ``add_data`` (a burst of N frames costs O(N²)) and walks each header through
several function calls; here a feed copies its bytes once, every frame is checked in place, and
the header block — the same few bytes on every chunk of a stream — is parsed once and
remembered. ``tests/test_eventframes.py`` proves the frames equal to botocore's for any split
of the bytes, and a frame botocore rejects rejected here too.

Limits, checked in the prelude before a byte more is buffered: headers ≤ 128 KiB and payload
≤ 24 MiB (botocore's), total at least the prelude and trailer. Where botocore would let a
malformed frame through — a header value that runs past the end of the header block is cut
short without a word — this decoder raises.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

__all__ = ["MAX_HEADERS", "MAX_PAYLOAD", "Frame", "FrameDecoder", "FrameError"]

MAX_HEADERS = 128 * 1024
MAX_PAYLOAD = 24 * 1024 * 1024
_PRELUDE = struct.Struct("!III")
_MIN = 16  # prelude (12) + message CRC (4)
_INTS = {2: struct.Struct("!b"), 3: struct.Struct("!h"), 4: struct.Struct("!i"),
         5: struct.Struct("!q"), 8: struct.Struct("!q")}
_U16 = struct.Struct("!H")
_CACHE = 16  # distinct header blocks remembered per stream (a stream has two or three)

#: One decoded frame: its headers (name -> bool, int, bytes or str; shared between frames with
#: the same header bytes, so read-only) and its payload.
Frame = tuple[dict[str, Any], bytes]


class FrameError(ValueError):
    """A frame that cannot be right: a CRC mismatch, an impossible or absurd length, headers
    that do not parse. The stream cannot be resynchronised after one.

    .. versionadded:: 0.2
    """


def parse_headers(block: bytes) -> dict[str, Any]:
    """The headers of one frame's header block."""
    headers: dict[str, Any] = {}
    pos, end = 0, len(block)
    try:
        while pos < end:
            size = block[pos]
            name = block[pos + 1:pos + 1 + size].decode()
            pos += 1 + size
            kind = block[pos]
            pos += 1
            value: Any
            if kind == 0 or kind == 1:
                value = kind == 0
            elif kind == 6 or kind == 7:
                (size,) = _U16.unpack_from(block, pos)
                value = block[pos + 2:pos + 2 + size]
                pos += 2 + size
                if kind == 7:
                    value = value.decode()
            elif kind == 9:
                value = block[pos:pos + 16]
                pos += 16
            else:
                unpack = _INTS.get(kind)
                if unpack is None:
                    raise FrameError(f"unknown header type {kind}")
                (value,) = unpack.unpack_from(block, pos)
                pos += unpack.size
            if pos > end:
                raise FrameError(f"header {name!r} runs past the header block")
            if name in headers:
                raise FrameError(f"duplicate header {name!r}")
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise FrameError(f"undecodable headers ({type(exc).__name__})") from None
    return headers


class FrameDecoder:
    """Bytes in, complete frames out, for any split of the bytes.

    ``feed`` raises ``FrameError`` for the first wrong prelude or frame — after returning the
    good frames before it, as botocore's buffer yields them — and every later ``feed`` raises
    it again (a new one, same message); ``end`` raises it, or a ``FrameError`` if the stream
    stopped inside a frame.
    ``pending`` is how many bytes wait for the rest of their frame.

    .. versionadded:: 0.2
    """

    __slots__ = ("_buffer", "_error", "_headers", "_need")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._need = 0  # bytes the buffer must hold before the next frame is complete
        self._headers: dict[bytes, dict[str, Any]] = {}
        self._error: FrameError | None = None

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def end(self) -> None:
        """Raise the ``FrameError`` that stopped the stream, or one for a frame left unfinished."""
        if self._error is not None:
            raise FrameError(*self._error.args)
        if self._buffer:
            raise FrameError(f"stream ended inside a frame ({len(self._buffer)} bytes left)")

    def feed(self, data: bytes) -> list[Frame]:
        if self._error is not None:
            raise FrameError(*self._error.args)
        buffer = self._buffer
        if buffer:
            buffer += data
            if len(buffer) < self._need:  # a frame arriving in pieces: nothing to look at
                return []
            data = bytes(buffer)
            buffer.clear()
        out: list[Frame] = []
        pos, end = 0, len(data)
        try:
            while end - pos >= 12:
                total, size, crc = _PRELUDE.unpack_from(data, pos)
                if zlib.crc32(data[pos:pos + 8]) != crc:
                    raise FrameError("prelude CRC mismatch")
                if size > MAX_HEADERS or total - size - _MIN > MAX_PAYLOAD or \
                        total < _MIN or size > total - _MIN:
                    raise FrameError(f"impossible lengths (total {total}, headers {size})")
                if end - pos < total:
                    self._need = total
                    break
                stop = pos + total - 4
                frame = memoryview(data)[pos:stop]
                if zlib.crc32(frame) != int.from_bytes(data[stop:stop + 4], "big"):
                    raise FrameError("message CRC mismatch")
                block = data[pos + 12:pos + 12 + size]
                headers = self._headers.get(block)
                if headers is None:
                    headers = parse_headers(block)
                    if len(self._headers) >= _CACHE:
                        self._headers.clear()
                    self._headers[block] = headers
                out.append((headers, data[pos + 12 + size:stop]))
                pos += total
            else:
                self._need = 12
        except FrameError as exc:
            # Kept as a copy that is never raised (each later feed raises a new one): a raised
            # error's traceback holds this frame, which holds the decoder (a reference cycle).
            self._error = FrameError(*exc.args)
            if not out:
                raise
            return out  # the frames before the bad one; the next feed (or end) raises
        if pos < end:
            buffer += data[pos:]
        return out
