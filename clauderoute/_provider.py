"""The provider contract: how one platform's wire format plugs into clauderoute.

A provider is a *translator*, not a client (compare h11): it never opens a socket. The engine
asks it to ``prepare`` a canonical ``Call`` into an ``HttpRequest``, sends that request itself, and
hands the answer back to ``parse`` (whole bodies) or to a ``StreamDecoder`` (byte chunks). Only
``auth.refresh()`` may do I/O, to fetch or renew a credential.

A minimal provider for a platform that speaks the Claude API at another address::

    class MyProvider(Provider):
        platform = "mycloud"
        genai_provider_name = "mycloud"

        async def prepare(self, call: Call) -> HttpRequest:
            body = encode_body(call.params)
            headers = {"content-type": "application/json", "x-api-key": self._key}
            return HttpRequest("POST", self.base_url + "/v1/messages", headers, body)

        def stream_decoder(self, call: Call) -> StreamDecoder:
            return SSEEventDecoder(self.platform)

``parse`` and ``error_from_response`` default to the Claude API's shapes; platforms whose answers
differ (Bedrock, Vertex's front end) override them. Register the class under the entry-point
group ``clauderoute.providers`` with the platform id as its name.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import msgspec

from . import _errors as E
from ._catalog import ModelIds
from ._checks import check_base_url
from ._retry import parse_retry_after as parse_retry_after  # noqa: PLC0414 - mypy re-export
from ._ratelimits import RateLimits, parse_rate_limits
from .types._messages import Message, MessageTokensCount, decode_message
from .types._stream import ErrorEvent, StreamEvent

__all__ = [
    "COUNT_TOKENS",
    "CREATE",
    "STREAM",
    "Action",
    "Auth",
    "Call",
    "Capabilities",
    "HttpRequest",
    "HttpResponse",
    "NoAuth",
    "Provider",
    "StreamDecoder",
]

#: Operation names, the keys of ``Capabilities.operations``.
CREATE = "messages.create"
STREAM = "messages.stream"
COUNT_TOKENS = "messages.count_tokens"

MB = 1024 * 1024

_SECRET_HEADERS = frozenset({"x-api-key", "authorization", "api-key", "x-amz-security-token",
                             "x-goog-api-key"})
_SIGNATURE = re.compile(r"(Signature=)[0-9a-fA-F]+")


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with every credential shown as ``[secure]`` (as httpx does)."""
    return {
        k: ("[secure]" if k.lower() in _SECRET_HEADERS else _SIGNATURE.sub(r"\1[secure]", v))
        for k, v in headers.items()
    }


class HttpRequest(msgspec.Struct):
    """One HTTP request, ready to send: the only thing a provider hands the engine."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def __repr__(self) -> str:
        return (
            f"HttpRequest({self.method!r}, {self.url!r}, headers={mask_headers(self.headers)!r},"
            f" body=<{len(self.body)} bytes>)"
        )

    __str__ = __repr__


class HttpResponse(msgspec.Struct):
    """A whole HTTP answer: status, headers (lower-cased names) and body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""


