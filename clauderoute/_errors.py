"""Every exception clauderoute raises, in one tree shaped like the official SDK's.

::

    ClauderouteError
    ├── APIError                        any failed request: what ``except anthropic.APIError`` catches
    │   ├── APIStatusError              an error answer (``status_code``, ``body``, ``response``)
    │   │   ├── BadRequestError             400
    │   │   │   ├── InvalidRequestError     local: a field is wrong (``.field`` names it)
    │   │   │   └── CapabilityError         local: no provider offers this operation / beta / model
    │   │   ├── AuthenticationError         401
    │   │   ├── PermissionDeniedError       403
    │   │   ├── NotFoundError               404
    │   │   ├── ConflictError               409
    │   │   ├── RequestTooLargeError        413, or refused locally (``size``, ``limit``)
    │   │   ├── UnprocessableEntityError    422
    │   │   ├── RateLimitError              429
    │   │   └── InternalServerError         5xx
    │   │       └── OverloadedError         529, or an in-stream ``overloaded_error``
    │   ├── APIConnectionError          the way to the platform failed
    │   │   ├── ConnectError                could not connect, or the connection broke
    │   │   ├── CredentialsError            the provider could not get credentials (fails over)
    │   │   └── APITimeoutError             something took too long
    │   │       ├── ConnectTimeoutError     connecting
    │   │       ├── ReadTimeoutError        waiting for bytes (also: a stream stalled)
    │   │       └── DeadlineExceededError   the call's whole budget ran out
    │   ├── MalformedResponseError      the answer could not be decoded
    │   │   └── ResponseTooLargeError   the answer is over ``max_response_bytes``
    │   ├── StreamInterruptedError      a stream broke after content reached the caller
    │   └── AllPlatformsFailedError     every provider of the route failed (``.errors``, ``.last``)
    └── ConfigurationError              bad config file, missing project / region / credentials
        └── UnknownPlatformError        no provider installed under that name

    RequestError: a mix-in of the errors raised before any byte left the process
    (InvalidRequestError, CapabilityError, ConfigurationError); the router never retries them.

Why these places: code written for the official SDK must catch what it caught there. With the
SDK an invalid request reaches the Claude API and comes back a 400, so our local validation
error is a ``BadRequestError`` (``status_code`` 400, ``body`` in the API's error shape, with
``platform`` ``None`` since no platform saw it); a request no provider can serve would be a 400
there too. A too-large body is one class whether we refused it or the platform did. A timeout of
any kind is an ``APITimeoutError``; a refused connection, or a provider that cannot get
credentials, an ``APIConnectionError``. What routing adds is an ``APIError`` too; ``.last`` of
``AllPlatformsFailedError`` is what the SDK would have raised. Bad configuration is no request.

Names: every class ends in ``Error``. The names of 0.1 remain as aliases of the same classes for
one release (``InvalidRequest``, ``RequestTooLarge``, ``ContentTooLargeError`` (the SDK's newer
name for 413), ``MalformedResponse``, ``TransportError`` (= ``APIConnectionError``),
``ConnectTimeout``, ``ReadTimeout``, ``DeadlineExceeded``, ``StreamInterrupted``,
``AllPlatformsFailed``). Note the SDK's deprecated ``DeadlineExceededError`` means an HTTP 504;
ours means the call's own deadline, and a 504 is an ``InternalServerError``.

Every error carries ``platform`` (the provider that answered), ``request_id`` and ``attempt``
when known. No message ever contains a credential: messages are built from platform answers and
our own text, never from request headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from ._response import ErrorResponse

__all__ = [
    "APIConnectionError", "APIError", "APIStatusError", "APITimeoutError", "AllPlatformsFailed",
    "AllPlatformsFailedError", "AuthenticationError", "BadRequestError", "CapabilityError",
    "ClauderouteError", "ConfigurationError", "ConflictError", "ConnectError", "ConnectTimeout",
    "ConnectTimeoutError", "ContentTooLargeError", "CredentialsError", "DeadlineExceeded", "DeadlineExceededError",
    "ErrorResponse", "InternalServerError", "InvalidRequest", "InvalidRequestError",
    "MalformedResponse", "MalformedResponseError", "NotFoundError", "OverloadedError",
    "PermissionDeniedError", "RateLimitError", "ReadTimeout", "ReadTimeoutError", "RequestError",
    "RequestTooLarge", "RequestTooLargeError", "ResponseTooLargeError",
    "StreamInterrupted", "StreamInterruptedError",
    "TransportError", "UnknownPlatformError", "UnprocessableEntityError", "status_error_class",
    "with_response"
]


class ClauderouteError(Exception):
    """Root of every clauderoute exception."""

    #: Which configured provider this error came from (``None`` for local errors).
    platform: str | None = None
    #: 1-based attempt number within the routed call, when known.
    attempt: int | None = None
    #: The platform's request id header, when one arrived.
    request_id: str | None = None


class RequestError(ClauderouteError):
    """Mix-in: the request was refused before anything went over the network (never retried)."""


class ConfigurationError(RequestError):
    """A configuration key is missing or wrong (the message names the key)."""


class UnknownPlatformError(ConfigurationError):
    """No provider is installed under the requested platform name."""


# --- APIError ---------------------------------------------------------------------------------


class APIError(ClauderouteError):
    """A request failed: the platform refused it, the way to it failed, or it was invalid.

    Attributes:
        message: the error's text, without the provider and request id.
        body: the platform's error body (decoded JSON when it was JSON), else ``None``.
    """

    body: Any = None

    def __init__(self, message: str, *, platform: str | None = None,
                 request_id: str | None = None) -> None:
        self.message = message
        self.platform = platform
        self.request_id = request_id
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" [{self.platform}]" if self.platform else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.message}{where}{rid}"


class APIStatusError(APIError):
    """An error answer: an HTTP status >= 400, or an ``error`` event inside a stream.

    Attributes:
        status_code: the HTTP status (for an in-stream error, the status its type maps to);
            also ``status``.
        error_type: the platform's own code (``overloaded_error``, ``ThrottlingException``,
            ``RESOURCE_EXHAUSTED``…); also ``type``.
        body: the error body, decoded JSON when it was JSON.
        response: the HTTP answer (status, every header, raw body) when one arrived.
        retry_after: seconds the platform asked us to wait, if it said.
        should_retry: the platform's ``x-should-retry`` verdict, if given.
        headers: the retry-related headers of the answer.
    """

    status: int = 0

    def __init__(self, message: str, *, status: int, error_type: str | None = None,
                 platform: str | None = None, request_id: str | None = None, body: Any = None,
                 retry_after: float | None = None, should_retry: bool | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.error_type = error_type
        self.body = body
        self.retry_after = retry_after
        self.should_retry = should_retry
        self.headers = headers or {}
        self.response: ErrorResponse | None = None
        super().__init__(message, platform=platform, request_id=request_id)

    @property
    def status_code(self) -> int:
        """The HTTP status, under the official SDK's name."""
        return self.status

    @property
    def type(self) -> str | None:
        """The platform's error type, under the official SDK's name."""
        return self.error_type

    def _text(self) -> str:
        kind = f" {self.error_type}" if self.error_type else ""
        return f"{self.status}{kind}: {super()._text()}"


