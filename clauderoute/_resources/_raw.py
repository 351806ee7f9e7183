"""What ``messages.with_raw_response`` and ``messages.create(stream=True)`` return, shaped like
the official SDK's ``AsyncAPIResponse`` and ``AsyncStream``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

if TYPE_CHECKING:
    from .._streaming import MessageStream
    from ..types._messages import RouteInfo
    from ..types._stream import StreamEvent

__all__ = ["AsyncRawResponse", "AsyncStream", "Headers", "RawResponse"]

T = TypeVar("T")


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case (``headers["Request-Id"]``)."""

    __slots__ = ("_h",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._h = {k.lower(): v for k, v in headers.items()}

    def __getitem__(self, key: str) -> str:
        return self._h[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._h

    def __iter__(self) -> Iterator[str]:
        return iter(self._h)

    def __len__(self) -> int:
        return len(self._h)

    def __repr__(self) -> str:
        return f"Headers({self._h!r})"


class _Raw(Generic[T]):
    def __init__(self, parsed: T, status_code: int, headers: Mapping[str, str], content: bytes,
                 request_id_header: str) -> None:
        self._parsed = parsed
        #: The HTTP status of the attempt that succeeded.
        self.status_code = status_code
        #: Every header of that answer (rate-limit headers included), any case.
        self.headers = Headers(headers)
        self._content = content
        self._rid = request_id_header

    @property
    def request_id(self) -> str | None:
        """The platform's request id."""
        return self.headers.get(self._rid)

    @property
    def route(self) -> RouteInfo | None:
        """Which provider served the call (as on the parsed object)."""
        return getattr(self._parsed, "route", None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] {type(self._parsed).__name__}>"


class AsyncRawResponse(_Raw[T]):
    """The answer of ``await client.messages.with_raw_response.create(...)``: ``headers``,
    ``status_code``, ``request_id``, and ``await parse()`` for the ``Message``.

    .. versionadded:: 0.2
    """

    async def parse(self) -> T:
        """The parsed object (``Message``, ``MessageTokensCount``)."""
        return self._parsed

    async def read(self) -> bytes:
        """The body as the platform sent it."""
        return self._content

    async def text(self) -> str:
        """The body as text."""
        return self._content.decode("utf-8", "replace")

    async def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self._content)


class RawResponse(_Raw[T]):
    """The synchronous client's raw response: ``parse()`` returns the parsed object.

    .. versionadded:: 0.2
    """

    def parse(self) -> T:
        """The parsed object (``Message``, ``MessageTokensCount``)."""
        return self._parsed

    def read(self) -> bytes:
        """The body as the platform sent it."""
        return self._content

    def text(self) -> str:
        """The body as text."""
        return self._content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self._content)

    @classmethod
    def of(cls, raw: AsyncRawResponse[T]) -> RawResponse[T]:
        """The same answer, for the synchronous client."""
        return cls(raw._parsed, raw.status_code, raw.headers, raw._content, raw._rid)


class AsyncStream:
    """``await client.messages.create(..., stream=True)``: the raw events, as the SDK's
    ``AsyncStream``: ``async for event in stream``, ``await stream.close()``, ``async with``.
    Failover before the first content is invisible, as with ``messages.stream()``.

    .. versionadded:: 0.2
    """

    def __init__(self, stream: MessageStream) -> None:
        self._stream = stream
        self._iter = stream.__aiter__()

    @property
    def route(self) -> RouteInfo:
        """Which provider serves the stream, and the attempts it took."""
        return self._stream.route

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._iter

    async def __anext__(self) -> StreamEvent:
        return await self._iter.__anext__()

    async def close(self) -> None:
        """Close the connection if the stream has not ended."""
        await self._stream.aclose()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
