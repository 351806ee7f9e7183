"""Credentials of the Claude API: an API key (``x-api-key``) or a bearer auth token."""

from __future__ import annotations

from clauderoute.provider import Auth, HttpRequest, check_header_value

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


class BearerAuth(Auth):
    """``Authorization: Bearer <token>`` (ANTHROPIC_AUTH_TOKEN)."""

    kind = "bearer"

    def __init__(self, token: str) -> None:
        self._token = check_header_value(token, "auth_token")

    def sign(self, request: HttpRequest) -> HttpRequest:
        request.headers["authorization"] = "Bearer " + self._token
        return request
