"""The gateway: an ``aiohttp.web`` application on one ``AsyncClient`` (its router, breakers
and tracing), with the gate every request passes: keys, the concurrency limit, the server
span, metrics and the access log."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from aiohttp import web
from opentelemetry import metrics, propagate, trace

from . import _handlers as H
from ._auth import KeyRing
from ._batches import ROUTES as BATCH_ROUTES
from ._errors import error_response
from ._exchange import Exchange
from ._files import ROUTES as FILE_ROUTES
from ._homes import Homes, fleet_of
from ._settings import GatewaySettings
from ._watch import Guard

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Exchange", "Gateway"]

ACCESS_LOG = logging.getLogger("clauderoute.gateway.access")
Handler = Callable[["Gateway", web.Request, "Exchange"], Awaitable[web.StreamResponse]]


_EXCHANGE = web.RequestKey("exchange", Exchange)
#: The global tracer providers that record nothing (no OpenTelemetry SDK installed yet).
_UNTRACED = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)

_ROUTES: dict[tuple[str, str], tuple[str, Handler]] = {
    ("POST", "/v1/messages"): ("chat", H.messages),
    ("POST", "/v1/messages/count_tokens"): ("count_tokens", H.count_tokens),
    ("GET", "/v1/models"): ("models", H.models),
    ("GET", "/v1/models/{model_id}"): ("model", H.model),
}


class Gateway:
    """A Claude-API-compatible HTTP front on ``client``.

    Args:
        client: the library client whose router serves every request.
        settings: the ``[gateway]`` table.
        tracer_provider, meter_provider: where the server spans and the per-key metrics go
            (default: OpenTelemetry's global providers, a no-op until the application
            installs the SDK). With neither an SDK installed nor a trace context in the
            request, no server span is made at all.
        access_stream: where the access log goes, one JSON line per request written as it is
            (``clauderoute serve``: stdout); default: the ``clauderoute.gateway.access`` logger
            at INFO.

    ``app()`` builds the ``aiohttp.web.Application``; ``clauderoute serve`` runs it
    (``clauderoute.gateway.serve``).

    .. versionadded:: 0.3
    """

    def __init__(
        self,
        client: AsyncClient,
        settings: GatewaySettings,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        access_stream: BinaryIO | None = None,
    ) -> None:
        self.settings = settings
        self.access_stream = access_stream
        self.keys = KeyRing(settings.named_keys())
        self.client = client
        self.homes = Homes(client)
        self.provider_names = frozenset(p.name for p in client.providers)
        self.in_flight = 0
        self.draining = False
        self.guards: dict[Any, Guard] = {}
        self._models: set[str] = set()
        self._users: dict[int, int] = {}  # id(client) -> requests in flight on it
        self._retired: list[AsyncClient] = []  # replaced by a reload, closed once unused
        self._closing: set[asyncio.Task[None]] = set()
        self._tracer = trace.get_tracer("clauderoute.gateway", tracer_provider=tracer_provider)
        self._tracing = tracer_provider is not None  # else: once the global one records
        self._tracing_checked = 0.0
        self._trace_fields = tuple(propagate.get_global_textmap().fields)
        meter = metrics.get_meter("clauderoute.gateway", meter_provider=meter_provider)
        self._calls = meter.create_counter(
            "clauderoute.gateway.requests", "{request}", "requests answered, per key and status"
        )
        self._tokens = meter.create_counter(
            "clauderoute.gateway.tokens", "{token}", "tokens of served answers, per key"
        )
        self._errors = meter.create_counter(
            "clauderoute.gateway.errors",
            "{request}",
            "error answers and interrupted streams, per key",
        )

    def __repr__(self) -> str:
        return f"<Gateway providers={sorted(self.provider_names)} keys={self.keys!r}>"

    def replace(self, client: AsyncClient, settings: GatewaySettings) -> AsyncClient:
        """Serve new requests with ``client`` and ``settings`` (a config reload); requests in
        flight finish on the old client, which is closed when the last of them ends."""
        old, self.client, self.settings = self.client, client, settings
        self.homes = Homes(client)
        self.keys = KeyRing(settings.named_keys())
        self.provider_names = frozenset(p.name for p in client.providers)
        self._retired.append(old)
        self._retire()
        return old

    def _retire(self) -> None:
        """Close every replaced client no request uses any more."""
        for old in [c for c in self._retired if not self._users.get(id(c))]:
            self._retired.remove(old)
            self._users.pop(id(old), None)
            task = asyncio.get_running_loop().create_task(old.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def app(self) -> web.Application:
        """The web application (routes, the gate, health endpoints)."""
        app = web.Application(middlewares=[self._gate], client_max_size=2**62)
        for (method, path), (name, fn) in _ROUTES.items():
            app.router.add_route(method, path, self._bind(fn), name=name)
        for method, path, name, fn in [*BATCH_ROUTES, *FILE_ROUTES]:
            app.router.add_route(method, path, self._bind(fn), name=name)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.on_startup.append(self._start_state)
        return app

    async def _start_state(self, app: web.Application) -> None:
        self.state_status()  # sync the shared state from the start, not from the first call

    def _bind(self, fn: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await fn(self, request, request[_EXCHANGE])

        return handler

    def ready(self) -> bool:
        """At least one provider is not open-circuited for the models seen so far."""
        breaker = self.client.router.breaker
        if breaker is None or not breaker.tripped or not self._models:
            return True
        return any(breaker.state(p, m) != 2 for p in self.provider_names for m in self._models)

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def state_status(self) -> dict[str, Any] | None:
        """The shared routing state's detail (``[state]``: live or not, outages, the URL
        without its password), or ``None`` when this gateway's client has none. Redis trouble
        does not make the gateway unready: every process then routes on its own state."""
        fleet = fleet_of(self.client)
        if fleet is None:
            return None
        fleet.start()  # a probe before the first call still shows the state syncing
        got: dict[str, Any] = fleet.status()
        return got

    async def _readyz(self, request: web.Request) -> web.Response:
        ok = self.ready() and not self.draining
        body: dict[str, Any] = {"status": "ready" if ok else "unavailable"}
        state = self.state_status()
        if state is not None:
            body["state"] = state
        return web.json_response(body, status=200 if ok else 503)

    @web.middleware
    async def _gate(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        t0 = time.perf_counter()
        guard = self.guards.get(request.transport)
        if guard is not None:
            guard.head_done()
        try:
            if request.path in ("/healthz", "/readyz"):
                return await handler(request)
            return await self._serve(request, handler, t0)
        finally:
            if guard is not None:
                guard.request_done()

    async def _serve(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        t0: float,
    ) -> web.StreamResponse:
        key = self.keys.identify(request.headers)
        x = Exchange(self, key or "-", t0)
        if key is None:
            resp: web.StreamResponse = error_response(
                401,
                "invalid x-api-key"
                if "x-api-key" in request.headers
                else "missing or invalid gateway key (x-api-key or Authorization: Bearer)",
                x.rid,
                headers={"x-clauderoute-provider": "gateway"},
            )
            return self._done(request, x, resp)
        if self.in_flight >= self.settings.max_concurrency or self.draining:
            resp = error_response(
                529,
                "the gateway is overloaded; retry later",
                x.rid,
                headers={"retry-after": f"{self.settings.retry_after_s:g}"},
            )
            if self.draining:
                resp.force_close()
            return self._done(request, x, resp)
        request[_EXCHANGE] = x
        self.in_flight += 1
        users = self._users
        users[id(x.client)] = users.get(id(x.client), 0) + 1
        if not (self.tracing(t0) or any(f in request.headers for f in self._trace_fields)):
            # Nothing would record the span, and no trace context came in: skip both.
            return self._done(request, x, await self._answer(request, handler, x))
        route = request.match_info.route.name or "unmatched"
        ctx = propagate.extract(request.headers)
        with self._tracer.start_as_current_span(
            f"{request.method} {route}",
            context=ctx,
            kind=trace.SpanKind.SERVER,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            resp = await self._answer(request, handler, x)
            if span.is_recording():
                self._annotate(span, request, x, resp)
        return self._done(request, x, resp)

    def tracing(self, now: float) -> bool:
        """Whether server spans can record: a tracer provider was given, or the global one is
        an SDK's (looked up at most once a second until it is: once set, it stays)."""
        if self._tracing or now < self._tracing_checked:
            return self._tracing
        self._tracing_checked = now + 1.0
        self._tracing = not isinstance(trace.get_tracer_provider(), _UNTRACED)
        return self._tracing

    async def _answer(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        x: Exchange,
    ) -> web.StreamResponse:
        """The handler's answer; the gateway's own refusals, the router's 404/405 and a bug
        of ours become error answers in the API's shape."""
        try:
            return await handler(request)
        except H.Refused as refused:
            return refused.response
        except web.HTTPException as exc:  # 404/405 from the router, in the API's shape
            return error_response(exc.status, exc.reason, x.rid)
        except ConnectionError:
            raise  # the client left mid-answer: nothing to answer
        except Exception:  # a bug of ours: logged, and answered in the API's shape
            logging.getLogger("clauderoute.gateway").exception("request %s failed", x.rid)
            return error_response(500, "internal error in the gateway", x.rid)
        finally:
            self.in_flight -= 1
            self._users[id(x.client)] -= 1
            if self._retired:
                self._retire()

    def _annotate(
        self, span: trace.Span, request: web.Request, x: Exchange, resp: web.StreamResponse
    ) -> None:
        span.set_attributes(
            {
                "http.request.method": request.method,
                "url.path": request.path,
                "http.response.status_code": resp.status,
                "clauderoute.gateway.key": x.key,
                "clauderoute.gateway.attempts": x.attempts,
            }
        )
        if x.provider:
            span.set_attribute("clauderoute.gateway.provider", x.provider)
        if resp.status >= 500 or x.error_type:
            span.set_attribute("error.type", x.error_type or str(resp.status))
            if resp.status >= 500:
                span.set_status(trace.StatusCode.ERROR)

    def _done(
        self, request: web.Request, x: Exchange, resp: web.StreamResponse
    ) -> web.StreamResponse:
        x.status = x.status or resp.status
        if x.model and x.provider and len(self._models) < 1000:
            self._models.add(x.model)  # served models only: clients cannot grow the set
        attrs: dict[str, str | int] = {
            "clauderoute.gateway.key": x.key,
            "http.response.status_code": x.status,
        }
        self._calls.add(1, attrs)
        if x.error_type or x.status >= 400:
            self._errors.add(
                1, {"clauderoute.gateway.key": x.key, "error.type": x.error_type or str(x.status)}
            )
        if x.input_tokens or x.output_tokens:
            self._tokens.add(
                x.input_tokens, {"clauderoute.gateway.key": x.key, "gen_ai.token.type": "input"}
            )
            self._tokens.add(
                x.output_tokens, {"clauderoute.gateway.key": x.key, "gen_ai.token.type": "output"}
            )
        out = self.access_stream
        if out is not None:  # one line per request, written as it is (no logging record)
            try:
                out.write(
                    x.log_bytes(request.method, request.path, (time.perf_counter() - x.t0) * 1000)
                    + b"\n"
                )
                out.flush()
            except (OSError, ValueError):  # stdout closed or gone: the answer still goes out
                pass
        elif ACCESS_LOG.isEnabledFor(logging.INFO):
            ACCESS_LOG.info(
                x.log_line(request.method, request.path, (time.perf_counter() - x.t0) * 1000)
            )
        return resp
