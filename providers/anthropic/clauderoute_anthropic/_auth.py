"""Credentials of the Claude API: an API key (``x-api-key``) or a bearer auth token."""

from __future__ import annotations

from clauderoute.provider import Auth, BearerToken, HttpRequest, check_header_value

__all__ = ["ApiKeyAuth", "BearerAuth"]


class ApiKeyAuth(Auth):
    """``x-api-key: <key>``, the header the Claude API documentation names."""

    kind = "api_key"

    def __init__(self, key: str, header: str = "x-api-key") -> None:
        self._key = check_header_value(key, "api_key")
        self._header = header

    def sign(self, request: HttpRequest) -> HttpRequest:
        request.headers[self._header] = self._key
        return request


class BearerAuth(BearerToken):
    """``Authorization: Bearer <token>`` (ANTHROPIC_AUTH_TOKEN)."""

    kind = "bearer"
    setting = "auth_token"
