"""Credentials of Amazon Bedrock: SigV4 over boto3's credential chain, or a Bedrock API key.

boto3 and botocore are imported here, lazily, when credentials are first resolved or a request is
signed — never when clauderoute or this package is imported. Resolving the chain (a profile file,
SSO, an assumed role, container or instance metadata) and refreshing temporary credentials can
block on the network, so it runs in a worker thread; however many calls find the credentials
missing or stale, one resolution runs and the others wait for it (``SharedRefresh``: a cancelled
caller does not start a second one). A resolution that fails raises ``CredentialsError``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clauderoute.provider import (
    Auth,
    ConfigurationError,
    CredentialsError,
    HttpRequest,
    SharedRefresh,
    check_header_value,
)

__all__ = ["BearerAuth", "SigV4Auth", "import_botocore", "profile_region"]

_INSTALL = 'pip install "clauderoute-bedrock"'  # boto3 is a dependency of the distribution


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
    """AWS Signature Version 4 with botocore's signer, over the exact bytes sent.

    Args:
        region: the signing region (``us-east-1``…).
        service: the signing name: ``bedrock`` for InvokeModel, ``bedrock-mantle`` for the
            Messages-API endpoint.
        profile: a shared-config profile for the ``boto3.Session``.
        access_key, secret_key, session_token: static keys instead of the chain.
        credentials: a botocore ``Credentials`` object (e.g. ``RefreshableCredentials``) to use
            as-is; its own refresh schedule is honoured.
    """

    kind = "sigv4"

    def __init__(self, *, region: str, service: str = "bedrock", profile: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 session_token: str | None = None, credentials: Any = None) -> None:
        if bool(access_key) != bool(secret_key):
            raise ConfigurationError("bedrock: set both access_key and secret_key, or neither")
        self.region = region
        self.service = service
        self.profile = profile
        self._static = (access_key, secret_key, session_token) if access_key else None
        self._source: Any = credentials  # botocore Credentials, resolved on first refresh
        self._frozen: Any = None  # botocore ReadOnlyCredentials used for signing
        self._refresh = SharedRefresh("bedrock")
        self._signers: dict[str, Any] = {}  # botocore signers by service, built once
        self._refresh_needed: Any = None  # the source's refresh_needed, if it has one
        self.resolutions = 0  # how many blocking resolutions/refreshes ran (for tests, metrics)

    def __repr__(self) -> str:
        return f"<SigV4Auth kind='sigv4' service={self.service!r} region={self.region!r}>"

    def _fresh(self) -> bool:
        if self._frozen is None:
            return False
        needed = self._refresh_needed  # RefreshableCredentials only
        return needed is None or not needed()

    async def refresh(self) -> None:
        """Resolve the credential chain, or renew temporary credentials when botocore says they
        are near expiry; one resolution at a time, off the event loop."""
        if self._fresh():
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
        # Refreshes RefreshableCredentials when due (an STS or metadata call: blocking).
        # Stored here, not by the waiter: when every caller was cancelled, the result of the
        # (uncancellable) thread still serves the next call.
        self._frozen = self._source.get_frozen_credentials()
        return self._frozen

    def sign(self, request: HttpRequest, *, service: str | None = None) -> HttpRequest:
        """Add ``Authorization``, ``X-Amz-Date`` (and ``X-Amz-Security-Token``), signing every
        header the request carries plus ``host`` taken from the URL actually used, for
        ``service`` (default: this credential's)."""
        frozen = self._frozen
        if frozen is None:
            raise ConfigurationError("no AWS credentials: refresh() was not awaited")
        name = service or self.service
        signing = _signing()
        signer = self._signers.get(name)
        if signer is None:
            signer = self._signers[name] = signing.signer(frozen, name, self.region)
        signer.credentials = frozen  # the latest (refreshed) credentials
        headers = dict(request.headers)
        if not any(k.lower() == "host" for k in headers):
            # botocore would parse the URL for `host` on every request: the same value, from
            # its own function, once per endpoint. aiohttp sends that host itself.
            headers["host"] = signing.host(request.url)
        aws = signing.request(request.method, request.url, headers, request.body)
        signer.add_auth(aws)
        request.headers = {k: v for k, v in aws.headers.items()
                           if v is not None and k != "host"}
        return request


class _Signing:
    """botocore's SigV4 pieces, imported on first use, with the per-request waste removed:
    the derived signing key is kept per (secret, date, region, service) instead of four HMACs
    per request, the body is read back as the bytes given instead of through a whole prepared
    request, the host header is derived once per endpoint, the canonical path and query once
    per URL, and the signed headers are selected once per request rather than twice. Every signature is still
    computed by botocore's ``SigV4Auth`` code (canonical request, string to sign, HMAC)."""

    def __init__(self) -> None:
        auth = import_botocore()
        from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]  # lazy

        self._host_from_url = auth._host_from_url  # botocore's own derivation
        self._hosts: dict[str, str] = {}

        class CachedKeySigV4Auth(auth.SigV4Auth):  # type: ignore[misc, name-defined]
            """botocore's signer; the signing key (a function of the secret, the date, the
            region and the service) is derived once a day rather than on every request."""

            def __init__(self, credentials: Any, service_name: str, region_name: str) -> None:
                super().__init__(credentials, service_name, region_name)
                self._keys: dict[tuple[str, str, str, str], bytes] = {}
                self._paths: dict[str, str] = {}  # URL path -> botocore's canonical form
                self._queries: dict[str, str] = {}  # URL -> botocore's canonical query

            def _normalize_url_path(self, path: str) -> str:
                # A pure function of the path (dot segments, percent-encoding): the same few
                # model paths every time.
                found = self._paths.get(path)
                if found is None:
                    if len(self._paths) >= 256:
                        self._paths.clear()
                    found = self._paths[path] = super()._normalize_url_path(path)
                return found

            def canonical_query_string(self, request: Any) -> str:
                if request.params:  # not ours (the query is in the URL), but botocore's path
                    return super().canonical_query_string(request)  # type: ignore[no-any-return]
                found = self._queries.get(request.url)
                if found is None:
                    if len(self._queries) >= 256:
                        self._queries.clear()
                    found = self._queries[request.url] = super().canonical_query_string(request)
                return found

            def headers_to_sign(self, request: Any) -> Any:
                # botocore asks twice per signature (canonical request, Authorization); the
                # headers do not change in between.
                cached = request.context.get("clauderoute_headers_to_sign")
                if cached is None:
                    cached = request.context["clauderoute_headers_to_sign"] = \
                        super().headers_to_sign(request)
                return cached

            def add_auth(self, request: Any) -> None:
                # botocore's add_auth step for step, minus its DEBUG log lines: they print the
                # canonical request (with the session token) and the signature, which must
                # never reach an application's logs through us (rule: secrets stay secret).
                if self.credentials is None:
                    raise auth.NoCredentialsError()
                # botocore's own clock where it has one (newer releases); older ones (the
                # declared minimum) read datetime directly, as this does.
                now = getattr(auth, "get_current_datetime", None)
                stamp = now() if now else dt.datetime.now(dt.UTC).replace(tzinfo=None)
                request.context["timestamp"] = stamp.strftime(auth.SIGV4_TIMESTAMP)
                self._modify_request_before_signing(request)
                canonical_request = self.canonical_request(request)
                string_to_sign = self.string_to_sign(request, canonical_request)
                self._inject_signature_to_request(
                    request, self.signature(string_to_sign, request))

            def signature(self, string_to_sign: str, request: Any) -> str:
                secret, date = self.credentials.secret_key, request.context["timestamp"][0:8]
                cache_key = (secret, date, self._region_name, self._service_name)
                k_signing = self._keys.get(cache_key)
                if k_signing is None:  # as botocore's SigV4Auth.signature derives it
                    k_date = self._sign(f"AWS4{secret}".encode(), date)
                    k_region = self._sign(k_date, self._region_name)
                    k_service = self._sign(k_region, self._service_name)
                    k_signing = self._sign(k_service, "aws4_request")
                    if len(self._keys) >= 4:  # old dates, rotated secrets
                        self._keys.clear()
                    self._keys[cache_key] = k_signing
                return self._sign(k_signing, string_to_sign, hex=True)  # type: ignore[no-any-return]

        class BytesRequest(AWSRequest):  # type: ignore[misc]
            """An ``AWSRequest`` whose body is the bytes given: botocore's ``body`` would
            build a whole prepared request (headers and all) to hand the same bytes back."""

            @property
            def body(self) -> Any:
                return self.data

        self.signer = CachedKeySigV4Auth
        self.request = BytesRequest

    def host(self, url: str) -> str:
        """botocore's ``host`` for ``url`` (lower-case, default port dropped), per endpoint."""
        scheme, sep, rest = url.partition("://")
        root = scheme + sep + rest.partition("/")[0]
        host = self._hosts.get(root)
        if host is None:
            if len(self._hosts) >= 64:
                self._hosts.clear()
            host = self._hosts[root] = self._host_from_url(root + "/")
        return host


_signing_parts: _Signing | None = None


def _signing() -> _Signing:
    global _signing_parts  # built once, on the first signature
    if _signing_parts is None:
        _signing_parts = _Signing()
    return _signing_parts
