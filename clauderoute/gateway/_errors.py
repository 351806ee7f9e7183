"""Answers in the Claude API's error shape, and library errors mapped to them.

The shape is the API's: ``{"type": "error", "error": {"type": ..., "message": ...},
"request_id": ...}``, with the API's status for each type. Messages come from our own text and
the platforms' answers (which the library already keeps free of credentials), never from request
headers.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from .. import _errors as E

__all__ = ["TYPES", "error_body", "error_of", "error_response", "sse_error", "stream_error_type"]

#: HTTP status -> the Claude API's error type for it.
TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

_encode = msgspec.json.Encoder().encode


def error_body(error_type: str, message: str, request_id: str | None) -> bytes:
    """The JSON body of an error answer."""
    return _encode(
        {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": request_id,
        }
    )


def error_response(
    status: int,
    message: str,
    request_id: str | None,
    *,
    error_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An error answer with the API's type for ``status`` (unless ``error_type`` says)."""
    etype = error_type or TYPES.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    out = {"request-id": request_id} if request_id else {}
    if headers:
        out.update(headers)
    return web.Response(
        status=status,
        body=error_body(etype, message, request_id),
        content_type="application/json",
        headers=out,
    )


def sse_error(error_type: str, message: str) -> bytes:
    """The ``error`` event that ends a stream the platform could not finish."""
    data = _encode({"type": "error", "error": {"type": error_type, "message": message}})
    return b"event: error\ndata: " + data + b"\n\n"


def _refused_credentials(exc: BaseException) -> bool:
    """The platform refused the gateway's own credentials (401, 403): the operator's problem,
    never the client's (a 401 would tell the client its gateway key is wrong)."""
    return isinstance(exc, E.APIStatusError) and exc.status_code in (401, 403)


def _credentials_error(errors: list[BaseException]) -> tuple[int, str, str, dict[str, str]]:
    """A 500 naming the providers whose credentials were refused, without the platform's
    text (which may echo a key or an account)."""
    names = sorted({getattr(e, "platform", None) or "?" for e in errors if _refused_credentials(e)})
    statuses = "/".join(
        sorted({str(getattr(e, "status_code", "")) for e in errors if _refused_credentials(e)})
    )
    which = "provider " + names[0] if len(names) == 1 else "providers " + ", ".join(names)
    return (
        500,
        "api_error",
        (
            f"the gateway's upstream credentials for {which} were refused "
            f"(HTTP {statuses}); the gateway's operator must fix them"
        ),
        {},
    )


def _status_of(exc: E.APIStatusError) -> tuple[int, str | None]:
    status = exc.status_code
    etype = exc.type
    if status not in TYPES and status >= 500:
        return 500, "api_error"
    return status, etype if etype in TYPES.values() else None


def error_of(exc: BaseException) -> tuple[int, str, str, dict[str, str]]:
    """``(status, error type, message, headers)`` for an error the library raised."""
    if isinstance(exc, E.AllPlatformsFailedError) and exc.last is not None:
        if _refused_credentials(exc.last):
            return _credentials_error(exc.errors)
        status, etype, message, headers = error_of(exc.last)
        return status, etype, f"every provider failed; last: {message}", headers
    if _refused_credentials(exc):
        return _credentials_error([exc])
    headers = {}
    if isinstance(exc, E.APIStatusError):
        status, known = _status_of(exc)
        if exc.retry_after is not None and status in (429, 529):
            headers["retry-after"] = f"{max(1, round(exc.retry_after))}"
        where = f" ({exc.platform})" if exc.platform and status >= 500 else ""
        return status, known or TYPES.get(status, "api_error"), exc.message + where, headers
    if isinstance(exc, E.APITimeoutError):
        return 504, "timeout_error", str(exc), headers
    if isinstance(exc, E.StreamInterruptedError):
        return error_of(exc.cause_error) if exc.cause_error else (500, "api_error", str(exc), {})
    if isinstance(exc, E.ClauderouteError):
        return 500, "api_error", f"{type(exc).__name__}: {exc}", headers
    return 500, "api_error", "internal error", headers


def stream_error_type(exc: BaseException) -> tuple[str, str]:
    """The ``error`` event's type and message for an interrupted stream."""
    _status, etype, message, _h = error_of(exc)
    return etype, message
