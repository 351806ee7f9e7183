"""Every exception clauderoute raises, in one tree.

::

    ClauderouteError
    ├── RequestError                 local: raised before any byte leaves the process
    │   ├── InvalidRequest           a field is wrong (``.field`` names it)
    │   ├── RequestTooLarge          the body is over the platform's size limit
    │   ├── CapabilityError          no provider can serve this operation / beta / model
    │   ├── ConfigurationError       bad config file, missing project/region/credentials
    │   └── UnknownPlatformError     no provider installed under that name
    ├── APIError                     remote: the platform (or the path to it) misbehaved
    │   ├── APIStatusError           an HTTP error answer, or an error event in a stream
    │   │   ├── BadRequestError          400
    │   │   ├── AuthenticationError      401
    │   │   ├── PermissionDeniedError    403
    │   │   ├── NotFoundError            404
    │   │   ├── ConflictError            409
    │   │   ├── RequestTooLargeError     413
    │   │   ├── UnprocessableEntityError 422
    │   │   ├── RateLimitError           429
    │   │   ├── InternalServerError      5xx
    │   │   └── OverloadedError          529, or an in-stream ``overloaded_error``
    │   ├── MalformedResponse        the answer could not be decoded
    │   │   └── ResponseTooLarge     the answer is over ``max_response_bytes``
    │   └── StreamInterrupted        a stream broke after content reached the caller
    ├── TransportError               the connection itself failed
    │   ├── ConnectError
    │   ├── ConnectTimeout
    │   ├── ReadTimeout              includes a stall while streaming
    │   └── DeadlineExceeded         the call's whole budget ran out
    └── AllPlatformsFailed           every attempt failed; ``.attempts`` lists them

The names of the status errors follow the official SDK so that ``except anthropic.RateLimitError``
becomes ``except clauderoute.RateLimitError``. Every remote error carries ``platform`` (which
provider answered), ``status``, ``error_type`` (the platform's own code), ``request_id`` and
``attempt`` when known. No message ever contains a credential: messages are built from platform
answers and our own text, never from request headers.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "APIStatusError",
    "AllPlatformsFailed",
    "AuthenticationError",
    "BadRequestError",
    "CapabilityError",
    "ClauderouteError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeout",
    "DeadlineExceeded",
    "InternalServerError",
    "InvalidRequest",
    "MalformedResponse",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReadTimeout",
    "RequestError",
    "RequestTooLarge",
    "RequestTooLargeError",
    "ResponseTooLarge",
    "StreamInterrupted",
    "TransportError",
    "UnknownPlatformError",
    "UnprocessableEntityError",
]


class ClauderouteError(Exception):
    """Root of every clauderoute exception."""

    #: Which configured provider this error came from (``None`` for local errors).
    platform: str | None = None
    #: 1-based attempt number within the routed call, when known.
    attempt: int | None = None
    #: The platform's request id header, when one arrived.
    request_id: str | None = None


# --- local ------------------------------------------------------------------------------------


class RequestError(ClauderouteError):
    """The request cannot be sent; nothing went over the network."""


class InvalidRequest(RequestError, ValueError):
    """A request field is missing or has the wrong type or value.

    Attributes:
        field: dotted path of the offending field, e.g. ``messages[0].content[1].source``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class RequestTooLarge(RequestError):
    """The encoded body is larger than the platform accepts."""

    def __init__(self, size: int, limit: int, *, what: str = "request") -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"{what} body is {size} bytes, over the {limit}-byte limit")


class CapabilityError(RequestError):
    """The chosen provider(s) cannot serve this operation, beta or model."""

    def __init__(self, message: str, *, platform: str | None = None) -> None:
        self.platform = platform
        super().__init__(message)


class ConfigurationError(RequestError):
    """A configuration key is missing or wrong (the message names the key)."""


class UnknownPlatformError(ConfigurationError):
    """No provider is installed under the requested platform name."""


