"""Claude on Google Cloud (Anthropic managed): the Claude API, run by Anthropic, reached through
Google Cloud.

The whole first-party API is proxied verbatim under a gateway root derived from the project, the
location and the workspace — ``https://claude.googleapis.com/v1/projects/{project}/locations/
{location}/workspaces/{workspace_id}/invoke`` (SDK 2.17 anthropic/lib/google_cloud/_client.py:
32-38) — so paths, bodies, SSE streams, model ids and model errors are the Claude API's. The
credential is a Google OAuth access token. Google's front end answers its own rejections
(token, project, path) in Google's shape, ``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote

import msgspec

from clauderoute import provider as E
from clauderoute.provider import (
    BATCHES_CREATE,
    COUNT_TOKENS,
    CREATE,
    FILE_REFERENCE,
    FILES_UPLOAD,
    MB,
    ROUTES,
    SKILL_REFERENCE,
    STREAM,
    Call,
    Capabilities,
    ConfigurationError,
    HttpRequest,
    HttpResponse,
    Provider,
    SSEEventDecoder,
    StreamDecoder,
    claude_api_request,
    claude_resource_request,
    resolve_model,
)

from ._auth import AccessTokenAuth, GoogleAuth

__all__ = ["ORIGIN", "GoogleCloudProvider", "google_cloud_base_url"]

#: The gateway's origin (SDK 2.17 anthropic/lib/google_cloud/_client.py:32).
ORIGIN = "https://claude.googleapis.com"
DEFAULT_LOCATION = "global"  # the SDK's default (_client.py:59)
#: The catalog column whose ids this platform takes: the Claude API's (first-party ids; the
#: SDK's README for lib/google_cloud: "the same first-party identifiers").
CLAUDE_API_IDS = "anthropic"
# '.' or '..', literal or percent-encoded: refused as a path segment, as the SDK's path_template
# refuses it (anthropic/_utils/_path.py:11 and :113-124).
_DOT_SEGMENT = re.compile(r"(?:\.|%2[eE]){1,2}")


def _given(value: str | None, *names: str) -> str | None:
    """``value`` if given (even empty), else the first environment variable set."""
    for name in names:
        if value is not None:
            break
        value = os.environ.get(name)
    return value


def _segment(name: str, value: str) -> str:
    """``value`` as one path segment, quoted as the SDK's ``path_template`` quotes it (RFC 3986
    pchar stays, ``/`` is encoded); empty and dot segments are refused as the SDK refuses them."""
    if not value:
        raise ConfigurationError(f"google-cloud: {name} must not be empty")
    try:
        quoted = quote(value, safe="!$&'()*+,;=:@")
    except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 for it
        raise ConfigurationError(f"google-cloud: {name} is not valid text") from exc
    if _DOT_SEGMENT.fullmatch(quoted.partition(";")[0]) or quoted.startswith(";"):
        raise ConfigurationError(f"google-cloud: {name} {value[:40]!r} is not a usable path "
                                 "segment")
    return quoted


def google_cloud_base_url(project: str, location: str, workspace_id: str) -> str:
    """The gateway root of a workspace, derived as the SDK derives it (``derived_url``)."""
    return (f"{ORIGIN}/v1/projects/{_segment('project', project)}/locations/"
            f"{_segment('location', location)}/workspaces/"
            f"{_segment('workspace_id', workspace_id)}/invoke")


class _ErrorBody(msgspec.Struct):
    # Claude API: {"type": "error", "error": {"type", "message"}, "request_id"}.
    # Google front end: {"error": {"code": 401, "message", "status": "UNAUTHENTICATED"}}.
    type: str | None = None
    status: str | None = None
    code: int | str | None = None
    message: str = ""


class _Error(msgspec.Struct):
    error: _ErrorBody | None = None
    request_id: str | None = None


# Google's streaming methods may wrap the error object in a one-element JSON array.
_error_decoder = msgspec.json.Decoder(_Error | list[_Error])


class GoogleCloudProvider(Provider):
    """Claude on Google Cloud (Anthropic managed).

    Args:
        project: the Google Cloud project; default ``ANTHROPIC_GOOGLE_CLOUD_PROJECT``, else
            ``GOOGLE_CLOUD_PROJECT``, else the one the Google credentials name (known on the
            first call for Application Default Credentials), as the SDK resolves it.
        location: the location; default ``ANTHROPIC_GOOGLE_CLOUD_LOCATION``, else ``global``.
        workspace_id: the workspace in the path; default ``ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID``.
            Required unless ``base_url`` is given.
        access_token: an OAuth access token to send as-is (never refreshed); without it,
            tokens come from google-auth.
        credentials_file: a Google credentials JSON file (e.g. a service-account key) instead of
            Application Default Credentials.
        credentials: a ``google.auth.credentials.Credentials`` object (Python only).
        base_url: the gateway root instead of the derived one (a proxy, an emulator); default
            ``ANTHROPIC_GOOGLE_CLOUD_BASE_URL``.
        genai_provider_name: the OpenTelemetry ``gen_ai.provider.name`` value (no well-known
            one exists; default ``gcp.claude``).
        **kwargs: the settings every provider takes (see ``Provider``).

    Raises:
        ConfigurationError: no workspace (and no base_url); more than one credential; an
            ``access_token`` with no project (nothing else could name it); a project, location
            or workspace that is empty or a dot segment.

    .. versionadded:: 0.2
    """

    platform = "google-cloud"
    # No well-known value (OpenTelemetry GenAI registry); cloud.service as gcp.vertex_ai does.
    genai_provider_name = "gcp.claude"
    default_version = "2023-06-01"  # the Claude API's; the gateway passes the header through
    request_id_header = "request-id"  # the Claude API's, passed through
    # The Claude API's limits and its whole API (SDK README for lib/google_cloud: "the full
    # Anthropic API — Messages, Models, Batches, Files, Admin, and every beta surface").
    capabilities = Capabilities(
        operations=frozenset({CREATE, STREAM, COUNT_TOKENS, FILE_REFERENCE, SKILL_REFERENCE,
                              *ROUTES}),
        max_body_bytes={CREATE: 32 * MB, STREAM: 32 * MB, COUNT_TOKENS: 32 * MB,
                        BATCHES_CREATE: 256 * MB, FILES_UPLOAD: 500 * MB},
    )
    #: Requests per Message Batch (the Claude API's).
    max_batch_requests = 100_000

    def __init__(self, *, project: str | None = None, location: str | None = None,
                 workspace_id: str | None = None, access_token: str | None = None,
                 credentials_file: str | None = None, credentials: Any = None,
                 base_url: str | None = None, genai_provider_name: str | None = None,
                 **kwargs: Any) -> None:
        # As the SDK (_client.py:302-325): a setting given, even empty, wins over the
        # environment; an empty one is then refused when the root is derived, as it refuses it.
        location = _given(location, "ANTHROPIC_GOOGLE_CLOUD_LOCATION")
        location = DEFAULT_LOCATION if location is None else location
        workspace_id = _given(workspace_id, "ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID")
        base_url = _given(base_url, "ANTHROPIC_GOOGLE_CLOUD_BASE_URL")
        super().__init__(base_url=base_url, **kwargs)
        self.region = location  # for tracing's cloud.region
        self.location, self.workspace_id = location, workspace_id
        if genai_provider_name:
            self.genai_provider_name = genai_provider_name  # type: ignore[misc]
        self.auth = self._credential(access_token, credentials_file, credentials)
        project = _given(project, "ANTHROPIC_GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT")
        self.project = project if project is not None else getattr(self.auth, "project", None)
        if self.base_url is None:
            self._check_derivable()
        self.prepare_may_block = isinstance(self.auth, GoogleAuth)
        self._ids: dict[str, str] = {}

    def _check_derivable(self) -> None:
        if self.workspace_id is None:  # the SDK refuses a workspace route without one (:142)
            raise ConfigurationError(
                f"provider {self.name!r}: no workspace; set workspace_id (or "
                "ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID), or base_url")
        if self.project is not None:
            self.base_url = google_cloud_base_url(self.project, self.location, self.workspace_id)
        elif isinstance(self.auth, AccessTokenAuth):
            raise ConfigurationError(
                f"provider {self.name!r}: no project; set project (or "
                "ANTHROPIC_GOOGLE_CLOUD_PROJECT): an access token does not name one")
        else:  # Google credentials may name it: derived on the first call (as the SDK)
            _segment("location", self.location)
            _segment("workspace_id", self.workspace_id)

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
        return (f"<GoogleCloudProvider name={self.name!r} project={self.project!r} "
                f"location={self.location!r} workspace_id={self.workspace_id!r}>")

    def model_id(self, model: str) -> str:
        """Config ``models``, else the catalog's Claude API id (the platform takes first-party
        ids), else the name as given."""
        found = self.models.get(model) or self._ids.get(model)
        if found is None:
            if len(self._ids) >= 256:  # callers may send arbitrary names
                self._ids.clear()
            found = self._ids[model] = resolve_model(CLAUDE_API_IDS, model)
        return found

    # --- request side ---------------------------------------------------------------------------

    def _root(self) -> str:
        """The gateway root; derived once the credentials have named the project."""
        if self.base_url is None:
            if self.project is None:
                self.project = getattr(self.auth, "project", None)
            if self.project is None:
                raise ConfigurationError(
                    f"provider {self.name!r}: no project; set project (or "
                    "ANTHROPIC_GOOGLE_CLOUD_PROJECT): the Google credentials name none")
            self.base_url = google_cloud_base_url(self.project, self.location,
                                                  self.workspace_id or "")
        return self.base_url

    async def prepare(self, call: Call) -> HttpRequest:
        """The Claude API's request for ``call`` under the workspace's gateway root, with the
        access token."""
        await self.auth.refresh()
        root = self._root()
        if call.operation in ROUTES:
            req = claude_resource_request(root, call, self.anthropic_version)
        else:
            req = claude_api_request(root, call, self.model_id(call.params["model"]),
                                     self.anthropic_version)
        return self.auth.sign(req)

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
