"""The metric instruments, created once per observer.

Standard GenAI metrics are recorded per attempt so they slice by platform; the ``clauderoute.*``
ones describe the routed call. Attributes are bounded by configuration (operations, models,
deployments): never ids or prompts.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Histogram, Meter, MeterProvider, Observation

from . import _names as N

__all__ = ["Metrics"]

Attrs = Mapping[str, Any]


def _histogram(meter: Meter, name: str, unit: str, description: str,
               buckets: Sequence[float]) -> Histogram:
    try:
        return meter.create_histogram(name, unit, description,
                                      explicit_bucket_boundaries_advisory=buckets)
    except TypeError:  # opentelemetry-api < 1.23 has no bucket advice
        return meter.create_histogram(name, unit, description)


class Metrics:
    """Every instrument clauderoute records, for one convention set."""

    def __init__(self, names: N.Names, meter_provider: MeterProvider | None) -> None:
        meter = metrics.get_meter(N.SCOPE, meter_provider=meter_provider,
                                  schema_url=N.SCHEMA_URL)
        d = N.DURATION_BUCKETS
        self.duration = _histogram(meter, names.duration, "s", "GenAI operation duration", d)
        self.latest = names.latest
        if names.latest:
            t = N.TOKEN_BUCKETS
            self.op_in = _histogram(meter, N.OP_INPUT_TOKENS, "{token}",
                                    "Input tokens of one operation (cache included)", t)
            self.op_out = _histogram(meter, N.OP_OUTPUT_TOKENS, "{token}",
                                     "Output tokens of one operation", t)
            self.usage = [meter.create_counter(name, "{token}", what) for name, what in (
                (N.USAGE_INPUT, "Input tokens consumed (cache included)"),
                (N.USAGE_OUTPUT, "Output tokens consumed"),
                (N.USAGE_CACHE_READ, "Input tokens read from the prompt cache"),
                (N.USAGE_CACHE_WRITE, "Input tokens written to the prompt cache"))]
        else:
            self.tokens = _histogram(meter, names.token_usage, "{token}",
                                     "Number of input and output tokens used", N.TOKEN_BUCKETS)
        self.ttfc = _histogram(meter, names.ttfc, "s", "Time to receive the first chunk", d)
        self.per_chunk = _histogram(meter, names.time_per_chunk, "s",
                                    "Time between chunks after the first", d)
        self.route_duration = _histogram(meter, N.M_ROUTE_DURATION, "s",
                                         "Routed call duration, retries and failover included", d)
        self.route_ttft = _histogram(meter, N.M_ROUTE_TTFT, "s",
                                     "Caller-observed time to first token", d)
        self.route_attempts = _histogram(meter, N.M_ROUTE_ATTEMPTS, "{attempt}",
                                         "Attempts per routed call", N.ATTEMPT_BUCKETS)
        self.retries = meter.create_counter(N.M_RETRIES, "{retry}", "Retries on one deployment")
        self.failovers = meter.create_counter(N.M_FAILOVERS, "{failover}",
                                              "Failovers to another deployment")
        self.tpot = _histogram(meter, N.M_TPOT, "s", "Time per output token after the first",
                               N.TPOT_BUCKETS)
        self.cost = meter.create_counter(N.M_COST, "[USD]", "What answers cost, from usage and "
                                         "the catalog's prices (by deployment and model)")
        self.affinity_hits = meter.create_counter(
            N.M_AFFINITY_HITS, "{call}", "Calls with prompt-cache breakpoints that read the cache")
        self._breakers: weakref.WeakSet[Any] = weakref.WeakSet()
        meter.create_observable_gauge(N.M_CIRCUIT, [self._circuits], "1",
                                      "Circuit state: 0 closed, 1 half-open, 2 open")

    def watch_breaker(self, breaker: Any) -> None:
        """Report this router's circuit breakers in the gauge."""
        if breaker is not None and breaker not in self._breakers:
            self._breakers.add(breaker)

    def _usage_latest(self, attrs: dict[str, Any], usage: Any) -> None:
        """latest set: every attempt records; with no usage reported, 0 of modality unknown.
        Claude reports text-token totals only, so its counts carry modality ``text``; the
        cache counters move only when the platform reported cache tokens."""
        usage_in, usage_out, cache_read, cache_write = self.usage
        if usage is None:
            unknown = {**attrs, N.TOKEN_MODALITY: "unknown"}
            self.op_in.record(0, attrs)
            self.op_out.record(0, attrs)
            usage_in.add(0, unknown)
            usage_out.add(0, unknown)
            return
        text = {**attrs, N.TOKEN_MODALITY: "text"}
        self.op_in.record(usage.total_input_tokens, attrs)
        self.op_out.record(usage.output_tokens, attrs)
        usage_in.add(usage.total_input_tokens, text)
        usage_out.add(usage.output_tokens, text)
        if usage.cache_read_input_tokens:
            cache_read.add(usage.cache_read_input_tokens, text)
        if usage.cache_creation_input_tokens:
            cache_write.add(usage.cache_creation_input_tokens, text)

    def _circuits(self, options: CallbackOptions) -> Iterable[Observation]:
        out = []
        for breaker in list(self._breakers):
            for deployment, model in list(breaker._b):  # read-only walk of its table
                out.append(Observation(breaker.state(deployment, model),
                                       {N.X_DEPLOYMENT: deployment, N.REQUEST_MODEL: model}))
        return out

    def attempt(self, attrs: dict[str, Any], duration: float, usage: Any,
                ttfc: float | None, chunk_times: list[float] | None, ttft: float | None,
                stream_s: float | None, tpot_attrs: Attrs) -> None:
        """One attempt's standard metrics (``attrs`` already hold ``error.type`` on failure)."""
        self.duration.record(duration, attrs)
        if self.latest:
            self._usage_latest(attrs, usage)
        elif usage is not None:  # v1.41: only when usage was received
            self.tokens.record(usage.total_input_tokens, {**attrs, N.TOKEN_TYPE: "input"})
            self.tokens.record(usage.output_tokens, {**attrs, N.TOKEN_TYPE: "output"})
        if ttfc is not None:
            self.ttfc.record(ttfc, attrs)
        if chunk_times:
            record, prev = self.per_chunk.record, chunk_times[0]
            for t in chunk_times[1:]:
                record(t - prev, attrs)
                prev = t
        out = usage.output_tokens if usage is not None else 0
        if ttft is not None and stream_s is not None and out > 1:
            self.tpot.record(max(stream_s - ttft, 0.0) / (out - 1), tpot_attrs)
