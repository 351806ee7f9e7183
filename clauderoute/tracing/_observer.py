"""``TracingObserver``: the route span, one GenAI CLIENT span per attempt, and the metrics.

Span tree::

    clauderoute chat claude-sonnet-4-5      INTERNAL  route span  [ext, optional]
    ├── chat <model id as sent>             CLIENT    attempt 1   error.type=overloaded_error
    └── chat <model id as sent>             CLIENT    attempt 2   kind=failover (usage here)

Two levels, a deliberate choice the conventions are silent on: ``gen_ai.provider.name`` and
``gen_ai.request.model`` differ per attempt, so each attempt is a standard inference span; the
route span carries what spans the whole call. An attempt span is current only while its request
is sent and awaited (so HTTP client spans nest under it), never while the caller reads a stream.
Everything here runs through ``opentelemetry-api``: without an SDK it is a no-op, and an observer
reading the global providers skips all its work per call while both are still the API's
defaults (one check per call, which asks the API at most once a second; an SDK installed later
is seen within ``sdk_check_s``). Only public OpenTelemetry names are used.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import MeterProvider, NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider, SpanKind, Status, StatusCode, TracerProvider

from ..routing._observe import AttemptContext, AttemptRecord, Observer, RouteContext
from ..types._messages import RouteInfo
from . import _content as C
from . import _names as N
from ._common import (
    error_type,
    meter_provider_installed,
    operation_name,
    tracer_provider_installed,
)
from ._metrics import Metrics
from ._response import response_attrs

__all__ = ["TracingObserver", "default_observer", "error_type", "operation_name"]

# Request parameters recorded when the caller sent them.
_PARAMS = (("max_tokens", N.MAX_TOKENS), ("temperature", N.TEMPERATURE), ("top_p", N.TOP_P),
           ("top_k", N.TOP_K))


class _Route:
    __slots__ = ("attempts", "failovers", "in_tokens", "last", "off", "out_tokens", "owner",
                 "platform", "retries", "span", "ttft")

    def __init__(self, owner: TracingObserver, span: trace.Span | None, off: bool = False) -> None:
        self.owner, self.span, self.off = owner, span, off
        self.attempts = self.retries = self.failovers = 0
        self.in_tokens = self.out_tokens = 0
        self.ttft: float | None = None
        self.last: tuple[str, str] | None = None  # (platform, deployment) of the last attempt
        self.platform: str | None = None


class _Attempt:
    __slots__ = ("attrs", "ctx", "span", "start", "token")

    def __init__(self, span: trace.Span, token: object, attrs: dict[str, Any],
                 ctx: AttemptContext) -> None:
        self.span, self.token, self.attrs, self.ctx = span, token, attrs, ctx
        self.start = time.perf_counter()


class TracingObserver(Observer):
    """Traces and measures every routed call with OpenTelemetry.

    Args:
        tracer_provider: where spans go (default: the global provider).
        meter_provider: where metrics go (default: the global provider).
        capture_content: record prompts and answers: ``True``, a mode (``NO_CONTENT``,
            ``SPAN_ONLY``, ``EVENT_ONLY``, ``SPAN_AND_EVENT``), or ``None`` to read
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (off when unset).
        capture_tool_definitions: also record ``gen_ai.tool.definitions`` when capturing.
        content_max_length: characters kept per text part.
        route_span: emit the ``clauderoute`` route span (``False``: standard spans only).
        metrics: record metrics at all.
        chunk_metric: record the per-chunk time metric (one timestamp per stream event).
        convention: ``v1_41`` or ``latest``; ``None`` reads ``OTEL_SEMCONV_STABILITY_OPT_IN``.
        sdk_check_s: with the global providers, how long a "no SDK installed yet" answer is
            kept before the providers are asked again (0: every call). An SDK installed after
            the client was built is traced from the first call after that.

            .. versionadded:: 0.2
    """

    def __init__(self, *, tracer_provider: TracerProvider | None = None,
                 meter_provider: MeterProvider | None = None,
                 capture_content: bool | str | None = None,
                 capture_tool_definitions: bool = False, content_max_length: int = 16384,
                 route_span: bool = True, metrics: bool = True, chunk_metric: bool = True,
                 convention: str | None = None, sdk_check_s: float = 1.0) -> None:
        self.names = N.Names(convention or N.convention_from_env())
        self.tracer = trace.get_tracer(N.SCOPE, tracer_provider=tracer_provider,
                                       schema_url=N.SCHEMA_URL)
        self.capture = C.parse_mode(capture_content)
        self.capture_tools = capture_tool_definitions
        self.max_length = content_max_length
        self.route_span = route_span
        self.metrics = Metrics(self.names, meter_provider) if metrics else None
        self.chunk_metric = chunk_metric and metrics
        self._servers: dict[int, tuple[Any, str, int]] = {}
        # Explicit providers always listen (unless they are the API's no-ops); the global ones
        # are checked per call, so an SDK installed after the client was built is picked up.
        self._global_tracer = tracer_provider is None
        self._global_meter = metrics and meter_provider is None
        self._always = (
            (tracer_provider is not None and not isinstance(tracer_provider, NoOpTracerProvider))
            or (metrics and meter_provider is not None
                and not isinstance(meter_provider, NoOpMeterProvider)))
        self.sdk_check_s = sdk_check_s
        self._next_check = 0.0  # monotonic time of the next look at the global providers
        self._off = _Route(self, None, off=True)  # the state of every call nobody listens to

    def enabled(self) -> bool:
        """Whether a call traced now would reach an SDK (else every hook returns at once).

        The global providers are asked through the public API, which costs ~1-2 µs (it reads
        ``os.environ`` each time): while they are the API's defaults the answer is kept for
        ``sdk_check_s`` seconds. Once an SDK is installed it stays (the API sets each global
        once), so a yes is kept for good."""
        if self._always:
            return True
        now = time.monotonic()
        if now < self._next_check:
            return False
        if (self._global_tracer and tracer_provider_installed()) or (
                self._global_meter and meter_provider_installed()):
            self._always = True
            return True
        self._next_check = now + self.sdk_check_s
        return False

    def __repr__(self) -> str:
        return (f"<TracingObserver convention={self.names.convention} capture={self.capture} "
                f"route_span={self.route_span}>")

    # --- route ----------------------------------------------------------------------------------

    def route_start(self, route: RouteContext) -> _Route:
        if not self._always and not self.enabled():
            return self._off
        if not self.route_span:
            return _Route(self, None)
        op = operation_name(route.call.operation)
        model = str(route.call.params.get("model", ""))
        span = self.tracer.start_span(f"clauderoute {op} {model}", kind=SpanKind.INTERNAL)
        if span.is_recording():
            span.set_attributes({N.X_OPERATION: op, N.X_REQUEST_MODEL: model,
                                 N.X_REQUEST_STREAM: route.call.operation.endswith("stream")})
            if route.deadline_s is not None:
                span.set_attribute(N.X_DEADLINE, route.deadline_s)
        return _Route(self, span)

    def route_end(self, state: _Route, route: RouteContext, info: RouteInfo | None,
                  error: BaseException | None, outcome: str) -> None:
        if state.off:
            return
        duration = time.perf_counter() - route.started
        platform = info.platform if info is not None else state.platform
        etype = error_type(error) if error is not None else None
        span = state.span
        if span is not None:
            if span.is_recording():
                attrs: dict[str, Any] = {
                    N.X_ATTEMPT_COUNT: state.attempts, N.X_RETRY_COUNT: state.retries,
                    N.X_FAILOVER_COUNT: state.failovers, N.X_OUTCOME: outcome,
                    N.X_USAGE_IN: state.in_tokens, N.X_USAGE_OUT: state.out_tokens}
                if platform is not None:
                    attrs[N.X_PLATFORM] = platform
                if state.ttft is not None:
                    attrs[N.X_TTFT] = state.ttft
                if info is not None and info.skipped:
                    attrs[N.X_SKIPPED] = list(info.skipped)
                if etype is not None:
                    attrs[N.ERROR_TYPE] = etype
                span.set_attributes(attrs)
            if error is not None and outcome in ("error", "deadline_exceeded"):
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {etype}"))
            span.end()
        m = self.metrics
        if m is not None:
            mattrs: dict[str, Any] = {N.X_OPERATION: operation_name(route.call.operation),
                                      N.X_REQUEST_MODEL: str(route.call.params.get("model", "")),
                                      N.X_OUTCOME: outcome}
            if platform is not None:
                mattrs[N.X_PLATFORM] = platform
            if etype is not None:
                mattrs[N.ERROR_TYPE] = etype
            m.route_duration.record(duration, mattrs)
            if state.ttft is not None:
                m.route_ttft.record(state.ttft, mattrs)
            m.route_attempts.record(state.attempts, {N.X_OUTCOME: outcome})

    # --- attempt --------------------------------------------------------------------------------

    def _server(self, provider: Any) -> tuple[str, int]:
        hit = self._servers.get(id(provider))
        if hit is None or hit[0] is not provider:
            try:
                host, port = provider.server_address()
            except Exception:  # noqa: BLE001 - a provider without a URL still gets a span
                host, port = "", 0
            hit = self._servers[id(provider)] = (provider, host, port)
        return hit[1], hit[2]

    def _route_state(self, route: RouteContext) -> _Route | None:
        for s in route.observed:
            if isinstance(s, _Route) and s.owner is self:
                return s
        return None

    def attempt_start(self, ctx: AttemptContext) -> _Attempt | None:
        rs = self._route_state(ctx.route)
        if rs is not None and rs.off:
            return None
        p = ctx.provider
        op = operation_name(ctx.call.operation)
        host, port = self._server(p)
        attrs: dict[str, Any] = {N.OPERATION: op,
                                 N.PROVIDER: p.genai_provider_name or p.platform,
                                 N.REQUEST_MODEL: ctx.model_id}
        if host:
            attrs[N.SERVER_ADDRESS], attrs[N.SERVER_PORT] = host, port
        parent = None
        if rs is not None:
            self._count(rs, ctx)
            if rs.span is not None:
                parent = trace.set_span_in_context(rs.span)
        span = self.tracer.start_span(f"{op} {ctx.model_id}", context=parent,
                                      kind=SpanKind.CLIENT, attributes=attrs)
        if span.is_recording():
            span.set_attributes(self._request_attrs(ctx))
        token = otel_context.attach(trace.set_span_in_context(span))
        if self.chunk_metric and ctx.call.operation.endswith("stream"):
            ctx.chunk_times = []
        mattrs = dict(attrs)
        mattrs[N.X_DEPLOYMENT] = p.name
        return _Attempt(span, token, mattrs, ctx)

    def _request_attrs(self, ctx: AttemptContext) -> dict[str, Any]:
        params, p = ctx.call.params, ctx.provider
        out: dict[str, Any] = {N.REQUEST_STREAM: ctx.call.operation.endswith("stream"),
                               N.X_PLATFORM: p.platform, N.X_DEPLOYMENT: p.name,
                               N.X_ATTEMPT_NUMBER: ctx.number, N.X_ATTEMPT_KIND: ctx.kind}
        for key, name in _PARAMS:
            value = params.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[name] = value
        stops = params.get("stop_sequences")
        if isinstance(stops, (list, tuple)) and all(isinstance(s, str) for s in stops):
            out[N.STOP_SEQUENCES] = list(stops)
        if params.get("output_format"):
            out[N.OUTPUT_TYPE] = "json"
        if p.region:
            out[N.CLOUD_REGION] = p.region
        if ctx.reason is not None:
            out[N.X_ATTEMPT_REASON] = ctx.reason
        if ctx.backoff:
            out[N.X_BACKOFF] = ctx.backoff
        return out

    def _count(self, rs: _Route, ctx: AttemptContext) -> None:
        rs.attempts += 1
        p = ctx.provider
        if rs.attempts == 1 and rs.span is not None and rs.span.is_recording():
            rs.span.set_attribute(N.X_STRATEGY, ctx.router.policy.name)
        if self.metrics is not None:
            self.metrics.watch_breaker(ctx.router.breaker)
        previous, rs.last = rs.last, (p.platform, p.name)
        if ctx.kind not in ("retry", "failover"):
            return
        event: dict[str, Any] = {N.X_ATTEMPT_NUMBER: ctx.number, N.X_DEPLOYMENT: p.name,
                                 N.X_PLATFORM: p.platform, N.X_BACKOFF: ctx.backoff}
        if ctx.reason is not None:
            event[N.X_ATTEMPT_REASON] = ctx.reason
        if ctx.kind == "retry":
            rs.retries += 1
        else:
            rs.failovers += 1
            if previous is not None:
                event["clauderoute.from.platform"], event["clauderoute.from.deployment"] = \
                    previous
        if rs.span is not None and rs.span.is_recording():
            rs.span.add_event(f"clauderoute.{ctx.kind}", event)
        if self.metrics is not None:
            del event[N.X_ATTEMPT_NUMBER], event[N.X_BACKOFF]
            counter = self.metrics.retries if ctx.kind == "retry" else self.metrics.failovers
            counter.add(1, event)

    def attempt_returned(self, state: _Attempt | None, ctx: AttemptContext) -> None:
        if state is not None and state.token is not None:
            token, state.token = state.token, None
            otel_context.detach(token)  # type: ignore[arg-type]

    def attempt_end(self, state: _Attempt | None, record: AttemptRecord) -> None:
        if state is None:
            return
        end = time.perf_counter()
        ctx, message, usage, error = state.ctx, record.result, record.usage, record.exception
        rs = self._route_state(ctx.route)
        if rs is not None:
            if usage is not None:
                rs.in_tokens += usage.total_input_tokens
                rs.out_tokens += usage.output_tokens
            if record.outcome == "success":
                rs.platform = record.platform
            if record.ttft_s is not None and record.sent_at is not None and rs.ttft is None \
                    and (record.outcome == "success" or message is not None):
                rs.ttft = record.sent_at + record.ttft_s - ctx.route.started
        span = state.span
        etype = error_type(error) if error is not None else None
        if span.is_recording():
            span.set_attributes(response_attrs(self.names, record))
            if etype is not None and error is not None:
                span.set_attribute(N.ERROR_TYPE, etype)
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, etype))
            if record.outcome == "success" and self.capture != "NO_CONTENT":
                self._content(span, ctx, message)
        span.end()
        if self.metrics is not None:
            self._attempt_metrics(state, record, etype, end)

    def _content(self, span: trace.Span, ctx: AttemptContext, message: Any) -> None:
        params, limit = ctx.call.params, self.max_length
        attrs: dict[str, Any] = {N.INPUT_MESSAGES: C.input_messages(params, limit)}
        system = C.system_instructions(params, limit)
        if system is not None:
            attrs[N.SYSTEM_INSTRUCTIONS] = system
        if message is not None and hasattr(message, "content"):
            attrs[N.OUTPUT_MESSAGES] = C.output_messages(message, limit)
        if self.capture_tools:
            tools = C.tool_definitions(params)
            if tools is not None:
                attrs[N.TOOL_DEFINITIONS] = tools
        if self.capture in ("SPAN_ONLY", "SPAN_AND_EVENT"):
            span.set_attributes(attrs)
        if self.capture in ("EVENT_ONLY", "SPAN_AND_EVENT"):
            span.add_event(N.DETAILS_EVENT, attrs)

    def _attempt_metrics(self, state: _Attempt, record: AttemptRecord, etype: str | None,
                         end: float) -> None:
        assert self.metrics is not None
        attrs, ctx, usage = state.attrs, state.ctx, record.usage
        model = getattr(record.result, "model", None)
        if model:
            attrs[N.RESPONSE_MODEL] = model
        if etype is not None:
            attrs[N.ERROR_TYPE] = etype
        sent = record.sent_at
        stream_s = end - sent if sent is not None else None
        self.metrics.attempt(attrs, end - state.start, usage, record.first_chunk_s,
                             ctx.chunk_times, record.ttft_s, stream_s,
                             {N.X_PLATFORM: record.platform, N.REQUEST_MODEL: record.model})
        signals = ctx.router.signals
        if usage is not None and signals is not None:  # the routing signals' metrics
            signals.record_metrics(self.metrics, ctx, usage)


_DEFAULT: list[TracingObserver] = []


def default_observer() -> TracingObserver:
    """The observer clients use unless told otherwise: the global providers, settings from the
    environment; one per process, so its instruments (and the breaker gauge) are shared."""
    if not _DEFAULT:
        _DEFAULT.append(TracingObserver())
    return _DEFAULT[0]
