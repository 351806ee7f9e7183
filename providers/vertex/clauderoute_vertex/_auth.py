"""Credentials of Claude on Vertex AI: an OAuth 2 access token, sent as ``Authorization: Bearer``.

Tokens come from google-auth (imported at the first refresh) through the provider API's
``GoogleOAuth``: Application Default Credentials, a key file or your own ``Credentials``, cached
until ``expiry`` minus a margin, one refresh at a time for any number of waiting calls; or a
token you supply is used as-is. A token that cannot be had raises ``CredentialsError``.
"""

from __future__ import annotations

from clauderoute.provider import BearerToken, GoogleOAuth

__all__ = ["CLOUD_PLATFORM_SCOPE", "AccessTokenAuth", "GoogleAuth"]

#: The OAuth scope Vertex AI needs (the SDK's lib/_extras).
CLOUD_PLATFORM_SCOPE = GoogleOAuth.scope


class AccessTokenAuth(BearerToken):
    """A ready OAuth access token (``access_token`` setting), used as given, never refreshed."""

    kind = "access_token"
    setting = "access_token"


class GoogleAuth(GoogleOAuth):
    """Tokens from google-auth, cached and refreshed before expiry (``GoogleOAuth``).

    Args:
        credentials: a ``google.auth.credentials.Credentials``; default: ``credentials_file``'s.
        credentials_file: a service-account or authorized-user key file; default: ADC.
        margin_s: refresh this many seconds before the token's ``expiry``.

    Attributes:
        project: the project the loaded credentials belong to, once loaded (or ``None``).
        source: where tokens come from: ``credentials``, ``credentials_file`` or ``adc``.
    """

    platform = "vertex"
    product = "Vertex AI"
    install_hint = 'pip install "clauderoute[vertex]"'
    project_attrs = ("project_id",)