class Call(msgspec.Struct, kw_only=True):
    """One canonical operation, as the client built it and the router hands it to providers.

    Attributes:
        operation: ``CREATE``, ``STREAM``, ``COUNT_TOKENS`` (or a resource operation).
        params: the request body as the Claude API takes it, already validated; ``model`` holds
            the *canonical* name — the provider maps it with ``model_id``.
        betas: beta names for ``anthropic-beta`` (or Bedrock's ``anthropic_beta`` body list).
        extra_headers: headers the caller added for this call.
        needs: further operations the provider must offer (e.g. resolving a file id).
    """

    operation: str
    params: dict[str, Any]
    betas: tuple[str, ...] = ()
    extra_headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    needs: tuple[str, ...] = ()


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What a provider can serve: read by the router, never a platform's name.

    Attributes:
        operations: operation names served.
        betas: beta names the platform accepts; ``None`` means any (passed through).
        max_body_bytes: size limit per operation; the default applies to those not listed.
    """

    operations: frozenset[str] = frozenset({CREATE, STREAM, COUNT_TOKENS})
    betas: frozenset[str] | None = None
    max_body_bytes: Mapping[str, int] = msgspec.field(default_factory=dict)
    default_max_body_bytes: int = 32 * MB

    def body_limit(self, operation: str) -> int:
        """The size limit for ``operation``."""
        return self.max_body_bytes.get(operation, self.default_max_body_bytes)

    def missing(self, call: Call) -> str | None:
        """Why this provider cannot serve ``call``, or ``None`` if it can."""
        for op in (call.operation, *call.needs):
            if op not in self.operations:
                return f"operation {op} is not offered"
        if self.betas is not None:
            unknown = [b for b in call.betas if b not in self.betas]
            if unknown:
                return f"beta {', '.join(unknown)} is not supported"
        return None


class Action(enum.Enum):
    """What the router does after an attempt failed."""

    RETRY = "retry"  # try the same provider again (after backoff)
    FAILOVER = "failover"  # move on to another provider; alone, retry the same one
    FATAL = "fatal"  # give up: the request itself is wrong


class Auth:
    """Credentials of one provider: ``refresh`` may do I/O, ``sign`` is pure.

    ``refresh`` is awaited before every ``prepare`` and must be cheap when the credential is
    still fresh; implementations refresh at most once at a time however many calls wait.
    """

    kind: ClassVar[str] = "none"

    async def refresh(self) -> None:
        """Fetch or renew the credential if it is missing or near expiry."""

    def sign(self, request: HttpRequest) -> HttpRequest:
        """Add the credential to ``request`` (headers, or a signature over the body)."""
        return request

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kind={self.kind!r}>"


class NoAuth(Auth):
    """No credential at all (tests, or an endpoint behind a trusted proxy)."""


class StreamDecoder:
    """Turns a platform's stream bytes, in chunks of any size, into canonical events."""

    def feed(self, data: bytes) -> list[StreamEvent]:
        """Consume ``data``; return every event now complete."""
        raise NotImplementedError

    def end(self) -> list[StreamEvent]:
        """The byte stream ended: return what is left, or raise ``MalformedResponse`` if a frame
        was cut in half."""
        return []

    def message_extra(self) -> Mapping[str, Any] | None:
        """What the stream said about the answer beyond the Claude events (a platform's
        invocation metrics, say), for the final ``Message.extra``; ``None``: nothing. Asked
        once, when the final message is built.

        .. versionadded:: 0.3
        """
        return None


_message_decoder = msgspec.json.Decoder(MessageTokensCount)


class _ErrBody(msgspec.Struct):
    type: str = "api_error"
    message: str = ""


class _AnthropicError(msgspec.Struct):
    error: _ErrBody = msgspec.field(default_factory=_ErrBody)
    request_id: str | None = None


_anthropic_error = msgspec.json.Decoder(_AnthropicError)

