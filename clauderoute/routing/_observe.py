"""What an observer of routed calls sees: the attempt context and the observer interface.

Tracing, metrics and the benchmark recorder all watch calls through ``Observer``; the router calls
it at the start and end of every call and every attempt. Observers must not raise (the router
shields itself anyway: telemetry never changes behaviour) and must be cheap when disabled.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._provider import Call, HttpRequest, Provider

if TYPE_CHECKING:
    from ..types._messages import AttemptInfo, RouteInfo
    from ._router import Router

__all__ = ["AttemptContext", "Observer", "RouteContext"]


class RouteContext:
    """One logical call across its attempts."""

    __slots__ = ("call", "deadline_s", "observed", "observers", "started", "ttft_s")

    def __init__(self, call: Call, deadline_s: float | None,
                 observers: list[Observer] | None = None) -> None:
        self.call = call
        #: The observers watching this call (those ``enabled`` when it started), in order.
        self.observers: list[Observer] = observers or []
        self.deadline_s = deadline_s
        self.started = time.perf_counter()
        self.ttft_s: float | None = None
        self.observed: list[Any] = []


class AttemptContext:
    """What one attempt knows: its provider, number, time budget, and what it measured.

    Timestamps are ``time.perf_counter()`` values; ``sent`` is when the request was handed to
    the engine (OBSERVABILITY.md §4.4: all client-side timers start there).
    """

    __slots__ = ("backoff", "call", "chunk_times", "chunks", "deadline", "first_chunk",
                 "first_token", "headers", "headers_at", "kind", "model_id", "number", "observed",
                 "prepare_s", "provider", "reason", "route", "router", "sent", "status", "timeout")

    def __init__(self, router: Router, provider: Provider, call: Call, number: int,
                 timeout: float | None, deadline: float | None, route: RouteContext,
                 kind: str = "initial", reason: str | None = None, backoff: float = 0.0) -> None:
        self.router = router
        self.provider = provider
        self.call = call
        self.number = number
        self.timeout = timeout
        self.deadline = deadline
        self.route = route
        self.kind = kind
        self.reason = reason
        self.backoff = backoff
        self.model_id = provider.model_id(str(call.params.get("model", "")))
        self.status: int | None = None
        self.headers: Mapping[str, str] | None = None
        self.sent: float | None = None
        self.headers_at: float | None = None
        self.first_chunk: float | None = None
        self.first_token: float | None = None
        self.chunks = 0
        #: Seconds ``provider.prepare`` took, measured only for a provider that declares
        #: ``prepare_may_block`` (credential refresh, signing); 0.0 when not measured.
        self.prepare_s = 0.0
        #: An observer that wants per-event timestamps (the time-per-output-chunk metric) sets
        #: this to a list in ``attempt_start``; the stream then appends ``perf_counter()`` per
        #: event. ``None`` (the default) costs nothing per event.
        self.chunk_times: list[float] | None = None
        self.observed: list[Any] = []

    async def prepare(self) -> HttpRequest:
        """Prepare (refresh auth, shape, sign) and enforce the body size limit: the first step
        of the attempt pipeline (``clauderoute._attempt``), for a custom attempt function."""
        from .._attempt import prepare  # the pipeline imports this module's types

        return await prepare(self)

    @property
    def ttft_s(self) -> float | None:
        """Send → first content event, when it came."""
        if self.first_token is None or self.sent is None:
            return None
        return self.first_token - self.sent


class Observer:
    """Base observer: every method is a no-op. Subclass what you need."""

    def enabled(self) -> bool:
        """Asked once as each call starts: ``False`` leaves this observer out of the whole call
        (none of the methods below is called for it). Must be cheap."""
        return True

    def route_start(self, route: RouteContext) -> Any:
        """A call begins; the return value comes back in ``route_end``."""

    def attempt_start(self, ctx: AttemptContext) -> Any:
        """An attempt begins (provider picked); the return value comes back in ``attempt_end``."""

    def attempt_returned(self, state: Any, ctx: AttemptContext) -> None:
        """The attempt's request was sent and its answer (or first content) awaited; called in
        the attempt's own task, so an observer may undo here a context it attached in
        ``attempt_start``. A stream attempt goes on while the caller reads it."""

    def attempt_end(self, state: Any, ctx: AttemptContext, info: AttemptInfo, result: Any,
                    error: BaseException | None, outcome: str) -> None:
        """An attempt ended: ``outcome`` is success, error or cancelled. For a stream that
        succeeded this is called when the stream ends, with the final message as ``result``."""

    def route_end(self, state: Any, route: RouteContext, info: RouteInfo | None,
                  error: BaseException | None, outcome: str) -> None:
        """The call ended: outcome is success, error, cancelled, abandoned or deadline_exceeded."""
