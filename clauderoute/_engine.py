"""The engine: the only code in clauderoute that does network I/O.

One ``aiohttp.ClientSession`` per client, created lazily inside the running loop, with a pooled
keep-alive connector. It sends whatever ``HttpRequest`` a provider prepared, and translates
aiohttp's exceptions into clauderoute's at this one boundary (``_Translate``).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import Any

import aiohttp

from ._errors import (
    ClauderouteError,
    ConnectError,
    ConnectTimeout,
    MalformedResponse,
    ReadTimeout,
    ResponseTooLargeError,
    TransportError,
)
from ._headers import check_headers as _check_headers
from ._headers import lowered_headers
from ._provider import HttpRequest, HttpResponse
from ._timer import Timer

__all__ = ["ERROR_BODY_BYTES", "MAX_RESPONSE_BYTES", "Engine", "StreamResponse"]

#: An error answer's body only feeds an error message: no more of it is read.
ERROR_BODY_BYTES = 64 * 1024
#: Default ``max_response_bytes``: far above any Messages answer (a 128k-token answer is a few
#: MB of JSON), far below what would hurt a server process.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class _Translate:
    """aiohttp/asyncio failures → clauderoute ``TransportError``s (``raise ... from``).

    A plain class rather than ``@contextmanager``: it wraps every request, and a generator-based
    context manager costs a generator per use. ``limit`` is the timer of the phase it wraps and
    ``awaited`` what that phase waits for (the message of a ``TimeoutError`` that timer raised).
    """

    __slots__ = ("awaited", "limit", "platform")

    def __init__(
        self, platform: str | None, limit: float | None = None, awaited: str = "the whole answer"
    ) -> None:
        self.platform = platform
        self.limit = limit
        self.awaited = awaited

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or isinstance(exc, ClauderouteError) or not isinstance(exc, Exception):
            return
        platform = self.platform
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            raise ConnectTimeout("timed out connecting", platform=platform) from exc
        if isinstance(exc, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError)):
            raise ReadTimeout(
                "the platform sent nothing within the read timeout", platform=platform
            ) from exc
        if isinstance(exc, TimeoutError):
            within = "" if self.limit is None else f" within {self.limit:g}s"
            raise ReadTimeout(f"{self.awaited} not received{within}", platform=platform) from exc
        if isinstance(exc, aiohttp.ClientPayloadError):
            # A body cut short, or framed or encoded wrongly (bad chunks, a lying
            # content-encoding): aiohttp's text says which, and holds nothing of the request.
            raise ConnectError(f"answer body broken: {_text(exc)}", platform=platform) from exc
        if isinstance(exc, aiohttp.ClientConnectorError):
            # Name the host (never the URL's path or query): "which host did not resolve?"
            # is the first question, e.g. a base_url typo or a platform host not reachable.
            what = "cannot resolve host" if isinstance(exc, _DNS_ERROR) else "cannot connect to"
            raise ConnectError(
                f"connection failed: {what} {exc.host[:255]}:{exc.port} ({type(exc).__name__})",
                platform=platform,
            ) from exc
        if isinstance(exc, (aiohttp.ClientConnectionError, ConnectionError, OSError)):
            raise ConnectError(
                f"connection failed: {type(exc).__name__}", platform=platform
            ) from exc
        if isinstance(exc, aiohttp.ClientResponseError):
            # Raised while parsing the answer's status line and headers (not by a status:
            # the engine never asks aiohttp to raise for one): garbage, or past its limits.
            raise MalformedResponse(
                f"malformed HTTP answer: {_text(exc)}", platform=platform
            ) from exc
        if isinstance(exc, aiohttp.ClientError):
            raise TransportError(
                f"HTTP client error: {type(exc).__name__}", platform=platform
            ) from exc


# aiohttp >= 3.10 tells a name that did not resolve from a refused connection; older: () never
# matches, and the message says "cannot connect to" with the host all the same.
_DNS_ERROR: Any = getattr(aiohttp, "ClientConnectorDNSError", ())


def _text(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:200]


class StreamResponse:
    """An open streaming answer: status and headers now, body chunks as they come.

    For an error status (>= 400) the body was already read, at most ``ERROR_BODY_BYTES`` of it,
    into ``error_body``, and the connection released. Otherwise always ``release()`` (or
    ``close()``) when done; the connection goes back to the pool if the body was read to the
    end, otherwise it is closed.
    """

    __slots__ = ("_platform", "_resp", "error_body", "headers", "max_bytes", "status")

    def __init__(
        self,
        resp: aiohttp.ClientResponse,
        platform: str | None,
        error_body: bytes | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._resp = resp
        self._platform = platform
        self.status = resp.status
        self.headers = lowered_headers(resp.headers)
        #: The (capped) body of an error answer; ``None`` for a success.
        self.error_body = error_body
        #: The engine's ``max_response_bytes``: the most a reader should hold of one item.
        self.max_bytes = max_bytes

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive (chunk boundaries are arbitrary)."""
        with _Translate(self._platform):
            async for chunk in self._resp.content.iter_any():
                yield chunk

    def close(self) -> None:
        """Drop the connection (used when the caller leaves a stream early)."""
        self._resp.close()

    def release(self) -> None:
        """Return the connection to the pool (or close it if the body was not read)."""
        self._resp.release()


