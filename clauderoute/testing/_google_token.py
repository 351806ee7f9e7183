"""Google's OAuth 2 token endpoint as an emulator mixin, so google-auth's service-account flow runs
offline: the JWT-bearer grant a key file makes (RFC 7523), its signature checked with the key's
public half, and the bearer tokens the emulator's front end then accepts. google-auth, which
checks the grants, is imported when ``/token`` first answers one (the Google platforms'
distributions depend on it); the key comes from ``rsa_key_pair`` (``cryptography``, on first
use). (An authorized-user file cannot be pointed here: google-auth always sends its
refresh-token grant to Google's endpoint.)
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._keys import rsa_key_pair

__all__ = ["GoogleTokenEndpoint"]

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_EMAIL = "emulator@test-project.iam.gserviceaccount.com"
#: Google's text for a request without a valid access token (the front end's 401).
BAD_TOKEN = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)
_REALM = {"www-authenticate": 'Bearer realm="https://accounts.google.com/"'}


class GoogleTokenEndpoint:
    """``POST /token`` as Google's OAuth 2 endpoint answers a service account's JWT-bearer
    grant, and the bearer tokens it mints: a mixin for an ``EmulatorServer`` subclass (listed
    before it), whose ``__init__`` calls ``init_token_endpoint``, whose ``routes()`` include
    ``token_routes()`` and whose ``check_auth`` returns ``token_refusal(request)`` when it is
    not ``None``. ``google_error`` answers as Google's front end does (``{"error": {"code",
    "message", "status"}}``, no Anthropic request id) for the emulator's other refusals.

    A grant is honoured when its issuer is a service account given here (``service_account_key``
    or ``add_service_account``), its signature verifies with that account's public key, its
    audience is Google's token endpoint or this one, and (for keys with a key id) its ``kid``
    header is that key id, as Google checks it. Refusals are Google's 400 bodies:
    ``unsupported_grant_type`` for another grant type or no assertion, ``invalid_grant`` for an
    assertion that does not verify.

    Attributes:
        token_lifetime_s: ``expires_in`` of the tokens ``/token`` mints.
        grants: the claims of every grant honoured, in order.
        minted: the tokens minted, in order.

    .. versionadded:: 0.3
    """

    token_lifetime_s: float = 3600.0

    if TYPE_CHECKING:  # EmulatorServer's, on the class this is mixed into

        @property
        def root(self) -> str:
            raise NotImplementedError

    def init_token_endpoint(
        self, tokens: Iterable[str] = (), token_lifetime_s: float = 3600.0
    ) -> None:
        """Start with ``tokens`` accepted for ever and no service accounts; tokens minted by
        ``/token`` last ``token_lifetime_s``."""
        self._tokens: dict[str, float] = dict.fromkeys(tokens, float("inf"))
        self.token_lifetime_s = token_lifetime_s
        self._sa_keys: dict[str, str] = {}  # service-account email -> public key PEM
        self._sa_key_ids: dict[str, str] = {}  # email -> the key id its grants must carry
        self.grants: list[dict[str, Any]] = []
        self.minted: list[str] = []

    # --- bearer tokens --------------------------------------------------------------------------

    def accept_token(self, token: str, expires_on: float = float("inf")) -> None:
        """Accept the bearer ``token`` until ``expires_on`` (epoch seconds)."""
        self._tokens[token] = expires_on

    def revoke_tokens(self) -> None:
        """Reject every bearer token accepted so far (revoked or expired credentials)."""
        self._tokens.clear()

    def bearer_refused(self, request: web.Request) -> bool:
        """Whether ``request`` lacks an ``Authorization: Bearer`` token accepted and unexpired:
        the front end's 401."""
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        return self._tokens.get(token, 0.0) <= time.time()

    def token_refusal(self, request: web.Request, message: str = BAD_TOKEN) -> web.Response | None:
        """Google's 401 (``UNAUTHENTICATED``, with ``www-authenticate``, saying ``message``) when
        ``request`` has no accepted, unexpired bearer token (``bearer_refused``); ``None`` when
        it has one."""
        if not self.bearer_refused(request):
            return None
        return self.google_error(401, "UNAUTHENTICATED", message, dict(_REALM))

    @staticmethod
    def google_error(
        status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        """A rejection by Google's front end: ``{"error": {"code": status, "message", "status":
        code}}`` as JSON (``code``: a Google status name such as ``NOT_FOUND``)."""
        body = {"error": {"code": status, "message": message, "status": code}}
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            content_type="application/json",
            headers=headers,
        )

    # --- service accounts -----------------------------------------------------------------------

    def add_service_account(
        self, email: str, public_key_pem: str, key_id: str | None = None
    ) -> None:
        """Honour JWT grants from ``email`` signed by the key whose public half is given; with
        ``key_id``, only those whose ``kid`` header is that (``None``: any ``kid``). Replaces
        the account's earlier key."""
        self._sa_keys[email] = public_key_pem
        if key_id is None:
            self._sa_key_ids.pop(email, None)
        else:
            self._sa_key_ids[email] = key_id

    def service_account_key(self, project: str, email: str = _EMAIL) -> dict[str, Any]:
        """A service-account key whose grants ``/token`` honours: the JSON content of a key
        file for ``project``, ``token_uri`` pointing here. Its RSA key is the process's emulator
        key (``rsa_key_pair``), its ``private_key_id`` new: ``/token`` honours the grants of
        this key file only, as Google's checks a grant's key id (the ``kid`` google-auth signs
        with), and a later call for the same ``email`` replaces it."""
        private, public = rsa_key_pair()
        key_id = secrets.token_hex(20)
        self.add_service_account(email, public, key_id)
        return {
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "private_key": private,
            "client_email": email,
            "client_id": "1" + "0" * 20,
            "token_uri": self.root + "/token",
        }

    # --- the endpoint ---------------------------------------------------------------------------

    def token_routes(self) -> list[web.RouteDef]:
        """``POST /token``, for ``routes()``."""
        return [web.post("/token", self._token)]

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        assertion = str(form.get("assertion", ""))
        if form.get("grant_type") != JWT_GRANT or not assertion:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        claims = self._verify(assertion)
        if claims is None:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        self.grants.append(claims)
        token = f"ya29.emu-{len(self.grants)}-{secrets.token_urlsafe(24)}"
        self.minted.append(token)
        self.accept_token(token, time.time() + self.token_lifetime_s)
        return web.json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": int(self.token_lifetime_s),
            }
        )

    def _verify(self, assertion: str) -> dict[str, Any] | None:
        from google.auth import exceptions, jwt  # lazy: only the token endpoint needs it

        decode: Any = jwt.decode  # google-auth is untyped
        header: Any = jwt.decode_header
        try:
            issuer = decode(assertion, verify=False).get("iss", "")
            if issuer not in self._sa_keys:
                return None
            key_id = self._sa_key_ids.get(issuer)
            if key_id is not None and header(assertion).get("kid") != key_id:
                return None  # a key file made elsewhere, or replaced
            # google-auth addresses the grant to Google's endpoint whatever token_uri says.
            claims: dict[str, Any] = decode(
                assertion,
                certs=self._sa_keys[issuer],
                audience=[GOOGLE_TOKEN_URI, self.root + "/token"],
            )
        except (ValueError, exceptions.GoogleAuthError):
            return None
        return claims


def _oauth_error(error: str, description: str) -> web.Response:
    return web.Response(
        status=400,
        content_type="application/json",
        text=json.dumps({"error": error, "error_description": description}),
    )
