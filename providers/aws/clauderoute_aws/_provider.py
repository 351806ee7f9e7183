"""Claude Platform on AWS: the Claude API, run by Anthropic, reached through AWS.

Paths, bodies, SSE streams, errors and model ids are the Claude API's (AWS user guide, "Making
requests": "the same API surface as the Claude first-party platform"), and so is the whole API —
Messages, token counting, Models, Message Batches, Files and Skills. What differs is the host
(``https://aws-external-anthropic.{region}.api.aws``), the credential (SigV4 for the service
``aws-external-anthropic``, or an API key sent as a bearer token) and the
``anthropic-workspace-id`` header every request carries.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

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
    ErrorEvent,
    HttpRequest,
    HttpResponse,
    Provider,
    SSEEventDecoder,
    StreamDecoder,
    claude_api_request,
    claude_resource_request,
    resolve_model,
)

from ._auth import ApiKeyAuth, SigV4Auth

__all__ = ["AWSProvider", "aws_base_url"]

# A region is a DNS label fragment ("us-west-2"): it becomes part of the host name.
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A header value: visible ASCII only (a line break would end the header).
_WORKSPACE = re.compile(r"[\x21-\x7e]{1,200}")
#: The catalog column whose ids this platform takes: the Claude API's (first-party ids; AWS user
#: guide, "Making requests": ``"model": "claude-sonnet-4-6"``).
CLAUDE_API_IDS = "anthropic"


def aws_base_url(region: str) -> str:
    """The regional endpoint (SDK 2.17 anthropic/lib/aws/_credentials.py:185)."""
    return f"https://aws-external-anthropic.{region}.api.aws"


def _env(*names: str) -> str | None:
    for name in names:  # the first variable set wins, as the SDK's _read_env
        value = os.environ.get(name)
        if value is not None:
            return value
    return None


class _ErrorBody(msgspec.Struct):
    type: str | None = None
    message: str = ""


class _Error(msgspec.Struct):
    # Claude API: {"type": "error", "error": {"type", "message"}, "request_id"}. An AWS front
    # end answers {"message": ...} (or {"Message": ...}) with x-amzn-ErrorType instead.
    error: _ErrorBody | None = None
    request_id: str | None = None
    message: str | None = None
    Message: str | None = None


_error_decoder = msgspec.json.Decoder(_Error)


class AWSProvider(Provider):
    """Claude Platform on AWS.

    Args:
        region: the AWS region; default ``AWS_REGION``, else ``AWS_DEFAULT_REGION`` (never a
            silent default, as the SDK). Needed for SigV4 and to derive the endpoint.
        workspace_id: the workspace every request targets (``anthropic-workspace-id``);
            default ``ANTHROPIC_AWS_WORKSPACE_ID``. Required.
        profile: a shared-config profile to sign with (SigV4).
        api_key: an API key, sent as ``Authorization: Bearer``; default
            ``ANTHROPIC_AWS_API_KEY`` unless AWS keys, a profile or ``credentials`` are given.
        access_key, secret_key, session_token: static AWS keys to sign with.
        credentials: a botocore ``Credentials`` object (e.g. ``RefreshableCredentials``).
        base_url: the API root instead of ``https://aws-external-anthropic.{region}.api.aws``
            (a gateway, an emulator); default ``ANTHROPIC_AWS_BASE_URL``. Signatures cover the
            host actually used.
        genai_provider_name: the OpenTelemetry ``gen_ai.provider.name`` value (no well-known
            one exists; default ``aws.claude_platform``).
        **kwargs: the settings every provider takes (see ``Provider``).

    Raises:
        ConfigurationError: no workspace, no region for SigV4 or for the endpoint, a malformed
            region or workspace id, one of access_key/secret_key without the other, or an API
            key together with AWS credentials.

    .. versionadded:: 0.2
    """

    platform = "aws"
    # No well-known value (OpenTelemetry GenAI registry); cloud.service as aws.bedrock does.
    genai_provider_name = "aws.claude_platform"
    default_version = "2023-06-01"  # the AWS user guide's example ("Making requests")
    request_id_header = "request-id"  # the Claude API's, passed through
    # The Claude API's limits and its whole API (Claude docs, "Claude Platform on AWS": "the
    # full Anthropic platform experience").
    capabilities = Capabilities(
        operations=frozenset({CREATE, STREAM, COUNT_TOKENS, FILE_REFERENCE, SKILL_REFERENCE,
                              *ROUTES}),
        max_body_bytes={CREATE: 32 * MB, STREAM: 32 * MB, COUNT_TOKENS: 32 * MB,
                        BATCHES_CREATE: 256 * MB, FILES_UPLOAD: 500 * MB},
    )
    #: Requests per Message Batch (the Claude API's).
    max_batch_requests = 100_000

    def __init__(self, *, region: str | None = None, workspace_id: str | None = None,
                 profile: str | None = None, api_key: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 session_token: str | None = None, credentials: Any = None,
                 base_url: str | None = None, genai_provider_name: str | None = None,
                 **kwargs: Any) -> None:
        region = region or _env("AWS_REGION", "AWS_DEFAULT_REGION")
        if region is not None and not _REGION.fullmatch(region):
            raise ConfigurationError(f"aws: region must be an AWS region such as 'us-west-2', "
                                     f"not {region[:80]!r}; use base_url for a full URL")
        base_url = base_url or _env("ANTHROPIC_AWS_BASE_URL") or (
            aws_base_url(region) if region else None)
        if base_url is None:
            raise ConfigurationError("aws: no region; set region (or AWS_REGION / "
                                     "AWS_DEFAULT_REGION), or base_url")
        super().__init__(base_url=base_url, **kwargs)
        self.region = region
        if genai_provider_name:
            self.genai_provider_name = genai_provider_name  # type: ignore[misc]
        self.workspace_id = self._workspace(workspace_id)
        self.auth = self._credential(api_key, profile, access_key, secret_key, session_token,
                                     credentials)
        sigv4 = isinstance(self.auth, SigV4Auth)
        #: SigV4 covers the body's hash, so uploads are handed over as bytes (read by the
        #: resources layer with ``getattr``); with an API key they stream.
        self.signs_body = sigv4
        self._ids: dict[str, str] = {}

    @property
    def prepare_may_block(self) -> bool:
        """Whether ``prepare`` may wait (and so is timed; read by the router with ``getattr``):
        only to resolve or renew SigV4 credentials. An API key never waits, nor do SigV4
        credentials at hand and not due (``SigV4Auth.ready``): those calls skip the timer."""
        return isinstance(self.auth, SigV4Auth) and not self.auth.ready()

    def _workspace(self, workspace_id: str | None) -> str:
        workspace_id = workspace_id or _env("ANTHROPIC_AWS_WORKSPACE_ID")
        if not workspace_id:  # the SDK refuses to build a client without one (_client.py:95)
            raise ConfigurationError(f"provider {self.name!r}: no workspace; set workspace_id "
                                     "(or ANTHROPIC_AWS_WORKSPACE_ID), e.g. 'wrkspc_01…'")
        if not _WORKSPACE.fullmatch(workspace_id):
            raise ConfigurationError(f"provider {self.name!r}: workspace_id must be a workspace "
                                     f"id such as 'wrkspc_01AbCd', not {workspace_id[:40]!r}")
        return workspace_id

    def _credential(self, api_key: str | None, profile: str | None, access_key: str | None,
                    secret_key: str | None, session_token: str | None,
                    credentials: Any) -> ApiKeyAuth | SigV4Auth:
        # The SDK's precedence (anthropic/lib/aws/_credentials.py:103-134): an api_key argument,
        # then AWS keys, then a profile, then ANTHROPIC_AWS_API_KEY, then boto3's chain.
        if bool(access_key) != bool(secret_key):
            raise ConfigurationError(f"provider {self.name!r}: set both access_key and "
                                     "secret_key, or neither (to use the AWS credential chain)")
        aws = bool(access_key or profile or credentials is not None)
        if api_key and aws:
            raise ConfigurationError(
                f"provider {self.name!r}: set either api_key or AWS credentials, not both")
        api_key = api_key or (None if aws else _env("ANTHROPIC_AWS_API_KEY"))
        if api_key:
            return ApiKeyAuth(api_key)
        if self.region is None:  # the SDK: "No AWS region was provided" (_client.py:79)
            raise ConfigurationError(f"provider {self.name!r}: SigV4 needs a region; set "
                                     "region (or AWS_REGION / AWS_DEFAULT_REGION)")
        return SigV4Auth(region=self.region, profile=profile, access_key=access_key,
                         secret_key=secret_key, session_token=session_token,
                         credentials=credentials)

    def __repr__(self) -> str:
        return (f"<AWSProvider name={self.name!r} region={self.region!r} "
                f"workspace_id={self.workspace_id!r} auth={self.auth.kind!r}>")

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

    async def prepare(self, call: Call) -> HttpRequest:
        """The Claude API's request for ``call`` under this endpoint, with the workspace header,
        signed (SigV4 over the exact body) or carrying the API key."""
        auth = self.auth  # an API key, or SigV4 credentials not due: nothing to await
        if isinstance(auth, SigV4Auth) and not auth.ready():
            await auth.refresh()
        root = self.base_url or ""
        if call.operation in ROUTES:
            req = claude_resource_request(root, call, self.anthropic_version)
        else:
            req = claude_api_request(root, call, self.model_id(call.params["model"]),
                                     self.anthropic_version)
        # Every request names its workspace (AWS user guide, "Making requests"); the client's
        # wins over a per-call header, as in the SDK (_base_client.py:2951).
        req.headers["anthropic-workspace-id"] = self.workspace_id
        return self.auth.sign(req)

    def stream_decoder(self, call: Call) -> StreamDecoder:
        """SSE carrying the Claude API's events."""
        return SSEEventDecoder(self.name)

    # --- answer side ----------------------------------------------------------------------------

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        """Anthropic's ``request-id``, else the AWS front end's ``x-amzn-requestid``."""
        return headers.get("request-id") or headers.get("x-amzn-requestid")

    def error_from_response(self, response: HttpResponse) -> E.APIStatusError:
        """Map an error answer: the Claude API's shape, or an AWS front end's
        (``x-amzn-ErrorType`` and ``{"message"}``), by HTTP status."""
        h, status = response.headers, response.status
        rid = self.request_id(h)
        try:
            body = _error_decoder.decode(response.body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            text = response.body[:200].decode("utf-8", "replace") or f"HTTP {status}"
            return self.status_error(status, text, None, rid, h)
        if body.error is not None:
            return self.status_error(status, body.error.message, body.error.type,
                                     rid or body.request_id, h)
        # AWS's rest-json errors: "ThrottlingException:http://internal.amazon.com/…".
        name = h.get("x-amzn-errortype", "").partition(":")[0] or None
        message = body.message or body.Message or f"HTTP {status}"
        return self.status_error(status, message, name, rid, h)

    def error_from_event(self, event: ErrorEvent, headers: Mapping[str, str]
                         ) -> E.APIStatusError:
        """An in-stream ``error`` event, with this platform's request id."""
        status = E.EVENT_ERROR_STATUS.get(event.error.type, 500)
        return self.status_error(status, event.error.message, event.error.type,
                                 self.request_id(headers), {})