# --- remote -----------------------------------------------------------------------------------


class APIError(ClauderouteError):
    """The platform, or the way to it, returned something other than a result."""

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        request_id: str | None = None,
    ) -> None:
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
        status: HTTP status (for an in-stream error, the status the error type maps to).
        error_type: the platform's own code (``overloaded_error``, ``ThrottlingException``,
            ``RESOURCE_EXHAUSTED``…).
        body: the decoded error body, if it was JSON.
        retry_after: seconds the platform asked us to wait, if it said.
        should_retry: the platform's ``x-should-retry`` verdict, if given.
    """

    status: int = 0

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_type: str | None = None,
        platform: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error_type = error_type
        self.body = body
        self.retry_after = retry_after
        self.should_retry = should_retry
        self.headers = headers or {}
        super().__init__(message, platform=platform, request_id=request_id)

    @property
    def status_code(self) -> int:
        """``status`` under the official SDK's name, so code written against it keeps working."""
        return self.status

    def _text(self) -> str:
        kind = f" {self.error_type}" if self.error_type else ""
        return f"{self.status}{kind}: {super()._text()}"


class BadRequestError(APIStatusError):
    """400: the platform rejected the request."""


class AuthenticationError(APIStatusError):
    """401: the credential is missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the credential may not do this (or a signature did not verify)."""


class NotFoundError(APIStatusError):
    """404: unknown model, deployment or path."""


class ConflictError(APIStatusError):
    """409."""


class RequestTooLargeError(APIStatusError):
    """413: the platform said the request was too large."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429: throttled."""


class InternalServerError(APIStatusError):
    """5xx other than 529."""


class OverloadedError(APIStatusError):
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


class MalformedResponse(APIError):
    """The platform's answer could not be decoded (bad JSON, bad framing, truncated)."""


class ResponseTooLarge(MalformedResponse):
    """The answer (a whole body, or one stream event) is larger than the client's
    ``max_response_bytes``; reading stopped at the limit and the connection was dropped. Like
    any malformed answer it fails over.

    Attributes:
        limit: the limit, in bytes.
    """

    def __init__(self, limit: int, *, what: str = "answer", platform: str | None = None,
                 request_id: str | None = None) -> None:
        self.limit = limit
        super().__init__(f"{what} is over the max_response_bytes limit of {limit} bytes",
                         platform=platform, request_id=request_id)


class StreamInterrupted(APIError):
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


# --- transport --------------------------------------------------------------------------------


class TransportError(ClauderouteError):
    """The connection failed: refused, reset, timed out, or the call's deadline ran out."""

    def __init__(self, message: str, *, platform: str | None = None) -> None:
        self.platform = platform
        super().__init__(f"{message} [{platform}]" if platform else message)


class ConnectError(TransportError):
    """Could not connect, or the connection was reset."""


class ConnectTimeout(TransportError):
    """Connecting took longer than the connect timeout."""


class ReadTimeout(TransportError):
    """No byte arrived within the read timeout (also: a stream stalled)."""


class DeadlineExceeded(TransportError):
    """The routed call's whole deadline ran out."""

    def __init__(self, message: str, *, attempts: list[Any] | None = None) -> None:
        self.attempts = attempts or []
        super().__init__(message)


class AllPlatformsFailed(ClauderouteError):
    """Every attempt of a routed call failed.

    Attributes:
        attempts: the ``AttemptDetails`` of every attempt, in order.
        errors: the exception of each failed attempt.
    """

    def __init__(self, message: str, *, attempts: list[Any], errors: list[BaseException]) -> None:
        self.attempts = attempts
        self.errors = errors
        lines = [message]
        lines += [f"  attempt {i}: {type(e).__name__}: {e}" for i, e in enumerate(errors, 1)]
        super().__init__("\n".join(lines))

    @property
    def last(self) -> BaseException | None:
        """The last attempt's error."""
        return self.errors[-1] if self.errors else None
