"""The emulator's OAuth 2 token endpoint, so google-auth's service-account flow runs offline: the
JWT-bearer grant a key makes (RFC 7523), its signature checked with the key's public half.
(An authorized-user file cannot be pointed here: google-auth always sends its refresh-token grant
to Google's endpoint.)"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from aiohttp import web

from clauderoute.testing import rsa_key_pair

__all__ = ["TokenMixin"]

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class TokenMixin:
    """``POST /token`` and the keys it honours; mixed into the emulator, which provides
    ``root`` and ``accept_token``."""

    token_lifetime_s = 3600.0

    def init_tokens(self) -> None:
        self._sa_keys: dict[str, str] = {}  # service-account email -> public key PEM
        self._sa_key_ids: dict[str, str] = {}  # email -> its key file's private_key_id
        #: Claims of every JWT grant honoured, and the tokens minted, in order.
        self.grants: list[dict[str, Any]] = []
        self.minted: list[str] = []

    def service_account_info(self, project: str,
                             email: str = "emulator@test-project.iam.gserviceaccount.com",
                             ) -> dict[str, Any]:
        """A service-account key whose grants ``/token`` honours: the JSON content of a key
        file, ``token_uri`` pointing here. Its RSA key is the process's emulator key
        (``clauderoute.testing.rsa_key_pair``), its ``private_key_id`` new: ``/token`` honours
        the grants of this key file only, as Google's checks a grant's key id (the ``kid``
        google-auth signs with), and a later call for the same ``email`` replaces it."""
        private, self._sa_keys[email] = rsa_key_pair()
        key_id = self._sa_key_ids[email] = secrets.token_hex(20)
        return {"type": "service_account", "project_id": project,
                "private_key_id": key_id, "private_key": private,
                "client_email": email, "client_id": "1" + "0" * 20,
                "token_uri": self.root + "/token"}  # type: ignore[attr-defined]

    def token_routes(self) -> list[web.RouteDef]:
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
        self.accept_token(token, time.time() + self.token_lifetime_s)  # type: ignore[attr-defined]
        return web.json_response({"access_token": token, "token_type": "Bearer",
                                  "expires_in": int(self.token_lifetime_s)})

    def _verify(self, assertion: str) -> dict[str, Any] | None:
        from google.auth import exceptions, jwt  # lazy: only the token endpoint needs it

        try:
            issuer = jwt.decode(assertion, verify=False).get("iss", "")  # type: ignore[no-untyped-call]
            if issuer not in self._sa_keys:
                return None
            key_id = jwt.decode_header(assertion).get("kid")  # type: ignore[no-untyped-call]
            if key_id != self._sa_key_ids[issuer]:  # a key file made elsewhere, or replaced
                return None
            # google-auth addresses the grant to Google's endpoint whatever token_uri says.
            claims: dict[str, Any] = jwt.decode(assertion, certs=self._sa_keys[issuer], audience=[
                GOOGLE_TOKEN_URI, self.root + "/token"])  # type: ignore[attr-defined,no-untyped-call]
        except (ValueError, exceptions.GoogleAuthError):
            return None
        return claims


def _oauth_error(error: str, description: str) -> web.Response:
    return web.Response(status=400, content_type="application/json",
                        text=json.dumps({"error": error, "error_description": description}))
