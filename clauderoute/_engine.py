"""The engine: the only code in clauderoute that does network I/O.

One ``aiohttp.ClientSession`` per client, created lazily inside the running loop, with a pooled
keep-alive connector. It sends whatever ``HttpRequest`` a provider prepared, and translates
aiohttp's exceptions into clauderoute's at this one boundary (``_Translate``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import Any

import aiohttp

from ._errors import (
    ClauderouteError,
    ConnectError,
    ConnectTimeout,
    ReadTimeout,
    TransportError,
)
from ._provider import HttpRequest, HttpResponse

__all__ = ["Engine", "StreamResponse"]


class _Translate:
    """aiohttp/asyncio failures → clauderoute ``TransportError``s (``raise ... from``).

    A plain class rather than ``@contextmanager``: it wraps every request, and a generator-based
    context manager costs a generator per use."""

    __slots__ = ("platform",)

    def __init__(self, platform: str | None) -> None:
        self.platform = platform

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None or isinstance(exc, ClauderouteError) or not isinstance(exc, Exception):
            return
        platform = self.platform
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            raise ConnectTimeout("timed out connecting", platform=platform) from exc
        if isinstance(exc, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError, TimeoutError)):
            raise ReadTimeout("timed out waiting for the platform", platform=platform) from exc
        if isinstance(exc, aiohttp.ClientPayloadError):
            raise ConnectError("connection lost mid-answer", platform=platform) from exc
        if isinstance(exc, (aiohttp.ClientConnectionError, ConnectionError, OSError)):
            raise ConnectError(f"connection failed: {type(exc).__name__}",
                               platform=platform) from exc
        if isinstance(exc, aiohttp.ClientError):
            raise TransportError(f"HTTP client error: {type(exc).__name__}",
                                 platform=platform) from exc


class _Timeout:
    """``asyncio.timeout(delay)`` as a plain context manager, with the same semantics (the task
    is cancelled when the delay expires and ``TimeoutError`` raised out of the block, unless
    another cancellation is pending), without its two coroutines and state machine per use:
    it wraps every request (``asyncio.timeout`` cost ~4 us a call here, this ~1.5)."""

    __slots__ = ("_cancelling", "_expired", "_handle", "_task")

    def __init__(self, delay: float | None) -> None:
        self._handle: asyncio.Handle | None = None
        self._expired = False
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        if delay is not None:
            loop = asyncio.get_running_loop()
            self._handle = (loop.call_soon(self._on_timeout) if delay <= 0
                            else loop.call_at(loop.time() + delay, self._on_timeout))

    def _on_timeout(self) -> None:
        self._task.cancel()
        self._expired = True
        self._handle = None

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._expired and self._task.uncancel() <= self._cancelling and \
                typ is asyncio.CancelledError:
            raise TimeoutError from exc


class StreamResponse:
    """An open streaming answer: status and headers now, body chunks as they come.

    Always ``await release()`` (or ``close()``) when done; the connection goes back to the
    pool if the body was read to the end, otherwise it is closed.
    """

    __slots__ = ("_platform", "_resp", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse, platform: str | None) -> None:
        self._resp = resp
        self._platform = platform
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.headers.items()}

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive (chunk boundaries are arbitrary)."""
        with _Translate(self._platform):
            async for chunk in self._resp.content.iter_any():
                yield chunk

    async def read(self) -> bytes:
        """The rest of the body."""
        with _Translate(self._platform):
            return await self._resp.read()

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
    """

    def __init__(self, *, connect_timeout: float = 5.0, pool_limit: int = 1000,
                 pool_limit_per_host: int = 0, keepalive_s: float = 30.0) -> None:
        self.connect_timeout = connect_timeout
        self._pool = (pool_limit, pool_limit_per_host, keepalive_s)
        self._session: aiohttp.ClientSession | None = None
        self._connect_only: aiohttp.ClientTimeout | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session, created on first use inside the running loop."""
        if self._session is None or self._session.closed:
            limit, per_host, keepalive = self._pool
            connector = aiohttp.TCPConnector(limit=limit, limit_per_host=per_host,
                                             keepalive_timeout=keepalive, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, skip_auto_headers=("User-Agent",),
                headers={"user-agent": "clauderoute"},
            )
        return self._session

    def _timeout(self, read_timeout: float | None) -> aiohttp.ClientTimeout:
        if read_timeout is None:
            cached = self._connect_only
            if cached is None or cached.connect != self.connect_timeout:
                cached = self._connect_only = aiohttp.ClientTimeout(
                    total=None, connect=self.connect_timeout)
            return cached
        return aiohttp.ClientTimeout(total=None, connect=self.connect_timeout,
                                     sock_read=read_timeout)

    async def send(self, request: HttpRequest, *, timeout: float | None,
                   platform: str | None = None,
                   body: AsyncIterable[bytes] | None = None) -> HttpResponse:
        """Send and read the whole answer within ``timeout`` seconds. ``body``, when given,
        streams the request body instead of ``request.body`` (uploads)."""
        data: Any = request.body if body is None else body
        # ``_Timeout`` (``asyncio.timeout``) bounds the whole exchange, so aiohttp needs no read timer of its
        # own here (re-arming one on every chunk is measurable per call; benchmarks/README.md).
        with _Translate(platform), _Timeout(timeout):
            async with self.session.request(
                request.method, request.url, headers=request.headers, data=data,
                timeout=self._timeout(None),
            ) as resp:
                answer = await resp.read()
                headers = {k.lower(): v for k, v in resp.headers.items()}
                return HttpResponse(resp.status, headers, answer)

    async def open(self, request: HttpRequest, *, read_timeout: float | None,
                   platform: str | None = None) -> StreamResponse:
        """Send and return once headers arrived; ``read_timeout`` bounds every wait for bytes
        (so a stalled stream raises ``ReadTimeout``)."""
        with _Translate(platform):
            resp = await self.session.request(
                request.method, request.url, headers=request.headers, data=request.body,
                timeout=self._timeout(read_timeout),
            )
        return StreamResponse(resp, platform)

    async def close(self) -> None:
        """Close the session and every pooled connection."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


