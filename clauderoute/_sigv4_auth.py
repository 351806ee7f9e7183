"""SigV4 credentials kept fresh: the part of an ``Auth`` every SigV4-signing provider shares.

A provider says where its credentials come from (``load_credentials``: a credential chain, a
profile; run once, in a worker thread); this class keeps them, renews them when their source says
they are due (off the event loop, one renewal at a time however many calls wait:
``SharedRefresh``) and signs each request with ``SigV4Signer``.

A credential *source* is any object with ``get_frozen_credentials()``, returning an object with
``access_key``, ``secret_key`` and ``token`` (``None`` for long-term keys), and optionally
``refresh_needed()``: botocore's ``Credentials`` and ``RefreshableCredentials`` are sources as
they are, and ``StaticCredentials`` is one for fixed keys. Nothing here imports a credential
library: a provider that uses one imports it inside ``load_credentials``.

Asking a source whether it is due can be slow (botocore's ``refresh_needed`` does datetime
arithmetic under a lock, ~9 µs): a "not due" is trusted by the clock for one second. Sources that
renew ask for it minutes before expiry (botocore: 15, 10 for the mandatory renewal), so a
second-old answer is as good as a fresh one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from ._errors import ConfigurationError, CredentialsError
from ._provider import Auth, HttpRequest
from ._refresh import SharedRefresh
from ._sigv4 import SigV4Signer

__all__ = ["SigV4Auth", "StaticCredentials"]

_RECHECK_S = 1.0  # how long a source's "not due" is trusted


class StaticCredentials:
    """Fixed SigV4 keys as a credential source (its own frozen credentials); the repr shows the
    access key only.

    .. versionadded:: 0.2
    """

    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None = None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token or None

    def get_frozen_credentials(self) -> StaticCredentials:
        return self

    def __repr__(self) -> str:
        return f"<StaticCredentials access_key={self.access_key!r}>"


class SigV4Auth(Auth):
    """Signs with AWS Signature Version 4 (``SigV4Signer``) over credentials it keeps fresh.

    Subclass it, set ``platform`` and ``default_service``, and implement ``load_credentials``;
    ``credentials_error`` may translate a source's exceptions. ``refresh()`` returns at once
    while the credentials are at hand and not due, so a provider can skip awaiting it when
    ``ready()`` says so.

    Args:
        region: the signing region.
        service: the signing name (default: the class's ``default_service``; ``sign`` may name
            another per request).
        profile: a named credential profile, kept for ``load_credentials``.
        access_key, secret_key, session_token: fixed keys (``StaticCredentials``) instead of
            ``load_credentials``; both keys or neither.
        credentials: a credential source to use as it is (its own renewal schedule honoured).
        clock: seconds since the epoch, for the signature's date (tests sign in the past or the
            future) and the one-second trust in a "not due".

    Attributes:
        resolutions: how many blocking resolutions or renewals ran (for tests and metrics).

    .. versionadded:: 0.2
    """

    kind = "sigv4"
    #: The name error messages start with (``"myplatform: ..."``): a subclass names its own.
    platform: ClassVar[str] = "sigv4"
    #: The signing name used when the constructor is given none.
    default_service: ClassVar[str] = ""
    #: What the error says when ``load_credentials`` finds none (after ``"{platform}: "``).
    missing: ClassVar[str] = "no SigV4 credentials were given"

    def __init__(
        self,
        *,
        region: str,
        service: str | None = None,
        profile: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        credentials: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if bool(access_key) != bool(secret_key):
            raise ConfigurationError(
                f"{self.platform}: set both access_key and secret_key, or neither"
            )
        self.region = region
        self.service = service or self.default_service
        self.profile = profile
        self.clock = clock
        self.resolutions = 0
        if credentials is None and access_key and secret_key:
            credentials = StaticCredentials(access_key, secret_key, session_token)
        self._source: Any = credentials  # resolved on first refresh when None
        self._frozen: Any = None  # what signs: access_key, secret_key, token
        self._refresh_needed: Any = None  # the source's refresh_needed, if it has one
        self._not_due_at = float("-inf")  # clock() when refresh_needed last said "not due"
        self._refresh = SharedRefresh(self.platform)
        self._signers: dict[str, SigV4Signer] = {}  # by service, built once

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} kind='sigv4' service={self.service!r} region={self.region!r}>"
        )

    def load_credentials(self) -> Any:
        """Blocking (runs in a worker thread, once): the credential source to use when none was
        given, or ``None`` when there is none (a ``CredentialsError`` saying ``missing``)."""
        return None

    def credentials_error(self, exc: Exception) -> Exception | None:
        """The error to raise for ``exc``, raised while loading or renewing the credentials; the
        default ``None`` lets ``SharedRefresh`` name it by type."""
        return None

    def _fresh(self, grace: float = 0.0) -> bool:
        if self._frozen is None:
            return False
        needed = self._refresh_needed
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
        if self._refresh_needed is None:  # fixed keys, or a source that never renews: asked
            return self._frozen is not None  # twice per call, so without _fresh's frame
        return self._fresh()

    async def refresh(self) -> None:
        """Load the credentials, or renew them when their source says they are due; one
        resolution at a time, off the event loop."""
        if self._fresh(grace=_RECHECK_S):  # a ready() just before still holds
            return
        await self._refresh.run_in_thread(self._resolve)

    def credentials(self) -> Any:
        """The frozen credentials ``refresh`` resolved, for another client of the same account.

        Raises:
            ConfigurationError: ``refresh()`` was not awaited.
        """
        if self._frozen is None:
            raise ConfigurationError(f"{self.platform}: no credentials: refresh() was not awaited")
        return self._frozen

    def _resolve(self) -> Any:
        """Blocking: the frozen credentials (loads the source the first time). Stored here, not
        by the waiter: when every caller was cancelled, the result of the (uncancellable)
        thread still serves the next call."""
        self.resolutions += 1
        self._not_due_at = float("-inf")  # new credentials: the source is asked again
        try:
            if self._source is None:
                self._source = self.load_credentials()
                if self._source is None:
                    raise CredentialsError(f"{self.platform}: {self.missing}")
            frozen = self._source.get_frozen_credentials()  # renews a due source (blocking)
        except Exception as exc:
            error = self.credentials_error(exc)
            if error is None:
                raise
            try:
                raise error from exc
            finally:
                error = None  # (raised: its traceback keeps this frame, which must not keep it)
        needed = getattr(self._source, "refresh_needed", None)
        self._refresh_needed = needed if callable(needed) else None
        self._frozen = frozen
        return frozen

    def sign(self, request: HttpRequest, *, service: str | None = None) -> HttpRequest:
        """Add ``Authorization``, ``X-Amz-Date`` (or re-date a ``Date`` header) and, for
        temporary credentials, ``X-Amz-Security-Token``, signing every header the request
        carries plus ``host`` from the URL used, for ``service`` (default: this auth's).

        Raises:
            ConfigurationError: ``refresh()`` was not awaited.
        """
        frozen = self._frozen
        if frozen is None:
            frozen = self.credentials()  # raises: refresh() was not awaited
        name = service or self.service
        signer = self._signers.get(name)
        if signer is None:
            signer = self._signers[name] = SigV4Signer(self.region, name)
        request.headers = signer.sign(
            request.method,
            request.url,
            request.headers,
            request.body,
            access_key=frozen.access_key,
            secret_key=frozen.secret_key,
            token=frozen.token,
            now=self.clock(),
        )
        return request
