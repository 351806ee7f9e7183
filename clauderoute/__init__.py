"""clauderoute: one async Messages interface to Claude on every platform, with failover.

The public API is re-exported here; implementation modules start with ``_``.
"""

from __future__ import annotations

from typing import Any

from ._client import AsyncClient
from ._errors import (
    AllPlatformsFailed,
    APIError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CapabilityError,
    ClauderouteError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectTimeout,
    DeadlineExceeded,
    InternalServerError,
    InvalidRequest,
    MalformedResponse,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ReadTimeout,
    RequestError,
    RequestTooLarge,
    RequestTooLargeError,
    ResponseTooLarge,
    StreamInterrupted,
    TransportError,
    UnknownPlatformError,
    UnprocessableEntityError,
)
from ._provider import Provider
from ._retry import RetryPolicy
from .routing import Router

__all__ = [
    "APIError",
    "APIStatusError",
    "AllPlatformsFailed",
    "AsyncClient",
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
    "Provider",
    "RateLimitError",
    "ReadTimeout",
    "RequestError",
    "RequestTooLarge",
    "RequestTooLargeError",
    "ResponseTooLarge",
    "RetryPolicy",
    "Router",
    "StreamInterrupted",
    "TransportError",
    "UnknownPlatformError",
    "UnprocessableEntityError",
    "__version__",
]

for _name in __all__:
    _obj = globals().get(_name)
    if isinstance(_obj, type) and _obj.__module__.startswith("clauderoute."):
        _obj.__module__ = "clauderoute"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version  # lazy: importlib.metadata costs 5-20 ms

        return version("clauderoute")
    raise AttributeError(f"module 'clauderoute' has no attribute {name!r}")
