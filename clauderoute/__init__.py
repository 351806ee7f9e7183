"""clauderoute: one Messages interface to Claude on every platform, with failover.

``AsyncClient`` and ``Client`` (synchronous) are built like the official SDK's
``AsyncAnthropic`` and ``Anthropic``; the public API is re-exported here, and implementation
modules start with ``_``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._catalog._lifecycle import ModelDeprecationWarning
from ._checks import InsecureTransportWarning
from ._errors import (
    AllPlatformsFailed,
    AllPlatformsFailedError,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CapabilityError,
    ClauderouteError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectTimeout,
    ConnectTimeoutError,
    ContentTooLargeError,
    CredentialsError,
    DeadlineExceeded,
    DeadlineExceededError,
    InternalServerError,
    InvalidRequest,
    InvalidRequestError,
    MalformedResponse,
    MalformedResponseError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ReadTimeout,
    ReadTimeoutError,
    RequestError,
    RequestTooLarge,
    RequestTooLargeError,
    ResponseTooLargeError,
    StreamInterrupted,
    StreamInterruptedError,
    TransportError,
    UnknownPlatformError,
    UnprocessableEntityError,
)
from ._lazy import lazy_names
from ._provider import Provider
from ._resources._raw import AsyncRawResponse, AsyncStream, RawResponse
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from ._client import NOT_GIVEN, AsyncClient, NotGiven
    from ._sync import Client
    from ._sync_resources import Stream
    from .routing import Router

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AllPlatformsFailed",
    "AllPlatformsFailedError",
    "AsyncClient",
    "AsyncRawResponse",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "CapabilityError",
    "ClauderouteError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectTimeoutError",
    "ContentTooLargeError",
    "CredentialsError",
    "DeadlineExceeded",
    "DeadlineExceededError",
    "InsecureTransportWarning",
    "InternalServerError",
    "InvalidRequest",
    "InvalidRequestError",
    "MalformedResponse",
    "MalformedResponseError",
    "ModelDeprecationWarning",
    "NOT_GIVEN",
    "NotFoundError",
    "NotGiven",
    "OverloadedError",
    "PermissionDeniedError",
    "Provider",
    "RateLimitError",
    "RawResponse",
    "ReadTimeout",
    "ReadTimeoutError",
    "RequestError",
    "RequestTooLarge",
    "RequestTooLargeError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "Router",
    "Stream",
    "StreamInterrupted",
    "StreamInterruptedError",
    "TransportError",
    "UnknownPlatformError",
    "UnprocessableEntityError",
    "__version__",
]

# Loaded on first use: the clients (the asynchronous one and the router bring aiohttp, ~0.25 s of
# CPU at import, which commands that never open a connection skip) and the synchronous client's
# thread machinery and resource wrappers.
_LAZY = {
    "AsyncClient": "._client",
    "Client": "._sync",
    "NOT_GIVEN": "._client",
    "NotGiven": "._client",
    "Router": ".routing",
    "Stream": "._sync_resources",
}


def _public(obj: Any) -> None:
    if isinstance(obj, type) and obj.__module__.startswith("clauderoute."):
        obj.__module__ = "clauderoute"


for _name in __all__:
    _public(globals().get(_name))


if TYPE_CHECKING:
    __version__: str
else:
    _load = lazy_names(__name__, _LAZY, globals(), _public)

    def __getattr__(name: str) -> Any:
        if name == "__version__":
            from importlib.metadata import version  # lazy: importlib.metadata costs 5-20 ms

            return version("clauderoute")
        return _load(name)
