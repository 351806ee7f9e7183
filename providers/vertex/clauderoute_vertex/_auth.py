"""Credentials of Claude on Vertex AI: an OAuth 2 access token, sent as ``Authorization: Bearer``.

The token comes from google-auth (imported only when a token is first needed): Application Default
Credentials (the GOOGLE_APPLICATION_CREDENTIALS file, gcloud's user credentials, the metadata
server), a credentials file such as a service-account key, or a ``Credentials`` object of your
own; or it is a token you supply as-is. google-auth tokens are cached until ``expiry`` minus a
margin; however many calls find the token stale, one refresh runs and the others wait for it.
"""

from __future__ import annotations

# asyncio only for the token refresh: a Lock so that one refresh runs however many calls wait,
# and to_thread so that google-auth's blocking HTTP round trip does not stall the event loop.
import asyncio
import datetime as dt
from typing import Any

from clauderoute._errors import ConfigurationError, ConnectError
from clauderoute._provider import Auth, HttpRequest

__all__ = ["CLOUD_PLATFORM_SCOPE", "AccessTokenAuth", "GoogleAuth"]

#: The OAuth scope Vertex AI needs (PLATFORMS.md §Google Vertex AI; the SDK's lib/_extras).
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: Refresh this long before expiry (google-auth itself treats a token as stale 225 s early).
REFRESH_MARGIN_S = 300.0
_PIP = 'install it with: pip install "clauderoute[vertex]"'


class AccessTokenAuth(Auth):
    """A ready OAuth access token (``access_token`` setting), used as given, never refreshed."""

    kind = "access_token"

    def __init__(self, token: str) -> None:
        self._token = token

    def sign(self, request: HttpRequest) -> HttpRequest:
        request.headers["authorization"] = "Bearer " + self._token
        return request


class GoogleAuth(Auth):
    """Tokens from google-auth, cached and refreshed before expiry.

    Args:
        credentials: a ``google.auth.credentials.Credentials`` (google-auth's extension point);
            default: loaded from ``credentials_file``, else Application Default Credentials.
        credentials_file: a credentials JSON file (service-account key, authorized user…).
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
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.project: str | None = getattr(credentials, "project_id", None)
        self.source = ("credentials_file" if credentials_file
                       else "adc" if credentials is None else "credentials")

    def _fresh(self) -> bool:
        creds = self._creds
        if creds is None or self._stale or not getattr(creds, "token", None):
            return False
        expiry = creds.expiry  # google-auth: a naive UTC datetime, or None (never expires)
        if expiry is None:
            return True
        now = dt.datetime.now(dt.UTC)
        return (now if expiry.tzinfo else now.replace(tzinfo=None)) < expiry - self._margin

    async def refresh(self) -> None:
        """Load the credentials if needed and refresh the token if it is missing or near
        expiry; one refresh at a time, off the event loop."""
        if self._fresh():
            return
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:  # a Lock belongs to one loop
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            if self._fresh():  # another call refreshed it while this one waited
                return
            await asyncio.to_thread(self._refresh_blocking)
            self._stale = False

    def invalidate(self) -> None:
        """Vertex rejected the token (revoked, rotated): refresh before the next call."""
        self._stale = True

    def _refresh_blocking(self) -> None:
        """Runs on a worker thread: google-auth's loading and refresh block on I/O."""
        try:
            import google.auth
            import google.auth.credentials
            import requests
            from google.auth import exceptions
            from google.auth.transport.requests import Request
        except ImportError as exc:  # lazy: google-auth and its requests transport
            raise ConfigurationError(f"Vertex AI needs google-auth[requests]; {_PIP}") from exc
        try:
            if self._creds is None:
                self._creds, self.project = self._load(google.auth)
            # A key loaded without scopes (service account) must be given the Vertex scope.
            self._creds = google.auth.credentials.with_scopes_if_required(
                self._creds, [CLOUD_PLATFORM_SCOPE])
            with requests.Session() as session:  # closed after each refresh: no leaked sockets
                self._creds.refresh(Request(session))
        except exceptions.GoogleAuthError as exc:  # translated here, the cause chained
            raise self._translate(exc, exceptions) from exc

    def _translate(self, exc: Exception, exceptions: Any) -> Exception:
        """google-auth's error as ours: unreachable or retryable -> ConnectError (fail over),
        anything else -> ConfigurationError. Only the type is quoted (no server text)."""
        name = type(exc).__name__
        if isinstance(exc, (exceptions.TransportError, exceptions.TimeoutError)) or getattr(
                exc, "retryable", False):
            return ConnectError(f"could not get a Google access token ({name}), retryable")
        if isinstance(exc, exceptions.DefaultCredentialsError) and not self._file:
            return ConfigurationError(
                "vertex: no Google credentials found; set access_token or credentials_file, "
                "set GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default "
                f"login` ({name})")
        what = "credentials_file" if self._file else "the Google credentials"
        return ConfigurationError(f"vertex: could not get an access token from {what} "
                                  f"({name}); see the chained exception")

    def _load(self, google_auth: Any) -> tuple[Any, str | None]:
        scopes = [CLOUD_PLATFORM_SCOPE]
        if self._file:
            return google_auth.load_credentials_from_file(self._file, scopes=scopes)
        return google_auth.default(scopes=scopes)

    def sign(self, request: HttpRequest) -> HttpRequest:
        token = getattr(self._creds, "token", None)
        if not token:
            raise ConfigurationError("vertex: no access token: refresh() was not awaited")
        request.headers["authorization"] = "Bearer " + token
        return request

    def __repr__(self) -> str:
        return f"<GoogleAuth kind={self.kind!r} source={self.source!r}>"
