"""The cross-platform error category of a failed attempt (``clauderoute.error.category``)."""

from __future__ import annotations

from .. import _errors as E

__all__ = ["error_category"]


def error_category(exc: BaseException) -> str:
    """The cross-platform class of an error (``clauderoute.error.category`` in traces)."""
    if isinstance(exc, E.OverloadedError):
        return "overloaded"
    if isinstance(exc, E.RateLimitError):
        return "rate_limited"
    if isinstance(exc, (E.ReadTimeout, E.ConnectTimeout, E.DeadlineExceeded)):
        return "timeout"
    if isinstance(exc, E.ConnectError):
        return "connect"
    if isinstance(exc, E.StreamInterrupted):
        return "stream_interrupted"
    if isinstance(exc, E.MalformedResponse):
        return "malformed_response"
    if isinstance(exc, (E.AuthenticationError, E.PermissionDeniedError)):
        return "auth"
    if isinstance(exc, E.NotFoundError):
        return "not_found"
    if isinstance(exc, E.APIStatusError):
        return "server" if exc.status >= 500 else "invalid_request"
    return "other"
