"""Credentials of Amazon Bedrock: SigV4 over boto3's credential chain, or a Bedrock API key.

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

__all__ = ["BearerAuth", "SigV4Auth", "import_botocore", "profile_region"]

_INSTALL = 'pip install "clauderoute-bedrock"'  # boto3 is a dependency of the distribution
# botocore's ``refresh_needed`` costs ~9 µs (datetime arithmetic under its lock): a "not due" is
# trusted for this long by the clock. botocore asks for a refresh 15 minutes before expiry (10
# for the mandatory one), so a second-old "not due" is as good as a fresh one.
_RECHECK_S = 1.0


def import_botocore() -> Any:
    """``botocore.auth`` (lazily), or a ``ConfigurationError`` with the install line."""
    try:
        # lazy: only a provider that signs needs it
        import botocore.auth  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - boto3 is a declared dependency
        raise ConfigurationError(f"SigV4 signing needs botocore; install it with: {_INSTALL}") \
            from exc
    return botocore.auth


def profile_region(profile: str | None) -> str | None:
    """The region a shared-config profile names (read locally, once per provider).

    Raises:
        ConfigurationError: no such profile (botocore's ProfileNotFound, named by type).
    """
    if not profile:
        return None
    import boto3  # type: ignore[import-untyped]  # lazy

    try:
        return boto3.Session(profile_name=profile).region_name  # type: ignore[no-any-return]
    except Exception as exc:  # botocore's ProfileNotFound, its text quoting config
        what = "no such AWS profile" if type(exc).__name__ == "ProfileNotFound" else \
            "cannot read this AWS profile"
        raise ConfigurationError(f"bedrock: profile: {what} ({type(exc).__name__})") from exc


class BearerAuth(Auth):
    """A Bedrock API key (``AWS_BEARER_TOKEN_BEDROCK``) as ``Authorization: Bearer``, instead of
    SigV4 (AWS docs, "Use an Amazon Bedrock API key"; the SDK's ``api_key`` on Bedrock)."""

    kind = "api_key"

    def __init__(self, key: str) -> None:
        self._key = check_header_value(key, "api_key")

    def sign(self, request: HttpRequest) -> HttpRequest:
        request.headers["authorization"] = "Bearer " + self._key
        return request


class SigV4Auth(Auth):
    """AWS Signature Version 4 over the exact bytes sent (``SigV4Signer``; botocore resolves
    the credentials).

    Args:
        region: the signing region (``us-east-1``…).
        service: the signing name: ``bedrock`` for InvokeModel, ``bedrock-mantle`` for the
            Messages-API endpoint.
        profile: a shared-config profile for the ``boto3.Session``.
        access_key, secret_key, session_token: static keys instead of the chain.
        credentials: a botocore ``Credentials`` object (e.g. ``RefreshableCredentials``) to use
            as-is; its own refresh schedule is honoured.
        clock: seconds since the epoch, for the signature's date (tests sign in the past or
            the future).
    """

    kind = "sigv4"

    def __init__(self, *, region: str, service: str = "bedrock", profile: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 session_token: str | None = None, credentials: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        if bool(access_key) != bool(secret_key):
            raise ConfigurationError("bedrock: set both access_key and secret_key, or neither")
        self.region = region
        self.service = service
        self.profile = profile
        self.clock = clock
        self._static = (access_key, secret_key, session_token) if access_key else None
        self._source: Any = credentials  # botocore Credentials, resolved on first refresh
        self._frozen: Any = None  # botocore ReadOnlyCredentials used for signing
        self._refresh = SharedRefresh("bedrock")
        self._signers: dict[str, SigV4Signer] = {}  # by service, built once
        self._refresh_needed: Any = None  # the source's refresh_needed, if it has one
        self._not_due_at = float("-inf")  # clock() when refresh_needed last said "not due"
        self.resolutions = 0  # how many blocking resolutions/refreshes ran (for tests, metrics)

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
        # botocore's errors become CredentialsError there, named by type (their text may
        # quote the config file); the cause is chained.
        await self._refresh.run_in_thread(self._resolve)

    def credentials(self) -> Any:
        """The credentials ``refresh`` resolved (botocore ``ReadOnlyCredentials``), for another
        AWS client of the same account (the model listing's boto3 ``bedrock`` client)."""
        if self._frozen is None:
            raise ConfigurationError("no AWS credentials: refresh() was not awaited")
        return self._frozen

    def _resolve(self) -> Any:
        """Blocking: the frozen credentials (walks the chain the first time)."""
        self.resolutions += 1
        if self._source is None:
            if self._static is not None:
                import botocore.credentials  # type: ignore[import-untyped]  # lazy

                self._source = botocore.credentials.Credentials(*self._static)
            else:
                # lazy: the whole chain (env, profile, SSO, role, IMDS/ECS)
                import boto3

                session = boto3.Session(region_name=self.region, profile_name=self.profile)
                self._source = session.get_credentials()
            if self._source is None:
                raise CredentialsError(
                    "bedrock: no AWS credentials found (environment, shared config/profile, "
                    "SSO, container or instance metadata); or set api_key / "
                    "AWS_BEARER_TOKEN_BEDROCK")
        needed = getattr(self._source, "refresh_needed", None)
        self._refresh_needed = needed if callable(needed) else None
        self._not_due_at = float("-inf")  # new credentials: botocore is asked again
        # Refreshes RefreshableCredentials when due (an STS or metadata call: blocking).
        # Stored here, not by the waiter: when every caller was cancelled, the result of the
        # (uncancellable) thread still serves the next call.
        self._frozen = self._source.get_frozen_credentials()
        return self._frozen

    def sign(self, request: HttpRequest, *, service: str | None = None) -> HttpRequest:
        """Add ``Authorization``, ``X-Amz-Date`` (and ``X-Amz-Security-Token``), signing every
        header the request carries plus ``host`` taken from the URL actually used, for
        ``service`` (default: this credential's). The signature is ``SigV4Signer``'s, proven
        equal to botocore's ``SigV4Auth`` by ``tests/test_sigv4.py``."""
        frozen = self._frozen
        if frozen is None:
            raise ConfigurationError("no AWS credentials: refresh() was not awaited")
        name = service or self.service
        signer = self._signers.get(name)
        if signer is None:
            signer = self._signers[name] = SigV4Signer(self.region, name)
        request.headers = signer.sign(
            request.method, request.url, request.headers, request.body,
            access_key=frozen.access_key, secret_key=frozen.secret_key, token=frozen.token,
            now=self.clock())
        return request
