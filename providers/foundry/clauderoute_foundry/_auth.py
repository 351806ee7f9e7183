"""Credentials of Claude in Microsoft Foundry: an Azure API key, or a Microsoft Entra ID token.

Entra tokens come from azure-identity (the ``[entra]`` extra), a user's ``TokenCredential``
(sync or async, azure-core's documented extension point) or a plain token-provider callable such
as ``azure.identity.get_bearer_token_provider(...)``. A token is cached until ``expires_on`` minus
a margin; however many calls find it stale, one fetch runs and the others wait for it
(``SharedRefresh``: a cancelled caller does not start a second one). A fetch that fails raises
``CredentialsError``.
"""

from __future__ import annotations

# asyncio only for the token fetch: to_thread so that a synchronous credential's network round
# trip does not block the event loop.
import asyncio
import base64
import inspect
import json
import time
from typing import Any

from clauderoute.provider import (
    Auth,
    ConfigurationError,
    CredentialsError,
    HttpRequest,
    SharedRefresh,
    check_header_value,
)

__all__ = ["ENTRA_SCOPE", "ApiKeyAuth", "EntraAuth", "default_credential"]

#: Token scope of the Foundry data plane (Claude docs, "Microsoft Entra authentication":
#: ``az account get-access-token --resource https://ai.azure.com``).
ENTRA_SCOPE = "https://ai.azure.com/.default"
#: Refresh this long before expiry (azure-core's BearerTokenCredentialPolicy uses 300 s too).
REFRESH_MARGIN_S = 300.0


class ApiKeyAuth(Auth):
    """The resource's API key in ``api-key`` and ``x-api-key``.

    Foundry takes either header (Claude docs, "API key authentication"); SDK 2.13 sends both,
    ``x-api-key`` as the one the endpoint authenticates with and ``api-key`` for compatibility
    (anthropic/lib/foundry.py), and so do we, so our requests match the SDK's.
    """

    kind = "api_key"

    def __init__(self, key: str) -> None:
        self._key = check_header_value(key, "api_key")

    def sign(self, request: HttpRequest) -> HttpRequest:
        request.headers["api-key"] = self._key
        request.headers["x-api-key"] = self._key
        return request


def default_credential() -> Any:
    """azure-identity's ``DefaultAzureCredential`` (env, workload/managed identity, Azure CLI…).

    Raises:
        ConfigurationError: azure-identity is not installed; the message has the pip line.
    """
    try:
        from azure.identity import DefaultAzureCredential  # lazy: an optional dependency
    except ImportError as exc:
        raise ConfigurationError(
            "entra = true needs azure-identity; install it with: "
            'pip install "clauderoute-foundry[entra]"'
        ) from exc
    return DefaultAzureCredential()


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (Entra tokens are JWTs), read without verifying it."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class EntraAuth(Auth):
    """``Authorization: Bearer <Entra ID token>``, cached and refreshed before expiry.

    Args:
        source: a ``TokenCredential`` or ``AsyncTokenCredential`` (anything with
            ``get_token(scope)`` returning ``.token`` and ``.expires_on``), or a callable
            returning the token (or an awaitable of it). A callable's token is reused until
            its JWT ``exp``; a token with no readable expiry is asked for on every call.
        scope: the token scope.
        margin_s: refresh this many seconds before ``expires_on``.
    """

    kind = "entra"

    def __init__(self, source: Any, *, scope: str = ENTRA_SCOPE,
                 margin_s: float = REFRESH_MARGIN_S) -> None:
        self._source = source
        self._scope = scope
        self._margin = margin_s
        self._token: str | None = None
        self._expires = 0.0
        self._refresh = SharedRefresh("foundry")

    def _fresh(self) -> bool:
        return self._token is not None and time.time() < self._expires - self._margin

    async def refresh(self) -> None:
        """Fetch a token if none is cached or it is near expiry; one fetch at a time."""
        if self._fresh():
            return
        await self._refresh.run(self._fetch_and_store)

    async def _fetch_and_store(self) -> None:
        """The shared fetch: stores the token itself, so that it serves the next call even when
        every caller that waited for it was cancelled."""
        try:
            token, expires = await self._fetch()
        except Exception as exc:  # azure-identity's errors, translated at this boundary
            raise CredentialsError(
                f"foundry: could not get a Microsoft Entra ID token for {self._scope} "
                f"({type(exc).__name__}); see the chained exception") from exc
        if not isinstance(token, str) or not token:
            raise CredentialsError("foundry: the Entra credential returned no token string")
        self._token = token
        self._expires = expires if expires is not None else _jwt_expiry(token) or 0.0

    def invalidate(self) -> None:
        """Forget the cached token's freshness (the platform rejected it): fetch anew next time."""
        self._expires = 0.0

    async def _fetch(self) -> tuple[Any, float | None]:
        get_token = getattr(self._source, "get_token", None)
        if get_token is not None:
            if inspect.iscoroutinefunction(get_token):
                access = await get_token(self._scope)
            else:
                access = await asyncio.to_thread(get_token, self._scope)
            return access.token, float(access.expires_on)
        if inspect.iscoroutinefunction(self._source):
            return await self._source(), None
        token = await asyncio.to_thread(self._source)
        return (await token if inspect.isawaitable(token) else token), None

    def sign(self, request: HttpRequest) -> HttpRequest:
        if self._token is None:
            raise ConfigurationError("no Entra ID token: refresh() was not awaited")
        request.headers["authorization"] = "Bearer " + self._token
        return request
