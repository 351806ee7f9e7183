"""Credentials of Claude Platform on AWS: SigV4 over boto3's credential chain, or an API key.

boto3 and botocore are imported here, lazily, when credentials are first resolved or a request is
signed — never when clauderoute or this package is imported. Resolving the chain (a profile file,
SSO, an assumed role, container or instance metadata) and refreshing temporary credentials can
block on the network, so it runs in a worker thread; however many calls find the credentials
missing or stale, one resolution runs and the others wait for it (``SharedRefresh``: a cancelled
caller does not start a second one). A resolution that fails raises ``CredentialsError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from clauderoute.provider import (
    Auth,
    ConfigurationError,
    CredentialsError,
    HttpRequest,
    SharedRefresh,
    check_header_value,
)

from ._sigv4 import SigV4Signer

__all__ = ["SERVICE", "ApiKeyAuth", "SigV4Auth"]

#: The SigV4 signing name (SDK 2.17 anthropic/lib/aws/_client.py:176 and :401; AWS user guide,
#: "Making requests": ``--aws-sigv4 "aws:amz:us-west-2:aws-external-anthropic"``).
SERVICE = "aws-external-anthropic"
# Headers this signer sets itself: a caller's copy would be signed, then replaced.
_OWN = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})
# botocore's ``refresh_needed`` costs ~9 µs (datetime arithmetic under its lock): a "not due" is
# trusted for this long by the clock. botocore asks for a refresh 15 minutes before expiry (10
# for the mandatory one), so a second-old "not due" is as good as a fresh one.
_RECHECK_S = 1.0


class ApiKeyAuth(Auth):
    """A Claude Platform on AWS API key as ``Authorization: Bearer`` (AWS user guide,
    "Authentication": "The Anthropic SDK sends the key as a bearer token"; SDK 2.17
    anthropic/_client.py:354-358 builds that header from ``api_key``)."""

    kind = "api_key"

    def __init__(self, key: str) -> None:
        self._key = check_header_value(key, "api_key")

    def sign(self, request: HttpRequest) -> HttpRequest:
        request.headers["authorization"] = "Bearer " + self._key
        return request


class SigV4Auth(Auth):
    """AWS Signature Version 4 over the exact bytes sent, for the service
    ``aws-external-anthropic`` (``SigV4Signer``; botocore resolves the credentials).

    Args:
        region: the signing region (``us-west-2``…).
        profile: a shared-config profile for the ``boto3.Session``.
        access_key, secret_key, session_token: static keys instead of the chain.
        credentials: a botocore ``Credentials`` object (e.g. ``RefreshableCredentials``) to use
            as-is; its own refresh schedule is honoured.
        clock: seconds since the epoch, for the signature's date (tests sign in the past).

    Attributes:
        resolutions: how many blocking resolutions or refreshes ran.
    """

    kind = "sigv4"

    def __init__(self, *, region: str, profile: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 session_token: str | None = None, credentials: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.region = region
        self.service = SERVICE
        self.profile = profile
        self.clock = clock
        self._static = (access_key, secret_key, session_token) if access_key else None
        self._source: Any = credentials  # botocore Credentials, resolved on first refresh
        self._frozen: Any = None  # botocore ReadOnlyCredentials used for signing
        self._refresh = SharedRefresh("aws")
        self._signer = SigV4Signer(region, SERVICE)
        self._not_due_at = float("-inf")  # clock() when refresh_needed last said "not due"
        self._refresh_needed: Any = None  # the source's refresh_needed, if it has one
        self.resolutions = 0

    def __repr__(self) -> str:
        return f"<SigV4Auth kind='sigv4' service={self.service!r} region={self.region!r}>"

    def _fresh(self, grace: float = 0.0) -> bool:
        if self._frozen is None:
            return False
        needed = self._refresh_needed  # RefreshableCredentials only
        if needed is None:
            return True
        now = self.clock()
        if 0.0 <= now - self._not_due_at < _RECHECK_S + grace:
            return True
        if needed():
            return False
        self._not_due_at = now
        return True

    def ready(self) -> bool:
        """Whether credentials are at hand and not due for renewal: ``refresh()`` would return
        without waiting. A "yes" holds for ``refresh()`` for at least one more second, so the
        provider can promise a ``prepare`` that will not wait (and is not timed)."""
        return self._fresh()

    async def refresh(self) -> None:
        """Resolve the credential chain, or renew temporary credentials when botocore says they
        are near expiry; one resolution at a time, off the event loop."""
        if self._fresh(grace=_RECHECK_S):  # a ready() just before still holds
            return
        await self._refresh.run_in_thread(self._resolve)

    def _resolve(self) -> Any:
        """Blocking: the frozen credentials (walks the chain the first time)."""
        self.resolutions += 1
        self._not_due_at = float("-inf")  # new credentials: botocore is asked again
        try:
            frozen = self._frozen_credentials()
            needed = getattr(self._source, "refresh_needed", None)  # read once, not per call
            self._refresh_needed = needed if callable(needed) else None
            self._frozen = frozen
        except CredentialsError:
            raise
        except Exception as exc:  # botocore's errors, translated at this boundary
            raise _translate(exc) from exc
        return self._frozen

    def _frozen_credentials(self) -> Any:
        if self._source is None:
            if self._static is not None:
                from botocore.credentials import Credentials  # type: ignore[import-untyped]

                self._source = Credentials(*self._static)
            else:
                import boto3  # type: ignore[import-untyped]  # lazy: the whole chain

                session = boto3.Session(region_name=self.region, profile_name=self.profile)
                self._source = session.get_credentials()
            if self._source is None:
                raise CredentialsError(
                    "aws: no AWS credentials found (environment, shared config/profile, SSO, "
                    "web identity, container or instance metadata); or set api_key / "
                    "ANTHROPIC_AWS_API_KEY")
        # Refreshes RefreshableCredentials when due (an STS or metadata call: blocking).
        return self._source.get_frozen_credentials()

    def sign(self, request: HttpRequest) -> HttpRequest:
        """Add ``X-Amz-Date``, ``X-Amz-Security-Token`` (temporary keys) and ``Authorization``,
        signing every header the request carries plus ``host`` from the URL actually used.

        The signature is ``SigV4Signer``'s (``hmac``/``hashlib``; proven equal to botocore's
        ``SigV4Auth`` by the Bedrock package's ``tests/test_sigv4.py``). It logs nothing:
        botocore's ``add_auth`` logs the canonical request (the session token in it) and the
        signature at DEBUG level, which an application's debug logs must never carry.
        """
        frozen = self._frozen
        if frozen is None:
            raise ConfigurationError("aws: no AWS credentials: refresh() was not awaited")
        # A caller's X-Amz-Date or token would be signed, then replaced: dropped first.
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _OWN}
        request.headers = self._signer.sign(
            request.method, request.url, headers, request.body, access_key=frozen.access_key,
            secret_key=frozen.secret_key, token=frozen.token, now=self.clock())
        return request


def _translate(exc: Exception) -> CredentialsError:
    """A CredentialsError (the platform is unavailable; a router fails over) saying whether a
    credential endpoint (STS, SSO, metadata) was unreachable or the chain failed otherwise (a
    missing profile, a failing credential_process…). The type is named, the text (which may
    quote config) is not."""
    from botocore import exceptions  # type: ignore[import-untyped]

    name = type(exc).__name__
    if isinstance(exc, (exceptions.ConnectionError, exceptions.HTTPClientError)):
        return CredentialsError(f"aws: could not reach an AWS credential endpoint ({name})")
    return CredentialsError(f"aws: could not resolve AWS credentials ({name}); see the "
                            "chained exception")
