"""Headers at the engine's boundary: a request's checked before aiohttp sees them, an answer's
handed on as a plain dict with lower-cased names."""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import InvalidRequest

__all__ = ["check_headers", "lowered_headers"]

_LOWER: dict[str, str] = {}  # a header name as received -> lower-cased


def check_headers(headers: dict[str, str], passed: list[dict[str, str]] | None = None) -> None:
    """Refuse a header aiohttp would refuse with a bare ``ValueError`` (a line break or NUL:
    header injection) or fail to encode (a lone surrogate), naming the header, not its value.
    Headers come from settings (an API key), ``default_headers`` and ``extra_headers``. A set
    equal to one in ``passed`` (the last four to pass; the latest compared first) passes; else
    ASCII headers without a line break or NUL pass in one check over one string (``isascii``
    reads a flag, each ``in`` is a memchr); the rest go to the loop that names the header."""
    if passed and headers == passed[0]:
        return
    for i, ok in enumerate(passed or ()):
        if headers == ok:
            if i and passed:  # passed again: now the latest, not the next one dropped
                passed.insert(0, passed.pop(i))
            return
    joined = "".join([*headers, *headers.values()])
    if joined.isascii() and "\n" not in joined and "\r" not in joined and "\x00" not in joined:
        if passed is not None:
            passed[:] = [dict(headers), *passed[:3]]
        return
    for name, value in headers.items():
        for text in (name, value):
            if (
                "\n" in text
                or "\r" in text
                or "\x00" in text
                or (not text.isascii() and not _encodable(text))
            ):
                raise InvalidRequest(
                    "a header name or value holds a line break, NUL or an "
                    "undecodable character (the value is not shown)",
                    field=f"headers[{name[:60]!r}]",
                )


def lowered_headers(h: Mapping[str, str]) -> dict[str, str]:
    """An answer's headers with lower-cased names, the last of a repeated name kept.

    Each name's lower-case form is remembered (a bounded memory: names come from the network):
    the same few names come in every answer, aiohttp's parser hands the usual ones as the same
    objects, and a look-up costs less than a ``lower()`` and a new string to hash (callgrind)."""
    low = _LOWER
    headers: dict[str, str] = {}
    for name, value in h.items():
        lowered = low.get(name)
        if lowered is None:
            if len(low) >= 256:
                low.clear()
            lowered = low[name] = name.lower()
        headers[lowered] = value
    return headers


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
