"""Helpers shared by the tracing observer: attribute values and the global-provider check."""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider

from .. import _errors as E

__all__ = ["error_type", "meter_provider_installed", "operation_name",
           "tracer_provider_installed"]

_TIMEOUTS = (TimeoutError, E.ReadTimeout, E.ConnectTimeout, E.DeadlineExceeded)
_API_METRICS = "opentelemetry.metrics"


def tracer_provider_installed() -> bool:
    """Whether the application installed a global tracer provider other than a no-op one.

    Public API only: until ``set_tracer_provider`` is called, ``get_tracer_provider`` hands out
    the API's ``ProxyTracerProvider``. (~1 µs: the API reads ``os.environ`` on every call, so
    the observer asks at most once a second; see ``TracingObserver.enabled``.)
    """
    return not isinstance(trace.get_tracer_provider(), (ProxyTracerProvider, NoOpTracerProvider))


def meter_provider_installed() -> bool:
    """Whether the application installed a global meter provider other than a no-op one.

    Until ``set_meter_provider`` is called, ``get_meter_provider`` hands out the API's own
    stand-in, whose class has no public name; it is known by being defined in the API package
    itself (an SDK's provider lives elsewhere: ``opentelemetry.sdk.metrics``…). Should a future
    API move it, the answer is ``True``: the observer then simply does its work on every call.
    """
    provider = metrics.get_meter_provider()
    if isinstance(provider, NoOpMeterProvider):
        return False
    module = type(provider).__module__
    return not (module == _API_METRICS or module.startswith(_API_METRICS + "."))


def operation_name(operation: str) -> str:
    """``gen_ai.operation.name`` for a clauderoute operation (``messages.create`` → ``chat``)."""
    verb = operation.rpartition(".")[2]
    return "chat" if verb in ("create", "stream") else verb


def error_type(exc: BaseException) -> str:
    """``error.type``: the platform's own code, else the HTTP status, else ``timeout``, else the
    exception class name (an interrupted stream reports what interrupted it)."""
    if isinstance(exc, E.StreamInterrupted) and exc.cause_error is not None:
        exc = exc.cause_error
    code = getattr(exc, "error_type", None)
    if code:
        return str(code)
    status = getattr(exc, "status", None)
    if status:
        return str(status)
    if isinstance(exc, _TIMEOUTS):
        return "timeout"
    return type(exc).__name__ or "_OTHER"
