"""Claude on Google Vertex AI: the Messages API served as a Vertex publisher model.

Bodies, SSE streams and model errors are the Claude API's; what differs (Claude docs,
"Claude on Vertex AI") is that the model goes in the URL
(``.../publishers/anthropic/models/{model}:rawPredict`` or ``:streamRawPredict``) and out of the
body, the version goes *in the body* as ``anthropic_version``, the credential is a Google OAuth
access token, and errors come in two shapes: Google's front end answers auth, quota, routing and
availability failures itself (``{"error": {"code", "message", "status"}}``), while errors of the
model behind it pass through in the Claude API's shape.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote

import msgspec

from clauderoute import provider as E
from clauderoute.provider import (
    COUNT_TOKENS,
    CREATE,
    MB,
    STREAM,
    Call,
    Capabilities,
    CapabilityError,
    ConfigurationError,
    HttpRequest,
    HttpResponse,
    Provider,
    SSEEventDecoder,
    StreamDecoder,
    encode_body,
    json_headers,
    model_facts,
)

from ._auth import AccessTokenAuth, GoogleAuth

__all__ = ["VertexProvider", "vertex_base_url"]

# A region is a DNS label fragment: it becomes part of the host name ("us-east5-aiplatform…").
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Multi-region endpoints (the SDK's lib/vertex/_client.py).
_SPECIAL_HOSTS = {
    "global": "https://aiplatform.googleapis.com/v1",
    "us": "https://aiplatform.us.rep.googleapis.com/v1",
    "eu": "https://aiplatform.eu.rep.googleapis.com/v1",
}


def vertex_base_url(region: str) -> str:
    """The ``.../v1`` root that serves ``region``."""
    return _SPECIAL_HOSTS.get(region) or f"https://{region}-aiplatform.googleapis.com/v1"


def _segment(value: str) -> str:
    # One path segment, percent-encoded as the SDK does (RFC 3986 pchar stays; `;` is encoded
    # because some servers drop a segment's `;…` tail, and with it the `:rawPredict` verb).
    return quote(value, safe="!$&'()*+,=:@")


class _ErrorBody(msgspec.Struct):
    # Claude API: {"type": "error", "error": {"type", "message"}, "request_id"}.
    # Google front end: {"error": {"code": 429, "message", "status": "RESOURCE_EXHAUSTED"}}.
    type: str | None = None
    status: str | None = None
    code: int | str | None = None
    message: str = ""


class _Error(msgspec.Struct):
    error: _ErrorBody | None = None
    request_id: str | None = None


# Google's streaming methods may wrap the error object in a one-element JSON array.
_error_decoder = msgspec.json.Decoder(_Error | list[_Error])


class VertexProvider(Provider):
    """Claude on Google Vertex AI.

    Args:
        project: the Google Cloud project id; default ``ANTHROPIC_VERTEX_PROJECT_ID``, else the
            project the Google credentials belong to.
        region: the Vertex location (``global``, ``us``, ``eu``, ``us-east5``…); default
            ``CLOUD_ML_REGION``.
        access_token: an OAuth access token to send as-is (never refreshed); without it,
            tokens come from google-auth.
        credentials_file: a Google credentials JSON file (e.g. a service-account key) instead of
            Application Default Credentials.
        credentials: a ``google.auth.credentials.Credentials`` object (Python only).
        base_url: the ``.../v1`` root instead of the region's endpoint (a private endpoint, a
            gateway, an emulator); default ``ANTHROPIC_VERTEX_BASE_URL``.
        **kwargs: the settings every provider takes (see ``Provider``).

    Raises:
        ConfigurationError: no region or a malformed one; more than one credential; an
            ``access_token`` with no project (nothing else could name it).

    .. versionadded:: 0.1
    """

    platform = "vertex"
    genai_provider_name = "gcp.vertex_ai"  # OpenTelemetry GenAI well-known value
    # Claude docs, "Claude on Vertex AI": anthropic_version goes in the body, this value.
    default_version = "vertex-2023-10-16"
    # Vertex passes the Claude API's `request-id` header through (ids look like req_vrtx_…;
    # message ids like msg_vrtx_…); the front end's own errors carry none.
    request_id_header = "request-id"
    # The Claude API's 32 MB limit: Vertex's own 413 says "The maximum request size is 32 MB"
    # (anthropics/anthropic-sdk-python#1028). No Batches, Files, Skills or Models API here.
    capabilities = Capabilities(
        operations=frozenset({CREATE, STREAM, COUNT_TOKENS}),
        max_body_bytes={CREATE: 32 * MB, STREAM: 32 * MB, COUNT_TOKENS: 32 * MB},
    )

    def __init__(self, *, project: str | None = None, region: str | None = None,
                 access_token: str | None = None, credentials_file: str | None = None,
                 credentials: Any = None, base_url: str | None = None,
                 **kwargs: Any) -> None:
        region = region or os.environ.get("CLOUD_ML_REGION")
        if not region:
            raise ConfigurationError(
                "vertex: no region; set region (or CLOUD_ML_REGION), e.g. 'global' or "
                "'us-east5'")
        if not _REGION.fullmatch(region):
            raise ConfigurationError(
                f"vertex: region must be a Vertex location such as 'us-east5', not "
                f"{region[:80]!r}; use base_url for a full URL")
        base_url = base_url or os.environ.get("ANTHROPIC_VERTEX_BASE_URL")
        super().__init__(base_url=base_url or vertex_base_url(region), **kwargs)
        self.region = region
        self.project = project or os.environ.get("ANTHROPIC_VERTEX_PROJECT_ID")
        self.auth = self._credential(access_token, credentials_file, credentials)
        if not self.project and isinstance(self.auth, AccessTokenAuth):
            raise ConfigurationError(
                f"provider {self.name!r}: no project; set project (or "
                "ANTHROPIC_VERTEX_PROJECT_ID): an access token does not name one")

    def _credential(self, access_token: str | None, credentials_file: str | None,
                    credentials: Any) -> AccessTokenAuth | GoogleAuth:
        given = [k for k, v in (("access_token", access_token),
                                ("credentials_file", credentials_file),
                                ("credentials", credentials)) if v]
        if len(given) > 1:
            raise ConfigurationError(
                f"provider {self.name!r}: set only one of {', '.join(given)}")
        if access_token:
            return AccessTokenAuth(access_token)
        return GoogleAuth(credentials=credentials, credentials_file=credentials_file)

    def __repr__(self) -> str:
        return (f"<VertexProvider name={self.name!r} project={self.project!r} "
                f"region={self.region!r} base_url={self.base_url!r}>")

    # --- request side ---------------------------------------------------------------------------

    def cannot_serve(self, call: Call) -> str | None:
        """A catalog model whose known Vertex locations exclude the configured region."""
        model = str(call.params.get("model", ""))
        facts = None if model in self.models else model_facts(model)
        locations = (facts or {}).get("vertex_locations")
        if locations is not None and self.region not in locations:
            return (f"model {model} is not offered in Vertex region {self.region} "
                    f"(the catalog lists {', '.join(locations)})")
        return None

    def _project(self) -> str:
        project = self.project or getattr(self.auth, "project", None)
        if not project:
            raise ConfigurationError(
                f"provider {self.name!r}: no project; set project (or "
                "ANTHROPIC_VERTEX_PROJECT_ID): the Google credentials name none")
        return str(project)

    async def prepare(self, call: Call) -> HttpRequest:
        """``POST {base}/projects/{project}/locations/{region}/publishers/anthropic/models/
        {model}:rawPredict`` (``:streamRawPredict``, or ``count-tokens:rawPredict``).

        Raises:
            CapabilityError: the operation is not served, or the catalog says the model is not
                offered in the configured region (before any network call).
            ConfigurationError: no project could be found, or no Google credentials.
        """
        why = self.capabilities.missing(call) or self.cannot_serve(call)
        if why is not None:
            raise CapabilityError(f"provider {self.name!r}: {why}", platform=self.name)
        await self.auth.refresh()
        model = self.model_id(call.params["model"])
        body = dict(call.params)
        if call.operation == COUNT_TOKENS:
            # count-tokens is one endpoint for every model: the body keeps `model` (as the
            # SDK's lib/vertex/_client.py sends it).
            body["model"] = model
            target = "count-tokens:rawPredict"
        else:
            del body["model"]  # Vertex: the model goes in the URL, not the body (Claude docs)
            if call.operation == STREAM:
                body["stream"] = True  # selects SSE, as on the Claude API
                target = _segment(model) + ":streamRawPredict"
            else:
                body.pop("stream", None)
                target = _segment(model) + ":rawPredict"
        # The version goes in the body (Claude docs); a caller's extra_body value wins, as in
        # the SDK (setdefault).
        body.setdefault("anthropic_version", self.anthropic_version)
        url = (f"{self.base_url}/projects/{_segment(self._project())}/locations/"
               f"{_segment(self.region or '')}/publishers/anthropic/models/{target}")
        headers = json_headers(None, call.betas)  # betas: `anthropic-beta`, as the Claude API
        if call.extra_headers:
            headers.update(call.extra_headers)
        return self.auth.sign(HttpRequest("POST", url, headers, encode_body(body)))

    def stream_decoder(self, call: Call) -> StreamDecoder:
        """SSE carrying the Claude API's events."""
        return SSEEventDecoder(self.name)

    # --- answer side ----------------------------------------------------------------------------

    def error_from_response(self, response: HttpResponse) -> E.APIStatusError:
        """Map an error answer, in Google's front-end shape or the Claude API's."""
        h, status = response.headers, response.status
        rid = h.get(self.request_id_header)
        if status == 401 and isinstance(self.auth, GoogleAuth):
            # A rejected token is not reused until its expiry: the next call refreshes first.
            self.auth.invalidate()
        try:
            decoded = _error_decoder.decode(response.body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            text = response.body[:200].decode("utf-8", "replace") or f"HTTP {status}"
            return self.status_error(status, text, None, rid, h)
        body = (decoded[0] if decoded else _Error()) if isinstance(decoded, list) else decoded
        err = body.error or _ErrorBody(message=f"HTTP {status}")
        # error_type: the Claude type (overloaded_error…) or Google's status (UNAVAILABLE…).
        return self.status_error(status, err.message or f"HTTP {status}",
                                 err.type or err.status, rid or body.request_id, h)
