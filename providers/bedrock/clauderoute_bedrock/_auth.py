"""Credentials of Amazon Bedrock: SigV4 over boto3's credential chain, or a Bedrock API key.

boto3 and botocore are imported here, lazily, when credentials are first resolved or a request is
signed — never when clauderoute or this package is imported. Resolving the chain (a profile file,
SSO, an assumed role, container or instance metadata) and refreshing temporary credentials can
block on the network, so it runs in a worker thread; however many calls find the credentials
missing or stale, one resolution runs and the others wait for it (``SharedRefresh``: a cancelled
caller does not start a second one). A resolution that fails raises ``CredentialsError``.
"""

from __future__ import annotations

from typing import Any

from clauderoute.provider import BearerToken, ConfigurationError
from clauderoute.provider import SigV4Auth as BaseSigV4Auth

__all__ = ["BearerAuth", "SigV4Auth", "profile_region"]


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
        what = (
            "no such AWS profile"
            if type(exc).__name__ == "ProfileNotFound"
            else "cannot read this AWS profile"
        )
        raise ConfigurationError(f"bedrock: profile: {what} ({type(exc).__name__})") from exc


class BearerAuth(BearerToken):
    """A Bedrock API key (``AWS_BEARER_TOKEN_BEDROCK``) as ``Authorization: Bearer``, instead of
    SigV4 (AWS docs, "Use an Amazon Bedrock API key"; the SDK's ``api_key`` on Bedrock)."""

    kind = "api_key"
    setting = "api_key"


class SigV4Auth(BaseSigV4Auth):
    """AWS Signature Version 4 over the exact bytes sent (the provider API's ``SigV4Auth``:
    ``SigV4Signer``, credentials kept fresh); boto3's chain resolves the credentials.

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

    platform = "bedrock"
    default_service = "bedrock"
    missing = (
        "no AWS credentials found (environment, shared config/profile, SSO, container or "
        "instance metadata); or set api_key / AWS_BEARER_TOKEN_BEDROCK"
    )

    def load_credentials(self) -> Any:
        """Blocking: boto3's whole chain (env, profile, SSO, role, IMDS/ECS)."""
        import boto3  # lazy

        return boto3.Session(region_name=self.region, profile_name=self.profile).get_credentials()
