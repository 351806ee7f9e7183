"""Slow clients: a request head that does not arrive within ``header_timeout_s`` closes the
connection (slowloris), whether it trickles in a byte at a time or never starts.

aiohttp's server has no such timer, so each connection's protocol (made by the public
``web.Server`` factory) is wrapped in one that arms a timer when a request starts to arrive and
disarms it when the gateway's middleware sees the parsed request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["Guard", "guarded"]


class Guard(asyncio.Protocol):
    """One connection: aiohttp's protocol inside, a head timer around it."""

    __slots__ = ("_inner", "_timeout", "_timer", "_transport", "busy", "registry")

    def __init__(self, inner: Any, timeout: float, registry: dict[Any, Guard]) -> None:
        self._inner = inner
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self.busy = False
        self.registry = registry

    def arm(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._timeout, self.expire)

    def expire(self) -> None:
        self._timer = None
        if self._transport is not None and not self.busy:
            self._transport.abort()  # the head never arrived whole: drop the connection

    def head_done(self) -> None:
        """The request head is parsed: the timer stops until the next request."""
        self.busy = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def request_done(self) -> None:
        """The answer is sent; the next bytes start a new head (an idle keep-alive connection
        is closed by aiohttp's own keep-alive timeout)."""
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a TCP server's connections
        self._transport = transport
        self.registry[transport] = self
        self.arm()  # a connection that never sends a byte is a slow head too
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self.busy:
            self.arm()
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._inner.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.registry.pop(self._transport, None)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def guarded(
    factory: Callable[[], Any], timeout: float, registry: dict[Any, Guard]
) -> Callable[[], Guard]:
    """A protocol factory for ``loop.create_server``: ``factory``'s protocols, guarded."""
    return lambda: Guard(factory(), timeout, registry)
