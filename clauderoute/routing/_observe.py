"""What an observer of routed calls sees: the attempt context, the frozen record of an ended
attempt, and the observer interface.

Tracing, metrics, the routing signals, the benchmark recorder and users' hooks (``HookObserver``)
all watch calls through ``Observer``; the router calls it at the start and end of every call and
every attempt, and every ended attempt of every kind of call (create, stream, count_tokens,
batches, files, skills, models, uploads) is described by one frozen ``AttemptRecord``. Observers
must not raise (the router shields itself anyway: telemetry never changes behaviour) and must be
cheap when disabled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from .. import _errors as E
from .._provider import Call, HttpRequest, Provider
from ..types._messages import AttemptInfo, Usage
from ._category import error_category

if TYPE_CHECKING:
    from ..types._messages import RouteInfo
    from ._router import Router

__all__ = ["AttemptContext", "AttemptRecord", "Finisher", "HookObserver", "Observer", "RouteContext",
           "attempt_record", "end_attempt", "end_route", "end_signalled", "start_route", "winner"]


class RouteContext:
    """One logical call across its attempts."""

    __slots__ = ("call", "deadline_s", "observed", "observers", "signals", "started", "ttft_s")

    def __init__(self, call: Call, deadline_s: float | None,
                 observers: list[Observer] | None = None, signals: Any = None) -> None:
        self.call = call
        #: The observers watching this call (those ``enabled`` when it started), in order.
        self.observers: list[Observer] = observers if observers is not None else []
        #: The router's ``Signals`` when they watch this call: driven directly, after the
        #: observers, without an ``AttemptRecord`` (they read the usage and the outcome only).
        self.signals = signals
        self.deadline_s = deadline_s
        self.started = time.perf_counter()
        self.ttft_s: float | None = None
        self.observed: list[Any] = []


class AttemptContext:
    """What one attempt knows: its provider, number, time budget, and what it measured.

    Timestamps are ``time.perf_counter()`` values; ``sent`` is when the request was handed to
    the engine: all client-side timers (headers, first chunk, first token) start there, as
    that is what the GenAI conventions mean by "when the client issues the request".
    """

    __slots__ = ("backoff", "call", "chunk_times", "chunks", "deadline", "first_chunk",
                 "first_token", "headers", "headers_at", "held", "kind", "model_id", "number",
                 "observed", "prepare_s", "provider", "reason", "requested_model", "route",
                 "router", "sent", "status", "timeout")

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
        #: The model as the caller named it (``model_id``: the platform's id for it, as sent).
        self.requested_model = model = str(call.params.get("model", ""))
        self.model_id = provider.model_id(model)
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
        #: What the route's signals hold for this attempt (``Signals.attempt_start``'s answer).
        self.held: Any = None

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

    def attempt_end(self, state: Any, record: AttemptRecord) -> None:
        """An attempt ended (``record.outcome``: success, error or cancelled), described by its
        frozen ``record``. For a stream that succeeded this is called when the stream ends,
        with the final message as ``record.result``.

        .. versionchanged:: 0.3 Takes ``(state, record)``; it took ``(state, ctx, info, result,
           error, outcome)``, all of which the record now carries (keep the context from
           ``attempt_start`` in ``state`` if you need the request).
        """

    def route_end(self, state: Any, route: RouteContext, info: RouteInfo | None,
                  error: BaseException | None, outcome: str) -> None:
        """The call ended: outcome is success, error, cancelled, abandoned or deadline_exceeded."""


class AttemptRecord(msgspec.Struct, frozen=True):
    """One ended attempt, frozen: what observers (``Observer.attempt_end``) and hooks are
    given, the same for every kind of call.

    Its first fields are ``AttemptInfo``'s, with the same names, order and meaning (so a hook
    written for ``AttemptInfo`` reads it unchanged), except that ``duration_s`` runs to the
    attempt's end (a stream's last event). Times are seconds from ``sent_at`` (a
    ``time.perf_counter()`` value: when the request was handed to the engine).

    Attributes:
        outcome: ``success``, ``error`` or ``cancelled``.
        operation: the call's operation (``messages.create``, ``files.upload``…).
        requested_model: the model as the caller named it (``model`` is the id as sent).
        request_id: the platform's request id, when its answer carried one.
        error_category: the cross-platform class of the error (``error_category``).
        retry_after_s: the wait the platform asked for, if any.
        prepare_s: credential refresh and signing, when measured.
        sent_at: when the request was handed to the engine (``None``: never sent).
        headers_s: until the answer's status and headers (streamed answers).
        first_chunk_s: until the first stream event.
        chunks: stream events received.
        usage: the answer's token usage (a stream cut short: what it had said so far).
        result: the answer (a ``Message``, a stream's final or partial message, an object).
        exception: the error the attempt ended with.

    .. versionadded:: 0.3
    """

    # AttemptInfo's fields, in its order (not keyword-only here: the router builds a record
    # per attempt positionally, several times cheaper than 20-odd keywords)
    number: int
    provider: str
    platform: str
    model: str
    kind: str = "initial"
    reason: str | None = None
    duration_s: float = 0.0
    error: str | None = None
    error_type: str | None = None
    status: int | None = None
    backoff_s: float = 0.0
    ttft_s: float | None = None
    cost_usd: float | None = None
    # what observers need besides
    outcome: str = "success"
    operation: str = ""
    requested_model: str = ""
    request_id: str | None = None
    error_category: str | None = None
    retry_after_s: float | None = None
    prepare_s: float = 0.0
    sent_at: float | None = None
    headers_s: float | None = None
    first_chunk_s: float | None = None
    chunks: int = 0
    usage: Usage | None = None
    result: Any = None
    exception: BaseException | None = None


def winner(route: RouteInfo, info: AttemptInfo) -> AttemptInfo:
    """The attempt ``info`` as ``route`` has it (the winner, with its cost)."""
    for a in route.attempts:
        if a.number == info.number:
            return a
    return info


def attempt_record(ctx: AttemptContext, info: AttemptInfo, result: Any,
                   error: BaseException | None, outcome: str) -> AttemptRecord:
    """The frozen record of the attempt ``ctx`` that ended with ``result`` or ``error``."""
    now = time.perf_counter()
    sent, headers, at, first = ctx.sent, ctx.headers, ctx.headers_at, ctx.first_chunk
    category = hint = None
    message = result
    if error is not None:
        category = error_category(error)
        cause: BaseException | None = error
        if isinstance(error, E.StreamInterrupted):
            message, cause = error.partial, error.cause_error
        hint = getattr(cause, "retry_after", None)
        hint = float(hint) if isinstance(hint, (int, float)) and \
            not isinstance(hint, bool) else None
    usage = getattr(message, "usage", None)
    return AttemptRecord(
        info.number, info.provider, info.platform, info.model, info.kind, info.reason,
        now - sent if sent is not None else 0.0, info.error, info.error_type, info.status,
        info.backoff_s, ctx.ttft_s, info.cost_usd, outcome, ctx.call.operation, ctx.requested_model,
        headers.get(ctx.provider.request_id_header) if headers else None, category, hint,
        ctx.prepare_s, sent, at - sent if at is not None and sent is not None else None,
        first - sent if first is not None and sent is not None else None, ctx.chunks,
        usage if type(usage) is Usage else None, message, error)


def start_route(route: RouteContext) -> None:
    """Tell every observer of ``route`` that it started, keeping what each returns."""
    observed = route.observed
    for obs in route.observers:
        try:
            observed.append(obs.route_start(route))
        except Exception:  # noqa: BLE001 - telemetry never changes behaviour
            observed.append(None)


def end_attempt(ctx: AttemptContext, info: AttemptInfo, result: Any,
                error: BaseException | None, outcome: str) -> None:
    """Give every observer of the attempt ``ctx`` its one frozen record, then the route's
    signals what they settle on (the usage of an answer, ``attempt_record``'s)."""
    if ctx.observed:
        record = attempt_record(ctx, info, result, error, outcome)
        for obs, state in zip(ctx.route.observers, ctx.observed, strict=False):
            try:
                obs.attempt_end(state, record)
            except Exception:  # noqa: BLE001, S112 - telemetry never changes behaviour
                continue
    signals = ctx.route.signals
    if signals is not None and ctx.held is not None:
        usage = None
        if info.error is None:
            message = error.partial if isinstance(error, E.StreamInterrupted) else result
            usage = getattr(message, "usage", None)
        try:
            signals.settle(ctx.held, info.provider, usage if type(usage) is Usage else None,
                           outcome == "success")
        except Exception:  # noqa: BLE001, S110 - the signals never change the call's outcome
            pass


def end_signalled(ctx: AttemptContext, info: AttemptInfo, result: Any,
                  route_info: RouteInfo) -> None:
    """``end_attempt`` then ``end_route`` of a call that succeeded with its signals watching and
    no observer: what they do then, in one call."""
    signals = ctx.route.signals
    if ctx.held is not None:
        usage = getattr(result, "usage", None)
        try:
            signals.settle(ctx.held, info.provider, usage if type(usage) is Usage else None, True)
        except Exception:  # noqa: BLE001, S110 - the signals never change the call's outcome
            pass
    try:
        signals.route_end(None, ctx.route, route_info, None, "success")
    except Exception:  # noqa: BLE001, S110 - the signals never change the call's outcome
        pass


def end_route(route: RouteContext, info: RouteInfo | None, error: BaseException | None,
              outcome: str) -> None:
    """Tell every observer of ``route`` that it ended, then its signals."""
    if route.observers:  # (zip with a keyword parses it per call: not without observers)
        for obs, state in zip(route.observers, route.observed, strict=False):
            try:
                obs.route_end(state, route, info, error, outcome)
            except Exception:  # noqa: BLE001, S112 - telemetry never changes behaviour
                continue
    if route.signals is not None:
        try:
            route.signals.route_end(None, route, info, error, outcome)
        except Exception:  # noqa: BLE001, S110 - the signals never change the call's outcome
            pass


Hook = Callable[[AttemptRecord], Any]


class HookObserver(Observer):
    """Plain callables as an observer: each hook is called with every ended attempt's
    ``AttemptRecord`` (a hook that raises is ignored: telemetry never changes behaviour).
    ``AsyncClient(hooks=...)`` and ``Router(hooks=...)`` wrap their hooks in one.

    .. versionadded:: 0.3
    """

    __slots__ = ("hooks",)

    def __init__(self, hooks: Iterable[Hook]) -> None:
        self.hooks = tuple(hooks)

    def attempt_end(self, state: Any, record: AttemptRecord) -> None:
        """Call every hook with ``record``."""
        for hook in self.hooks:
            try:
                hook(record)
            except Exception:  # noqa: BLE001, S112 - a hook never changes the call
                continue


class Finisher:
    """Ends a streamed call's telemetry when the stream ends (on any exit path, once)."""

    __slots__ = ("ctx", "done", "info", "route", "route_info", "router")

    def __init__(self, router: Router, route: RouteContext, ctx: AttemptContext,
                 info: AttemptInfo, route_info: RouteInfo) -> None:
        self.router, self.route, self.ctx = router, route, ctx
        self.info, self.route_info = info, route_info
        self.done = False

    def __call__(self, result: Any, error: BaseException | None, outcome: str,
                 route_info: RouteInfo | None = None) -> None:
        """End the stream's attempt and call; ``route_info``: the route as the caller got it
        (with the answer's cost, once the message was whole)."""
        if self.done:
            return
        self.done = True
        attempt_outcome = "success" if outcome == "success" else (
            "error" if error is not None else "cancelled")
        info = self.info
        if route_info is not None:
            self.route_info = route_info
            info = winner(route_info, info)
        self.router._end_attempt(self.ctx, info, result, error, attempt_outcome)
        self.router._end_route(self.route, self.route_info, error, outcome)
