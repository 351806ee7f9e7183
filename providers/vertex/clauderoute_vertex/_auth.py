"""Credentials of Claude on Vertex AI: an OAuth 2 access token, sent as ``Authorization: Bearer``.

Tokens come from google-auth (imported at the first refresh): Application Default Credentials, a
key file or your own ``Credentials``, cached until ``expiry`` minus a margin, one refresh at a time
for any number of waiting calls (``SharedRefresh``: a cancelled caller does not start a second
one); or a token you supply is used as-is. A token that cannot be had raises ``CredentialsError``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from clauderoute.provider import (
    Auth,
    ConfigurationError,
    CredentialsError,
    HttpRequest,
    SharedRefresh,
    check_header_value,
)

__all__ = ["CLOUD_PLATFORM_SCOPE", "AccessTokenAuth", "GoogleAuth"]

#: The OAuth scope Vertex AI needs (the SDK's lib/_extras).
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: Refresh this long before expiry (google-auth itself treats a token as stale 225 s early).
REFRESH_MARGIN_S = 300.0


class AccessTokenAuth(Auth):
    """A ready OAuth access token (``access_token`` setting), used as given, never refreshed."""

    kind = "access_token"

    def __init__(self, token: str) -> None:
        self._token = check_header_value(token, "access_token")

    def sign(self, request: HttpRequest) -> HttpRequest:
        request.headers["authorization"] = "Bearer " + self._token
        return request


class GoogleAuth(Auth):
    """Tokens from google-auth, cached and refreshed before expiry.

    Args:
        credentials: a ``google.auth.credentials.Credentials``; default: ``credentials_file``'s.
        credentials_file: a service-account or authorized-user key file; default: ADC.
        margin_s: refresh this many seconds before the token's ``expiry``.

    Attributes:
        project: the project the loaded credentials belong to, once loaded (or ``None``).
        source: where tokens come from: ``credentials``, ``credentials_file`` or ``adc``.
    """

    kind = "google"

    def __init__(self, *, credentials: Any = None, credentials_file: str | None = None,
                 margin_s: float = REFRESH_MARGIN_S) -> None:
        self._creds = credentials
        self._file = credentials_file
        self._margin = dt.timedelta(seconds=margin_s)
        self._stale = False
        self._refresh = SharedRefresh("vertex")
        self.project: str | None = getattr(credentials, "project_id", None)
        self.source = ("credentials_file" if credentials_file
                       else "adc" if credentials is None else "credentials")

    def _fresh(self) -> bool:
        creds = self._creds
        if creds is None or self._stale or not getattr(creds, "token", None):
            return False
        expiry = creds.expiry  # google-auth: a naive UTC datetime, or None (never expires)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return expiry is None or now < expiry - self._margin

    async def refresh(self) -> None:
        """Load the credentials and refresh the token if needed: one at a time, off the loop."""
        if self._fresh():
            return
        await self._refresh.run_in_thread(self._refresh_blocking)

    def invalidate(self) -> None:
        """Vertex rejected the token (revoked, rotated): refresh before the next call."""
        self._stale = True

    def _refresh_blocking(self) -> None:
        """Runs on a worker thread: google-auth's loading and refresh block on I/O."""
        try:  # lazy: google-auth and its requests transport
            import google.auth
            import requests
            from google.auth import exceptions
            from google.auth.transport.requests import Request
        except ImportError as exc:
            raise CredentialsError("vertex: Vertex AI needs google-auth[requests]; install it with: "
                                     'pip install "clauderoute[vertex]"') from exc
        try:
            if self._creds is None:
                self._creds, self.project = self._load(google.auth)
            with requests.Session() as session:  # closed after each refresh: no leaked sockets
                self._creds.refresh(Request(session))
            self._stale = False  # here, not in a waiter: a cancelled waiter loses nothing
        except exceptions.GoogleAuthError as exc:  # translated here, the cause chained
            raise self._translate(exc, exceptions) from exc

    def _translate(self, exc: Exception, exceptions: Any) -> CredentialsError:
        """A CredentialsError (the platform is unavailable; a router fails over) saying why:
        the token endpoint unreachable, no credentials, or a refresh refused."""
        name = type(exc).__name__
        if isinstance(exc, (exceptions.TransportError, exceptions.TimeoutError)) or getattr(
                exc, "retryable", False):
            return CredentialsError(
                f"vertex: could not reach the Google token endpoint ({name})")
        if isinstance(exc, exceptions.DefaultCredentialsError) and not self._file:
            return CredentialsError(f"vertex: no Google credentials ({name}); set access_token, "
                                      "credentials_file or GOOGLE_APPLICATION_CREDENTIALS")
        what = "credentials_file" if self._file else "the Google credentials"
        return CredentialsError(f"vertex: no access token from {what} ({name}); see the cause")

    def _load(self, google_auth: Any) -> tuple[Any, str | None]:
        scopes = [CLOUD_PLATFORM_SCOPE]
        if not self._file:
            found: tuple[Any, str | None] = google_auth.default(scopes=scopes)
            return found
        # A named file: only key types we expect (google-auth deprecates loading any type).
        from google.oauth2 import credentials, service_account

        try:
            with open(self._file, encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, ValueError) as exc:
            raise CredentialsError(f"vertex: cannot read credentials_file "
                                     f"({type(exc).__name__})") from exc
        loaders: dict[str, Any] = {
            "service_account": service_account.Credentials.from_service_account_info,
            "authorized_user": credentials.Credentials.from_authorized_user_info}
        kind = info.get("type") if isinstance(info, dict) else None
        if kind not in loaders:
            raise CredentialsError(
                f"vertex: credentials_file must be a service_account or authorized_user key, "
                f"not {str(kind)[:40]!r}; name other kinds in GOOGLE_APPLICATION_CREDENTIALS")
        return loaders[kind](info, scopes=scopes), info.get("project_id")

    def sign(self, request: HttpRequest) -> HttpRequest:
        if not getattr(self._creds, "token", None):
            raise ConfigurationError("vertex: no access token: refresh() was not awaited")
        request.headers["authorization"] = "Bearer " + self._creds.token
        return request

    def __repr__(self) -> str:
        return f"<GoogleAuth kind={self.kind!r} source={self.source!r}>"
