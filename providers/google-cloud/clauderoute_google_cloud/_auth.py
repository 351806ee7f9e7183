"""Credentials of Claude on Google Cloud: an OAuth 2 access token, sent as ``Authorization:
Bearer``.

Tokens come from google-auth (imported at the first refresh) through the provider API's
``GoogleOAuth``: Application Default Credentials, a key file or your own ``Credentials``, cached
until ``expiry`` minus a margin, one refresh at a time for any number of waiting calls; or a
token you supply is used as-is. A token that cannot be had raises ``CredentialsError``.
"""

from __future__ import annotations

from clauderoute.provider import BearerToken, GoogleOAuth

__all__ = ["CLOUD_PLATFORM_SCOPE", "AccessTokenAuth", "GoogleAuth"]

#: The OAuth scope asked for (SDK 2.17 anthropic/lib/_extras/_google_auth.py:18 and :61, used by
#: lib/google_cloud/_client.py:25 for ADC).
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
        project: the project the credentials name, once known (the SDK takes ``project_id``,
            else ``quota_project_id``, of explicit credentials: _client.py:230-237).
        source: where tokens come from: ``credentials``, ``credentials_file`` or ``adc``.
    """

    platform = "google-cloud"
    product = "Claude on Google Cloud"
    install_hint = 'pip install "clauderoute[google-cloud]"'
    project_attrs = ("project_id", "quota_project_id")
