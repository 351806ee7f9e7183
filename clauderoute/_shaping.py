"""Request-body helpers shared by providers: one JSON encoder, and the Claude API's request shape
(used as-is by the direct API, Foundry and Bedrock's Messages-API endpoint)."""

from __future__ import annotations

from typing import Any

import msgspec

from ._provider import COUNT_TOKENS, STREAM, Call, HttpRequest
from .types._content import UnknownBlock
from .types._stream import UnknownDelta, UnknownEvent

__all__ = ["claude_api_request", "encode_body", "json_headers"]


def _enc_hook(obj: Any) -> Any:
    # Unknown blocks/events go back on the wire exactly as they came.
    if isinstance(obj, (UnknownBlock, UnknownDelta, UnknownEvent)):
        return obj.data
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
encode_body = _encoder.encode

#: Paths of the Claude API's operations (relative to the API root).
PATHS = {COUNT_TOKENS: "/v1/messages/count_tokens"}


def json_headers(version: str | None, betas: tuple[str, ...]) -> dict[str, str]:
    """``content-type``/``accept`` plus ``anthropic-version`` and ``anthropic-beta``."""
    headers = {"accept": "application/json", "content-type": "application/json"}
    if version:
        headers["anthropic-version"] = version
    if betas:
        headers["anthropic-beta"] = ",".join(betas)
    return headers


def claude_api_request(root: str, call: Call, model: str, version: str | None) -> HttpRequest:
    """The Claude API's ``POST /v1/messages[/count_tokens]`` for ``call`` (unsigned).

    The body is the caller's params with ``model`` replaced by the platform id; a stream adds
    ``"stream": true`` (the SDK sends no ``stream`` key for a plain create).
    """
    body = dict(call.params)
    body["model"] = model
    if call.operation == STREAM:
        body["stream"] = True
    else:
        body.pop("stream", None)
    headers = json_headers(version, call.betas)
    if call.extra_headers:
        headers.update(call.extra_headers)
    path = PATHS.get(call.operation, "/v1/messages")
    return HttpRequest("POST", root + path, headers, encode_body(body))
