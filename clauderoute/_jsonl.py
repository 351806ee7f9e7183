"""JSON Lines framing, sans-I/O: bytes in chunks of any size → complete lines.

Batch results can be far larger than memory, so lines are cut out as they complete and only the
unfinished tail is held, up to ``max_line`` bytes (a line that never ends raises
``ResponseTooLargeError`` rather than growing without bound). Blank lines are skipped; a trailing
``\\r`` is dropped.
"""

from __future__ import annotations

from ._errors import ResponseTooLargeError

__all__ = ["JSONLDecoder"]


class JSONLDecoder:
    """Feed byte chunks, get back each complete line (without its newline)."""

    def __init__(self, max_line: int = 64 * 1024 * 1024) -> None:
        self._tail = bytearray()
        self._max = max_line

    def feed(self, data: bytes) -> list[bytes]:
        """Consume ``data``; return the lines it completed."""
        if b"\n" not in data:
            self._tail += data
            if len(self._tail) > self._max:
                raise ResponseTooLargeError(self._max, what="a JSON line")
            return []
        parts = data.split(b"\n")
        first = bytes(self._tail) + parts[0]
        self._tail = bytearray(parts[-1])
        if len(self._tail) > self._max:
            raise ResponseTooLargeError(self._max, what="a JSON line")
        return [ln for ln in (_strip(x) for x in [first, *parts[1:-1]]) if ln]

    def end(self) -> list[bytes]:
        """The stream ended: the last line, if it had no newline."""
        last = _strip(bytes(self._tail))
        self._tail.clear()
        return [last] if last else []


def _strip(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\r") else line
