"""Request-body helpers shared by providers: one JSON encoder, and the Claude API's request shape
(used as-is by the direct API, Foundry and Bedrock's Messages-API endpoint)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import msgspec

from ._operations import ROUTES
from ._provider import COUNT_TOKENS, STREAM, Call, HttpRequest
from .types._content import UnknownBlock
from .types._stream import UnknownDelta, UnknownEvent

__all__ = ["claude_api_request", "claude_resource_request", "encode_body", "json_headers"]


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
    body = call.params
    if call.operation == STREAM:
        body = {**body, "model": model, "stream": True}
    elif "stream" in body or body.get("model") != model:  # else sent as it is: no copy
        body = dict(body)
        body["model"] = model
        body.pop("stream", None)
    headers = json_headers(version, call.betas)
    if call.extra_headers:
        headers.update(call.extra_headers)
    path = PATHS.get(call.operation, "/v1/messages")
    return HttpRequest("POST", root + path, headers, encode_body(body))


def claude_resource_request(root: str, call: Call, version: str | None) -> HttpRequest:
    """The Claude API's request for a resource operation (models, batches, files, skills):
    method and path from ``ROUTES``, path values from ``params["path"]``, the query string from
    ``params["query"]`` and a JSON body from ``params["body"]`` (unsigned). Uploads carry their
    multipart ``content-type`` in ``extra_headers`` and stream their body separately, or, for a
    provider that signs the body (``signs_body``), arrive whole as ``params["content"]``."""
    method, template, _beta = ROUTES[call.operation]
    values = {k: quote(str(v), safe="") for k, v in call.params.get("path", {}).items()}
    url = root + template.format(**values)
    query = {k: ("true" if v is True else "false" if v is False else v)
             for k, v in (call.params.get("query") or {}).items()}
    if query:
        url += "?" + urlencode(query, doseq=True)
    headers = json_headers(version, call.betas)
    body, content = call.params.get("body"), call.params.get("content")
    if body is None:
        del headers["content-type"]
    if call.extra_headers:
        headers.update(call.extra_headers)
    data = encode_body(body) if body is not None else content or b""
    return HttpRequest(method, url, headers, data)
