"""Bedrock's errors: the exception names of botocore's bedrock-runtime model, their HTTP statuses,
and what the router does after each.

An HTTP error answers ``x-amzn-ErrorType: <Name>:<namespace>`` and ``{"message": ...}``
(AWS's rest-json protocol; some front-end errors put the name in ``__type`` or ``code`` of the
body instead). A stream's exception frame names the same exceptions in lowerCamelCase
(``throttlingException``) in ``:exception-type``.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from clauderoute.provider import Action

__all__ = ["ERRORS", "error_name", "exception_entry"]

# name → (HTTP status, action). Statuses from botocore's bedrock-runtime service model
# (`error.httpStatusCode`); the signing and token failures at the end, which that model does
# not list, are 403 (Bedrock answers a bad signature with 403 InvalidSignatureException or
# UnrecognizedClientException).
ERRORS: dict[str, tuple[int, Action]] = {
    # Capacity: another region/account/platform may have it; alone, retry the same one.
    "ThrottlingException": (429, Action.FAILOVER),
    "ModelNotReadyException": (429, Action.FAILOVER),  # botocore retries it up to 5 times
    "ServiceQuotaExceededException": (400, Action.FAILOVER),  # this account's quota
    "ServiceUnavailableException": (503, Action.FAILOVER),
    "InternalServerException": (500, Action.FAILOVER),
    # The model failed on this request; the model docs say "retry your request".
    "ModelErrorException": (424, Action.FAILOVER),
    "ModelStreamErrorException": (424, Action.FAILOVER),
    "ModelTimeoutException": (408, Action.RETRY),
    # The request or the credential is wrong: no other attempt would do better.
    "ValidationException": (400, Action.FATAL),
    "AccessDeniedException": (403, Action.FATAL),
    "ResourceNotFoundException": (404, Action.FATAL),
    "ConflictException": (400, Action.FATAL),
    "InvalidSignatureException": (403, Action.FATAL),
    "UnrecognizedClientException": (403, Action.FATAL),
    "IncompleteSignatureException": (403, Action.FATAL),
    "MissingAuthenticationTokenException": (403, Action.FATAL),
    "ExpiredTokenException": (403, Action.FATAL),
}

_BY_KEY = {name.lower(): name for name in ERRORS}


class _ErrorJson(msgspec.Struct):
    message: str | None = None
    Message: str | None = None  # some AWS front ends capitalise it
    type_: str | None = msgspec.field(default=None, name="__type")
    code: str | None = None


_error_json = msgspec.json.Decoder(_ErrorJson)


def exception_entry(name: str | None) -> tuple[str, int, Action] | None:
    """The canonical name, status and action of an exception, in either case convention."""
    if not name:
        return None
    canonical = _BY_KEY.get(name.lower())
    if canonical is None:
        return None
    status, action = ERRORS[canonical]
    return canonical, status, action


def error_name(headers: Mapping[str, str], body: bytes) -> tuple[str | None, str]:
    """The exception name and message of an HTTP error answer.

    The name comes from ``x-amzn-ErrorType`` (the part before ``:``), else the body's ``__type``
    (after any ``#``) or ``code``; the message from the body's ``message``.
    """
    name = headers.get("x-amzn-errortype", "").split(":", 1)[0].strip() or None
    try:
        parsed = _error_json.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return name, body[:200].decode("utf-8", "replace")
    if name is None:
        raw = parsed.type_ or parsed.code
        name = raw.rsplit("#", 1)[-1].split(":", 1)[0] if raw else None
    return name, parsed.message or parsed.Message or ""
