"""JSON Lines framing, sans-I/O: bytes in chunks of any size → complete lines.

Batch results can be far larger than memory, so lines are cut out as they complete and only the
unfinished tail is held. Blank lines are skipped; a trailing ``\\r`` is dropped.
"""

from __future__ import annotations

__all__ = ["JSONLDecoder"]


class JSONLDecoder:
    """Feed byte chunks, get back each complete line (without its newline)."""

    def __init__(self) -> None:
        self._tail = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Consume ``data``; return the lines it completed."""
        if b"\n" not in data:
            self._tail += data
            return []
        parts = data.split(b"\n")
        first = bytes(self._tail) + parts[0]
        self._tail = bytearray(parts[-1])
        return [ln for ln in (_strip(x) for x in [first, *parts[1:-1]]) if ln]

    def end(self) -> list[bytes]:
        """The stream ended: the last line, if it had no newline."""
        last = _strip(bytes(self._tail))
        self._tail.clear()
        return [last] if last else []


def _strip(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\r") else line