class Engine:
    """Sends ``HttpRequest``s over one pooled session.

    Args:
        connect_timeout: seconds to establish a connection (SDK default 5).
        pool_limit: total connections (SDK: 1000).
        pool_limit_per_host: connections per host; 0 is unlimited.
        keepalive_s: how long an idle connection is kept.
        max_response_bytes: the largest answer read into memory: a whole (decompressed) body,
            or one stream event; a larger one raises ``ResponseTooLargeError`` before more is read.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        pool_limit: int = 1000,
        pool_limit_per_host: int = 0,
        keepalive_s: float = 30.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.max_response_bytes = max_response_bytes
        self._pool = (pool_limit, pool_limit_per_host, keepalive_s)
        self._session: aiohttp.ClientSession | None = None
        self._connect_only: aiohttp.ClientTimeout | None = None
        self._passed: list[dict[str, str]] = []  # header sets that passed _check_headers

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session, created on first use inside the running loop."""
        if self._session is None or self._session.closed:
            limit, per_host, keepalive = self._pool
            connector = aiohttp.TCPConnector(
                limit=limit, limit_per_host=per_host, keepalive_timeout=keepalive, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                # The default user-agent header replaces aiohttp's own on every request (as
                # skip_auto_headers would, which costs a header copy per request).
                connector=connector,
                auto_decompress=True,
                headers={"user-agent": "clauderoute"},
            )
        return self._session

    def _timeout(self, read_timeout: float | None) -> aiohttp.ClientTimeout:
        if read_timeout is None:
            cached = self._connect_only
            if cached is None or cached.connect != self.connect_timeout:
                cached = self._connect_only = aiohttp.ClientTimeout(
                    total=None, connect=self.connect_timeout
                )
            return cached
        return aiohttp.ClientTimeout(
            total=None, connect=self.connect_timeout, sock_read=read_timeout
        )

    async def send(
        self,
        request: HttpRequest,
        *,
        timeout: float | None,
        platform: str | None = None,
        body: AsyncIterable[bytes] | None = None,
    ) -> HttpResponse:
        """Send and read the whole answer within ``timeout`` seconds. ``body``, when given,
        streams the request body instead of ``request.body`` (uploads). An error answer's body
        is cut at ``ERROR_BODY_BYTES``; a success's may not exceed ``max_response_bytes``."""
        data: Any = request.body if body is None else body
        _check_headers(request.headers, self._passed)
        # One timer bounds the whole exchange: no aiohttp read timer, re-armed on every chunk
        # (measurable per call: benchmarks/README.md); _Translate is built only on an error.
        session, limits = self._session, self._connect_only  # (the properties, without calls)
        if session is None or session.closed:
            session = self.session
        if limits is None or limits.connect != self.connect_timeout:
            limits = self._timeout(None)
        timer = None if timeout is None else Timer(timeout)
        try:
            async with session.request(
                request.method, request.url, headers=request.headers, data=data, timeout=limits
            ) as resp:
                headers = lowered_headers(resp.headers)
                if resp.status >= 400:
                    answer = await _error_body(resp)
                else:
                    # The usual answer: aiohttp reads exactly content-length bytes, unless the
                    # body is compressed (the length is then the compressed size: a small gzip
                    # can inflate to gigabytes).
                    length = headers.get("content-length")
                    if (
                        length is not None
                        and "content-encoding" not in headers
                        and length.isdigit()
                        and int(length) <= self.max_response_bytes
                    ):
                        answer = await resp.read()
                    else:
                        answer = await self._body(resp, length, platform)
                response = HttpResponse(resp.status, headers, answer)
        except BaseException as exc:
            if timer is not None and timer.stop(exc):
                try:  # the timer's own cancellation: a timeout, as asyncio.timeout raises it
                    raise TimeoutError from exc
                except TimeoutError as expired:
                    _Translate(platform, timeout).__exit__(TimeoutError, expired, None)
            if isinstance(exc, Exception):
                _Translate(platform, timeout).__exit__(type(exc), exc, exc.__traceback__)
            raise
        if timer is not None:
            timer.stop(None)
        return response

    async def _body(
        self, resp: aiohttp.ClientResponse, length: str | None, platform: str | None
    ) -> bytes:
        """A body without a usable length (or over the limit by its length): read up to the
        limit, decompressed, and no further."""
        limit = self.max_response_bytes
        if length is not None and length.isdigit() and "content-encoding" not in resp.headers:
            resp.close()  # over the limit by its own account: not a byte of it is read
            raise ResponseTooLargeError(limit, what=f"answer of {length} bytes", platform=platform)
        answer, _ = await _read_at_most(resp.content, limit + 1)
        if len(answer) > limit:
            resp.close()
            raise ResponseTooLargeError(limit, platform=platform)
        return answer

    async def open(
        self,
        request: HttpRequest,
        *,
        timeout: float | None,
        read_timeout: float | None,
        platform: str | None = None,
    ) -> StreamResponse:
        """Send and return once the status and headers arrived.

        ``timeout`` bounds that whole phase with one timer (aiohttp's read timeout restarts on
        every byte, so a server dripping its headers would stretch it without end), and with it
        reading an error answer's body (at most ``ERROR_BODY_BYTES``) into ``error_body``.
        ``read_timeout`` then bounds each wait for body bytes (a stalled stream raises
        ``ReadTimeout``).
        """
        _check_headers(request.headers, self._passed)
        with _Translate(platform, timeout, "status and headers (or error body)"):
            timer = None if timeout is None else Timer(timeout)
            try:
                resp = await self.session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.body,
                    timeout=self._timeout(read_timeout),
                )
                error = None
                if resp.status >= 400:
                    try:
                        error = await _error_body(resp)
                    except BaseException:
                        resp.close()
                        raise
            except BaseException as exc:
                if timer is not None and timer.stop(exc):
                    raise TimeoutError from exc  # the timer's own: _Translate names the phase
                raise
            if timer is not None:
                timer.stop(None)
        return StreamResponse(resp, platform, error, self.max_response_bytes)

    async def close(self) -> None:
        """Close the session and every pooled connection."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


async def _read_at_most(content: aiohttp.StreamReader, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the body; and whether that was all of it."""
    parts: list[bytes] = []
    n = 0
    while n < limit:
        chunk = await content.read(limit - n)
        if not chunk:
            return b"".join(parts), True
        parts.append(chunk)
        n += len(chunk)
    return b"".join(parts), content.at_eof()


async def _error_body(resp: aiohttp.ClientResponse) -> bytes:
    """An error answer's body feeds only an error message: its first ``ERROR_BODY_BYTES``;
    the rest is never read (the connection is closed instead of draining it)."""
    body, whole = await _read_at_most(resp.content, ERROR_BODY_BYTES)
    if whole:
        resp.release()
    else:
        resp.close()
    return body
