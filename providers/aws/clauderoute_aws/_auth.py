"""Credentials of Claude Platform on AWS: SigV4 over boto3's credential chain, or an API key.

boto3 and botocore are imported here, lazily, when credentials are first resolved or a request is
signed — never when clauderoute or this package is imported. Resolving the chain (a profile file,
SSO, an assumed role, container or instance metadata) and refreshing temporary credentials can
block on the network, so it runs in a worker thread; however many calls find the credentials
missing or stale, one resolution runs and the others wait for it (``SharedRefresh``: a cancelled
caller does not start a second one). A resolution that fails raises ``CredentialsError``.
"""

from __future__ import annotations

from typing import Any

from clauderoute.provider import BearerToken, CredentialsError, HttpRequest
from clauderoute.provider import SigV4Auth as BaseSigV4Auth

__all__ = ["SERVICE", "ApiKeyAuth", "SigV4Auth"]

#: The SigV4 signing name (SDK 2.17 anthropic/lib/aws/_client.py:176 and :401; AWS user guide,
#: "Making requests": ``--aws-sigv4 "aws:amz:us-west-2:aws-external-anthropic"``).
SERVICE = "aws-external-anthropic"
# Headers this signer sets itself: a caller's copy would be signed, then replaced.
_OWN = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})


class ApiKeyAuth(BearerToken):
    """A Claude Platform on AWS API key as ``Authorization: Bearer`` (AWS user guide,
    "Authentication": "The Anthropic SDK sends the key as a bearer token"; SDK 2.17
    anthropic/_client.py:354-358 builds that header from ``api_key``)."""

    kind = "api_key"
    setting = "api_key"


class SigV4Auth(BaseSigV4Auth):
    """AWS Signature Version 4 over the exact bytes sent, for the service
    ``aws-external-anthropic`` (the provider API's ``SigV4Auth``: ``SigV4Signer``, credentials
    kept fresh); boto3's chain resolves the credentials.

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

    platform = "aws"
    default_service = SERVICE
    missing = (
        "no AWS credentials found (environment, shared config/profile, SSO, web identity, "
        "container or instance metadata); or set api_key / ANTHROPIC_AWS_API_KEY"
    )

    def load_credentials(self) -> Any:
        """Blocking: boto3's whole chain (env, profile, SSO, web identity, role, metadata)."""
        import boto3  # type: ignore[import-untyped]  # lazy

        return boto3.Session(region_name=self.region, profile_name=self.profile).get_credentials()

    def credentials_error(self, exc: Exception) -> Exception | None:
        """botocore's errors, translated at this boundary (``_translate``)."""
        return None if isinstance(exc, CredentialsError) else _translate(exc)

    def sign(self, request: HttpRequest, *, service: str | None = None) -> HttpRequest:
        """Add ``X-Amz-Date``, ``X-Amz-Security-Token`` (temporary keys) and ``Authorization``,
        signing every header the request carries plus ``host`` from the URL actually used.

        It logs nothing: botocore's ``add_auth`` logs the canonical request (the session token
        in it) and the signature at DEBUG level, which an application's debug logs must never
        carry.
        """
        # A caller's X-Amz-Date or token would be signed, then replaced: dropped first.
        request.headers = {k: v for k, v in request.headers.items() if k.lower() not in _OWN}
        return super().sign(request, service=service)


def _translate(exc: Exception) -> CredentialsError:
    """A CredentialsError (the platform is unavailable; a router fails over) saying whether a
    credential endpoint (STS, SSO, metadata) was unreachable or the chain failed otherwise (a
    missing profile, a failing credential_process…). The type is named, the text (which may
    quote config) is not."""
    from botocore import exceptions  # type: ignore[import-untyped]

    name = type(exc).__name__
    if isinstance(exc, (exceptions.ConnectionError, exceptions.HTTPClientError)):
        return CredentialsError(f"aws: could not reach an AWS credential endpoint ({name})")
    return CredentialsError(
        f"aws: could not resolve AWS credentials ({name}); see the chained exception"
    )
