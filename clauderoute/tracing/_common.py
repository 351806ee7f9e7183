"""Helpers shared by the tracing observer: attribute values and the global-provider check."""

from __future__ import annotations

from typing import Any

from .. import _errors as E

__all__ = ["error_type", "global_set", "operation_name"]

_TIMEOUTS = (TimeoutError, E.ReadTimeout, E.ConnectTimeout, E.DeadlineExceeded)
_UNKNOWN = object()


def global_set(module: Any, attr: str, noop: type) -> bool:
    """Whether the application installed a global provider other than the API's no-op one.

    Reads the API's own global (what its proxy tracers and meters read); if a future API moves
    it, the answer is ``True``: then the observer simply always works, as before.
    """
    provider = getattr(module, attr, _UNKNOWN)
    return provider is not None and not isinstance(provider, noop)


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