def _local_body(kind: str, message: str) -> dict[str, Any]:
    # The Claude API's error shape, so code that reads e.body["error"]["message"] works.
    return {"type": "error", "error": {"type": kind, "message": message}}


class BadRequestError(APIStatusError):
    """400: the request is invalid (the platform said so, or we did before sending it)."""


class InvalidRequestError(RequestError, BadRequestError, ValueError):
    """A request field is missing or has the wrong type or value; raised before sending.

    Attributes:
        field: dotted path of the offending field, e.g. ``messages[0].content[1].source``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        text = f"{field}: {message}" if field else message
        super().__init__(text, status=400, error_type="invalid_request_error",
                         body=_local_body("invalid_request_error", text))

    def _text(self) -> str:
        return self.message


class CapabilityError(RequestError, BadRequestError):
    """No provider of the route can serve this operation, beta or model; raised before sending."""

    def __init__(self, message: str, *, platform: str | None = None) -> None:
        super().__init__(message, status=400, error_type="invalid_request_error",
                         platform=platform, body=_local_body("invalid_request_error", message))

    def _text(self) -> str:
        return self.message


class AuthenticationError(APIStatusError):
    """401: the credential is missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the credential may not do this (or a signature did not verify)."""


class NotFoundError(APIStatusError):
    """404: unknown model, deployment or path."""


class ConflictError(APIStatusError):
    """409."""


class RequestTooLargeError(APIStatusError):
    """413: the request body is too large, as the platform said, or as we found before sending
    it (then ``size`` and ``limit`` are set and nothing was sent)."""

    size: int | None = None
    limit: int | None = None

    def __init__(self, message: str | int, limit: int | None = None, *,
                 what: str = "request", **kwargs: Any) -> None:
        if isinstance(message, int):  # refused locally: RequestTooLargeError(size, limit)
            self.size, self.limit = message, limit
            message = f"{what} body is {message} bytes, over the {limit}-byte limit"
            kwargs.setdefault("error_type", "request_too_large")
            kwargs.setdefault("body", _local_body("request_too_large", message))
        kwargs.setdefault("status", 413)
        super().__init__(message, **kwargs)

    def _text(self) -> str:
        return self.message if self.size is not None else super()._text()


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429: throttled."""


