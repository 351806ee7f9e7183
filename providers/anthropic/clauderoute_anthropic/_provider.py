"""The direct Claude API (api.anthropic.com): the reference shape the other platforms adapt."""

from __future__ import annotations

import os
from typing import Any

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
    Provider,
    SSEEventDecoder,
    StreamDecoder,
    claude_api_request,
    claude_resource_request,
)

from ._auth import ApiKeyAuth, BearerAuth

__all__ = ["AnthropicProvider"]

DEFAULT_BASE_URL = "https://api.anthropic.com"


class AnthropicProvider(Provider):
    """The Claude API.

    Args:
        api_key: sent as ``x-api-key``; default ``ANTHROPIC_API_KEY``.
        auth_token: sent as ``Authorization: Bearer``; default ``ANTHROPIC_AUTH_TOKEN``. Used only
            when there is no API key.
        base_url: the API root; default ``ANTHROPIC_BASE_URL`` or ``https://api.anthropic.com``.
        **kwargs: the settings every provider takes (see ``Provider``).

    Raises:
        ConfigurationError: neither an API key nor an auth token is available.
    """

    platform = "anthropic"
    genai_provider_name = "anthropic"
    default_version = "2023-06-01"
    request_id_header = "request-id"
    # Claude docs, API overview, "Request size limits": 32 MB for Messages and Token Counting,
    # 256 MB for Batches, 500 MB for Files; Models, Batches, Files and Skills are offered here only.
    capabilities = Capabilities(
        operations=frozenset({CREATE, STREAM, COUNT_TOKENS, FILE_REFERENCE, SKILL_REFERENCE,
                              *ROUTES}),
        max_body_bytes={CREATE: 32 * MB, STREAM: 32 * MB, COUNT_TOKENS: 32 * MB,
                        BATCHES_CREATE: 256 * MB, FILES_UPLOAD: 500 * MB},
    )
    #: Requests per Message Batch.
    max_batch_requests = 100_000

    #: ``prepare`` only builds and signs with a static key or token: it never suspends, so the
    #: router arms no timeout around it (read with ``getattr``: a provider without it may block).
    prepare_may_block = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "prepare" in cls.__dict__ and "prepare_may_block" not in cls.__dict__:
            cls.prepare_may_block = True  # a new ``prepare`` promises nothing until it says so

    def __init__(self, *, api_key: str | None = None, auth_token: str | None = None,
                 base_url: str | None = None, **kwargs: Any) -> None:
        base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        super().__init__(base_url=base_url, **kwargs)
        if not api_key and not auth_token:  # an explicit credential is total, as in the SDK
            api_key = os.environ.get("ANTHROPIC_API_KEY")
            auth_token = None if api_key else os.environ.get("ANTHROPIC_AUTH_TOKEN")
        if api_key:
            self.auth = ApiKeyAuth(api_key)
        elif auth_token:
            self.auth = BearerAuth(auth_token)
        else:
            raise ConfigurationError(
                f"provider {self.name!r}: no credential; set api_key (or ANTHROPIC_API_KEY) "
                "or auth_token (or ANTHROPIC_AUTH_TOKEN)"
            )

    async def prepare(self, call: Call) -> HttpRequest:
        """``POST {base}/v1/messages`` (or ``/count_tokens``, or a resource's method and path)
        with the key or token."""
        if call.operation in ROUTES:
            root = self.base_url or DEFAULT_BASE_URL
            return self.auth.sign(claude_resource_request(root, call, self.anthropic_version))
        model = self.model_id(call.params["model"])
        req = claude_api_request(self.base_url or DEFAULT_BASE_URL, call, model,
                                 self.anthropic_version)
        return self.auth.sign(req)

    def stream_decoder(self, call: Call) -> StreamDecoder:
        """SSE carrying the Claude API's events."""
        return SSEEventDecoder(self.name)
