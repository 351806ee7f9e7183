"""Claude in Microsoft Foundry (Azure AI Foundry): the Claude API behind an Azure front door.

Requests, SSE streams and model errors are the Claude API's, at
``https://{resource}.services.ai.azure.com/anthropic``; what differs is the credential (an Azure
API key or a Microsoft Entra ID token), the model (the customer's *deployment name*), the
request id (``apim-request-id`` from Azure API Management) and the errors the Azure front door
answers itself before a request reaches the model, in Azure's own JSON shape.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from clauderoute import provider as E
from clauderoute.provider import (
    COUNT_TOKENS,
    CREATE,
    EVENT_ERROR_STATUS,
    MB,
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
)

from ._auth import ENTRA_SCOPE, ApiKeyAuth, EntraAuth, default_credential

__all__ = ["FoundryProvider"]

# An Azure resource name is a DNS label (it becomes the host name's first part).
_RESOURCE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})")


def resource_url(resource: str) -> str:
    """The Anthropic endpoint root of a Foundry resource (the SDK's ``lib/foundry.py``)."""
    return f"https://{resource}.services.ai.azure.com/anthropic"


class _ErrorBody(msgspec.Struct):
    # Claude API: {"type": "error", "error": {"type", "message"}, "request_id"}.
    # Azure front door: {"error": {"code", "message"}} (Cognitive Services / API Management).
    type: str | None = None
    code: str | int | None = None
    message: str = ""


class _Error(msgspec.Struct):
    error: _ErrorBody | None = None
    request_id: str | None = None
    # API Management's own rejections of bearer tokens: {"statusCode": 401, "message": ...}.
    statusCode: int | None = None
    message: str | None = None


_error_decoder = msgspec.json.Decoder(_Error)


class FoundryProvider(Provider):
    """Claude in Microsoft Foundry.

    Args:
        resource: the Foundry resource name; the endpoint is
            ``https://{resource}.services.ai.azure.com/anthropic``. Default
            ``ANTHROPIC_FOUNDRY_RESOURCE``.
        base_url: the ``.../anthropic`` root instead of ``resource`` (a private endpoint, a
            gateway, an emulator). Default ``ANTHROPIC_FOUNDRY_BASE_URL``.
        api_key: the resource's API key; default ``ANTHROPIC_FOUNDRY_API_KEY``.
        entra: ``True`` to authenticate with Microsoft Entra ID through azure-identity's
            ``DefaultAzureCredential`` (``pip install "clauderoute-foundry[entra]"``).
        credential: an Entra ``TokenCredential`` / ``AsyncTokenCredential``, or a callable
            returning a token (as the SDK's ``azure_ad_token_provider``); implies Entra.
        entra_scope: the Entra token scope (default ``https://ai.azure.com/.default``).
        genai_provider_name: the OpenTelemetry ``gen_ai.provider.name`` value (Foundry has no
            well-known one; default ``azure.ai.foundry``).
        **kwargs: the settings every provider takes (see ``Provider``); ``models`` maps
            canonical names to deployment names, which by convention are the canonical names.

    Raises:
        ConfigurationError: no endpoint or no credential, both ``resource`` and ``base_url``,
            both an API key and Entra, a malformed resource name, or ``entra`` without
            azure-identity installed.

    .. versionadded:: 0.1
    """

    platform = "foundry"
    genai_provider_name = "azure.ai.foundry"  # no well-known GenAI value: ours, configurable
    default_version = "2023-06-01"  # the value in the Claude docs' Foundry examples
    # Claude docs, "Correlation request IDs": Foundry sends `apim-request-id` (Azure API
    # Management) and `request-id` (Anthropic); the front door's own errors carry only the first.
    request_id_header = "apim-request-id"
    # The Claude API's 32 MB limit (body and errors are the Claude API's). Token
    # counting is served: the Claude docs' list of features Foundry lacks does not name it.
    capabilities = Capabilities(
        operations=frozenset({CREATE, STREAM, COUNT_TOKENS}),
        max_body_bytes={CREATE: 32 * MB, STREAM: 32 * MB, COUNT_TOKENS: 32 * MB},
    )

    def __init__(self, *, resource: str | None = None, base_url: str | None = None,
                 api_key: str | None = None, entra: bool = False, credential: Any = None,
                 entra_scope: str = ENTRA_SCOPE, genai_provider_name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(base_url=self._endpoint(resource, base_url), **kwargs)
        if genai_provider_name:
            self.genai_provider_name = genai_provider_name  # type: ignore[misc]
        self.auth = self._credential(api_key, entra, credential, entra_scope)

    def _endpoint(self, resource: str | None, base_url: str | None) -> str:
        # As the SDK: the arguments first, then ANTHROPIC_FOUNDRY_BASE_URL / _RESOURCE.
        if resource and base_url:
            raise ConfigurationError("foundry: set either resource or base_url, not both")
        if not base_url and not resource:
            base_url = os.environ.get("ANTHROPIC_FOUNDRY_BASE_URL")
            resource = None if base_url else os.environ.get("ANTHROPIC_FOUNDRY_RESOURCE")
        if base_url:
            return base_url
        if not resource:
            raise ConfigurationError(
                "foundry: no endpoint; set resource (or ANTHROPIC_FOUNDRY_RESOURCE), the Foundry "
                "resource name, or base_url (or ANTHROPIC_FOUNDRY_BASE_URL)")
        if not _RESOURCE.fullmatch(resource):
            raise ConfigurationError(
                f"foundry: resource must be the resource name (a DNS label such as "
                f"'my-resource'), not {resource[:80]!r}; use base_url for a full URL")
        return resource_url(resource)

    def _credential(self, api_key: str | None, entra: bool, credential: Any,
                    scope: str) -> ApiKeyAuth | EntraAuth:
        if api_key and (entra or credential is not None):
            raise ConfigurationError(
                f"provider {self.name!r}: set either api_key or entra/credential, not both")
        if credential is not None:
            return EntraAuth(credential, scope=scope)
        if entra:
            return EntraAuth(default_credential(), scope=scope)
        api_key = api_key or os.environ.get("ANTHROPIC_FOUNDRY_API_KEY")
        if not api_key:
            raise ConfigurationError(
                f"provider {self.name!r}: no credential; set api_key (or "
                "ANTHROPIC_FOUNDRY_API_KEY), or entra = true for Microsoft Entra ID")
        return ApiKeyAuth(api_key)

    async def prepare(self, call: Call) -> HttpRequest:
        """``POST {base}/v1/messages`` (or ``/count_tokens``); the model is the deployment name,
        the body otherwise the Claude API's."""
        await self.auth.refresh()
        req = claude_api_request(self.base_url or "", call, self.model_id(call.params["model"]),
                                 self.anthropic_version)
        return self.auth.sign(req)

    def stream_decoder(self, call: Call) -> StreamDecoder:
        """SSE carrying the Claude API's events."""
        return SSEEventDecoder(self.name)

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        """``apim-request-id``, else Anthropic's ``request-id``."""
        return headers.get("apim-request-id") or headers.get("request-id")

    def error_from_response(self, response: HttpResponse) -> E.APIStatusError:
        """Map an error answer, in the Claude API's shape or the Azure front door's."""
        h, status = response.headers, response.status
        rid = self.request_id(h)
        if status == 401 and isinstance(self.auth, EntraAuth):
            # A rejected (revoked, early-expired) token is not reused: the next call fetches a new
            # one, as the SDK's token cache does after a 401 (anthropic/lib/credentials/_cache.py).
            self.auth.invalidate()
        try:
            body = _error_decoder.decode(response.body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            text = response.body[:200].decode("utf-8", "replace") or f"HTTP {status}"
            return self.status_error(status, text, None, rid, h)
        err = body.error
        if err is not None and err.type is not None:  # the Claude API's shape
            return self.status_error(status, err.message, err.type, rid or body.request_id, h)
        if err is not None:  # Azure's shape: the code is "401", "DeploymentNotFound"…
            code = None if err.code is None else str(err.code)
            return self.status_error(status, err.message, code, rid, h)
        code = None if body.statusCode is None else str(body.statusCode)
        return self.status_error(status, body.message or f"HTTP {status}", code, rid, h)

    def error_from_event(self, event: ErrorEvent, headers: Mapping[str, str]
                         ) -> E.APIStatusError:
        """An in-stream ``error`` event, with Foundry's request id."""
        status = EVENT_ERROR_STATUS.get(event.error.type, 500)
        return self.status_error(status, event.error.message, event.error.type,
                                 self.request_id(headers), {})