class InternalServerError(APIStatusError):
    """5xx: the platform failed."""


class OverloadedError(InternalServerError):
    """529 or an ``overloaded_error`` event: the model is overloaded right now."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    529: OverloadedError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The SDK-named subclass for an HTTP status."""
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls
    return InternalServerError if status >= 500 else APIStatusError


def with_response(error: APIStatusError, status: int, headers: Mapping[str, str],
                  content: bytes) -> APIStatusError:
    """Attach the HTTP answer to ``error``: ``e.response``, and ``e.body`` (the decoded JSON, or
    the text when it is not JSON) unless the provider already set one. Returns ``error``."""
    error.response = ErrorResponse(status, headers, content)
    if error.body is None and content:
        try:
            error.body = msgspec.json.decode(content)
        except msgspec.DecodeError:
            error.body = error.response.text
    return error

# --- the way to the platform ------------------------------------------------------------------


class APIConnectionError(APIError):
    """The connection to the platform failed: refused, reset, or timed out."""


class ConnectError(APIConnectionError):
    """Could not connect, or the connection broke."""


class CredentialsError(APIConnectionError):
    """The provider could not get credentials (none found, or the refresh failed): unavailable."""


class APITimeoutError(APIConnectionError):
    """The platform took too long (connecting, sending bytes, or the call's deadline)."""


class ConnectTimeoutError(APITimeoutError):
    """Connecting took longer than the connect timeout."""


class ReadTimeoutError(APITimeoutError):
    """No byte arrived within the read timeout (also: a stream stalled)."""


class DeadlineExceededError(APITimeoutError):
    """The routed call's whole deadline ran out (``attempts`` lists what was tried)."""
    def __init__(self, message: str, *, attempts: list[Any] | None = None) -> None:
        self.attempts = attempts or []
        super().__init__(message)


# --- what routing adds ------------------------------------------------------------------------


class MalformedResponseError(APIError):
    """The platform's answer could not be decoded (bad JSON, bad framing, truncated)."""


class ResponseTooLargeError(MalformedResponseError):
    """An answer (a whole body, or one stream event) over the client's ``max_response_bytes``
    (``.limit``): reading stopped there, the connection was dropped; it fails over."""

    def __init__(self, limit: int, *, what: str = "answer", platform: str | None = None,
                 request_id: str | None = None) -> None:
        self.limit = limit
        super().__init__(f"{what} is over the max_response_bytes limit of {limit} bytes",
                         platform=platform, request_id=request_id)


class StreamInterruptedError(APIError):
    """A stream broke after content had been delivered; nothing can be retried invisibly.

    Attributes:
        partial: the ``Message`` accumulated from the events delivered so far.
        cause_error: the underlying error.
    """

    def __init__(self, message: str, *, partial: Any, cause: BaseException | None = None,
                 platform: str | None = None, request_id: str | None = None) -> None:
        self.partial = partial
        self.cause_error = cause
        super().__init__(message, platform=platform, request_id=request_id)


class AllPlatformsFailedError(APIError):
    """Every attempt of a routed call failed.

    Attributes:
        attempts: the ``AttemptDetails`` of every attempt, in order.
        errors: the exception of each failed attempt.
        body: the last error's body, if it had one.
    """

    def __init__(self, message: str, *, attempts: list[Any], errors: list[BaseException]) -> None:
        self.attempts = attempts
        self.errors = errors
        lines = [message]
        lines += [f"  attempt {i}: {type(e).__name__}: {e}" for i, e in enumerate(errors, 1)]
        super().__init__("\n".join(lines))
        self.body = getattr(self.last, "body", None)

    @property
    def last(self) -> BaseException | None:
        """The last attempt's error (what the official SDK would have raised)."""
        return self.errors[-1] if self.errors else None


# --- the names of 0.1, kept for one release -------------------------------------------------

InvalidRequest = InvalidRequestError
RequestTooLarge = RequestTooLargeError
ContentTooLargeError = RequestTooLargeError  # the SDK's newer name for a 413
MalformedResponse = MalformedResponseError
TransportError = APIConnectionError
ConnectTimeout = ConnectTimeoutError
ReadTimeout = ReadTimeoutError
DeadlineExceeded = DeadlineExceededError
StreamInterrupted = StreamInterruptedError
AllPlatformsFailed = AllPlatformsFailedError