# In-stream error types of the Claude API and the HTTP status each stands for.
EVENT_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class Provider:
    """Base class of every platform provider. Subclasses set the class attributes and override
    ``prepare`` and ``stream_decoder``; everything else has a Claude-API-shaped default.

    Args:
        name: the deployment label in config (defaults to the platform id).
        base_url: endpoint override (the official SDK's form for that platform).
        timeout_s: per-attempt timeout; ``None`` keeps the client's.
        max_retries: retries on this provider before giving up (SDK default 2).
        anthropic_version: version string the platform takes.
        models: canonical name → platform id overrides of the catalog.
    """

    #: Platform id: the entry-point and config ``kind`` name.
    platform: ClassVar[str] = ""
    #: OpenTelemetry ``gen_ai.provider.name``.
    genai_provider_name: ClassVar[str] = ""
    #: Default ``anthropic_version`` for this platform.
    default_version: ClassVar[str] = "2023-06-01"
    #: Header that carries the platform's request id.
    request_id_header: ClassVar[str] = "request-id"

    #: Factor on the catalog's prices for this platform (config ``price_multipliers`` wins).
    price_multiplier: ClassVar[float] = 1.0

    capabilities: Capabilities = Capabilities()
    auth: Auth = NoAuth()

    def __init__(
        self,
        *,
        name: str | None = None,
        base_url: str | None = None,
        timeout_s: float | None = None,
        max_retries: int = 2,
        anthropic_version: str | None = None,
        models: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name or self.platform
        self.base_url = check_base_url(base_url).rstrip("/") if base_url else None
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.anthropic_version = anthropic_version or self.default_version
        self.models = dict(models or {})
        self.region: str | None = None
        self._catalog_ids = ModelIds(self.platform)  # the catalog's answers, per name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} base_url={self.base_url!r}>"

    # --- model ids -----------------------------------------------------------------------------

    def model_id(self, model: str) -> str:
        """The platform's id for a name: config ``models``, the catalog (read once), or as is."""
        return self.models.get(model) or self._catalog_ids[model]

    def cannot_serve(self, call: Call) -> str | None:
        """Why this provider cannot serve ``call`` beyond its capabilities (e.g. a model not
        offered in the configured region), or ``None``. Checked before any network call."""
        return None

    # --- request side ---------------------------------------------------------------------------

    async def prepare(self, call: Call) -> HttpRequest:
        """Build the signed ``HttpRequest`` for ``call``. May await ``auth.refresh()``."""
        raise NotImplementedError

    def server_address(self) -> tuple[str, int]:
        """Host and port requests go to (for tracing)."""
        u = urlsplit(self.base_url or "")  # checked: a valid port
        return u.hostname or "", u.port or (443 if u.scheme == "https" else 80)

    # --- answer side ----------------------------------------------------------------------------

    def parse(self, call: Call, response: HttpResponse) -> Any:
        """Turn a whole answer into ``Message`` / ``MessageTokensCount``, or raise its error."""
        if response.status >= 400:
            raise self.error_from_response(response)
        try:
            if call.operation == COUNT_TOKENS:
                return _message_decoder.decode(response.body)
            return self.decode_message(response.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise E.MalformedResponse(
                f"could not decode the {call.operation} answer: {exc}",
                platform=self.name,
                request_id=response.headers.get(self.request_id_header),
            ) from exc

    def decode_message(self, body: bytes) -> Message:
        """Decode a Message body (platform hook, e.g. for a different id shape)."""
        return decode_message(body)

    def stream_decoder(self, call: Call) -> StreamDecoder:
        """A fresh decoder for one stream's bytes."""
        raise NotImplementedError

    def error_from_response(self, response: HttpResponse) -> E.APIStatusError:
        """Map an error answer to the SDK-named error class (Claude API shape)."""
        h = response.headers
        error_type, message, rid = None, "", h.get(self.request_id_header)
        try:
            body = _anthropic_error.decode(response.body)
            error_type, message = body.error.type, body.error.message
            rid = rid or body.request_id
        except (msgspec.DecodeError, msgspec.ValidationError):
            message = response.body[:200].decode("utf-8", "replace") or f"HTTP {response.status}"
        return self.status_error(response.status, message, error_type, rid, h)

    def status_error(
        self,
        status: int,
        message: str,
        error_type: str | None,
        request_id: str | None,
        headers: Mapping[str, str],
    ) -> E.APIStatusError:
        """Build the error object for an HTTP error with retry hints taken from ``headers``."""
        should = headers.get("x-should-retry")
        return E.status_error_class(status)(
            message or f"HTTP {status}",
            status=status,
            error_type=error_type,
            platform=self.name,
            request_id=request_id,
            retry_after=parse_retry_after(headers),
            should_retry=None if should is None else should == "true",
            headers={k: v for k, v in headers.items() if k.startswith(("retry", "x-should"))},
        )

    def rate_limits(self, response: HttpResponse) -> RateLimits | None:
        """What ``response`` (success or error) says about capacity; ``None``: nothing.
        The default reads the Claude API's ``anthropic-ratelimit-*`` and ``retry-after``
        headers; a platform that announces capacity otherwise overrides this.

        .. versionadded:: 0.2
        """
        return parse_rate_limits(response.headers)

    def error_from_event(
        self, event: ErrorEvent, headers: Mapping[str, str]
    ) -> E.APIStatusError:
        """Map an in-stream ``error`` event (an answer that began with HTTP 200)."""
        status = EVENT_ERROR_STATUS.get(event.error.type, 500)
        return self.status_error(
            status, event.error.message, event.error.type,
            headers.get(self.request_id_header), {},
        )

    def classify(self, error: BaseException) -> Action:
        """What the router should do after ``error`` (the official SDK's policy, extended with
        failover, ``routing._outcome.status_action``). Platforms override this with their own
        error table; the router's own rules sit above it, in ``routing._outcome``."""
        if isinstance(error, E.APIStatusError):
            from .routing._outcome import status_action  # one status table, with the router's

            return status_action(error.status, error.should_retry)
        if isinstance(error, (E.TransportError, E.MalformedResponse)):
            return Action.FAILOVER
        return Action.FATAL
