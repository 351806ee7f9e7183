"""Slow and idle clients: a request head that does not arrive within ``header_timeout_s`` closes
the connection (slowloris), whether it trickles in a byte at a time or never starts; a keep-alive
connection with no new request for ``idle_timeout_s`` is closed.

aiohttp's server has no head timer, and its keep-alive timeout is fixed when the server is made,
so each connection's protocol (made by the public ``web.Server`` factory) is wrapped in one that
arms a timer when a request starts to arrive, disarms it when the gateway's middleware sees the
parsed request, and arms the idle timer when the answer is done. Both durations are read from the
gateway's settings each time one is armed, so a config reload (SIGHUP) applies to every timer
armed after it, on connections already open too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import Gateway

__all__ = ["Guard", "guarded"]


class Guard(asyncio.Protocol):
    """One connection: aiohttp's protocol inside, a head and idle timer around it.

    One timer handle per connection, moved lazily: arming sets a deadline and schedules the
    handle only when none is pending at or before it; a handle that fires before its deadline
    (the deadline moved on) is scheduled again. A keep-alive connection serving request after
    request thus makes about one timer per ``header_timeout_s``, not two per request."""

    __slots__ = ("_deadline", "_head", "_holder", "_inner", "_loop", "_timer", "_transport", "busy")

    def __init__(self, inner: Any, holder: Gateway) -> None:
        self._inner = inner
        self._holder = holder
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None  # when the connection goes, unless busy by then
        self._head = False  # waiting for a request head (else idle, or busy)
        self._transport: asyncio.Transport | None = None
        self.busy = False

    def start_timer(self, seconds: float) -> None:
        """Set the deadline ``seconds`` from now; schedule the timer only if none is due by then."""
        deadline = self._deadline = self._loop.time() + seconds
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = self._loop.call_at(deadline, self.expire)

    def arm(self) -> None:
        """A request head starts to arrive: it must be whole within ``header_timeout_s``."""
        self._head = True
        self.start_timer(self._holder.settings.header_timeout_s)

    def expire(self) -> None:
        self._timer = None
        deadline = self._deadline
        if self._transport is None or self.busy or deadline is None:
            return
        if self._loop.time() < deadline:  # moved on since this handle was scheduled
            self._timer = self._loop.call_at(deadline, self.expire)
        elif self._head:
            self._transport.abort()  # the head never arrived whole: drop the connection
        else:
            self._transport.close()  # an idle keep-alive connection: close it cleanly

    def head_done(self) -> None:
        """The request head is parsed: no deadline until the answer is done."""
        self.busy = True
        self._head = False
        self._deadline = None

    def request_done(self) -> None:
        """The answer is sent: the connection may now stay idle for ``idle_timeout_s``; the
        next bytes start a new head."""
        self.busy = False
        if self._transport is not None and not self._transport.is_closing():
            self.start_timer(self._holder.settings.idle_timeout_s)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a TCP server's connections
        self._transport = transport
        self._holder.guards[transport] = self
        self.arm()  # a connection that never sends a byte is a slow head too
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self.busy and not self._head:
            self.arm()
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._inner.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._holder.guards.pop(self._transport, None)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def guarded(factory: Callable[[], Any], holder: Gateway) -> Callable[[], Guard]:
    """A protocol factory for ``loop.create_server``: ``factory``'s protocols, guarded with the
    timeouts of ``holder.settings`` (read each time: a reload applies at once)."""
    return lambda: Guard(factory(), holder)
