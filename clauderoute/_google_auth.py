"""Google OAuth 2 access tokens kept fresh: the part of an ``Auth`` every provider of a Google
platform shares, the token sent as ``Authorization: Bearer``.

Tokens come from google-auth, imported at the first refresh (never by importing this module):
Application Default Credentials, a key file or your own ``Credentials``, cached until ``expiry``
minus a margin, one refresh at a time for any number of waiting calls (``SharedRefresh``: a
cancelled caller does not start a second one). A token that cannot be had raises
``CredentialsError``, its message saying why without quoting google-auth's own.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar

from ._errors import ConfigurationError, CredentialsError
from ._provider import Auth, HttpRequest
from ._refresh import SharedRefresh

__all__ = ["GoogleOAuth"]

#: The OAuth scope of Google Cloud APIs (what Claude on Google's platforms is granted under).
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: Refresh this long before expiry (google-auth itself treats a token as stale 225 s early).
REFRESH_MARGIN_S = 300.0


class GoogleOAuth(Auth):
    """Tokens from google-auth, cached and refreshed before expiry.

    Subclass it and set ``platform`` (the name messages start with), ``product`` and
    ``install_hint`` (what the error says when google-auth is missing) and ``project_attrs``
    (where the project is read from credentials); or use it as it is.

    Args:
        credentials: a ``google.auth.credentials.Credentials``; default: ``credentials_file``'s.
        credentials_file: a service-account or authorized-user key file; default: ADC.
        margin_s: refresh this many seconds before the token's ``expiry``.

    Attributes:
        project: the project the credentials name, once known: given credentials' first
            non-empty ``project_attrs``; else, once loaded, the project the key file or ADC
            names, else the loaded credentials' first non-empty ``project_attrs``.
        source: where tokens come from: ``credentials``, ``credentials_file`` or ``adc``.

    .. versionadded:: 0.3
    """

    kind = "google"
    #: The name error messages and the refresh start with (``"myplatform: ..."``).
    platform: ClassVar[str] = "google"
    #: What needs google-auth, in the error when it is missing.
    product: ClassVar[str] = "Google OAuth"
    #: How to install google-auth, in the error when it is missing.
    install_hint: ClassVar[str] = 'pip install "google-auth[requests]"'
    #: The credential attributes the project is read from, the first non-empty string wins.
    project_attrs: ClassVar[tuple[str, ...]] = ("project_id",)
    #: The OAuth scope asked for when loading a key file or ADC.
    scope: ClassVar[str] = CLOUD_PLATFORM_SCOPE

    def __init__(
        self,
        *,
        credentials: Any = None,
        credentials_file: str | None = None,
        margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        self._creds = credentials
        self._file = credentials_file
        self._margin = dt.timedelta(seconds=margin_s)
        self._stale = False
        self._refresh = SharedRefresh(self.platform)
        self.project: str | None = self.project_of(credentials)
        self.source = (
            "credentials_file"
            if credentials_file
            else "adc"
            if credentials is None
            else "credentials"
        )

    @classmethod
    def project_of(cls, credentials: Any) -> str | None:
        """The project ``credentials`` name: its first ``project_attrs`` that is a non-empty
        string, else ``None``."""
        for attr in cls.project_attrs:
            value = getattr(credentials, attr, None)
            if isinstance(value, str) and value:
                return value
        return None

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
        """The platform rejected the token (revoked, rotated): refresh before the next call."""
        self._stale = True

    def _refresh_blocking(self) -> None:
        """Runs on a worker thread: google-auth's loading and refresh block on I/O."""
        p = self.platform
        try:  # lazy: google-auth and its requests transport
            import google.auth
            import requests
            from google.auth import exceptions
            from google.auth.transport.requests import Request
        except ImportError as exc:
            raise CredentialsError(
                f"{p}: {self.product} needs google-auth[requests]; install it "
                f"with: {self.install_hint}"
            ) from exc
        try:
            if self._creds is None:
                self._creds, project = self._load(google.auth)
                self.project = self.project or project or self.project_of(self._creds)
            with requests.Session() as session:  # closed after each refresh: no leaked sockets
                self._creds.refresh(Request(session))
            self._stale = False  # here, not in a waiter: a cancelled waiter loses nothing
        except exceptions.GoogleAuthError as exc:  # translated here, the cause chained
            raise self._translate(exc, exceptions) from exc

    def _translate(self, exc: Exception, exceptions: Any) -> CredentialsError:
        """A CredentialsError (the platform is unavailable; a router fails over) saying why:
        the token endpoint unreachable, no credentials, or a refresh refused."""
        p, name = self.platform, type(exc).__name__
        if isinstance(exc, (exceptions.TransportError, exceptions.TimeoutError)) or getattr(
            exc, "retryable", False
        ):
            return CredentialsError(f"{p}: could not reach the Google token endpoint ({name})")
        if isinstance(exc, exceptions.DefaultCredentialsError) and not self._file:
            return CredentialsError(
                f"{p}: no Google credentials ({name}); set access_token, "
                "credentials_file or GOOGLE_APPLICATION_CREDENTIALS"
            )
        what = "credentials_file" if self._file else "the Google credentials"
        return CredentialsError(f"{p}: no access token from {what} ({name}); see the cause")

    def _load(self, google_auth: Any) -> tuple[Any, str | None]:
        scopes = [self.scope]
        if not self._file:
            found: tuple[Any, str | None] = google_auth.default(scopes=scopes)
            return found
        # A named file: only key types we expect (google-auth deprecates loading any type).
        from google.oauth2 import credentials, service_account

        try:
            with open(self._file, encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, ValueError) as exc:
            raise CredentialsError(
                f"{self.platform}: cannot read credentials_file ({type(exc).__name__})"
            ) from exc
        loaders: dict[str, Any] = {
            "service_account": service_account.Credentials.from_service_account_info,
            "authorized_user": credentials.Credentials.from_authorized_user_info,
        }
        kind = info.get("type") if isinstance(info, dict) else None
        if kind not in loaders:
            raise CredentialsError(
                f"{self.platform}: credentials_file must be a service_account or authorized_user "
                f"key, not {str(kind)[:40]!r}; name other kinds in GOOGLE_APPLICATION_CREDENTIALS"
            )
        return loaders[kind](info, scopes=scopes), info.get("project_id")

    def sign(self, request: HttpRequest) -> HttpRequest:
        if not getattr(self._creds, "token", None):
            raise ConfigurationError(f"{self.platform}: no access token: refresh() was not awaited")
        request.headers["authorization"] = "Bearer " + self._creds.token
        return request

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kind={self.kind!r} source={self.source!r}>"
